/**
 * Where the command line meets its process: what it writes (stdout, stderr), the directory it
 * runs in, and whether stdout is a terminal. Commands reach these only through `Io`, so a test
 * runs them in-process with its own (see test/support/cli-inprocess.ts); environment variables
 * are read through `Config` (a test gives its own `ConfigProvider`).
 *
 * @module
 */
import { Context } from "effect"

/** The process as the command line sees it. */
export interface IoShape {
  /** Write text to stdout, as is. */
  readonly stdout: (text: string) => void
  /** Write text to stderr, as is. */
  readonly stderr: (text: string) => void
  /** The current directory (where the project is looked for, and relative paths start). */
  readonly cwd: () => string
  /** Stdout's width in columns when it is a terminal; `undefined` for a pipe or a file. */
  readonly terminalColumns: () => number | undefined
}

const processIo: IoShape = {
  stdout: (text) => void process.stdout.write(text),
  stderr: (text) => void process.stderr.write(text),
  cwd: () => process.cwd(),
  terminalColumns: () => process.stdout.isTTY === true ? process.stdout.columns ?? 80 : undefined
}

/** The command line's process; by default the real one (nothing to provide when run as `fleet-db`). */
export class Io extends Context.Reference<Io>()("fleet-db/Io", { defaultValue: (): IoShape => processIo }) {}
