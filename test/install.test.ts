/**
 * The install a user does, as CI does it from a clean clone: pack the package, run the README's
 * Install block verbatim in a fresh app, find exactly one `effect` and one `@libsql/client` 0.18
 * there, compile the README's examples with the strictest settings (`strict`,
 * `exactOptionalPropertyTypes`, `noUncheckedIndexedAccess`, `skipLibCheck: false`), run them, and
 * run the bundled `fleet-db` command from the app.
 *
 * Needs the npm registry once (the peers); later runs are served from npm's cache
 * (`--prefer-offline`).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, realpathSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { ensureBuilt, root, step } from "./support/npm.js"

const readme = readFileSync(join(root, "README.md"), "utf8")

/** The README's Install block: the commands a user types in their app. */
const installCommands = (): ReadonlyArray<string> => {
  const match = /<!-- test\/install\.test\.ts runs this block verbatim[^\n]*-->\n```sh\n([\s\S]*?)```/.exec(readme)
  if (match === null) throw new Error("README.md: no Install block marked for test/install.test.ts")
  return match[1]!.split("\n").map((line) => line.trim()).filter((line) => line !== "")
}

/** The README's examples marked for this test, as files of the app. */
const examples = (): ReadonlyArray<{ readonly file: string; readonly code: string }> =>
  [...readme.matchAll(/<!-- test\/install\.test\.ts compiles[^\n]* as the app's (\S+) -->\n```ts\n([\s\S]*?)```/g)]
    .map((m) => ({ file: m[1]!, code: m[2]! }))

// npm as a user's, but served from the cache when it can be, and quiet.
const npmEnv = {
  npm_config_prefer_offline: "true",
  npm_config_audit: "false",
  npm_config_fund: "false",
  npm_config_update_notifier: "false"
}

const STRICTEST = {
  compilerOptions: {
    target: "ES2022",
    lib: ["ES2022"],
    module: "NodeNext",
    moduleResolution: "NodeNext",
    strict: true,
    exactOptionalPropertyTypes: true,
    noUncheckedIndexedAccess: true,
    skipLibCheck: false,
    outDir: "dist"
  },
  include: ["src"]
}

let work = ""
let app = ""
beforeAll(async () => {
  work = mkdtempSync(join(tmpdir(), "fleetdb-install-"))
  app = join(work, "app")
  mkdirSync(join(app, "src"), { recursive: true })
  await ensureBuilt()
  const packed = JSON.parse(await step("npm pack", "npm", ["pack", "--json", "--ignore-scripts", "--pack-destination", work])) as Array<
    { readonly filename: string }
  >
  const tarball = packed[0]!.filename
  // A new ES-module app; the README's commands name the tarball in the app's directory.
  writeFileSync(join(app, "package.json"), JSON.stringify({ name: "fleet-app", version: "1.0.0", private: true, type: "module" }, null, 2))
  copyFileSync(join(work, tarball), join(app, tarball))
  for (const command of installCommands()) await step(`README Install command`, command, undefined, { cwd: app, env: npmEnv })
}, 300_000)
afterAll(() => {
  if (work !== "") rmSync(work, { recursive: true, force: true })
})

describe("installing from the README", () => {
  it("puts exactly one effect and one @libsql/client 0.18 in the app", async () => {
    // Every installed package, one path per copy (one npm call: each costs seconds of CPU).
    const installed = (await step("npm ls", "npm", ["ls", "--all", "--parseable"], { cwd: app, env: npmEnv }))
      .split("\n").map((line) => line.trim())
    const copies = (name: string) => [...new Set(installed.filter((line) => line.endsWith(`node_modules/${name}`)))]
    const client = copies("@libsql/client")
    expect(copies("effect"), "copies of effect").toHaveLength(1)
    expect(client, "copies of @libsql/client").toHaveLength(1)
    const version = (JSON.parse(readFileSync(join(client[0]!, "package.json"), "utf8")) as { version: string }).version
    expect(version).toMatch(/^0\.18\./)
    // The CLI's own dependencies are bundled into it, not installed.
    for (const cliOnly of ["@effect/cli", "@effect/platform-node", "@effect/cluster", "@effect/ai"]) {
      expect(copies(cliOnly), cliOnly).toEqual([])
    }
  })

  it("compiles the README's examples with the strictest settings, and runs them", async () => {
    const found = examples()
    expect(found.map((e) => e.file)).toEqual(["main.ts", "runtime.ts", "promise.ts"])
    for (const { code, file } of found) writeFileSync(join(app, "src", file), code)
    writeFileSync(join(app, "tsconfig.json"), JSON.stringify(STRICTEST, null, 2))
    const tsc = join(root, "node_modules", "typescript", "bin", "tsc")
    await step("type checking the README examples in the app", process.execPath, [tsc, "-p", "."], { cwd: app })
    const run = (file: string) => step(`running the README example ${file}`, process.execPath, [join("dist", file.replace(/\.ts$/, ".js"))], { cwd: app })
    expect(await run("main.ts")).toMatch(/Fix the flaky login test/)
    expect((await run("runtime.ts")).trim()).toBe("2")
    const promise = await run("promise.ts")
    expect(promise).toMatch(/deployed under fence 1/)
    expect(promise).toMatch(/held by viper-1/)
    expect(promise).toMatch(/#\d+ pilot_registered/)
  }, 300_000)

  it("runs the bundled fleet-db command from the app", async () => {
    const status = await step("npx fleet-db status", "npx", ["--no", "fleet-db", "status"], { cwd: app, env: { ...npmEnv, NO_COLOR: "1" } })
    expect(status).toContain(realpathSync(app))
    expect(status).toMatch(/viper-1/)
  }, 120_000)
})
