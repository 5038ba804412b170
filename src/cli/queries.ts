/**
 * Reads several commands share (beyond one service call): missions with their progress, and what a
 * sortie waits on.
 *
 * @module
 */
import { Effect } from "effect"
import type { Mission, Sortie } from "../index.js"
import { Missions, Sorties } from "../index.js"

/** Every mission (optionally of one status) with its progress. */
export const missionsWithProgress = (status?: Mission["status"]) =>
  Effect.gen(function*() {
    const missions = yield* Missions
    const list = yield* missions.list(status === undefined ? {} : { status })
    return yield* Effect.forEach(list, (mission) => Effect.map(missions.progress(mission.id), (progress) => ({ mission, progress })))
  })

/** The sorties `sortie` waits on: its `blocks` dependencies that are not closed. */
export const waitingOn = (sortie: Sortie) =>
  Effect.map(
    Effect.flatMap(Sorties, (sorties) => sorties.dependencies(sortie.id)),
    (graph) => graph.depends_on.filter((link) => link.kind === "blocks" && link.status !== "closed")
  )
