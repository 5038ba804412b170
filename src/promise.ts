/**
 * `@fleettools/db/promise`: every service as plain Promises, for code without an Effect runtime.
 *
 * `openFleet` opens the database once (one `ManagedRuntime` over a `FleetDb` layer); each method
 * runs the service method of the same name on it. Results are the services' values, with an
 * `Option` result as the value or `undefined`; failures reject with the same tagged error
 * instances (`err._tag === "LockHeld"`, `err instanceof LockHeld`); live streams are async
 * iterables. `fleet.close()` closes the database.
 *
 * @module
 */
import { Cause, Deferred, Effect, Exit, FiberId, type Layer, ManagedRuntime, Option, Stream } from "effect"
import {
  Checkpoints,
  Cursors,
  Events,
  FleetClosed,
  FleetDb,
  FleetProject,
  Locks,
  Messages,
  Missions,
  Pilots,
  Projections,
  Replica,
  Reservations,
  Sorties,
  WorkOrders
} from "./index.js"
import type {
  AcquireLockOptions,
  ClaimNextOptions,
  ClaimNextWithFiles,
  ConsumeOptions,
  DatabaseOpenError,
  FileClaim,
  FleetEvent,
  Lock,
  Sortie
} from "./index.js"

/** The services of a fleet, under the name each has on it. */
const services = {
  events: Events,
  pilots: Pilots,
  locks: Locks,
  sorties: Sorties,
  messages: Messages,
  reservations: Reservations,
  cursors: Cursors,
  missions: Missions,
  workOrders: WorkOrders,
  checkpoints: Checkpoints,
  projections: Projections,
  replica: Replica
} as const

type Services = { readonly [K in keyof typeof services]: (typeof services)[K]["Service"] }

/** An Effect's value as a Promise's: an `Option` becomes its value or `undefined`. */
export type Settled<A> = A extends Option.Option<infer B> ? B | undefined : A

/**
 * One service member as a Promise member: a method returning an Effect returns a Promise, one
 * returning a Stream an async iterable, an Effect value becomes a method, a plain value stays.
 * Anything else maps to `never`, which the tests refuse.
 */
export type PromiseMember<M> = M extends (...args: infer P) => Effect.Effect<infer A, unknown, never>
  ? (...args: P) => Promise<Settled<A>>
  : M extends (...args: infer P) => Stream.Stream<infer A, unknown, never> ? (...args: P) => AsyncIterable<A>
  : M extends Effect.Effect<infer A, unknown, never> ? () => Promise<Settled<A>>
  : M extends (...args: ReadonlyArray<never>) => unknown ? never
  : M

/** A service with every member as a Promise member. */
export type PromiseService<S> = { readonly [K in keyof S]: PromiseMember<S[K]> }

/** An event delivered by `fleet.cursors.consume`, with the commit that acknowledges it. */
export interface PromiseConsumed {
  readonly event: FleetEvent
  /** Advance the cursor to `event.sequence` (never backwards); resolves to the cursor's position. */
  readonly commit: () => Promise<number>
}

/** `Locks` as Promises. */
export interface PromiseLocks extends Omit<PromiseService<Services["locks"]>, "withLock"> {
  /**
   * Run `use` while holding the lock `key`: acquired first (rejects with `LockHeld` /
   * `LockTimeout` like `acquire`), extended every ttl/3 while `use` runs, released when it
   * settles — resolved, rejected or thrown. Resolves to `use`'s value, rejects with its error.
   * If the lease is lost anyway, `signal` aborts and the call rejects with `LockNotHeld`: stop
   * touching what the lock protects when `signal.aborted`.
   */
  readonly withLock: <A>(
    key: string,
    options: AcquireLockOptions,
    use: (lock: Lock, signal: AbortSignal) => Promise<A> | A
  ) => Promise<A>
}

/** `Cursors` as Promises. */
export interface PromiseCursors extends Omit<PromiseService<Services["cursors"]>, "consume"> {
  /**
   * The events after the consumer's cursor, then new ones as they arrive (at-least-once: call
   * `commit()` once an event is handled). Ends when the loop breaks or the fleet closes.
   */
  readonly consume: (consumer_id: string, options?: ConsumeOptions) => AsyncIterable<PromiseConsumed>
}

/** `Sorties` as Promises (`claimNext` keeps both of its forms). */
export interface PromiseSorties extends Omit<PromiseService<Services["sorties"]>, "claimNext"> {
  /** The next ready sortie claimed (or `undefined`); with `{ reserveFiles: true, ttl }`, also its files reserved. */
  readonly claimNext: {
    (callsign: string, options: ClaimNextWithFiles): Promise<FileClaim>
    (callsign: string, options?: ClaimNextOptions): Promise<Sortie | undefined>
  }
}

/** An open fleet database: every service as Promises. */
export interface Fleet extends Omit<{ readonly [K in keyof Services]: PromiseService<Services[K]> }, "locks" | "cursors" | "sorties"> {
  readonly locks: PromiseLocks
  readonly cursors: PromiseCursors
  readonly sorties: PromiseSorties
  /** The `project_key` of every row this fleet reads and writes. */
  readonly projectKey: string
  /** Where the database lives: a file path, `:memory:`, or the server URL (without credentials). */
  readonly location: string
  /**
   * Close the database: live iterables end, calls in flight finish first, later calls reject
   * with `FleetClosed`. Closing twice is harmless.
   */
  readonly close: () => Promise<void>
}

