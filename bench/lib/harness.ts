/**
 * Measuring: implementations of one benchmark run in interleaved rounds (the order rotates every
 * round), so that a burst of load from other processes hits all of them alike. Each round records
 * wall time and this process's CPU time (user + system) per operation; after the warm-up rounds
 * the best and the median wall time and the median CPU time are reported. On a shared machine the
 * best round is the most faithful (load from other processes only ever adds time); ratios are
 * taken between figures of the same run.
 *
 * Rounds are long (~400 ms by default): the first operations after a pause cost a fixed extra
 * (V8 and the CPU "cooling down" while another implementation ran), which short rounds would
 * charge mostly to whichever implementation has the larger working set.
 */

/** One way of doing a benchmark's work. */
export interface Impl {
  readonly name: string
  /** Untimed preparation before each round of `ops` operations (e.g. seeding rows to consume). */
  readonly prepare?: (ops: number) => Promise<void>
  /** Run `ops` operations. */
  readonly run: (ops: number) => Promise<void>
}

/** What a benchmark reports per implementation. */
export interface Measurement {
  readonly name: string
  /** Wall-clock microseconds per operation in the best round (load from elsewhere only adds time). */
  readonly bestUs: number
  /** Median wall-clock microseconds per operation. */
  readonly wallUs: number
  /** Median CPU microseconds (user + system of this process, all threads) per operation. */
  readonly cpuUs: number
  readonly ops: number
  readonly rounds: number
}

export interface MeasureOptions {
  /** Operations per round; by default calibrated so that the first implementation's round takes ~`roundMs`. */
  readonly ops?: number
  readonly roundMs?: number
  readonly minOps?: number
  readonly maxOps?: number
  readonly rounds?: number
  readonly warmup?: number
}

const median = (values: ReadonlyArray<number>): number => {
  const sorted = [...values].sort((a, b) => a - b)
  const mid = sorted.length >> 1
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2
}

const timed = async (impl: Impl, ops: number): Promise<{ readonly wall: number; readonly cpu: number }> => {
  await impl.prepare?.(ops)
  const cpu0 = process.cpuUsage()
  const wall0 = performance.now()
  await impl.run(ops)
  const wall = performance.now() - wall0
  const cpu = process.cpuUsage(cpu0)
  return { wall: (wall * 1000) / ops, cpu: (cpu.user + cpu.system) / ops }
}

/**
 * Calibrate the round size on `impl` (after the warm-up): the number of operations that take
 * about `roundMs`, at least `minOps`.
 */
const calibrate = async (impl: Impl, roundMs: number, minOps: number, maxOps: number): Promise<number> => {
  let ops = minOps
  for (;;) {
    const { wall } = await timed(impl, ops)
    const perRound = (wall * ops) / 1000
    if (perRound >= roundMs / 2 || ops >= maxOps) {
      return Math.max(minOps, Math.min(maxOps, Math.round((ops * roundMs) / Math.max(perRound, 0.001))))
    }
    ops *= 2
  }
}

/** Measure `impls` on the same work; the first is the reference for calibration. */
export const measure = async (all: ReadonlyArray<Impl>, options: MeasureOptions = {}): Promise<ReadonlyArray<Measurement>> => {
  // BENCH_ONLY=a,b keeps the implementations whose names start with a or b (for profiling one).
  const only = process.env.BENCH_ONLY?.split(",")
  const impls = only === undefined ? all : all.filter((impl) => only.some((prefix) => impl.name.startsWith(prefix)))
  const rounds = options.rounds ?? 9
  const warmup = options.warmup ?? 1
  const minOps = options.minOps ?? 20
  // Warm every implementation up (JIT, statement caches, first pages) before calibrating on the first.
  for (const impl of impls) await timed(impl, minOps)
  const ops = options.ops ?? (await calibrate(impls[0]!, options.roundMs ?? 400, minOps, options.maxOps ?? 20_000))
  const samples = impls.map(() => ({ wall: [] as Array<number>, cpu: [] as Array<number> }))
  for (let round = 0; round < warmup + rounds; round++) {
    for (let k = 0; k < impls.length; k++) {
      const index = (round + k) % impls.length
      const result = await timed(impls[index]!, ops)
      if (round >= warmup) {
        samples[index]!.wall.push(result.wall)
        samples[index]!.cpu.push(result.cpu)
      }
    }
  }
  return impls.map((impl, i) => ({
    name: impl.name,
    bestUs: Math.min(...samples[i]!.wall),
    wallUs: median(samples[i]!.wall),
    cpuUs: median(samples[i]!.cpu),
    ops,
    rounds
  }))
}
