/**
 * `fleet-db mcp` driven by the official MCP SDK client (`Client` + `StdioClientTransport`) as a
 * child process (`node dist/cli/main.js mcp`, see support/cli-build.ts): initialize, the tools of
 * each profile, every tool's success and typed failure, resources, malformed requests, a tool
 * before the callsign is known; four servers racing `claim_next_sortie`; two pilots racing
 * `reserve_paths`; `send_message` under one idempotency key, before and after a restart.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { EmptyResultSchema } from "@modelcontextprotocol/sdk/types.js"
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Messages, Missions, Sorties } from "../src/index.js"
import { profiles } from "../src/mcp/profiles.js"
import { sharedCli } from "./support/cli-run.js"

let build = ""
const dirs: Array<string> = []
beforeAll(async () => {
  build = sharedCli()
})
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

const TEST_TIMEOUT = 300_000

const project = () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-mcp-"))
  dirs.push(dir)
  return dir
}

/** Run against the project's database from this process (setup and checks). */
const onDb = <A, E>(dir: string, effect: Effect.Effect<A, E, FleetDb.FleetServices>) =>
  Effect.runPromise(Effect.provide(effect, FleetDb.layerFile({ projectPath: dir })))

const transports = new WeakMap<Client, StdioClientTransport>()

/** Write raw bytes to the server's stdin, past the client's framing. */
const writeRaw = (client: Client, text: string) => {
  const child = (transports.get(client) as unknown as { _process?: { stdin: NodeJS.WritableStream } })._process
  expect(child, "the SDK transport's child process").toBeDefined()
  child!.stdin.write(text)
}

/** A connected client of a new `fleet-db mcp --project dir …args` process. */
const connect = async (dir: string, args: ReadonlyArray<string> = [], env: Record<string, string> = {}) => {
  const transport = new StdioClientTransport({
    command: process.execPath,
    args: [join(build, "dist", "cli", "main.js"), "mcp", "--project", dir, ...args],
    env: { PATH: process.env.PATH ?? "", HOME: process.env.HOME ?? "", ...env },
    stderr: "pipe"
  })
  const client = new Client({ name: "fleet-db-test", version: "1.0.0" })
  await client.connect(transport, { timeout: 120_000 })
  transports.set(client, transport)
  return client
}

type Result = Awaited<ReturnType<Client["callTool"]>>
// Tool replies are JSON read by shape in assertions: a loose type keeps them short.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Content = Record<string, any>

const call = (client: Client, name: string, args: Record<string, unknown> = {}) =>
  client.callTool({ name, arguments: args }, undefined, { timeout: 120_000 })

/** The structured content of a successful call. */
const ok = (result: Result, what = ""): Content => {
  expect(result.isError, `${what}: ${JSON.stringify(result.content)}`).not.toBe(true)
  expect(result.structuredContent, what).toBeDefined()
  return result.structuredContent as Content
}

/** The structured content of a failed call, which must carry `tag` and a one-line message. */
const fails = (result: Result, tag: string, what = ""): Content => {
  expect(result.isError, `${what}: ${JSON.stringify(result.content)}`).toBe(true)
  const content = result.structuredContent as Content
  expect(content._tag, what).toBe(tag)
  expect(typeof content.message).toBe("string")
  expect(content.message).not.toMatch(/\n/)
  return content
}

