/**
 * One readable line per event, for `events`, `status` and the demo's live view (the words come
 * from the library's `describeEvent`, colored for the terminal).
 *
 * @module
 */
import type { FleetEvent, Names } from "../index.js"
import { describeEvent as describeInWords } from "../index.js"
import * as Render from "./render.js"

export { shortId } from "../index.js"
export type { Names } from "../index.js"

const terminalTone = { bad: Render.style.red, warn: Render.style.yellow, good: Render.style.green }

/** Who did it and what happened, in words (colored when stdout is a color terminal). */
export const describeEvent = (event: FleetEvent, names?: Names): { actor: string; text: string } =>
  describeInWords(event, names, terminalTone)

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
