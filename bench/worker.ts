/**
 * A contention worker: `worker.ts <impl> <op> <projectPath> <count> <logFile> <label>`.
 *
 * Opens the project's database, prints `{"ready":true}`, waits for a line on stdin, then works:
 * - `lock`: `count` acquire/release cycles on one key, waiting for the lock; inside each critical
 *   section it appends `enter <label> <fence>` and `exit <label> <fence>` to `logFile`;
 * - `claim`: `claimNext` until nothing is left; the claimed ids are reported.
 * Ends with one JSON line: completed cycles, errors by kind, start and end (epoch ms).
 *
 * impl: `service` (the library, waiting with `wait`), `raw` (raw libsql, same statements,
 * retrying at once while the lock is held), `drizzle` (the seed's Drizzle code with this library's
 * busy timeout and pragmas), `drizzle-seed` (the seed's client exactly: no busy timeout). Raw and
 * Drizzle reopen their client after SQLITE_BUSY (see `reconnect`) and retry a failed release or
 * claim, so that one BUSY does not leave a lock held until its lease expires.
 */
import type * as Libsql from "@libsql/client"
import { Effect, ManagedRuntime, Option } from "effect"
import { appendFileSync } from "node:fs"
import { basename, dirname } from "node:path"
import { createInterface } from "node:readline"
import { Locks, Sorties } from "../src/index.js"
import * as Drizzle from "./lib/drizzle.js"
import * as Raw from "./lib/raw.js"
import { dbFile, openRaw, PROJECT_KEY as pk, serviceLayer } from "./lib/setup.js"

const [impl, op, project, countArg, logFile, label] = process.argv.slice(2)
if (impl === undefined || op === undefined || project === undefined || countArg === undefined || logFile === undefined || label === undefined) {
  throw new Error("usage: worker.ts <impl> <op> <projectPath> <count> <logFile> <label>")
}
const count = Number(countArg)
const KEY = "shared"
const TTL = 30_000
// A run that cannot finish (e.g. SQLITE_BUSY on every attempt) stops here and reports what it did.
const DEADLINE_MS = 60_000

const now = () => performance.timeOrigin + performance.now()
const errors: Record<string, number> = {}
const noteError = (error: unknown) => {
  const e = error as { readonly _tag?: unknown; readonly code?: unknown; readonly cause?: { readonly code?: unknown } }
  const kind = String(e?.cause?.code ?? e?._tag ?? e?.code ?? (error instanceof Error ? error.message : error))
  errors[kind] = (errors[kind] ?? 0) + 1
}
const enter = (fence: number) => appendFileSync(logFile, `enter ${label} ${fence}\n`)
const exit = (fence: number) => appendFileSync(logFile, `exit ${label} ${fence}\n`)

const waitForGo = () =>
  new Promise<void>((resolve) => {
    const lines = createInterface({ input: process.stdin })
    lines.once("line", () => {
      lines.close()
      resolve()
    })
  })

interface Worker {
  readonly cycle: () => Promise<string | undefined>
  readonly close: () => Promise<void>
}

const isBusy = (error: unknown): boolean => {
  const e = error as { readonly code?: unknown; readonly cause?: { readonly code?: unknown } } | undefined
  const code = String(e?.code ?? e?.cause?.code ?? "")
  return code.startsWith("SQLITE_BUSY")
}

/** Run `f` until it succeeds; failures count as errors (and may reconnect) and are retried at once. */
const retry = async <A>(f: () => Promise<A>, onError: (error: unknown) => Promise<void>, deadline: number): Promise<A> => {
  for (;;) {
    try {
      return await f()
    } catch (error) {
      noteError(error)
      await onError(error)
      if (now() > deadline) throw error
    }
  }
}

/** Retry `attempt` at once while the lock is held (blind retry); other failures count as errors. */
const blindAcquire = async <L>(
  attempt: () => Promise<L>,
  held: (error: unknown) => boolean,
  onError: (error: unknown) => Promise<void>,
  deadline: number
): Promise<L> => {
  for (;;) {
    try {
      return await attempt()
    } catch (error) {
      if (!held(error)) {
        noteError(error)
        await onError(error)
      }
      if (now() > deadline) throw error
    }
  }
}

