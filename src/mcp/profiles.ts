/**
 * Tool profiles: every tool schema costs the agent context for the whole session, so a server
 * lists only the tools of its profile (`--tools minimal|core|full`, default `core`).
 *
 * @module
 */
import * as Toolkit from "@effect/ai/Toolkit"
import type { ToolName } from "./toolkit.js"
import { allTools, FleetToolkit } from "./toolkit.js"

/** The profile names. */
export const profileNames = ["minimal", "core", "full"] as const
export type Profile = typeof profileNames[number]

const minimal: ReadonlyArray<ToolName> = [
  "start_session",
  "fetch_inbox",
  "send_message",
  "acknowledge_message",
  "reserve_paths",
  "release_paths",
  "claim_next_sortie",
  "complete_sortie",
  "heartbeat"
]

const core: ReadonlyArray<ToolName> = [
  ...minimal,
  "fleet_status",
  "reply_message",
  "fetch_thread",
  "renew_paths",
  "check_paths",
  "list_sorties",
  "ready_sorties",
  "claim_sortie",
  "block_sortie",
  "unblock_sortie",
  "release_sortie",
  "save_checkpoint",
  "latest_checkpoint"
]

/** The tools of each profile. */
export const profiles: Record<Profile, ReadonlyArray<ToolName>> = {
  minimal,
  core,
  full: Object.keys(allTools) as Array<ToolName>
}

/**
 * The toolkit of a profile. Its tools are those of `FleetToolkit`, so the full toolkit's handler
 * layer serves every profile.
 */
export const toolkitOf = (profile: Profile): FleetToolkit =>
  (profile === "full"
    ? FleetToolkit
    : Toolkit.make(...profiles[profile].map((name) => allTools[name]))) as unknown as FleetToolkit
