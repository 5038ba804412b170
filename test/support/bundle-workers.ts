/**
 * Bundling worker scripts (`test/procs/*.ts`, with what they import from src/ and effect) to
 * plain ES modules that start under `node` without tsx. Measured on register-worker.ts (one
 * start, load ~20): tsx ~3.6 s of CPU, a bundle ~0.65 s (leaving every package external: ~1.2 s,
 * so only the native driver stays a package import).
 */
import { build } from "esbuild"
import { chmodSync, mkdirSync, mkdtempSync, readdirSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const procs = join(root, "test", "procs")

/**
 * Bundle `scripts` (default: every `test/procs/*.ts`) into a new directory as `{name}.mjs` and
 * return the directory; the caller removes it. One esbuild call with code splitting, so the code
 * the workers share is one chunk. The directory is under node_modules/.cache so the driver
 * resolves from node_modules; unique per call, as node_modules may be shared between checkouts.
 */
export const bundleWorkers = async (
  scripts: ReadonlyArray<string> = readdirSync(procs).filter((name) => name.endsWith(".ts"))
): Promise<string> => {
  const cache = join(root, "node_modules", ".cache", "fleetdb-tests")
  mkdirSync(cache, { recursive: true })
  const outdir = mkdtempSync(join(cache, "workers-"))
  // mkdtemp makes it private; some workers run as another user (test/faults.procs.test.ts).
  chmodSync(outdir, 0o755)
  await build({
    entryPoints: scripts.map((script) => join(procs, script)),
    bundle: true,
    splitting: true,
    platform: "node",
    format: "esm",
    outdir,
    outExtension: { ".js": ".mjs" },
    // The native driver stays a package import, resolved from node_modules as usual.
    external: ["@libsql/*", "libsql"],
    logLevel: "warning"
  })
  return outdir
}

/** The bundle of `script` (e.g. `"lock-worker.ts"`) in a directory made by `bundleWorkers`. */
export const bundlePath = (dir: string, script: string): string => join(dir, script.replace(/\.ts$/, ".mjs"))