const makeWorker = async (deadline: () => number): Promise<Worker> => {
  if (impl === "service") {
    const runtime = ManagedRuntime.make(serviceLayer(dirname(project), basename(project)))
    await runtime.runPromise(Effect.void)
    const lockCycle = Effect.flatMap(Locks, (locks) =>
      Effect.flatMap(
        locks.acquire(KEY, { holder: label, ttl: TTL, wait: "2 minutes" }),
        (lock) =>
          Effect.zipRight(
            Effect.sync(() => {
              enter(lock.fence)
              exit(lock.fence)
            }),
            locks.release(lock)
          )
      ))
    const claim = Effect.flatMap(Sorties, (sorties) => sorties.claimNext(label))
    return {
      cycle: async () => {
        if (op === "lock") {
          await runtime.runPromise(lockCycle)
          return undefined
        }
        const claimed = await runtime.runPromise(claim)
        return Option.isSome(claimed) ? claimed.value.id : ""
      },
      close: () => runtime.dispose()
    }
  }
  if (impl === "raw") {
    const file = dbFile(dirname(project), basename(project))
    let client: Libsql.Client = await openRaw(file)
    // After SQLITE_BUSY a libSQL connection can keep an unfinished statement (and its snapshot):
    // every later write fails at once. Start over on a fresh connection, as any working app must.
    const reconnect = async (error: unknown) => {
      if (!isBusy(error)) return
      client.close()
      client = await openRaw(file)
    }
    return {
      cycle: async () => {
        if (op === "lock") {
          const lock = await blindAcquire(() => Raw.acquireLock(client, pk, KEY, label, TTL), (e) => e instanceof Raw.Held, reconnect, deadline())
          enter(lock.fence as number)
          exit(lock.fence as number)
          await retry(() => Raw.releaseLock(client, pk, lock), reconnect, deadline())
          return undefined
        }
        const row = await retry(() => Raw.claimNext(client, pk, label), reconnect, deadline())
        return row === undefined ? "" : String(row.id)
      },
      close: async () => client.close()
    }
  }
  if (impl === "drizzle" || impl === "drizzle-seed") {
    const file = dbFile(dirname(project), basename(project))
    const open = async () => impl === "drizzle" ? await Drizzle.createTunedDb(file) : Drizzle.createSeedDb(file)
    let db = await open()
    const reconnect = async (error: unknown) => {
      if (!isBusy(error)) return
      db.client.close()
      db = await open()
    }
    return {
      cycle: async () => {
        const lock = await blindAcquire(() => Drizzle.acquireLock(db.db, pk, KEY, label, TTL), (e) => e instanceof Drizzle.Held, reconnect, deadline())
        enter(lock.fence)
        exit(lock.fence)
        await retry(() => Drizzle.releaseLock(db.db, pk, lock), reconnect, deadline())
        return undefined
      },
      close: async () => db.client.close()
    }
  }
  throw new Error(`unknown implementation ${impl}`)
}

const main = async () => {
  let stopAt = Infinity
  const worker = await makeWorker(() => stopAt)
  process.stdout.write(JSON.stringify({ ready: true }) + "\n")
  await waitForGo()
  const startedAt = now()
  stopAt = startedAt + DEADLINE_MS
  let completed = 0
  const claimed: Array<string> = []
  while (op === "lock" ? completed < count : true) {
    if (now() > stopAt) break
    try {
      const result = await worker.cycle()
      if (op === "claim") {
        if (result === "") break
        claimed.push(result!)
      }
      completed++
    } catch (error) {
      noteError(error)
    }
  }
  const endedAt = now()
  await worker.close()
  process.stdout.write(JSON.stringify({ done: true, label, completed, errors, startedAt, endedAt, claimed }) + "\n")
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
