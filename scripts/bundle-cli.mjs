/**
 * The `fleet-db` command as bundled files: `main.js` (the entry: it answers `--version` and loads
 * the rest), `cli-HASH.js` (the whole command line as one script, loaded by `loadBundle.ts` with
 * V8's code cache), and `demo-pilot.js` (the demo's pilot process, started from beside `main.js`)
 * with the chunks it loads. Everything is compiled in, tree-shaken and minified, except the
 * package's dependencies (`@libsql/client`, with its native driver), which stay imports resolved
 * from the app's node_modules. The peers (effect, @effect/sql, …) are compiled in too: the command
 * is a program, not a library, and loading effect's hundreds of modules one by one cost most of
 * its start-up time. Commands are imported only when they run (see `src/cli/app.ts`): in the
 * bundle, a command's modules are evaluated only then.
 */
import { build } from "esbuild"
import { createHash } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** The packages compiled into the bundle, from esbuild's list of inputs: `node_modules/{name}/…`. */
const bundledPackages = (root, metafile) => {
  const dirs = new Set()
  for (const input of Object.keys(metafile.inputs)) {
    const match = /^(.*node_modules\/(?:@[^/]+\/)?[^/]+)\//.exec(input)
    if (match !== null) dirs.add(join(root, match[1]))
  }
  return [...dirs].sort()
}

/** Their licenses, which travel with the code compiled into the bundle. */
const licenseNotice = (dirs) =>
  dirs.map((dir) => {
    const pkg = JSON.parse(readFileSync(join(dir, "package.json"), "utf8"))
    const file = readdirSync(dir).find((name) => /^(licen[cs]e|copying)(\.|$)/i.test(name))
    const text = file === undefined ? `License: ${pkg.license ?? "see the package"}` : readFileSync(join(dir, file), "utf8").trim()
    return `${pkg.name}@${pkg.version}\n\n${text}\n`
  }).join(`\n${"-".repeat(72)}\n\n`)

/**
 * `@libsql/client` itself (not its subpaths) resolves to `libsql-client-lazy.mjs`: a command on a
 * file database never loads the server clients.
 */
const lazyLibsqlClient = (root) => ({
  name: "lazy-libsql-client",
  setup(build) {
    build.onResolve({ filter: /^@libsql\/client$/ }, (args) =>
      args.importer.endsWith("libsql-client-lazy.mjs") ? undefined : { path: join(root, "scripts", "libsql-client-lazy.mjs") })
  }
})

/** @effect/cli's file-format parsers resolve to `cli-no-config-files.mjs` (no option reads a file). */
const noConfigFiles = (root) => ({
  name: "no-config-files",
  setup(build) {
    build.onResolve({ filter: /^(yaml|toml|ini)$/ }, (args) =>
      /@effect[\\/]cli[\\/]/.test(args.importer) ? { path: join(root, "scripts", "cli-no-config-files.mjs") } : undefined)
  }
})

/** Options both builds share. */
const common = (root, external) => ({
  absWorkingDir: root,
  bundle: true,
  platform: "node",
  target: "node20",
  external,
  minify: true,
  metafile: true,
  plugins: [lazyLibsqlClient(root), noConfigFiles(root)],
  logLevel: "warning"
})

/**
 * The command line (`src/cli/runMain.ts` and all it imports) as one script: a function expression
 * taking CommonJS's parameters and `import.meta.url`'s stand-in (see `src/cli/loadBundle.ts`).
 * CommonJS, because only a script (not an ES module) can be compiled with a code cache on Node 20.
 * Returns its file name (`cli-HASH.js`: the hash of its content, which its cache is tied to).
 */
const buildCommandLine = async (root, outdir, external) => {
  const result = await build({
    ...common(root, external),
    entryPoints: [join(root, "src/cli/runMain.ts")],
    format: "cjs",
    write: false,
    outdir,
    define: { "import.meta.url": "__fleetImportMetaUrl" },
    banner: { js: "(function (exports, require, module, __filename, __dirname, __fleetImportMetaUrl) {\"use strict\";" },
    footer: { js: "\n})" }
  })
  const [output] = result.outputFiles
  // loadBundle.ts reads it as Latin-1 (no UTF-8 decoding): esbuild escapes non-ASCII by default.
  if (output.contents.some((byte) => byte > 0x7f)) throw new Error("the command-line bundle is not ASCII")
  const name = `cli-${createHash("sha256").update(output.contents).digest("hex").slice(0, 16)}.js`
  mkdirSync(outdir, { recursive: true })
  writeFileSync(join(outdir, name), output.contents)
  return { name, metafile: result.metafile }
}

/** Bundle `{root}/src/cli` into `outdir`. */
export const bundleCli = async (root, outdir) => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const external = Object.keys(pkg.dependencies ?? {}).flatMap((name) => [name, `${name}/*`])
  const commandLine = await buildCommandLine(root, outdir, external)
  const result = await build({
    ...common(root, external),
    entryPoints: { main: join(root, "src/cli/main.ts"), "demo-pilot": join(root, "src/cli/demo-pilot.ts") },
    outdir,
    format: "esm",
    splitting: true,
    define: { __FLEET_DB_CLI_BUNDLE__: JSON.stringify(`./${commandLine.name}`) },
    // Bundled CommonJS dependencies call require(); ES modules have none of their own.
    banner: { js: "import { createRequire as __fleetRequire } from \"node:module\"; const require = __fleetRequire(import.meta.url);" }
  })
  const inputs = { inputs: { ...commandLine.metafile.inputs, ...result.metafile.inputs } }
  const notice = licenseNotice(bundledPackages(root, inputs).filter((dir) => existsSync(join(dir, "package.json"))))
  writeFileSync(join(outdir, "THIRD-PARTY-LICENSES.txt"), `Packages compiled into the fleet-db command:\n\n${notice}`)
  chmodSync(join(outdir, "main.js"), 0o755)
}
