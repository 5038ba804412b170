/**
 * Hostile globs: `tsx bench/globs.ts` reserves 100 adversarial patterns against 100 held ones
 * (the allowed maxima) on a file database, several times with fresh patterns (nothing
 * remembered from the round before), and prints one JSON line: how long each reserve held the
 * write transaction (the `Reservations.reserve` spans, one per attempt), and how long the whole
 * call took (including the answers worked out before the transaction, with no lock held).
 */
import type { Exit } from "effect"
import { Effect, Tracer } from "effect"
import { Reservations } from "../src/index.js"
import { openService, tempDir } from "./lib/setup.js"

const ROUNDS = 5

const a = (n: number) => "a".repeat(n)

/** The shapes of test/reservations.test.ts "hostile globs", tagged per round. */
const hostile = (side: "held" | "wanted", round: number): Array<string> =>
  Array.from({ length: 100 }, (_, i) => {
    const tag = `${side === "held" ? "X" : "Y"}${round}r${i}`
    switch (i % 4) {
      case 0:
        return ("*" + a(1 + (i % 3))).repeat(120).slice(0, 240) + "*" + tag
      case 1:
        return side === "held"
          ? Array.from({ length: 4 }, () => a(240) + "b").join("/") + tag
          : Array.from({ length: 4 }, () => `*${a(100 + i)}c*`).join("/") + tag
      case 2:
        return side === "held" ? `${"**/a*/".repeat(31)}${tag}.ts` : `${"a/".repeat(62)}${tag}.ts`
      default:
        return `${("*" + a(2)).repeat(80)}*/`.repeat(4) + tag
    }
  }).map((p) => p.slice(0, 1024).replace(/\/$/, ""))

const main = async () => {
  const { cleanup, dir } = tempDir("globs")
  const runtime = await openService(dir, "service")
  const transactions: Array<{ readonly wallMs: number; readonly cpuMs: number }> = []
  const base = await runtime.runPromise(Effect.tracer)
  const tracer = Tracer.make({
    span: (name, parent, context, links, startTime, kind, options) => {
      const span = base.span(name, parent, context, links, startTime, kind, options)
      if (name !== "Reservations.reserve") return span
      const end = span.end.bind(span)
      const cpu = process.cpuUsage()
      span.end = (endTime: bigint, exit: Exit.Exit<unknown, unknown>) => {
        const used = process.cpuUsage(cpu)
        transactions.push({ wallMs: Number(endTime - startTime) / 1e6, cpuMs: (used.user + used.system) / 1e3 })
        end(endTime, exit)
      }
      return span
    },
    context: (f, fiber) => base.context(f, fiber)
  })
  const rounds: Array<{
    readonly attempts: ReadonlyArray<{ readonly wallMs: number; readonly cpuMs: number }>
    readonly callMs: number
    readonly outcome: string
  }> = []
  try {
    for (let round = 0; round < ROUNDS; round++) {
      const held = hostile("held", round)
      const wanted = hostile("wanted", round)
      await runtime.runPromise(Effect.flatMap(Reservations, (r) => r.release({ callsign: "alpha" })))
      await runtime.runPromise(Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "alpha", paths: held, ttl: "1 hour" })))
      transactions.length = 0
      const started = performance.now()
      const outcome = await runtime.runPromise(
        Effect.flatMap(Reservations, (r) => r.reserve({ callsign: "bravo", paths: wanted, ttl: "1 hour", exclusive: false })).pipe(
          Effect.match({ onFailure: (e) => e._tag, onSuccess: (rows) => `reserved ${rows.length}` }),
          Effect.withTracer(tracer)
        )
      )
      rounds.push({ attempts: [...transactions], callMs: performance.now() - started, outcome })
      await runtime.runPromise(Effect.flatMap(Reservations, (r) => r.release({ callsign: "bravo" })))
    }
  } finally {
    await runtime.dispose()
    cleanup()
  }
  const median = (values: ReadonlyArray<number>) => [...values].sort((x, y) => x - y)[values.length >> 1]!
  const longestWall = rounds.map((r) => Math.max(...r.attempts.map((t) => t.wallMs)))
  const longestCpu = rounds.map((r) => Math.max(...r.attempts.map((t) => t.cpuMs)))
  process.stdout.write(JSON.stringify({
    case: "globs",
    title: "reserve 100 adversarial patterns against 100 held (file database)",
    rounds,
    // Per round, the longest transaction attempt; CPU time is what the process spent in it
    // (wall time also counts time the OS gave to other processes).
    longestTransactionCpuMs: Math.max(...longestCpu),
    medianTransactionCpuMs: median(longestCpu),
    longestTransactionWallMs: Math.max(...longestWall),
    medianTransactionWallMs: median(longestWall),
    medianCallMs: median(rounds.map((r) => r.callMs))
  }) + "\n")
}

main().catch((error: unknown) => {
  process.stderr.write(`${String(error)}\n`)
  process.exitCode = 1
})
