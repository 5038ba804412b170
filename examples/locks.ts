/**
 * Locks: leased, fenced mutual exclusion between pilots and processes.
 *
 * Run with `npx tsx examples/locks.ts`.
 */
import { Console, Effect, Fiber } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Locks } from "../src/index.js"

const program = Effect.gen(function*() {
  const locks = yield* Locks

  // Take a lock: the fence strictly increases per key, so pass it to whatever the lock protects.
  const lock = yield* locks.acquire("deploy", { holder: "viper-1", ttl: "30 seconds" })
  yield* Console.log(`viper-1 holds "deploy" with fence ${lock.fence}`)

  // Without `wait`, contention fails at once with LockHeld.
  const refused = yield* Effect.flip(locks.acquire("deploy", { holder: "viper-2", ttl: "30 seconds" }))
  yield* Console.log(`viper-2: ${refused.message}`)

  // With `wait`, viper-2 polls (reads only) until viper-1 lets go.
  const waiter = yield* Effect.fork(locks.acquire("deploy", { holder: "viper-2", ttl: "30 seconds", wait: "5 seconds" }))
  yield* Effect.sleep("200 millis")
  yield* locks.release(lock)
  const next = yield* Fiber.join(waiter)
  yield* Console.log(`viper-2 got "deploy" after viper-1 released it, fence ${next.fence}`)
  yield* locks.release(next)

  // withLock: held for the effect's life, extended every ttl/3, released on any exit.
  const result = yield* locks.withLock("migrations", { holder: "viper-3", ttl: "1 second" })((held) =>
    Effect.as(Effect.sleep("2500 millis"), `ran 2.5 s under a 1 s lease (fence ${held.fence}), kept alive by extension`)
  )
  yield* Console.log(result)
  yield* Console.log(`active locks now: ${(yield* locks.list()).length}`)
})

const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-locks-example-"))
Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).finally(() =>
  rmSync(projectPath, { recursive: true, force: true })
)
