/**
 * Reservations: pilots announce the files they are about to change, so two never edit the same
 * file at once.
 *
 * Run with `npx tsx examples/reservations.ts`.
 */
import { Console, Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Paths, Reservations } from "../src/index.js"

const program = Effect.gen(function*() {
  const reservations = yield* Reservations

  // The overlap rules are pure functions too.
  yield* Console.log(`src/** ~ src/a.ts: ${Paths.overlaps("src/**", "src/a.ts")}`)
  yield* Console.log(`src/*.ts ~ src/a/b.ts: ${Paths.overlaps("src/*.ts", "src/a/b.ts")}`)
  yield* Console.log(`normalize("./src\\\\api/../x.ts") = ${Paths.normalize("./src\\api/../x.ts")}`)

  // Exclusive by default; several patterns are reserved all together or not at all.
  const mine = yield* reservations.reserve({
    callsign: "viper-1",
    paths: ["src/auth/**", "docs/auth.md"],
    reason: "rewriting the login flow",
    ttl: "15 minutes"
  })
  yield* Console.log(`viper-1 reserved ${mine.map((r) => r.path_pattern).join(", ")}`)

  // Ask first (a plain read), or just try: a refusal lists every conflict and reserves nothing.
  const found = yield* reservations.conflicts({ callsign: "viper-2", paths: ["src/auth/session.ts", "src/ui/**"] })
  yield* Console.log(`viper-2 would clash on: ${found.map((c) => `${c.path} (held by ${c.holder} as ${c.pattern})`).join("; ")}`)
  yield* reservations.reserve({ callsign: "viper-2", paths: ["src/auth/session.ts", "src/ui/**"], ttl: "15 minutes" }).pipe(
    Effect.catchTag("ReservationConflict", (error) => Console.log(`viper-2: ${error.message}`))
  )

  // Shared reservations (readers) coexist with each other, but not with an exclusive one.
  yield* reservations.reserve({ callsign: "viper-2", paths: ["src/ui/**"], exclusive: false, ttl: "15 minutes" })
  yield* reservations.reserve({ callsign: "viper-3", paths: ["src/ui/theme.ts"], exclusive: false, ttl: "15 minutes" })

  // Keep a long task's reservations alive, then let go.
  yield* reservations.renew({ callsign: "viper-1", ttl: "15 minutes" })
  const released = yield* reservations.release({ callsign: "viper-1" })
  yield* Console.log(`viper-1 released ${released.length} reservation(s)`)
  const taken = yield* reservations.reserve({ callsign: "viper-2", paths: ["src/auth/session.ts"], ttl: "15 minutes" })
  yield* Console.log(`viper-2 now holds ${taken[0]!.path_pattern}`)

  const active = yield* reservations.active()
  yield* Console.log(
    `active: ${active.map((r) => `${r.callsign} ${r.path_pattern}${r.exclusive ? "" : " (shared)"}`).join(", ")}`
  )
})

const projectPath = mkdtempSync(join(tmpdir(), "fleetdb-reservations-example-"))
Effect.runPromise(program.pipe(Effect.provide(FleetDb.layerFile({ projectPath })))).finally(() =>
  rmSync(projectPath, { recursive: true, force: true })
)
