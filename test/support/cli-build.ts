/**
 * The command as users run it: the bundle `npm run build` ships as `dist/cli/main.js` (with the
 * demo's `demo-pilot.js` beside it), next to a package.json, run by plain `node`, its packages
 * resolved from node_modules. Built into a temp directory so a suite never races a build: once
 * per run by the global setup (test/support/workers-setup.ts) for the suites that run it
 * (`sharedCli` in test/support/cli-run.ts); a suite that changes what is beside it runs a private
 * copy (`copyCli`).
 */
import { cpSync, mkdtempSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { bundleCli } from "../../scripts/bundle-cli.mjs"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Bundle the CLI into a fresh temp directory and return that directory. */
export const buildCli = async (): Promise<string> => {
  const out = mkdtempSync(join(tmpdir(), "fleetdb-cli-build-"))
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module", version: pkg.version }))
  symlinkSync(join(root, "node_modules"), join(out, "node_modules"), "dir")
  await bundleCli(root, join(out, "dist", "cli"))
  return out
}

/**
 * A private copy of the build in `dir` (made by `buildCli`), as it was before its first run: the
 * code caches other suites' runs wrote beside the bundle (or are writing) are left out.
 */
export const copyCli = (dir: string): string => {
  const out = mkdtempSync(join(tmpdir(), "fleetdb-cli-build-"))
  cpSync(dir, out, { recursive: true, verbatimSymlinks: true, filter: (source) => !/\.cache(\.\d+\.tmp)?$/.test(source) })
  return out
}
