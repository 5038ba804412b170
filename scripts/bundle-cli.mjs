/**
 * The `fleet-db` command as bundled ES modules: `main.js` and `demo-pilot.js` (the demo's pilot
 * process, started from beside `main.js`). Everything is compiled in except the package's
 * dependencies and peers, which stay imports resolved from the app's node_modules.
 */
import { build } from "esbuild"
import { chmodSync, readFileSync } from "node:fs"
import { join } from "node:path"

/** Bundle `{root}/src/cli` into `outdir`. */
export const bundleCli = async (root, outdir) => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8"))
  const external = [...Object.keys(pkg.dependencies ?? {}), ...Object.keys(pkg.peerDependencies ?? {})]
    .flatMap((name) => [name, `${name}/*`])
  await build({
    entryPoints: { main: join(root, "src/cli/main.ts"), "demo-pilot": join(root, "src/cli/demo-pilot.ts") },
    outdir,
    bundle: true,
    platform: "node",
    format: "esm",
    target: "node20",
    external,
    // Bundled CommonJS dependencies call require(); ES modules have none of their own.
    banner: { js: "import { createRequire as __fleetRequire } from \"node:module\"; const require = __fleetRequire(import.meta.url);" },
    logLevel: "warning"
  })
  chmodSync(join(outdir, "main.js"), 0o755)
}
