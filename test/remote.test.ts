/**
 * FleetDb on a real libSQL server (sqld, started by test/support/sqld-setup.ts): every URL form,
 * embedded replicas (pull on open, read-your-writes, sync on demand, background sync), the
 * server's transaction timeout as a typed retryable error, and typed, bounded, token-free
 * failures for unreachable servers and refused tokens.
 *
 * The service suites themselves run on sqld through the "sqld" backend (test/support/backends.ts).
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { describe, expect, it } from "@effect/vitest"
import * as Libsql from "@libsql/client"
import { Cause, Deferred, Effect, Exit, Fiber, Layer, Logger, LogLevel, Redacted } from "effect"
import { spawnSync } from "node:child_process"
import { randomUUID } from "node:crypto"
import { readFileSync } from "node:fs"
import { createServer, connect, type Socket } from "node:net"
import { join } from "node:path"
import { createServer as createTlsServer } from "node:tls"
import { DatabaseOpenError, FleetDb, isRetryable, isTransactionTimeout, Pilots, Replica } from "../src/index.js"
import { latestMigrationId, migrationsTable } from "../src/migrations/index.js"
import { clientOptions } from "../src/sql/client.js"
import { releaseClosedConnections } from "../src/sql/release.js"
import { sqldContext, sqldUrl, tempDir } from "./support/backends.js"
import { runWorker } from "./support/procs.js"
import { freePort, privateSqld } from "./support/sqld.js"

const context = sqldContext()
if (context.status === "unsupported") {
  console.warn(`[remote.test] SKIPPED: ${context.reason}`)
}

/** The auth-enabled server, or a loud failure when sqld did not start. */
const authServer = Effect.suspend(() => {
  const ctx = sqldContext()
  return ctx.status === "ready"
    ? Effect.succeed({ url: ctx.authUrl, token: ctx.authToken, wrongToken: ctx.wrongToken })
    : Effect.dieMessage(`sqld: ${ctx.reason}`)
})

const freshKey = () => `remote-test#${randomUUID()}`

const register = (callsign: string) => Effect.flatMap(Pilots, (p) => p.register({ callsign }))
const callsigns = Effect.flatMap(Pilots, (p) => p.list()).pipe(Effect.map((list) => list.map((p) => p.callsign).sort()))

/** Build a layer once for the enclosing scope, so several effects share one connection. */
const open = <E>(layer: Layer.Layer<FleetDb.FleetServices, E>) => Layer.build(layer)

/** The typed failure of building a layer (fails the test if it built or died). */
const openFailure = (layer: Layer.Layer<FleetDb.FleetServices, DatabaseOpenError>) =>
  Effect.gen(function*() {
    const exit = yield* Effect.exit(Effect.scoped(Layer.build(layer)))
    if (Exit.isSuccess(exit)) return yield* Effect.dieMessage("the layer opened, but it should have failed")
    const failure = Cause.failureOption(exit.cause)
    if (failure._tag === "None") return yield* Effect.dieMessage(`expected a typed failure, got ${Cause.pretty(exit.cause)}`)
    expect(failure.value).toBeInstanceOf(DatabaseOpenError)
    return { error: failure.value, pretty: Cause.pretty(exit.cause) }
  })

/** Every log line written while `effect` runs, at every level. */
const captureLogs = <A, E, R>(effect: Effect.Effect<A, E, R>) =>
  Effect.gen(function*() {
    const lines: Array<string> = []
    const logger = Logger.make(({ message }) => lines.push(JSON.stringify(message)))
    const result = yield* effect.pipe(
      Effect.provide(Logger.replace(Logger.defaultLogger, logger)),
      Logger.withMinimumLogLevel(LogLevel.All)
    )
    return { result, logs: lines.join("\n") }
  })

