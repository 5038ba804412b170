/**
 * Keep the database open: provide `FleetDb` once at the app's root, or make one `ManagedRuntime`
 * for entry points that are not one Effect program, and dispose of it at shutdown (that closes
 * the database). Providing the layer per call opens the database and checks the migrations on
 * every call; this script times 10 calls each way.
 *
 * Run with `npx tsx examples/app-root.ts`.
 */
import { Effect, ManagedRuntime } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Pilots } from "../src/index.js"

const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-app-root-"))
const layer = FleetDb.layerFile({ projectPath })
const heartbeat = Effect.flatMap(Pilots, (pilots) => pilots.register({ callsign: "viper-1" }))
const CALLS = 10

const timed = async (label: string, calls: () => Promise<unknown>) => {
  const start = performance.now()
  await calls()
  console.log(`${label.padEnd(44)} ${(performance.now() - start).toFixed(0).padStart(5)} ms for ${CALLS} calls`)
}

try {
  // Slow: every runPromise builds the layer (opens the file, checks the migrations) and closes it.
  await timed("Effect.provide(layer) per call", async () => {
    for (let i = 0; i < CALLS; i++) await Effect.runPromise(Effect.provide(heartbeat, layer))
  })

  // One runtime for the app's life: opened on the first call, closed by dispose().
  const runtime = ManagedRuntime.make(layer)
  await timed("one ManagedRuntime", async () => {
    for (let i = 0; i < CALLS; i++) await runtime.runPromise(heartbeat)
  })
  await runtime.dispose()

  // Inside one Effect program: provide once, at the root.
  await timed("one program, provided once at the root", () =>
    Effect.runPromise(Effect.provide(Effect.repeatN(heartbeat, CALLS - 1), layer)))
} finally {
  rmSync(projectPath, { recursive: true, force: true })
}
