/**
 * Running `fleet-db` in this process: `app.run(argv)` with a captured `Io` (stdout, stderr, the
 * current directory, no terminal) and a `ConfigProvider` holding the environment the process
 * helper (`cli-run.ts`) would give the child: no inherited `FLEET_*`/`GIT_*`, `NO_COLOR=1`. The
 * same `{ code, stdout, stderr }` as a process run, for the tests of what a command prints and
 * exits with; what only a process shows (signals, the real binary's start, git running a hook)
 * stays in the process tests.
 */
import { ConfigProvider, Effect } from "effect"
import { run } from "../../src/cli/app.js"
import { Io } from "../../src/cli/io.js"
import { platform } from "../../src/cli/runMain.js"
import { type CliRun, cleanEnv } from "./cli-run.js"

/** Where and with what environment to run it. */
export interface InProcessOptions {
  /** The current directory the command sees (default: this process's). */
  readonly cwd?: string
  /** Added to the clean environment; `undefined` removes a variable (e.g. the default `NO_COLOR`). */
  readonly env?: Record<string, string | undefined>
  /** Stdout is a terminal of this many columns (default: a pipe). */
  readonly columns?: number
}

/** The environment a run sees, as the process helper would give it. */
const environment = (extra: Record<string, string | undefined> = {}): Map<string, string> => {
  const env = new Map<string, string>(Object.entries(cleanEnv()))
  for (const [key, value] of Object.entries(extra)) {
    if (value === undefined) env.delete(key)
    else env.set(key, value)
  }
  return env
}

/** Run `fleet-db …args` as an effect (never fails: the exit code says how it went). */
export const fleetEffect = (args: ReadonlyArray<string>, options: InProcessOptions = {}): Effect.Effect<CliRun> =>
  Effect.suspend(() => {
    let stdout = ""
    let stderr = ""
    const cwd = options.cwd ?? process.cwd()
    const io = Io.of({
      stdout: (text) => void (stdout += text),
      stderr: (text) => void (stderr += text),
      cwd: () => cwd,
      terminalColumns: () => options.columns
    })
    return run(["node", "fleet-db", ...args]).pipe(
      Effect.provideService(Io, io),
      Effect.withConfigProvider(ConfigProvider.fromMap(environment(options.env))),
      Effect.provide(platform),
      // As the real command runs (runMain.ts).
      Effect.withTracerEnabled(false),
      Effect.map((code): CliRun => ({ code, stdout, stderr }))
    )
  })

/** Run `fleet-db …args` in this process to completion. */
export const runCli = (args: ReadonlyArray<string>, options: InProcessOptions = {}): Promise<CliRun> =>
  Effect.runPromise(fleetEffect(args, options))

export { expectFailure } from "./cli-run.js"
