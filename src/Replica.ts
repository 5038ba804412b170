/**
 * Embedded replicas: `FleetDb.layer({ url: "file:…", syncUrl })` keeps a local copy of a libSQL
 * server's database. Writes (every command) go to the server; reads outside a command read the
 * local copy, which is as fresh as its last sync: on open, after each of this process's own writes
 * (read-your-writes), every `syncInterval` seconds when set, and whenever `Replica.sync` runs.
 *
 * @module
 */
import { SqlClient } from "@effect/sql"
import { SqlError } from "@effect/sql/SqlError"
import { Context, Duration, Effect, Layer, Schedule } from "effect"
import { guardedClientOf } from "./sql/sqlClient.js"

/** What one sync pulled. */
export interface ReplicaSync {
  /** The server's frame (replication index) the replica now stands at; undefined when there is no server. */
  readonly frame_no: number | undefined
  /** How many frames this sync pulled. */
  readonly frames_synced: number
}

/** Pulling a server's changes into the local embedded replica. */
export interface ReplicaShape {
  /** Whether this database is an embedded replica of a server. */
  readonly isReplica: boolean
  /**
   * Pull everything the server has into the local replica now, so the next reads see other
   * processes' writes. On any other database (memory, file, a server URL) reads are never stale:
   * it succeeds at once with `frames_synced: 0`.
   */
  readonly sync: Effect.Effect<ReplicaSync, SqlError>
}

/** The Replica service, provided by every `FleetDb` layer. */
export class Replica extends Context.Tag("@fleettools/db/Replica")<Replica, ReplicaShape>() {}

const nothing: ReplicaSync = { frame_no: undefined, frames_synced: 0 }

/** How the Replica service is set up. */
export interface ReplicaOptions {
  /** Whether the database is an embedded replica (opened with a `syncUrl`). */
  readonly isReplica: boolean
  /** Pull in the background every this many seconds, for the life of the layer. */
  readonly syncInterval?: number | undefined
}

/**
 * Build the service on the `SqlClient` in context (a `FleetDb` one; any other never syncs). With `syncInterval`, a fiber of the
 * enclosing scope pulls periodically (the driver's own periodic sync keeps running after the
 * client is closed, so it is not used).
 */
export const make = ({ isReplica, syncInterval }: ReplicaOptions) =>
  Effect.gen(function*() {
    const live = guardedClientOf(yield* SqlClient.SqlClient)
    const sync: ReplicaShape["sync"] = !isReplica || live === undefined
      ? Effect.succeed(nothing)
      : Effect.tryPromise({
        try: () => live.sync(),
        catch: (cause) => new SqlError({ cause, message: "Failed to sync the embedded replica" })
      }).pipe(
        Effect.map((result): ReplicaSync =>
          result === undefined ? nothing : { frame_no: result.frame_no, frames_synced: result.frames_synced }
        ),
        Effect.withSpan("Replica.sync")
      )
    if (isReplica && syncInterval !== undefined && syncInterval > 0) {
      yield* sync.pipe(
        // A failed background pull is retried at the next tick; reads stay as fresh as the last success.
        Effect.catchAll((error) => Effect.logDebug("background sync of the embedded replica failed", error.message)),
        Effect.repeat(Schedule.spaced(Duration.seconds(syncInterval))),
        Effect.delay(Duration.seconds(syncInterval)),
        Effect.forkScoped
      )
    }
    return Replica.of({ isReplica, sync })
  })

/** The Replica service over the `SqlClient` in context. */
export const layer = (options: ReplicaOptions): Layer.Layer<Replica, never, SqlClient.SqlClient> =>
  Layer.scoped(Replica, make(options))

/** Pull the server's changes into this embedded replica now (a no-op elsewhere). */
export const sync: Effect.Effect<ReplicaSync, SqlError, Replica> = Effect.flatMap(Replica, (replica) => replica.sync)