describe.skipIf(context.status === "unsupported")("FleetDb on sqld", () => {
  describe("server URLs", () => {
    it.live("http://, ws:// and libsql://…?tls=0 open, run commands and keep the schema on the server", () =>
      Effect.scoped(Effect.gen(function*() {
        const url = yield* sqldUrl()
        const { port } = new URL(url)
        const projectKey = freshKey()
        const forms = [url, url.replace(/^http:/, "ws:"), `libsql://127.0.0.1:${port}?tls=0`]
        for (const [i, form] of forms.entries()) {
          const ctx = yield* open(FleetDb.layer({ url: form, projectKey }))
          yield* register(`pilot-${i}`).pipe(Effect.provide(ctx))
          expect(yield* callsigns.pipe(Effect.provide(ctx))).toEqual(forms.slice(0, i + 1).map((_, j) => `pilot-${j}`))
        }
        // The migrations ran on the server: a plain client sees the tables and the latest migration.
        const raw = Libsql.createClient({ url })
        const rows = yield* Effect.promise(() => raw.execute(`SELECT MAX(migration_id) AS id FROM ${migrationsTable}`))
        const pilots = yield* Effect.promise(() =>
          raw.execute({ sql: "SELECT callsign FROM pilots WHERE project_key = ? ORDER BY callsign", args: [projectKey] })
        )
        raw.close()
        expect(Number(rows.rows[0]!.id)).toBe(latestMigrationId)
        expect(pilots.rows.map((r) => r.callsign)).toEqual(["pilot-0", "pilot-1", "pilot-2"])
      })))

    it.live("https:// and wss:// through TLS (a terminating proxy with a test certificate)", () =>
      Effect.scoped(Effect.gen(function*() {
        const url = yield* sqldUrl()
        const dir = yield* tempDir
        const key = join(dir, "key.pem")
        const cert = join(dir, "cert.pem")
        const made = spawnSync("openssl", [
          "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
          "-keyout", key, "-out", cert, "-days", "1", "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1"
        ], { encoding: "utf8" })
        expect(made.status, `openssl (needed to make a test certificate): ${made.error?.message ?? made.stderr}`).toBe(0)
        const upstream = Number(new URL(url).port)
        const sockets = new Set<Socket>()
        const proxy = createTlsServer({ key: readFileSync(key), cert: readFileSync(cert) }, (client) => {
          const server = connect(upstream, "127.0.0.1")
          sockets.add(client).add(server)
          client.pipe(server).pipe(client)
          client.on("error", () => server.destroy())
          server.on("error", () => client.destroy())
        })
        const port = yield* Effect.acquireRelease(
          Effect.async<number>((resume) => {
            proxy.listen(0, "127.0.0.1", () => resume(Effect.succeed((proxy.address() as { port: number }).port)))
          }),
          () => Effect.sync(() => {
            for (const socket of sockets) socket.destroy()
            proxy.close()
          })
        )
        const projectKey = freshKey()
        const env = { NODE_EXTRA_CA_CERTS: cert, FLEET_PROJECT_KEY: projectKey }
        const https = yield* Effect.promise(() =>
          runWorker("remote-open-worker.ts", ["tls-1"], { ...env, FLEET_DB_URL: `https://127.0.0.1:${port}` })
        )
        expect(https.lines, https.stderr).toEqual([{ ok: true, callsigns: ["tls-1"] }])
        const wss = yield* Effect.promise(() =>
          runWorker("remote-open-worker.ts", ["tls-2"], { ...env, FLEET_DB_URL: `wss://127.0.0.1:${port}` })
        )
        expect(wss.lines, wss.stderr).toEqual([{ ok: true, callsigns: ["tls-1", "tls-2"] }])
        // Without the certificate trusted, TLS fails: typed, as unreachable.
        const untrusted = yield* Effect.promise(() =>
          runWorker("remote-open-worker.ts", ["tls-3"], { FLEET_PROJECT_KEY: projectKey, FLEET_DB_URL: `https://127.0.0.1:${port}` })
        )
        expect(untrusted.lines).toMatchObject([{ ok: false, tag: "DatabaseOpenError", reason: "unreachable" }])
      })), 120_000)

    it("file-only settings (WAL, synchronous, busy timeout) are not applied to servers or replicas", () => {
      const remote = clientOptions({ _tag: "Remote", url: "http://127.0.0.1:1", authToken: Redacted.make("t") }, 5_000)
      expect(remote.pragmas).toEqual([])
      expect(remote.replaceable).toBe(false)
      expect(remote.config).toEqual({ url: "http://127.0.0.1:1", authToken: "t" })
      const replica = clientOptions({ _tag: "Replica", path: "/tmp/r.db", syncUrl: "http://127.0.0.1:1" }, 5_000)
      expect(replica.pragmas).toEqual([])
      expect(replica.replaceable).toBe(false)
      expect(replica.config).toMatchObject({ url: "file:/tmp/r.db", syncUrl: "http://127.0.0.1:1", readYourWrites: true })
      const file = clientOptions({ _tag: "File", path: "/tmp/f.db" }, 5_000)
      expect(file.pragmas.length).toBeGreaterThan(0)
    })
  })

  describe("embedded replicas", () => {
    it.live("pull on open, stale until synced, FleetDb.sync on demand, read-your-writes", () =>
      Effect.scoped(Effect.gen(function*() {
        const url = yield* sqldUrl()
        const dir = yield* tempDir
        const projectKey = freshKey()
        const server = yield* open(FleetDb.layer({ url, projectKey }))
        yield* register("before-open").pipe(Effect.provide(server))

        const replica = yield* open(FleetDb.layer({ url: `file:${join(dir, "replicas", "a.db")}`, syncUrl: url, projectKey }))
        // Pulled on open.
        expect(yield* callsigns.pipe(Effect.provide(replica))).toEqual(["before-open"])
        expect(yield* Effect.map(Replica, (r) => r.isReplica).pipe(Effect.provide(replica))).toBe(true)

        // Another client's write reaches the replica only when it syncs.
        yield* register("elsewhere").pipe(Effect.provide(server))
        expect(yield* callsigns.pipe(Effect.provide(replica))).toEqual(["before-open"])
        const pulled = yield* FleetDb.sync.pipe(Effect.provide(replica))
        expect(pulled.frames_synced).toBeGreaterThan(0)
        expect(pulled.frame_no).toBeGreaterThan(0)
        expect(yield* callsigns.pipe(Effect.provide(replica))).toEqual(["before-open", "elsewhere"])

        // Its own writes go to the server and are readable locally at once.
        yield* register("mine").pipe(Effect.provide(replica))
        expect(yield* callsigns.pipe(Effect.provide(replica))).toEqual(["before-open", "elsewhere", "mine"])
        expect(yield* callsigns.pipe(Effect.provide(server))).toEqual(["before-open", "elsewhere", "mine"])

        // On a server URL there is nothing to pull.
        expect(yield* Effect.map(Replica, (r) => r.isReplica).pipe(Effect.provide(server))).toBe(false)
        expect(yield* FleetDb.sync.pipe(Effect.provide(server))).toEqual({ frame_no: undefined, frames_synced: 0 })
      })))

    it.live("syncInterval pulls other clients' writes in the background", () =>
      Effect.scoped(Effect.gen(function*() {
        const url = yield* sqldUrl()
        const dir = yield* tempDir
        const projectKey = freshKey()
        const server = yield* open(FleetDb.layer({ url, projectKey }))
        const replica = yield* open(
          FleetDb.layer({ url: `file:${join(dir, "b.db")}`, syncUrl: url, syncInterval: 0.2, projectKey })
        )
        yield* register("ticked").pipe(Effect.provide(server))
        // Eventually (no sync call): poll the local copy, bounded by the test timeout.
        let seen: ReadonlyArray<string> = []
        while (!seen.includes("ticked")) {
          yield* Effect.sleep("100 millis")
          seen = yield* callsigns.pipe(Effect.provide(replica))
        }
        expect(seen).toEqual(["ticked"])
      })), 30_000)
  })

  // Each on its own server: the two ~5-s waits overlap.
  describe.concurrent("a write transaction killed by the server (TRANSACTION_TIMEOUT)", () => {
    const killed = (holderUrl: (url: string, dir: string) => Pick<FleetDb.RemoteOptions, "url" | "syncUrl">) =>
      Effect.scoped(Effect.gen(function*() {
        // Its own server: holding the write lock for ~5 s would stall every suite on the shared one.
        const { url } = yield* privateSqld
        const dir = yield* tempDir
        const projectKey = freshKey()
        const holder = yield* open(FleetDb.layer({ ...holderUrl(url, dir), projectKey }))
        const other = yield* open(FleetDb.layer({ url, projectKey }))
        const holdsLock = yield* Deferred.make<void>()
        const otherDone = yield* Deferred.make<void>()
        // Hold the write lock until another client's write has gone through — which sqld allows
        // only by killing this transaction once it has held the lock for about 5 s.
        const holding = yield* Effect.fork(Effect.exit(
          Effect.flatMap(SqlClient.SqlClient, (sql) =>
            sql.withTransaction(
              register("doomed-1").pipe(
                Effect.zipRight(Deferred.succeed(holdsLock, undefined)),
                Effect.zipRight(Deferred.await(otherDone)),
                Effect.zipRight(register("doomed-2"))
              )
            )).pipe(Effect.provide(holder))
        ))
        // The other client writes only once the holder has written, i.e. holds the write lock.
        yield* Effect.raceFirst(
          Deferred.await(holdsLock),
          Effect.flatMap(Fiber.join(holding), (early) =>
            Effect.dieMessage(`the holder ended before it held the write lock: ${JSON.stringify(early)}`))
        )
        yield* register("other").pipe(Effect.provide(other))
        yield* Deferred.succeed(otherDone, undefined)
        const exit = yield* Fiber.join(holding)

        // A typed, retryable SqlError — not a defect — and nothing of the transaction was written.
        expect(Exit.isFailure(exit)).toBe(true)
        const failure = Exit.isFailure(exit) ? Cause.failureOption(exit.cause) : undefined
        expect(failure?._tag, Exit.isFailure(exit) ? Cause.pretty(exit.cause) : "").toBe("Some")
        const error = failure?._tag === "Some" ? failure.value : undefined
        expect(error).toBeInstanceOf(SqlError)
        expect(isTransactionTimeout(error)).toBe(true)
        expect(isRetryable(error)).toBe(true)
        expect(yield* callsigns.pipe(Effect.provide(other))).toEqual(["other"])

        // The holder's connection is still good: retrying works.
        yield* register("retried").pipe(Effect.provide(holder))
        expect(yield* callsigns.pipe(Effect.provide(other))).toEqual(["other", "retried"])
      }))

    it.live("over HTTP", () => killed((url) => ({ url })), 60_000)

    it.live("on an embedded replica", () =>
      killed((url, dir) => ({ url: `file:${join(dir, "killed.db")}`, syncUrl: url })), 60_000)
  })

  describe("servers that cannot be used", () => {
    it.live("nothing listening: DatabaseOpenError \"unreachable\" naming the URL", () =>
      Effect.scoped(Effect.gen(function*() {
        const dir = yield* tempDir
        const port = yield* Effect.promise(freePort)
        const url = `http://127.0.0.1:${port}`
        for (const options of [
          { url },
          { url: `ws://127.0.0.1:${port}` },
          { url: `file:${join(dir, "r.db")}`, syncUrl: url }
        ]) {
          const { error } = yield* openFailure(FleetDb.layer({ ...options, projectKey: "k", authToken: "secret-token-1" }))
          expect(error.reason).toBe("unreachable")
          expect(error.target).toContain(`127.0.0.1:${port}`)
          expect(error.message).not.toContain("secret-token-1")
        }
      })))

    it.live("a server that accepts but never answers: fails within connectTimeout, also when a full collection runs meanwhile", () =>
      Effect.scoped(Effect.gen(function*() {
        const dir = yield* tempDir
        const sockets = new Set<Socket>()
        const silent = createServer((socket) => void sockets.add(socket))
        const port = yield* Effect.acquireRelease(
          Effect.async<number>((resume) => {
            silent.listen(0, "127.0.0.1", () => resume(Effect.succeed((silent.address() as { port: number }).port)))
          }),
          () => Effect.sync(() => {
            for (const socket of sockets) socket.destroy()
            silent.close()
          })
        )
        const url = `http://127.0.0.1:${port}`
        for (const options of [{ url }, { url: `ws://127.0.0.1:${port}` }, { url: `file:${join(dir, "r.db")}`, syncUrl: url }]) {
          // Node 20 drops an AbortSignal.timeout inside AbortSignal.any when a collection runs
          // before it fires: the open then waited forever (src/sql/remote.ts).
          const collecting = yield* Effect.fork(Effect.zipRight(Effect.sleep("100 millis"), Effect.promise(releaseClosedConnections)))
          const { error } = yield* openFailure(FleetDb.layer({ ...options, projectKey: "k", connectTimeout: 300 }))
          yield* Fiber.join(collecting)
          expect(error.reason).toBe("unreachable")
          expect(error.detail).toContain("within 300 ms")
          expect(error.target).toContain(`127.0.0.1:${port}`)
        }
      })), 30_000)

    it.live("JWT auth: the right token opens; a wrong or missing one is DatabaseOpenError \"auth\", never showing the token", () =>
      Effect.scoped(Effect.gen(function*() {
        const { token, url, wrongToken } = yield* authServer
        const dir = yield* tempDir
        const projectKey = freshKey()
        const forms = (name: string) => [
          { url },
          { url: url.replace(/^http:/, "ws:") },
          { url: `file:${join(dir, `${name}.db`)}`, syncUrl: url }
        ]
        for (const [i, form] of forms("good").entries()) {
          const ctx = yield* open(FleetDb.layer({ ...form, authToken: Redacted.make(token), projectKey }))
          yield* register(`authed-${i}`).pipe(Effect.provide(ctx))
        }
        const ctx = yield* open(FleetDb.layer({ url, authToken: token, projectKey }))
        expect(yield* callsigns.pipe(Effect.provide(ctx))).toEqual(["authed-0", "authed-1", "authed-2"])

        for (const [i, form] of forms("bad").entries()) {
          for (const authToken of [wrongToken, undefined]) {
            const { logs, result } = yield* captureLogs(openFailure(FleetDb.layer({ ...form, authToken, projectKey })))
            const { error, pretty } = result
            expect(error.reason, `${form.url} ${i}`).toBe("auth")
            expect(error.target).toContain(new URL(url).host)
            for (const text of [JSON.stringify(error), error.message, pretty, logs]) {
              expect(text).not.toContain(wrongToken)
              expect(text).not.toContain(token)
            }
          }
        }
      })), 60_000)
  })
})
