/**
 * Running npm and node as a user would, for the package tests: each step either succeeds or
 * throws one error naming the step, the command and the end of its output.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

export interface StepOptions {
  readonly cwd?: string
  readonly env?: Record<string, string>
  readonly timeout?: number
}

/**
 * Run `command args` (through a shell when `args` is omitted) and resolve to its stdout. Never
 * synchronous: a test worker that blocks for minutes loses its line to vitest.
 */
export const step = (what: string, command: string, args?: ReadonlyArray<string>, options: StepOptions = {}): Promise<string> =>
  new Promise((resolve, reject) => {
    const cwd = options.cwd ?? root
    const shown = args === undefined ? command : [command, ...args].join(" ")
    const child = spawn(command, args ?? [], {
      cwd,
      env: { ...process.env, ...options.env },
      shell: args === undefined,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    const timer = setTimeout(() => child.kill("SIGKILL"), options.timeout ?? 180_000)
    const fail = (why: string) => {
      const output = `${stdout}\n${stderr}`.trim().split("\n").slice(-30).join("\n")
      reject(new Error(`${what} failed (${why}): ${shown}\nin ${cwd}\n${output}`))
    }
    child.on("error", (error) => {
      clearTimeout(timer)
      fail(error.message)
    })
    child.on("close", (code, signal) => {
      clearTimeout(timer)
      if (code === 0) resolve(stdout)
      else fail(signal === null ? `exit ${code}` : `killed by ${signal}`)
    })
  })

/** `dist/` as the package ships it: built when a source is newer than the last build. */
export const ensureBuilt = () => step("building dist/", process.execPath, ["scripts/build.mjs", "--if-stale"])

export interface PackedFile {
  readonly path: string
  readonly size: number
}

/** What `npm pack --dry-run` would put in the tarball. */
export const packList = async (): Promise<ReadonlyArray<PackedFile>> => {
  const out = await step("npm pack --dry-run", "npm", ["pack", "--dry-run", "--json", "--ignore-scripts"])
  const [entry] = JSON.parse(out) as Array<{ readonly files: ReadonlyArray<PackedFile> }>
  return entry!.files
}
