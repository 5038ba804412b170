/**
 * Running npm and node as a user would, for the package tests: each step either succeeds or
 * throws one error naming the step, the command and the end of its output.
 */
import { spawnSync } from "node:child_process"
import { fileURLToPath } from "node:url"

export const root = fileURLToPath(new URL("../..", import.meta.url))

export interface StepOptions {
  readonly cwd?: string
  readonly env?: Record<string, string>
  readonly timeout?: number
}

/** Run `command args` (through a shell when `args` is omitted) and return its stdout. */
export const step = (what: string, command: string, args?: ReadonlyArray<string>, options: StepOptions = {}): string => {
  const result = spawnSync(command, args ?? [], {
    cwd: options.cwd ?? root,
    env: { ...process.env, ...options.env },
    encoding: "utf8",
    shell: args === undefined,
    timeout: options.timeout ?? 180_000,
    maxBuffer: 64 * 1024 * 1024
  })
  if (result.error !== undefined || result.status !== 0) {
    const output = `${result.stdout ?? ""}\n${result.stderr ?? ""}`.trim().split("\n").slice(-30).join("\n")
    const shown = args === undefined ? command : [command, ...args].join(" ")
    throw new Error(
      `${what} failed (${result.error?.message ?? `exit ${result.status}`}): ${shown}\nin ${options.cwd ?? root}\n${output}`
    )
  }
  return result.stdout
}

/** `dist/` as the package ships it: built when a source is newer than the last build. */
export const ensureBuilt = () => step("building dist/", process.execPath, ["scripts/build.mjs", "--if-stale"])

export interface PackedFile {
  readonly path: string
  readonly size: number
}

/** What `npm pack --dry-run` would put in the tarball. */
export const packList = (): ReadonlyArray<PackedFile> => {
  const out = step("npm pack --dry-run", "npm", ["pack", "--dry-run", "--json", "--ignore-scripts"])
  const [entry] = JSON.parse(out) as Array<{ readonly files: ReadonlyArray<PackedFile> }>
  return entry!.files
}
