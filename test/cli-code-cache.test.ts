/**
 * The built `fleet-db` loads its command line with V8's code cache (src/cli/loadBundle.ts): the
 * first run writes the cache beside the bundle; a cache that does not fit (another Node version, a
 * damaged file) is ignored — the command runs the same — and replaced; a cache that cannot be
 * written is no failure. And a command that is done exits at once. (The time it saves is measured by
 * `npm run bench -- cli`, not here.)
 */
import { afterAll, beforeAll, describe, expect, inject, it } from "vitest"
import { spawnSync } from "node:child_process"
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { copyCli } from "./support/cli-build.js"

let build = ""
let project = ""
beforeAll(() => {
  build = copyCli(inject("cliBuild"))
  project = mkdtempSync(join(tmpdir(), "fleetdb-code-cache-"))
})
afterAll(() => {
  if (build !== "") rmSync(build, { recursive: true, force: true })
  if (project !== "") rmSync(project, { recursive: true, force: true })
})

const cliDir = () => join(build, "dist", "cli")
const caches = () => readdirSync(cliDir()).filter((name) => name.endsWith(".cache"))

const env = (): Record<string, string> => {
  const out: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) if (value !== undefined && !key.startsWith("FLEET_")) out[key] = value
  return { ...out, NO_COLOR: "1" }
}

const fleet = (...args: Array<string>) => {
  const result = spawnSync(process.execPath, [join(cliDir(), "main.js"), ...args, "--project", project], {
    env: env(),
    encoding: "utf8",
    timeout: 150_000
  })
  return { code: result.status, stdout: result.stdout, stderr: result.stderr }
}

/** `status --json` without the parts that change from run to run. */
const status = () => {
  const run = fleet("status", "--json")
  expect(run.stderr).toBe("")
  expect(run.code).toBe(0)
  const { last_events: _, ...rest } = JSON.parse(run.stdout) as Record<string, unknown>
  return rest
}

describe("fleet-db code cache", () => {
  it("is written by the first run, replaced when it does not fit, and the command runs the same", () => {
    expect(caches()).toEqual([])
    expect(fleet("init").code).toBe(0)
    // One cache, named after the bundle (whose name carries its content's hash).
    const bundle = readdirSync(cliDir()).filter((name) => /^cli-[0-9a-f]+\.js$/.test(name))
    expect(bundle).toHaveLength(1)
    expect(caches()).toEqual([bundle[0]!.replace(/\.js$/, ".cache")])
    const cachePath = join(cliDir(), caches()[0]!)

    const withCache = status()
    const good = readFileSync(cachePath)
    expect(readFileSync(cachePath).equals(good)).toBe(true)

    // A damaged cache: V8 refuses it, the bundle is compiled from source, and a new cache written.
    writeFileSync(cachePath, Buffer.from("not a V8 code cache"))
    expect(status()).toEqual(withCache)
    expect(readFileSync(cachePath).length).toBeGreaterThan(1000)

    // No cache at all: the same.
    rmSync(cachePath)
    expect(status()).toEqual(withCache)
    expect(caches()).toHaveLength(1)
  }, 300_000)

  it("a cache that cannot be written leaves the command working, and no temp file behind", () => {
    // A directory where the cache goes: reading it fails, and so does putting a file there (for
    // root too, whom permissions would not stop).
    for (const name of caches()) rmSync(join(cliDir(), name))
    const bundle = readdirSync(cliDir()).find((name) => /^cli-[0-9a-f]+\.js$/.test(name))!
    mkdirSync(join(cliDir(), bundle.replace(/\.js$/, ".cache")))
    const before = readdirSync(cliDir()).sort()
    const run = fleet("pilots", "--json")
    expect(run.stderr).toBe("")
    expect(run.code).toBe(0)
    expect(JSON.parse(run.stdout)).toEqual([])
    expect(readdirSync(cliDir()).sort()).toEqual(before)
  }, 300_000)

  it("a finished command exits at once, without the full collection the closed database asked for", () => {
    // That collection (the library's release.ts) frees a closed connection's descriptors: useless
    // to a process that is ending, and tens of milliseconds. V8 logs it as a "testing" collection.
    const result = spawnSync(process.execPath, ["--trace-gc", join(cliDir(), "main.js"), "status", "--json", "--project", project], {
      env: env(),
      encoding: "utf8",
      timeout: 150_000
    })
    expect(result.status).toBe(0)
    expect(result.stdout).toContain("\"project_key\"")
    expect(result.stdout.split("\n").filter((line) => /Mark-Compact.*testing/.test(line))).toEqual([])
  }, 300_000)
})
