/**
 * The command as users run it: compiled JavaScript under `dist/`, next to a package.json, run by
 * plain `node`. `tsc` would take minutes on a busy machine, so each source file is transpiled on
 * its own (the sources are clean under `isolatedModules`); type checking is `npm run typecheck`'s
 * job. (The same build as test/cli.test.ts.)
 */
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, symlinkSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"
import ts from "typescript"

const root = fileURLToPath(new URL("../..", import.meta.url))

/** Build `dist/` into a fresh temp directory and return that directory. */
export const buildCli = (): string => {
  const out = mkdtempSync(join(tmpdir(), "fleetdb-cli-build-"))
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as { version: string }
  writeFileSync(join(out, "package.json"), JSON.stringify({ type: "module", version: pkg.version }))
  symlinkSync(join(root, "node_modules"), join(out, "node_modules"), "dir")
  const walk = (dir: string): Array<string> =>
    readdirSync(dir, { withFileTypes: true }).flatMap((entry) =>
      entry.isDirectory() ? walk(join(dir, entry.name)) : entry.name.endsWith(".ts") ? [join(dir, entry.name)] : []
    )
  for (const file of walk(join(root, "src"))) {
    const target = join(out, "dist", relative(join(root, "src"), file)).replace(/\.ts$/, ".js")
    mkdirSync(dirname(target), { recursive: true })
    const { outputText } = ts.transpileModule(readFileSync(file, "utf8"), {
      fileName: file,
      compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022, isolatedModules: true }
    })
    writeFileSync(target, outputText)
  }
  return out
}
