/**
 * Letting go of closed connections' file descriptors.
 *
 * The native `libsql` binding keeps a connection's SQLite handle (and its descriptors on the
 * database, `-wal` and `-shm` files) alive while any statement it prepared is still reachable,
 * and closing the connection does not finalise them: every statement the driver ever ran on it
 * is garbage, but the handle closes only when the garbage collector gets to those statements.
 * A process that replaces connections (after SQLITE_BUSY or SQLITE_FULL) or opens and closes
 * databases therefore accumulates descriptors until a full collection happens to run. So after
 * closing connections we ask for one, then give the binding's finalisers (which Node runs on a
 * later turn of the event loop) the chance to run.
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

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve))

// A collection asked for but not started yet: later callers join it. Once it starts, a caller
// that closed a connection since gets a new one. `start` is its first turn: unreferenced while
// only background callers wait for it, so it never keeps a finishing process alive.
let waiting: { readonly promise: Promise<void>; readonly start: NodeJS.Immediate } | undefined
// The latest collection, until its finalisers have had their turn.
let current: Promise<void> = Promise.resolve()

/**
 * Release the descriptors of every connection closed so far, with a full garbage collection
 * (tens of milliseconds in a large heap). `background`: do not keep the process alive for it (a
 * process that is about to exit loses its descriptors anyway). Never rejects.
 */
export const releaseClosedConnections = (options: { readonly background?: boolean } = {}): Promise<void> => {
  if (waiting !== undefined) {
    if (options.background !== true) waiting.start.ref()
    return waiting.promise
  }
  let start!: NodeJS.Immediate
  const begun = new Promise<void>((resolve) => {
    // Let the current turn's callers drop their last references first.
    start = setImmediate(resolve)
  })
  if (options.background === true) start.unref()
  const promise = begun.then(async () => {
    waiting = undefined
    try {
      collectGarbage()
    } catch {
      // no collector: the descriptors go with the next natural collection
    }
    // The binding's finalisers run on a later turn.
    await nextTurn()
    await nextTurn()
  })
  waiting = { promise, start }
  current = promise
  return promise
}

/** The collection asked for last (e.g. by a layer that closed), once it is done; for tests. */
export const lastRelease = (): Promise<void> => current

/** At most this many replaced connections wait for a collection (about 2 descriptors each). */
export const REPLACED_CONNECTIONS_KEPT = 8

let replaced = 0

/**
 * After a connection was replaced: a collection every `REPLACED_CONNECTIONS_KEPT`th time, so a
 * burst of failures (each replacing the connection) costs one collection per batch, and the
 * descriptors waiting for one stay bounded.
 */
export const releaseReplacedConnection = (): Promise<void> => {
  replaced = (replaced + 1) % REPLACED_CONNECTIONS_KEPT
  return replaced === 0 ? releaseClosedConnections() : Promise.resolve()
}
