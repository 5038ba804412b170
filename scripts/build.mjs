#!/usr/bin/env node
/**
 * Builds `dist/`: the library as plain ES modules with declarations (tsc, no source maps: the
 * sources are not shipped), and the `fleet-db` command as bundled files (esbuild) so that its own
 * dependencies (@effect/cli, @effect/platform-node, @effect/ai, …) never reach library users.
 * The bundle keeps the library's dependencies and peers as imports, resolved from the app.
 *
 * `--if-stale` builds only when a source is newer than the last build: it runs before `npm test`,
 * `npm run fleet-db` and `npm pack`, so a fresh clone needs no install-time script.
 */
import { execFileSync } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"
import { bundleCli } from "./bundle-cli.mjs"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const dist = join(root, "dist")
// Left out of the package by package.json's `files`. (Not under node_modules: that may be shared.)
const stamp = join(dist, ".build-stamp")

const newest = (path) => {
  const stat = statSync(path)
  if (!stat.isDirectory()) return stat.mtimeMs
  return readdirSync(path).reduce((max, name) => Math.max(max, newest(join(path, name))), stat.mtimeMs)
}

const inputs = ["src", "package.json", "tsconfig.json", "tsconfig.build.json", "scripts"].map((p) => join(root, p))

const fresh = () =>
  existsSync(stamp) && statSync(stamp).mtimeMs >= Math.max(...inputs.map(newest))
const ifStale = process.argv.includes("--if-stale")

/**
 * The command's code cache (see src/cli/loadBundle.ts), made by running `fleet-db status` in a
 * temp project: the first run of the bundle writes the cache with what it compiled, so the run
 * that counts is the one after `init` (whose cache is dropped). The cache is not shipped
 * (package.json `files`): it fits only this Node version; an installed command writes its own on
 * its first run.
 */
const writeCodeCache = (main) => {
  const project = mkdtempSync(join(tmpdir(), "fleetdb-build-"))
  const env = { ...process.env, NO_COLOR: "1" }
  for (const key of Object.keys(env)) if (key.startsWith("FLEET_")) delete env[key]
  try {
    const run = (...args) => execFileSync(process.execPath, [main, ...args], { cwd: project, env, stdio: "ignore" })
    run("init", "--project", project)
    for (const name of readdirSync(dirname(main))) if (name.endsWith(".cache")) rmSync(join(dirname(main), name))
    run("status", "--project", project, "--json")
  } finally {
    rmSync(project, { recursive: true, force: true })
  }
}
if (ifStale && fresh()) process.exit(0)

// One build at a time: test files running in parallel may all find dist/ stale. A lock left by a
// killed build is taken over after 10 minutes.
const lock = join(root, ".build-lock")
const sleep = (ms) => Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms)
for (;;) {
  try {
    mkdirSync(lock)
    break
  } catch (error) {
    if (error.code !== "EEXIST") throw error
    if (Date.now() - statSync(lock, { throwIfNoEntry: false })?.mtimeMs > 600_000) rmSync(lock, { recursive: true, force: true })
    else sleep(250)
  }
}
process.on("exit", () => rmSync(lock, { recursive: true, force: true }))
if (ifStale && fresh()) process.exit(0)

rmSync(dist, { recursive: true, force: true })
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc")
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json")], { cwd: root, stdio: "inherit" })

await bundleCli(root, join(dist, "cli"))
writeCodeCache(join(dist, "cli", "main.js"))
writeFileSync(stamp, `${new Date().toISOString()}\n`)