describe("fleet-db mcp with the official SDK client", () => {
  it("initializes, lists each profile's tools, and serves every tool (success and typed failure), resources and malformed requests", async () => {
    const dir = project()
    const mission = await onDb(dir, Effect.flatMap(Missions, (m) => m.create({ title: "Login" })))
    const [alpha, bravo, charlie, delta] = await Promise.all([
      connect(dir, ["--tools", "full"]),
      connect(dir, ["--tools", "full", "--callsign", "bravo"]),
      connect(dir, [], { FLEET_CALLSIGN: "charlie" }),
      connect(dir, ["--tools", "minimal"])
    ])
    try {
      expect(alpha.getServerVersion()?.name).toBe("fleet-db")
      // Tools per profile, with truthful annotations and a one-sentence description each.
      for (const [client, profile] of [[alpha, "full"], [delta, "minimal"], [charlie, "core"]] as const) {
        const { tools } = await client.listTools()
        expect(tools.map((t) => t.name).sort(), profile).toEqual([...profiles[profile]].sort())
        for (const tool of tools) {
          expect(tool.description, tool.name).toMatch(/^[A-Z][^\n]*\.$/)
          expect(tool.annotations?.openWorldHint, tool.name).toBe(false)
          expect(typeof tool.annotations?.readOnlyHint).toBe("boolean")
          if (tool.annotations?.readOnlyHint === true) expect(tool.annotations.destructiveHint, tool.name).toBe(false)
          else expect(tool.inputSchema.properties?.idempotency_key, tool.name).toBeDefined()
        }
      }
      const readOnly = (await alpha.listTools()).tools.filter((t) => t.annotations?.readOnlyHint === true).map((t) => t.name).sort()
      expect(readOnly).toEqual(["check_paths", "fetch_inbox", "fetch_thread", "fleet_status", "latest_checkpoint", "list_sorties", "mission_progress", "ready_sorties"])

      // Before the callsign is known: a clear tool error; the inbox resource is refused.
      fails(await call(alpha, "heartbeat"), "CallsignUnknown", "heartbeat before start_session")
      fails(await call(alpha, "send_message", { to: ["bravo"], subject: "s", body: "b" }), "CallsignUnknown")
      await expect(alpha.readResource({ uri: "fleet://inbox" })).rejects.toThrow(/start_session/)
      // Known callsign, not registered yet: the service's typed error.
      fails(await call(charlie, "heartbeat"), "PilotNotFound")

      // Malformed requests: protocol errors or tool errors, and the server keeps serving.
      await expect(call(alpha, "no_such_tool")).rejects.toThrow(/not found/)
      await expect(alpha.request({ method: "no/such_method", params: {} }, EmptyResultSchema, { timeout: 60_000 })).rejects.toThrow(/Method not found/)
      writeRaw(alpha, "this is not JSON\n")
      await alpha.ping()
      const wrongType = await call(alpha, "fetch_inbox", { limit: "ten" })
      expect(wrongType.isError).toBe(true)
      const noArguments = await alpha.callTool({ name: "fleet_status" } as never)
      ok(noArguments, "tools/call without arguments")

      // start_session
      fails(await call(alpha, "start_session", { callsign: "" }), "InvalidInput")
      const session = ok(await call(alpha, "start_session", { callsign: "alpha", program: "test" }))
      expect(session.pilot.callsign).toBe("alpha")
      expect(session).toMatchObject({ inbox: [], reservations: [], locks: [], sorties: [], ready: [] })
      ok(await call(bravo, "start_session"))
      ok(await call(charlie, "start_session"))
      expect(ok(await call(alpha, "heartbeat")).pilot.callsign).toBe("alpha")

      // fleet_status
      const status = ok(await call(charlie, "fleet_status"))
      expect(status.pilots.map((p: Content) => p.callsign).sort()).toEqual(["alpha", "bravo", "charlie"])
      expect(status.pilots.every((p: Content) => p.active === true)).toBe(true)

      // Messages
      const sent = ok(await call(alpha, "send_message", { to: ["bravo"], subject: "Plan", body: "Go", ack_required: true }))
      const messageId = sent.message.id as number
      const threadId = sent.message.thread_id as string
      fails(await call(alpha, "send_message", { to: ["nobody"], subject: "s", body: "b" }), "UnknownRecipient")
      const inbox = ok(await call(bravo, "fetch_inbox"))
      expect(inbox.messages.map((m: Content) => m.message.id)).toEqual([messageId])
      fails(await call(bravo, "fetch_inbox", { limit: 1_000_000 }), "InvalidInput")
      fails(await call(alpha, "mark_message_read", { message_id: messageId }), "NotARecipient")
      expect(ok(await call(alpha, "start_session")).pilot.callsign).toBe("alpha")
      const bravoSession = ok(await call(bravo, "start_session"))
      expect(bravoSession.inbox).toHaveLength(1)
      expect(ok(await call(charlie, "fetch_thread", { thread_id: threadId })).messages).toHaveLength(1)
      expect(ok(await call(bravo, "mark_message_read", { message_id: messageId })).receipt.read_at).not.toBeNull()
      fails(await call(alpha, "acknowledge_message", { message_id: messageId }), "NotARecipient")
      expect(ok(await call(bravo, "acknowledge_message", { message_id: messageId })).receipt.acked_at).not.toBeNull()
      const reply = ok(await charlie.callTool({ name: "reply_message", arguments: { message_id: messageId, body: "On it" } }))
      expect(reply.message.thread_id).toBe(threadId)
      expect(reply.recipients).toEqual(["alpha"])
      fails(await call(charlie, "reply_message", { message_id: 987654, body: "?" }), "MessageNotFound")
      expect(ok(await call(alpha, "fetch_thread", { thread_id: threadId })).messages).toHaveLength(2)
      fails(await call(alpha, "fetch_thread", { thread_id: "" }), "InvalidInput")

      // Files
      expect(ok(await call(alpha, "reserve_paths", { paths: ["src/**"], reason: "auth" })).reservations).toHaveLength(1)
      const conflict = fails(await call(charlie, "reserve_paths", { paths: ["src/a.ts"] }), "ReservationConflict")
      expect(conflict.conflicts[0].holder).toBe("alpha")
      expect(conflict.message).toMatch(/alpha/)
      expect(ok(await call(charlie, "check_paths", { paths: ["src/a.ts", "docs/x.md"] })).conflicts.map((c: Content) => c.holder)).toEqual(["alpha"])
      fails(await call(charlie, "check_paths", { paths: [] }), "InvalidInput")
      expect(ok(await call(alpha, "renew_paths", { ttl: "1 hour" })).reservations).toHaveLength(1)
      fails(await call(alpha, "renew_paths", { paths: ["docs/**"] }), "ReservationNotHeld")
      fails(await call(alpha, "release_paths", { paths: ["../outside"] }), "InvalidInput")
      expect(ok(await call(alpha, "release_paths")).reservations).toHaveLength(1)
      ok(await call(charlie, "reserve_paths", { paths: ["src/a.ts"], ttl: "5 minutes" }))

      // Locks
      const lock = ok(await call(alpha, "acquire_lock", { key: "deploy", ttl: "1 minute" })).lock
      const held = fails(await call(bravo, "acquire_lock", { key: "deploy" }), "LockHeld")
      expect(held.holder).toBe("alpha")
      fails(await call(bravo, "acquire_lock", { key: "deploy", wait: "10 millis" }), "LockTimeout")
      fails(await call(bravo, "extend_lock", { key: "deploy", fence: lock.fence }), "LockNotHeld")
      expect(ok(await call(alpha, "extend_lock", { key: "deploy", fence: lock.fence, ttl: "2 minutes" })).lock.fence).toBe(lock.fence)
      expect(ok(await call(alpha, "release_lock", { key: "deploy", fence: lock.fence })).lock.released_at).not.toBeNull()
      fails(await call(alpha, "release_lock", { key: "deploy", fence: lock.fence }), "LockNotHeld")

      // Work
      const s1 = ok(await call(alpha, "create_sortie", { title: "session store", mission_id: mission.id, priority: 0, files: ["src/auth/**"] })).sortie
      const s2 = ok(await call(alpha, "create_sortie", { title: "docs", mission_id: mission.id })).sortie
      // Results are JSON an agent reads as such: ISO-8601 times, arrays as arrays.
      expect(s1.files).toEqual(["src/auth/**"])
      expect(s1.created_at).toMatch(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?Z$/)
      fails(await call(alpha, "create_sortie", { title: "x", priority: 9 }), "InvalidInput")
      fails(await call(alpha, "create_sortie", { title: "x", mission_id: "msn_nope" }), "MissionNotFound")
      expect(ok(await call(charlie, "list_sorties", { status: "open" })).sorties.map((s: Content) => s.id)).toEqual([s1.id, s2.id])
      fails(await call(charlie, "list_sorties", { assigned_to: "" }), "InvalidInput")
      expect(ok(await call(alpha, "claim_sortie", { id: s1.id })).sortie.assigned_to).toBe("alpha")
      const claimed = fails(await call(charlie, "claim_sortie", { id: s1.id }), "SortieAlreadyClaimed")
      expect(claimed.assigned_to).toBe("alpha")
      fails(await call(charlie, "claim_sortie", { id: "srt_nope" }), "SortieNotFound")
      expect(ok(await call(charlie, "claim_next_sortie")).sortie.id).toBe(s2.id)
      expect(ok(await call(bravo, "claim_next_sortie")).sortie).toBeNull()
      fails(await call(charlie, "claim_next_sortie", { mission_id: "msn_nope" }), "MissionNotFound")
      expect(ok(await call(alpha, "block_sortie", { id: s1.id, reason: "review" })).sortie.status).toBe("blocked")
      fails(await call(alpha, "block_sortie", { id: s1.id, reason: "again" }), "InvalidTransition")
      expect(ok(await call(alpha, "unblock_sortie", { id: s1.id })).sortie.status).toBe("in_progress")
      fails(await call(alpha, "unblock_sortie", { id: s1.id }), "InvalidTransition")
      fails(await call(charlie, "complete_sortie", { id: s1.id }), "SortieAlreadyClaimed")
      expect(ok(await call(alpha, "complete_sortie", { id: s1.id })).sortie.status).toBe("closed")
      fails(await call(alpha, "complete_sortie", { id: s1.id }), "InvalidTransition")
      expect(ok(await call(charlie, "release_sortie", { id: s2.id })).sortie.status).toBe("open")
      fails(await call(charlie, "release_sortie", { id: s2.id }), "InvalidTransition")
      expect(ok(await call(alpha, "mission_progress", { mission_id: mission.id }))).toMatchObject({ total: 2, percent: 50 })
      fails(await call(alpha, "mission_progress", { mission_id: "msn_nope" }), "MissionNotFound")
      const checkpoint = ok(await call(alpha, "save_checkpoint", { summary: "half", sortie_id: s1.id, progress_percent: 50, context_data: { step: 2 } })).checkpoint
      fails(await call(alpha, "save_checkpoint", { progress_percent: 101 }), "InvalidInput")
      expect(ok(await call(alpha, "latest_checkpoint")).checkpoint.id).toBe(checkpoint.id)
      expect(ok(await call(charlie, "latest_checkpoint", { sortie_id: s1.id })).checkpoint.id).toBe(checkpoint.id)
      expect(ok(await call(charlie, "latest_checkpoint")).checkpoint).toBeNull()
      fails(await call(charlie, "latest_checkpoint", { callsign: "" }), "InvalidInput")

      // Idempotency: one key, one message; the same key for another request is refused.
      const first = ok(await call(alpha, "send_message", { to: ["bravo"], subject: "once", body: "x", idempotency_key: "k-1" }))
      const again = ok(await call(alpha, "send_message", { to: ["bravo"], subject: "once", body: "x", idempotency_key: "k-1" }))
      expect(first.replayed).toBe(false)
      expect(again.replayed).toBe(true)
      expect(again.message.id).toBe(first.message.id)
      fails(await call(alpha, "send_message", { to: ["bravo"], subject: "once", body: "y", idempotency_key: "k-1" }), "IdempotencyConflict")

      // Resources
      const { resources } = await bravo.listResources()
      expect(resources.map((r) => r.uri).sort()).toEqual(["fleet://inbox", "fleet://pilots", "fleet://reservations", "fleet://sorties/ready"])
      const { resourceTemplates } = await bravo.listResourceTemplates()
      expect(resourceTemplates.map((t) => t.uriTemplate)).toEqual(["fleet://thread/{thread_id}"])
      const text = async (client: Client, uri: string) => {
        const read = await client.readResource({ uri })
        return JSON.parse((read.contents[0] as { text: string }).text) as Array<Content>
      }
      expect((await text(bravo, "fleet://inbox")).map((e) => e.message.subject)).toEqual(["once", "Plan"])
      expect((await text(bravo, `fleet://thread/${encodeURIComponent(threadId)}`)).map((m) => m.body)).toEqual(["Go", "On it"])
      expect((await text(bravo, "fleet://reservations")).map((r) => r.callsign)).toEqual(["charlie"])
      expect((await text(bravo, "fleet://pilots")).map((p) => p.callsign).sort()).toEqual(["alpha", "bravo", "charlie"])
      expect((await text(bravo, "fleet://sorties/ready")).map((s) => s.id)).toEqual([s2.id])
    } finally {
      await Promise.all([alpha.close(), bravo.close(), charlie.close(), delta.close()])
    }
    // The replayed send wrote one message, and a restarted server replays it too.
    const restarted = await connect(dir, ["--tools", "minimal", "--callsign", "alpha"])
    try {
      const replay = ok(await call(restarted, "send_message", { to: ["bravo"], subject: "once", body: "x", idempotency_key: "k-1" }))
      expect(replay.replayed).toBe(true)
    } finally {
      await restarted.close()
    }
    const once = await onDb(dir, Effect.flatMap(Messages, (m) => m.inbox("bravo", { limit: 1000 })))
    expect(once.filter((entry) => entry.message.subject === "once")).toHaveLength(1)
  }, TEST_TIMEOUT)

  it("the work graph: add_dependency, ready_sorties and the ready resource, claim_next_sortie with reserve_files", async () => {
    const dir = project()
    const [a, b, c] = await onDb(dir, Effect.flatMap(Sorties, (sorties) =>
      Effect.all([
        sorties.create({ title: "schema", priority: 1 }),
        sorties.create({ title: "service", priority: 0, files: ["src/service.ts"] }),
        sorties.create({ title: "auth", priority: 0, files: ["src/auth/**"] })
      ])))
    const [alpha, bravo] = await Promise.all([
      connect(dir, ["--tools", "full", "--callsign", "alpha"]),
      connect(dir, ["--tools", "full", "--callsign", "bravo"])
    ])
    try {
      const edge = ok(await call(alpha, "add_dependency", { sortie_id: b!.id, depends_on_id: a!.id })).dependency
      expect(edge).toMatchObject({ sortie_id: b!.id, depends_on_id: a!.id, kind: "blocks" })
      const cycle = fails(await call(alpha, "add_dependency", { sortie_id: a!.id, depends_on_id: b!.id }), "DependencyCycle")
      expect(cycle.path).toEqual([a!.id, b!.id, a!.id])
      fails(await call(alpha, "add_dependency", { sortie_id: a!.id, depends_on_id: "srt_nope" }), "SortieNotFound")
      expect(ok(await call(bravo, "ready_sorties")).sorties.map((s: Content) => s.id)).toEqual([c!.id, a!.id])
      expect(ok(await call(bravo, "ready_sorties", { limit: 1 })).sorties.map((s: Content) => s.id)).toEqual([c!.id])
      const ready = await bravo.readResource({ uri: "fleet://sorties/ready" })
      expect((JSON.parse((ready.contents[0] as { text: string }).text) as Array<Content>).map((s) => s.id)).toEqual([c!.id, a!.id])

      ok(await call(bravo, "reserve_paths", { paths: ["src/auth/login.ts"] }))
      const next = ok(await call(alpha, "claim_next_sortie", { reserve_files: true, ttl: "10 minutes" }))
      expect(next.sortie.id).toBe(a!.id)
      expect(next.reservations).toEqual([])
      expect(next.skipped).toMatchObject([{ sortie_id: c!.id, conflicts: [{ path: "src/auth/**", holder: "bravo" }] }])
      fails(await call(alpha, "claim_next_sortie", { reserve_files: true, ttl: "forever" }), "InvalidInput")
      ok(await call(alpha, "complete_sortie", { id: a!.id }))
      const service = ok(await call(alpha, "claim_next_sortie", { reserve_files: true }))
      expect(service.sortie.id).toBe(b!.id)
      expect(service.reservations.map((r: Content) => [r.path_pattern, r.callsign, Boolean(r.exclusive)])).toEqual([["src/service.ts", "alpha", true]])
      // Its own reservation is no conflict for bravo.
      expect(ok(await call(bravo, "claim_next_sortie", { reserve_files: true })).sortie.id).toBe(c!.id)
      expect(ok(await call(bravo, "claim_next_sortie")).sortie).toBeNull()
    } finally {
      await Promise.all([alpha.close(), bravo.close()])
    }
  }, TEST_TIMEOUT)

  it("4 servers race claim_next_sortie over 100 sorties: each is claimed exactly once; two pilots race reserve_paths: one wins, the other gets the holder", async () => {
    const dir = project()
    const created = await onDb(dir, Effect.flatMap(Sorties, (sorties) =>
      Effect.forEach(Array.from({ length: 100 }, (_, i) => i), (i) => sorties.create({ title: `s${i}`, priority: i % 5 }))))
    const pilots = ["w-0", "w-1", "w-2", "w-3"]
    const clients = await Promise.all(pilots.map((callsign) => connect(dir, ["--tools", "minimal", "--callsign", callsign])))
    try {
      await Promise.all(clients.map((client) => call(client, "start_session").then((r) => ok(r))))
      const claims = await Promise.all(clients.map(async (client) => {
        const mine: Array<string> = []
        for (;;) {
          const next = ok(await call(client, "claim_next_sortie"))
          if (next.sortie === null) return mine
          mine.push(next.sortie.id as string)
        }
      }))
      const all = claims.flat()
      expect(all).toHaveLength(100)
      expect(new Set(all).size).toBe(100)
      expect(new Set(all)).toEqual(new Set(created.map((s) => s.id)))
      const stored = await onDb(dir, Effect.flatMap(Sorties, (s) => s.list({ status: "in_progress" })))
      const byId = new Map(stored.map((s) => [s.id as string, s.assigned_to]))
      claims.forEach((ids, i) => ids.forEach((id) => expect(byId.get(id)).toBe(pilots[i])))

      // Overlapping globs, sent at the same time, several rounds.
      for (let round = 0; round < 3; round++) {
        const [a, b] = [clients[0]!, clients[1]!]
        const results = await Promise.all([
          call(a, "reserve_paths", { paths: [`pkg${round}/**`] }),
          call(b, "reserve_paths", { paths: [`pkg${round}/api/*.ts`] })
        ])
        const winners = results.filter((r) => r.isError !== true)
        expect(winners, `round ${round}`).toHaveLength(1)
        const loser = results.find((r) => r.isError === true)!
        const winner = results[0]!.isError === true ? "w-1" : "w-0"
        expect(fails(loser, "ReservationConflict").conflicts.map((c: Content) => c.holder)).toEqual([winner])
      }
    } finally {
      await Promise.all(clients.map((client) => client.close()))
    }
  }, TEST_TIMEOUT)
})
