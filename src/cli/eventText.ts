/**
 * One readable line per event, for `events`, `status` and the demo's live view.
 *
 * @module
 */
import type { FleetEvent } from "../index.js"
import * as Render from "./render.js"

/** How to name a sortie or mission id (e.g. by its title); the id itself when unknown. */
export type Names = (id: string) => string | undefined

/** A long prefixed id shortened for people: `srt_…3f9a1c`. */
export const shortId = (id: string): string => {
  const cut = id.indexOf("_")
  return cut > 0 && id.length > cut + 12 ? `${id.slice(0, cut)}_…${id.slice(-6)}` : id
}

const quote = (text: string) => `"${text.length > 48 ? `${text.slice(0, 47)}…` : text}"`

/** Who did it and what happened, in words. */
export const describeEvent = (event: FleetEvent, names: Names = () => undefined): { actor: string; text: string } => {
  const name = (id: string | null) => id === null ? "-" : names(id) ?? shortId(id)
  if (!event.known) {
    const data = typeof event.data === "string" ? event.data : JSON.stringify(event.data)
    return { actor: "", text: `${event.type} ${data.length > 80 ? `${data.slice(0, 79)}…` : data}` }
  }
  switch (event.type) {
    case "pilot_registered":
      return { actor: event.data.callsign, text: event.data.first ? "registered" : "registered again" }
    case "pilot_lost":
      return { actor: event.data.callsign, text: Render.style.red("lost (silent too long); its work was released") }
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
      return { actor: "", text: Render.style.green(`mission ${name(event.data.mission_id)} completed`) }
    case "sortie_created":
      return { actor: "", text: `created sortie ${quote(event.data.title)}` }
    case "sortie_claimed":
      return { actor: event.data.callsign, text: `claimed ${name(event.data.sortie_id)}` }
    case "sortie_blocked":
      return { actor: event.data.callsign ?? "", text: Render.style.yellow(`blocked ${name(event.data.sortie_id)}: ${event.data.reason}`) }
    case "sortie_unblocked":
      return { actor: event.data.callsign ?? "", text: `unblocked ${name(event.data.sortie_id)}` }
    case "sortie_released":
      return { actor: event.data.callsign ?? "", text: `released ${name(event.data.sortie_id)} (${event.data.reason})` }
    case "sortie_completed":
      return { actor: event.data.callsign ?? "", text: Render.style.green(`completed ${name(event.data.sortie_id)}`) }
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

const palette = [Render.style.cyan, Render.style.magenta, Render.style.blue, Render.style.yellow, Render.style.green]

const colorOf = (actor: string) => {
  let hash = 0
  for (const char of actor) hash = (hash * 31 + char.charCodeAt(0)) >>> 0
  return palette[hash % palette.length]!
}

/** `#   42  12:00:01.234  alpha     claimed srt_…3f9a1c` */
export const eventLine = (event: FleetEvent, names?: Names, actorWidth = 10): string => {
  const { actor, text } = describeEvent(event, names)
  return `${Render.style.dim(`#${String(event.sequence).padStart(5)}`)}  ${Render.style.dim(Render.clock(event.timestamp))}  ${
    actor === "" ? " ".repeat(actorWidth) : colorOf(actor)(actor.padEnd(actorWidth))
  }  ${text}`
}
