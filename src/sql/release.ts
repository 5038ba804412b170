/**
 * Letting go of closed connections' file descriptors.
 *
 * The native `libsql` binding keeps a connection's SQLite handle (and its descriptors on the
 * database, `-wal` and `-shm` files) alive while any statement it prepared is still reachable,
 * and closing the connection does not finalise them: every statement the driver ever ran on it
 * is garbage, but the handle closes only when the garbage collector gets to those statements.
 * A process that replaces connections (after SQLITE_BUSY or SQLITE_FULL) or opens and closes
 * databases therefore accumulates descriptors until a full collection happens to run. So closed
 * connections wait for one we ask for, then the binding's finalisers (which Node runs on a later
 * turn of the event loop) get the chance to run.
 *
 * A full collection costs tens of milliseconds in a small heap and about 100 ms in a test
 * runner's; asked for after every close, it was a quarter of this library's test-suite CPU. So
 * closed connections wait together: the collection runs once `CONNECTIONS_KEPT` of them wait, or
 * `RELEASE_DELAY_MS` after the first of them closed, whichever comes first. The descriptors
 * waiting stay bounded (about 3 per connection: the database, `-wal` and `-shm`).
 *
 * @module
 */
import { setFlagsFromString } from "node:v8"
import { runInNewContext } from "node:vm"

let collector: (() => void) | undefined

// `gc` is only reachable with --expose-gc; setting the flag at run time exposes it in contexts
// created afterwards, so one is created just to fetch it, and the flag is unset again so no other
// context gets it.
const collectGarbage = (): void => {
  if (collector === undefined) {
    const global = (globalThis as { readonly gc?: unknown }).gc
    if (typeof global === "function") {
      collector = global as () => void
    } else {
      setFlagsFromString("--expose-gc")
      try {
        collector = runInNewContext("gc") as () => void
      } finally {
        setFlagsFromString("--no-expose-gc")
      }
    }
  }
  // A full collection: the statements of a long-lived connection are in the old generation.
  collector()
}

/** At most this many closed connections wait for a collection (about 3 descriptors each). */
export const CONNECTIONS_KEPT = 16

/** And none waits longer than this (ms). */
export const RELEASE_DELAY_MS = 5_000

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

/** Closed connections waiting for one collection that has not started. */
interface Batch {
  /** Connections in it. */
  count: number
  /** Resolves once its collection, and the finalisers after it, have run. Never rejects. */
  readonly done: Promise<void>
  /** Start the collection on the next turn; `keepAlive`: the process waits for it. */
  readonly start: (keepAlive: boolean) => void
}

let batch: Batch | undefined
// The batch joined last, until its finalisers have had their turn.
let current: Promise<void> = Promise.resolve()

const makeBatch = (): Batch => {
  let begin!: () => void
  const begun = new Promise<void>((resolve) => (begin = resolve))
  // The delay never keeps a process alive: one about to exit loses its descriptors anyway.
  const timer = setTimeout(() => begin(), RELEASE_DELAY_MS).unref()
  let turn: NodeJS.Immediate | undefined
  const start = (keepAlive: boolean) => {
    if (turn === undefined) {
      // Let the current turn's callers drop their last references first.
      turn = setImmediate(begin)
      // An unreferenced turn waits for the event loop's next wake-up: the timer stays as a bound.
      if (!keepAlive) turn.unref()
    } else if (keepAlive) {
      turn.ref()
    }
  }
  const self: Batch = {
    count: 0,
    start,
    done: begun.then(async () => {
      clearTimeout(timer)
      if (turn !== undefined) clearImmediate(turn)
      // Connections closed from now on wait for the next collection.
      if (batch === self) batch = undefined
      try {
        collectGarbage()
      } catch {
        // no collector: the descriptors go with the next natural collection
      }
      await nextTurn()
      await nextTurn()
    })
  }
  return self
}

const join = (): Batch => {
  const joined = batch ??= makeBatch()
  current = joined.done
  return joined
}

/**
 * Release the descriptors of every connection closed so far now: a full collection on the next
 * turn of the event loop. Never rejects.
 */
export const releaseClosedConnections = (): Promise<void> => {
  const joined = join()
  joined.start(true)
  return joined.done
}

/**
 * A connection was closed (or retired): its descriptors are released by the next collection,
 * which starts when `CONNECTIONS_KEPT` connections wait or `RELEASE_DELAY_MS` after the first.
 * Resolves at once, or, for the connection that filled the batch, once its collection is done.
 * `background`: the process does not wait for that collection before exiting.
 */
export const connectionClosed = (options: { readonly background?: boolean } = {}): Promise<void> => {
  const joined = join()
  joined.count++
  if (joined.count < CONNECTIONS_KEPT) return Promise.resolve()
  joined.start(options.background !== true)
  return joined.done
}

/** The collection that releases the connections closed so far, once it is done; for tests. */
export const lastRelease = (): Promise<void> => current
