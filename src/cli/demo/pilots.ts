/**
 * The demo's pilot processes: start one per callsign (`demo-pilot.ts`, run like this program) and
 * collect each one's exit code and report.
 *
 * @module
 */
import { Effect, Option, Schema } from "effect"
import { spawn } from "node:child_process"
import { pilotScript } from "../pilotScript.js"
import { PilotReport, type PilotSettings } from "./protocol.js"

/** How a pilot process ended. */
export interface PilotRun {
  readonly callsign: string
  readonly code: number
  readonly report: Option.Option<PilotReport>
  readonly stderr: string
}

/** How to start the pilot worker: compiled or not, run like us. */
const workerArgs = (settings: PilotSettings): ReadonlyArray<string> =>
  // Under tsx the loader flags are in execArgv; the worker needs them too.
  [...process.execArgv, pilotScript(), JSON.stringify(settings)]

const decodeReport = Schema.decodeUnknownOption(Schema.parseJson(PilotReport))

/**
 * Run one pilot process to its end. Each pilot gets its own process group, so a Ctrl-C in the
 * terminal reaches only the demo, which then asks every pilot once (SIGINT) to hand its sortie
 * back and stop, and waits for it (SIGKILL after 10 s).
 */
export const runPilot = (settings: PilotSettings): Effect.Effect<PilotRun> =>
  Effect.async<PilotRun>((resume) => {
    const child = spawn(process.execPath, workerArgs(settings), { stdio: ["ignore", "pipe", "pipe"], detached: true })
    let stdout = ""
    let stderr = ""
    child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", (error) =>
      resume(Effect.succeed({ callsign: settings.callsign, code: -1, report: Option.none(), stderr: error.message })))
    child.on("close", (code, signal) => {
      const report = Option.flatMap(Option.fromNullable(stdout.trim().split("\n").at(-1)), decodeReport)
      resume(Effect.succeed({ callsign: settings.callsign, code: code ?? (signal === null ? -1 : 128), report, stderr }))
    })
    return Effect.async<void>((done) => {
      if (child.exitCode !== null || child.signalCode !== null) return done(Effect.void)
      const kill = setTimeout(() => child.kill("SIGKILL"), 10_000)
      child.once("close", () => {
        clearTimeout(kill)
        done(Effect.void)
      })
      child.kill("SIGINT")
    })
  })
