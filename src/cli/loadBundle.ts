/**
 * Loads the command-line bundle (everything but `main.js`: one script, built by
 * scripts/bundle-cli.mjs) with V8's code cache. Compiling the bundle's JavaScript was the largest
 * single cost of a command's start (Node 20 keeps no compile cache for modules), so the compiled
 * code is kept in a file beside the bundle (`NAME.cache`, written by the build, or by the first
 * run that finds it missing or made by another Node version). V8 checks that a cache fits its
 * own version and flags and the script, and compiles from source when it does not; the bundle's
 * name carries a hash of its content, so a cache is never used with another build. Nothing is
 * written where this process cannot write (a package installed by another user): it compiles
 * from source each time, as without a cache.
 *
 * @module
 */
import { accessSync, constants, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { dirname } from "node:path"
import { fileURLToPath } from "node:url"
import { Script } from "node:vm"

/** What the bundle exports (`runMain.ts`). */
export interface Bundle {
  readonly runMain: (argv: ReadonlyArray<string>) => void
}

const readCache = (path: string): Buffer | undefined => {
  try {
    return readFileSync(path)
  } catch {
    return undefined
  }
}

const canWrite = (dir: string): boolean => {
  try {
    accessSync(dir, constants.W_OK)
    return true
  } catch {
    return false
  }
}

/**
 * Write the cache once this process is done (the code it ran is then compiled, so the cache
 * holds it too), through a temp file: processes starting at once never read half a cache.
 */
const writeCacheAtExit = (script: Script, path: string): void => {
  process.once("exit", () => {
    const temp = `${path}.${process.pid}.tmp`
    try {
      writeFileSync(temp, script.createCachedData())
      renameSync(temp, path)
    } catch {
      rmSync(temp, { force: true })
    }
  })
}

/**
 * Load the bundle at `url`: a function expression taking CommonJS's five parameters and the URL
 * that stands for `import.meta.url` in the bundled modules.
 */
export const loadBundle = (url: URL): Bundle => {
  const filename = fileURLToPath(url)
  const cachePath = `${filename.replace(/\.js$/, "")}.cache`
  const cachedData = readCache(cachePath)
  // The bundle is ASCII (checked by the build): read as Latin-1, the string needs no decoding.
  const script = new Script(readFileSync(filename, "latin1"), { filename, cachedData })
  if ((cachedData === undefined || script.cachedDataRejected === true) && canWrite(dirname(filename))) {
    writeCacheAtExit(script, cachePath)
  }
  const module = { exports: {} as Bundle }
  const factory = script.runInThisContext() as (
    exports: object,
    require: NodeJS.Require,
    module: { exports: Bundle },
    __filename: string,
    __dirname: string,
    importMetaUrl: string
  ) => void
  factory(module.exports, createRequire(filename), module, filename, dirname(filename), url.href)
  return module.exports
}
