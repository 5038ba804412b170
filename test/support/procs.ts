/**
 * Running real worker processes (`test/procs/*.ts`) against one database file.
 * Workers print one JSON object per line on stdout; `runWorkers` collects them.
 * They run as plain-node bundles built once per run by test/support/workers-setup.ts.
 */
import { spawn } from "node:child_process"
import { fileURLToPath } from "node:url"
import { inject } from "vitest"
import { bundlePath } from "./bundle-workers.js"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** The bundle of `test/procs/{script}` (e.g. `"lock-worker.ts"`) to run with `node`. */
export const workerBundle = (script: string): string => {
  const dir = inject("workerBundles")
  if (dir === undefined) throw new Error("no worker bundles: test/support/workers-setup.ts did not run (see vitest.config.ts)")
  return bundlePath(dir, script)
}

export interface WorkerResult {
  readonly code: number | null
  readonly signal: NodeJS.Signals | null
  /** Every stdout line that parsed as JSON. */
  readonly lines: ReadonlyArray<Record<string, unknown>>
  readonly stderr: string
}

/** Start `test/procs/{script}` with `args` (optionally as another user); resolves when it exits. */
export const runWorker = (
  script: string,
  args: ReadonlyArray<string>,
  env: Record<string, string> = {},
  user: { readonly uid?: number; readonly gid?: number } = {}
): Promise<WorkerResult> =>
  new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [workerBundle(script), ...args], {
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
