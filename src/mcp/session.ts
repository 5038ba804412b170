/**
 * The pilot a server process acts for: one process = one pilot. Its callsign comes from
 * `--callsign` / `FLEET_CALLSIGN`, or from the first `start_session` call.
 *
 * @module
 */
import { Context, Effect, Layer, Option, Ref } from "effect"
import type { ToolError } from "./errors.js"
import { callsignUnknown } from "./errors.js"

/** The session's pilot. */
export interface PilotSessionShape {
  /** The callsign, if known. */
  readonly current: Effect.Effect<Option.Option<string>>
  /** The callsign, or the `CallsignUnknown` tool error. */
  readonly require: Effect.Effect<string, ToolError>
  /** Act as this pilot from now on (after a successful `start_session`). */
  readonly set: (callsign: string) => Effect.Effect<void>
}

/** The pilot of this server process. */
export class PilotSession extends Context.Tag("@fleettools/db/mcp/PilotSession")<PilotSession, PilotSessionShape>() {}

/** A session starting with `callsign` (or none yet). */
export const layer = (callsign: Option.Option<string>): Layer.Layer<PilotSession> =>
  Layer.effect(
    PilotSession,
    Effect.map(Ref.make(callsign), (ref) => ({
      current: Ref.get(ref),
      require: Effect.flatMap(Ref.get(ref), Option.match({ onNone: () => Effect.fail(callsignUnknown()), onSome: Effect.succeed })),
      set: (value: string) => Ref.set(ref, Option.some(value))
    }))
  )
