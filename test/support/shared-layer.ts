/**
 * One build of a layer shared by a describe block's tests: built before its first test, closed
 * after its last; `provide` it to each test's effect. The tests keep their own `TestClock`.
 *
 * Why not `@effect/vitest`'s `layer()`: (0.30) it assigns its runners onto the module's one `it`
 * (`Object.assign(V.it, …)`), so every `it.effect` collected after it — in the same file, and in
 * later files when a worker runs several — ran inside that layer's runtime and shared its
 * `TestClock`.
 */
import { afterAll, beforeAll } from "@effect/vitest"
import type { Context } from "effect"
import { Effect, Exit, Layer, Scope } from "effect"

export const sharedLayer = <ROut, E>(layer: Layer.Layer<ROut, E>) => {
  const scope = Effect.runSync(Scope.make())
  let built: Context.Context<ROut> | undefined
  beforeAll(async () => {
    built = await Effect.runPromise(Layer.buildWithScope(layer, scope))
  })
  afterAll(() => Effect.runPromise(Scope.close(scope, Exit.void)))
  return <A, E2, R>(effect: Effect.Effect<A, E2, R>): Effect.Effect<A, E2, Exclude<R, ROut>> =>
    Effect.suspend(() =>
      built === undefined
        ? Effect.dieMessage("sharedLayer: the layer is built before the block's first test; use it inside a test")
        : Effect.provide(effect, built)
    )
}
