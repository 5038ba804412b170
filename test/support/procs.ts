/**
 * Running real worker processes (`test/procs/*.ts`) against one database file.
 * Workers print one JSON object per line on stdout; `runWorkers` collects them.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))

export interface WorkerResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Every stdout line that parsed as JSON. */
  readonly lines: ReadonlyArray<Record<string, unknown>>
  readonly stderr: string
}

/** Start `test/procs/{script}` with `args` under tsx (optionally as another user); resolves when it exits. */
export const runWorker = (
  script: string,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  user: { readonly uid?: number; readonly gid?: number } = {}
): Promise<WorkerResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ["--import", "tsx", `test/procs/${script}`, ...args], {
      cwd: root,
      env: { ...process.env, ...env },
      stdio: ["ignore", "pipe", "pipe"],
      ...user
    })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code, signal) => {
      const lines: Array<Record<string, unknown>> = []
      for (const line of stdout.split("\n")) {
        if (line.trim() === "") continue
        try {
          lines.push(JSON.parse(line) as Record<string, unknown>)
        } catch {
          // not a result line
        }
      }
      resolve({ code, signal, lines, stderr })
    })
  })

/** Start `count` workers at once and wait for all of them. */
export const runWorkers = (
  count: number,
  script: string,
  args: (index: number) => ReadonlyArray<string>,
  env: Record<string, string> = {}
): Promise<ReadonlyArray<WorkerResult>> =>
  Promise.all(Array.from({ length: count }, (_, i) => runWorker(script, args(i), env)))
