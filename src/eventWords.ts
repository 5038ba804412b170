/**
 * Fleet events in words a person reads: who did it and what happened. Shared by the command line
 * (which colors the words) and the dashboard.
 *
 * @module
 */
import type { FleetEvent } from "./schema/index.js"

/** How to mark words that are bad news, a warning or good news (colors in a terminal). */
export interface Tone {
  readonly bad: (text: string) => string
  readonly warn: (text: string) => string
  readonly good: (text: string) => string
}

/** No marking: plain words. */
export const plainTone: Tone = { bad: (t) => t, warn: (t) => t, good: (t) => t }

/** How to name a sortie or mission id (e.g. by its title); the id itself when unknown. */
export type Names = (id: string) => string | undefined

/** A long prefixed id shortened for people: `srt_…3f9a1c`. */
export const shortId = (id: string): string => {
  const cut = id.indexOf("_")
  return cut > 0 && id.length > cut + 12 ? `${id.slice(0, cut)}_…${id.slice(-6)}` : id
}

const quote = (text: string) => `"${text.length > 48 ? `${text.slice(0, 47)}…` : text}"`

/** Who did it and what happened, in words. */
export const describeEvent = (
  event: FleetEvent,
  names: Names = () => undefined,
  tone: Tone = plainTone
): { actor: string; text: string } => {
  const name = (id: string | null) => id === null ? "-" : names(id) ?? shortId(id)
  if (!event.known) {
    const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data)
    return { actor: "", text: `${event.type} ${data.length > 80 ? `${data.slice(0, 79)}…` : data}` }
  }
  switch (event.type) {
    case "pilot_registered":
      return { actor: event.data.callsign, text: event.data.first ? "registered" : "registered again" }
    case "pilot_lost":
      return { actor: event.data.callsign, text: tone.bad("lost (silent too long); its work was released") }
    case "lock_acquired":
      return { actor: event.data.holder_id, text: `took lock ${event.data.lock_key} (fence ${event.data.fence})` }
    case "lock_extended":
      return { actor: event.data.holder_id, text: `extended lock ${event.data.lock_key}` }
    case "lock_released":
      return {
        actor: event.data.holder_id,
        text: event.data.reason === "released"
          ? `released lock ${event.data.lock_key}`
          : `lost lock ${event.data.lock_key} (${event.data.reason})`
      }
    case "mission_created":
      return { actor: event.data.created_by ?? "", text: `created mission ${quote(event.data.title)}` }
    case "mission_started":
      return { actor: "", text: `mission ${name(event.data.mission_id)} started` }
    case "mission_completed":
      return { actor: "", text: tone.good(`mission ${name(event.data.mission_id)} completed`) }
    case "mission_cancelled":
      return { actor: "", text: tone.warn(`mission ${name(event.data.mission_id)} cancelled: ${event.data.reason}`) }
    case "sortie_created":
      return { actor: "", text: `created sortie ${quote(event.data.title)}` }
    case "sortie_claimed":
      return { actor: event.data.callsign, text: `claimed ${name(event.data.sortie_id)}` }
    case "sortie_blocked":
      return { actor: event.data.callsign ?? "", text: tone.warn(`blocked ${name(event.data.sortie_id)}: ${event.data.reason}`) }
    case "sortie_unblocked":
      return { actor: event.data.callsign ?? "", text: `unblocked ${name(event.data.sortie_id)}` }
    case "sortie_released":
      return { actor: event.data.callsign ?? "", text: `released ${name(event.data.sortie_id)} (${event.data.reason})` }
    case "sortie_completed":
      return { actor: event.data.callsign ?? "", text: tone.good(`completed ${name(event.data.sortie_id)}`) }
    case "sortie_cancelled":
      return { actor: event.data.callsign ?? "", text: tone.warn(`cancelled ${name(event.data.sortie_id)}: ${event.data.reason}`) }
    case "sortie_updated":
      return { actor: "", text: `edited ${name(event.data.sortie_id)} (${event.data.changed.join(", ")})` }
    case "sortie_dependency_added":
      return {
        actor: "",
        text: `${name(event.data.sortie_id)} ${event.data.kind === "blocks" ? "waits on" : "relates to"} ${name(event.data.depends_on_id)}`
      }
    case "sortie_dependency_removed":
      return {
        actor: "",
        text: `${name(event.data.sortie_id)} no longer ${event.data.kind === "blocks" ? "waits on" : "relates to"} ${
          name(event.data.depends_on_id)
        }`
      }
    case "work_order_created":
      return { actor: event.data.assigned_to ?? "", text: `created work order ${quote(event.data.title)}` }
    case "work_order_started":
      return { actor: event.data.assigned_to ?? "", text: `started work order ${name(event.data.work_order_id)}` }
    case "work_order_completed":
      return { actor: "", text: `completed work order ${name(event.data.work_order_id)}` }
    case "message_sent":
      return {
        actor: event.data.from,
        text: `mailed ${event.data.to.join(", ")}: ${quote(event.data.subject)}${event.data.ack_required ? " (ack required)" : ""}`
      }
    case "message_read":
      return { actor: event.data.callsign, text: `read message ${event.data.message_id}` }
    case "message_acked":
      return { actor: event.data.callsign, text: `acked message ${event.data.message_id}` }
    case "file_reserved":
      return {
        actor: event.data.callsign,
        text: `reserved ${event.data.reservations.map((r) => r.path_pattern).join(" ")}${event.data.exclusive ? "" : " (shared)"}`
      }
    case "file_released":
      return { actor: event.data.callsign, text: `released ${event.data.reservations.map((r) => r.path_pattern).join(" ")}` }
    case "file_renewed":
      return { actor: event.data.callsign, text: `renewed ${event.data.reservations.map((r) => r.path_pattern).join(" ")}` }
    case "cursor_moved":
      return { actor: event.data.consumer_id, text: `moved cursor ${event.data.from} → ${event.data.to}` }
    case "checkpoint_created":
      return {
        actor: event.data.callsign,
        text: `checkpoint${event.data.progress_percent === null ? "" : ` ${event.data.progress_percent}%`}${
          event.data.summary === null ? "" : `: ${event.data.summary}`
        }`
      }
  }
}
