/**
 * Running the built `fleet-db` (see `cli-build.ts`) as a real process and checking its error
 * contract.
 */
import { expect } from "@effect/vitest"
import { spawn } from "node:child_process"
import { join } from "node:path"

/** A finished `fleet-db` process. */
export interface CliRun {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** Where and with what environment to run it. */
export interface CliRunOptions {
  readonly cwd?: string
  /** Added to the environment; `undefined` removes a variable (e.g. the default `NO_COLOR`). */
  readonly env?: Record<string, string | undefined>
}

// Generous: the suite shares a 2-core machine with other suites, and each command is a fresh Node process.
const PROCESS_TIMEOUT = 150_000

// No color, no inherited FLEET_* settings: the tests choose the database and the pilot themselves.
const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("FLEET_")) env[key] = value
  }
  return { ...env, NO_COLOR: "1" }
}

/** Run `node {build}/dist/cli/main.js …args` to completion. */
export const runCli = (build: string, args: ReadonlyArray<string>, options: CliRunOptions = {}): Promise<CliRun> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...baseEnv(), ...options.env }
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
    const child = spawn(process.execPath, [join(build, "dist", "cli", "main.js"), ...args], {
      cwd: options.cwd ?? build,
      env,
      stdio: ["ignore", "pipe", "pipe"]
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    // A command that hangs must fail its test, not outlive it.
    const timer = setTimeout(() => child.kill("SIGKILL"), PROCESS_TIMEOUT)
    child.on("error", reject)
    child.on("close", (code) => {
      clearTimeout(timer)
      resolve({ code, stdout, stderr })
    })
  })

/**
 * The error contract: exit `code`, exactly one line on stderr matching `pattern`, prefixed, no
 * stack trace; nothing on stdout unless `json` (then one `{ "error": … }` object).
 */
export const expectFailure = (run: CliRun, code: number, pattern: RegExp, json = false) => {
  expect(run.code, run.stdout + run.stderr).toBe(code)
  const lines = run.stderr.trimEnd().split("\n")
  expect(lines, run.stderr).toHaveLength(1)
  expect(lines[0]).toMatch(/^fleet-db: /)
  expect(lines[0]).toMatch(pattern)
  expect(run.stderr).not.toMatch(/\n\s+at |Error:|FiberFailure|\{\s*$/)
  if (json) expect(Object.keys(JSON.parse(run.stdout) as object)).toEqual(["error"])
  else expect(run.stdout).toBe("")
}