/** Which database `openFleet` opens: a project directory, a URL, or a private in-memory one. */
export type OpenFleetOptions =
  | FleetDb.FileOptions
  | FleetDb.RemoteOptions
  | (FleetDb.MemoryOptions & { readonly memory: true })

const layerOf = (options: OpenFleetOptions): Layer.Layer<FleetDb.FleetServices, DatabaseOpenError> =>
  "url" in options
    ? FleetDb.layer(options)
    : "projectPath" in options
    ? FleetDb.layerFile(options)
    : FleetDb.layerMemory(options)

/** What a failed call rejects with: the error itself (not a wrapper, not a span-annotated proxy). */
const failureOf = (cause: Cause.Cause<unknown>): unknown => Cause.originalError(Cause.squash(cause))

const settle = <A>(exit: Exit.Exit<A, unknown>): A => {
  if (Exit.isSuccess(exit)) return exit.value
  throw failureOf(exit.cause)
}

const isStream = (value: unknown): value is Stream.Stream<unknown, unknown> =>
  typeof value === "object" && value !== null && Stream.StreamTypeId in value

/**
 * Open a fleet database (created and migrated on first use) and keep it open until
 * `fleet.close()`. Rejects with `DatabaseOpenError` when it cannot be opened.
 *
 * ```ts
 * const fleet = await openFleet({ projectPath: process.cwd() })
 * try {
 *   await fleet.pilots.register({ callsign: "viper-1" })
 *   await fleet.locks.withLock("deploy", { holder: "viper-1", ttl: "30 seconds" }, async (lock) => deploy(lock.fence))
 * } finally {
 *   await fleet.close()
 * }
 * ```
 */
export const openFleet = async (options: OpenFleetOptions): Promise<Fleet> => {
  const runtime = ManagedRuntime.make(layerOf(options))
  const opened = await Effect.runPromiseExit(runtime.runtimeEffect)
  if (Exit.isFailure(opened)) {
    await runtime.dispose()
    throw failureOf(opened.cause)
  }
  const rt = opened.value
  const instances = settle(await runtime.runPromiseExit(Effect.all(services)))
  const project = settle(await runtime.runPromiseExit(FleetProject))
  const closing = Deferred.unsafeMake<void>(FiberId.none)
  let closed = false
  const inFlight = new Set<Promise<unknown>>()
  const refuse = () => new FleetClosed({ location: project.location })

  // Every call goes through here, so `close` can wait for the calls in flight.
  const execute = <A>(effect: Effect.Effect<A, unknown>): Promise<A> => {
    if (closed) return Promise.reject(refuse())
    const call = runtime.runPromiseExit(effect).then(settle)
    inFlight.add(call)
    const forget = () => inFlight.delete(call)
    call.then(forget, forget)
    return call
  }
  const run = <A>(effect: Effect.Effect<A, unknown>): Promise<Settled<A>> =>
    execute(effect).then((value) => (Option.isOption(value) ? Option.getOrUndefined(value) : value) as Settled<A>)

  const iterate = <A>(stream: Stream.Stream<A, unknown>): AsyncIterable<A> => ({
    [Symbol.asyncIterator]: () =>
      closed
        ? { next: () => Promise.reject(refuse()) }
        : Stream.toAsyncIterableRuntime(Stream.interruptWhenDeferred(stream, closing), rt)[Symbol.asyncIterator]()
  })

  const wrap = (service: object): Record<string, unknown> =>
    Object.fromEntries(Object.entries(service).map(([name, member]): [string, unknown] => {
      if (typeof member === "function") {
        return [name, (...args: ReadonlyArray<unknown>) => {
          let result: unknown
          try {
            result = member(...args)
          } catch (error) {
            return Promise.reject(error)
          }
          // The services' effects and streams need nothing but the fleet's own layer.
          return isStream(result)
            ? iterate(result)
            : Effect.isEffect(result)
            ? run(result as Effect.Effect<unknown, unknown>)
            : result
        }]
      }
      return [name, Effect.isEffect(member) ? () => run(member as Effect.Effect<unknown, unknown>) : member]
    }))

  const locks: PromiseLocks = {
    ...(wrap(instances.locks) as unknown as PromiseService<Services["locks"]>),
    withLock: (key, lockOptions, use) =>
      execute(instances.locks.withLock(key, lockOptions)((lock) =>
        Effect.tryPromise({ try: async (signal) => use(lock, signal), catch: (error) => error })
      ))
  }
  const cursors: PromiseCursors = {
    ...(wrap(instances.cursors) as unknown as PromiseService<Services["cursors"]>),
    consume: (consumer_id, consumeOptions) =>
      iterate(Stream.map(instances.cursors.consume(consumer_id, consumeOptions), ({ commit, event }) => ({
        event,
        commit: () => run(commit)
      })))
  }

  const wrapped = Object.fromEntries(
    Object.entries(instances).map(([name, service]) => [name, wrap(service)])
  ) as unknown as { readonly [K in keyof Services]: PromiseService<Services[K]> }
  // The wrapper passes every argument through, so both forms of `claimNext` work as they do on the service.
  const sorties = wrapped.sorties as unknown as PromiseSorties

  let closedAll: Promise<void> | undefined
  return {
    ...wrapped,
    locks,
    cursors,
    sorties,
    projectKey: project.projectKey,
    location: project.location,
    close: () => {
      closedAll ??= (async () => {
        closed = true
        Deferred.unsafeDone(closing, Exit.void)
        await Promise.allSettled(inFlight)
        await runtime.dispose()
      })()
      return closedAll
    }
  }
}
