/**
 * The log lock workers (`test/procs/lock-worker.ts`, `replica-worker.ts`) append inside their
 * critical section: "enter <pid> <fence>" then "exit <pid> <fence>". Checking it proves mutual
 * exclusion across processes without trusting the database's own view.
 */
import { expect } from "@effect/vitest"
import { readFileSync } from "node:fs"

/**
 * Assert that `logFile` shows one holder at a time with strictly rising fences, and `cycles`
 * sections for each of `workers` processes. Returns the last fence.
 */
export const expectOneHolderAtATime = (logFile: string, workers: number, cycles: number): number => {
  const lines = readFileSync(logFile, "utf8").trim().split("\n").map((line) => {
    const [kind, pid, fence] = line.split(" ")
    return { kind, pid: Number(pid), fence: Number(fence) }
  })
  expect(lines).toHaveLength(2 * workers * cycles)
  let lastFence = 0
  const perPid = new Map<number, number>()
  for (let i = 0; i < lines.length; i += 2) {
    const enter = lines[i]!
    // Strict alternation: every enter is immediately followed by the exit of the same holder and fence.
    expect(enter.kind, `line ${i + 1}`).toBe("enter")
    expect(lines[i + 1], `line ${i + 2}`).toEqual({ kind: "exit", pid: enter.pid, fence: enter.fence })
    expect(enter.fence, `line ${i + 1}`).toBeGreaterThan(lastFence)
    lastFence = enter.fence
    perPid.set(enter.pid, (perPid.get(enter.pid) ?? 0) + 1)
  }
  expect([...perPid.values()]).toEqual(Array.from({ length: workers }, () => cycles))
  return lastFence
}
