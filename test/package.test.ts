/**
 * What `npm pack` ships: the license, the README, `dist/` JavaScript and declarations (and the
 * licenses of what the CLI bundle compiles in) and nothing else (no source maps without their sources, no sources, no stamp), no install-time script,
 * every export and the bin present, and bundles that import only declared packages (the CLI's
 * own dependencies are compiled in, never required from the app).
 */
import { build } from "esbuild"
import { beforeAll, describe, expect, it } from "vitest"
import { readFileSync } from "node:fs"
import { builtinModules } from "node:module"
import { join } from "node:path"
import { ensureBuilt, packList, type PackedFile, root } from "./support/npm.js"

interface Manifest {
  readonly scripts?: Record<string, string>
  readonly exports: Record<string, { readonly types: string; readonly default: string }>
  readonly bin: Record<string, string>
  readonly dependencies?: Record<string, string>
  readonly peerDependencies?: Record<string, string>
  readonly devDependencies?: Record<string, string>
}

const manifest = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as Manifest
let files: ReadonlyArray<PackedFile> = []
let paths: ReadonlyArray<string> = []
beforeAll(async () => {
  await ensureBuilt()
  files = await packList()
  paths = files.map((f) => f.path)
}, 300_000)

/** The packages a shipped JavaScript file loads (import, dynamic import, require), as esbuild resolves them. */
const importedPackages = async (file: string): Promise<Set<string>> => {
  const result = await build({
    entryPoints: [join(root, file)],
    bundle: true,
    write: false,
    metafile: true,
    platform: "node",
    format: "esm",
    packages: "external",
    logLevel: "silent"
  })
  const names = new Set<string>()
  for (const output of Object.values(result.metafile.outputs)) {
    for (const { external, path } of output.imports) {
      if (!external || path.startsWith("node:") || builtinModules.includes(path)) continue
      const parts = path.split("/")
      names.add(path.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!)
    }
  }
  return names
}

describe("npm pack", () => {
  it("ships LICENSE, README, package.json and dist/ .js and .d.ts only", () => {
    expect(paths).toContain("LICENSE")
    expect(paths).toContain("README.md")
    expect(paths).toContain("package.json")
    const unexpected = paths.filter((p) =>
      !["LICENSE", "README.md", "package.json", "dist/cli/THIRD-PARTY-LICENSES.txt"].includes(p) &&
      !/^dist\/.+(?<!\.d)\.js$|^dist\/.+\.d\.ts$/.test(p)
    )
    expect(unexpected, "files in the tarball that users do not need").toEqual([])
    expect(readFileSync(join(root, "LICENSE"), "utf8")).toMatch(/^MIT License\n\nCopyright \(c\) 2026 FleetTools contributors\n/)
  })

  it("has no source maps (the sources are not shipped) and no sourceMappingURL pointing at them", () => {
    expect(paths.filter((p) => p.endsWith(".map"))).toEqual([])
    const pointing = paths.filter((p) => readFileSync(join(root, p), "utf8").includes("sourceMappingURL="))
    expect(pointing).toEqual([])
  })

  it("names the licenses of what the CLI bundle compiles in", () => {
    const notice = readFileSync(join(root, "dist/cli/THIRD-PARTY-LICENSES.txt"), "utf8")
    for (const name of ["@effect/cli", "@effect/platform-node"]) expect(notice).toContain(`${name}@`)
    expect(notice).toContain("Permission is hereby granted")
  })

  it("has no install-time script", () => {
    const installTime = ["preinstall", "install", "postinstall", "prepublish", "preprepare", "prepare", "postprepare"]
    expect(Object.keys(manifest.scripts ?? {}).filter((s) => installTime.includes(s))).toEqual([])
  })

  it("ships every export, its declarations and the bin", () => {
    for (const target of Object.values(manifest.exports)) {
      expect(paths).toContain(target.default.replace(/^\.\//, ""))
      expect(paths).toContain(target.types.replace(/^\.\//, ""))
    }
    for (const bin of Object.values(manifest.bin)) expect(paths).toContain(bin.replace(/^\.\//, ""))
    expect(readFileSync(join(root, manifest.bin["fleet-db"]!), "utf8")).toMatch(/^#!\/usr\/bin\/env node\n/)
  })

  it("imports only dependencies and peers at run time; the CLI's own dependencies are bundled", async () => {
    const declared = new Set([...Object.keys(manifest.dependencies ?? {}), ...Object.keys(manifest.peerDependencies ?? {})])
    expect(await importedPackages("dist/index.js")).toContain("effect")
    const undeclared: Array<string> = []
    for (const entry of ["dist/index.js", "dist/schema/index.js", "dist/promise.js", "dist/cli/main.js", "dist/cli/demo-pilot.js"]) {
      for (const name of await importedPackages(entry)) if (!declared.has(name)) undeclared.push(`${entry} loads ${name}`)
    }
    // The command line itself is a script `main.js` runs (src/cli/loadBundle.ts), not a module:
    // what it loads is what it `require`s. (ws, compiled in, tries two optional native add-ons.)
    const commandLine = paths.filter((p) => /^dist\/cli\/cli-[0-9a-f]+\.js$/.test(p))
    expect(commandLine).toHaveLength(1)
    const optional = new Set(["bufferutil", "utf-8-validate"])
    for (const [, path] of readFileSync(join(root, commandLine[0]!), "utf8").matchAll(/\brequire\("([^"]+)"\)/g)) {
      const parts = path!.split("/")
      const name = path!.startsWith("@") ? `${parts[0]}/${parts[1]}` : parts[0]!
      if (path!.startsWith("node:") || builtinModules.includes(path!) || optional.has(name)) continue
      if (!declared.has(name)) undeclared.push(`${commandLine[0]} loads ${name}`)
    }
    expect(undeclared).toEqual([])
    // And those dependencies are the library's only: everything the CLI alone needs is a devDependency.
    for (const cliOnly of ["@effect/cli", "@effect/platform-node", "@effect/printer", "@effect/printer-ansi"]) {
      expect(declared.has(cliOnly), cliOnly).toBe(false)
      expect(manifest.devDependencies?.[cliOnly], cliOnly).toBeDefined()
    }
  })
})
