/**
 * Running the built `fleet-db` (see `cli-build.ts`) and `git` as processes, for the tests of the
 * shell surface: a clean environment (no inherited `FLEET_*`, `GIT_*`, no color), and the CLI's
 * error contract.
 */
import { expect, inject } from "@effect/vitest"
import { spawn } from "node:child_process"
import { join } from "node:path"

/** A finished process. */
export interface Run {
  readonly code: number | null
  readonly stdout: string
  readonly stderr: string
}

/** A finished `fleet-db` process. */
export type CliRun = Run

/** Where and with what environment to run it. */
export interface RunOptions {
  readonly cwd: string
  /** Added to the clean environment; `undefined` removes a variable (e.g. the default `NO_COLOR`). */
  readonly env?: Record<string, string | undefined>
}

// Generous: the suites share a 2-core machine, and each command is a fresh process.
const PROCESS_TIMEOUT = 150_000

/** The environment without the fleet's, git's and color settings of whoever runs the tests. */
export const cleanEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("FLEET_") && !key.startsWith("GIT_")) env[key] = value
  }
  return { ...env, NO_COLOR: "1", GIT_CONFIG_NOSYSTEM: "1" }
}

/** Run a process to completion. */
export const run = (command: string, args: ReadonlyArray<string>, options: RunOptions): Promise<Run> =>
  new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...cleanEnv(), ...options.env }
    for (const [key, value] of Object.entries(env)) if (value === undefined) delete env[key]
    const child = spawn(command, args, { cwd: options.cwd, env, stdio: ["ignore", "pipe", "pipe"] })
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

/** Run the built `fleet-db` in `build` (a `buildCli()` directory). */
export const fleetIn = (build: string) => (args: ReadonlyArray<string>, options: RunOptions): Promise<Run> =>
  run(process.execPath, [join(build, "dist", "cli", "main.js"), ...args], options)

/** Run `node {build}/dist/cli/main.js …args` to completion (in `build` unless `cwd` is given). */
export const runCli = (
  build: string,
  args: ReadonlyArray<string>,
  options: Partial<RunOptions> = {}
): Promise<CliRun> => fleetIn(build)(args, { ...options, cwd: options.cwd ?? build })

/** Run `git`; fails the test (throws) when git fails. */
export const git = async (args: ReadonlyArray<string>, options: RunOptions): Promise<string> => {
  const result = await run("git", args, options)
  if (result.code !== 0) throw new Error(`git ${args.join(" ")} failed (${result.code}): ${result.stderr}`)
  return result.stdout
}

/** A new repository in `dir` with one commit, and an author (tests must not need a global git config). */
export const initRepository = async (dir: string): Promise<void> => {
  await git(["init", "-q", "-b", "main", dir], { cwd: dir })
  await git(["config", "user.name", "Fleet Test"], { cwd: dir })
  await git(["config", "user.email", "fleet@example.com"], { cwd: dir })
  await git(["commit", "-q", "--allow-empty", "-m", "start"], { cwd: dir })
}

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

/** This run's build of the command (made once by test/support/workers-setup.ts): run it, change nothing beside it. */
export const sharedCli = (): string => {
  const dir = inject("cliBuild")
  if (dir === undefined) throw new Error("no shared CLI build: test/support/workers-setup.ts did not run (see vitest.config.ts)")
  return dir
}
