/**
 * `@fleettools/db/promise`: the services as Promises. Completeness against the public face (every
 * service Tag, every member, every error class), success, each error kind as the same tagged
 * instance, `withLock` releasing on a thrown error, streams consumed with `for await`, and close.
 */
import { afterEach, describe, expect, expectTypeOf, it } from "vitest"
import { createClient } from "@libsql/client"
import { Cause, Context, Effect, Layer, Option } from "effect"
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs"
import { randomUUID } from "node:crypto"
import { tmpdir } from "node:os"
import { join } from "node:path"
import * as Errors from "../src/errors.js"
import * as Face from "../src/index.js"
import { type Fleet, openFleet } from "../src/promise.js"
import { sqldContext } from "./support/backends.js"

const dirs: Array<string> = []
const fleets: Array<Fleet> = []
const freshDir = () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-promise-"))
  dirs.push(dir)
  return dir
}
const open = async (options: Parameters<typeof openFleet>[0]) => {
  const fleet = await openFleet(options)
  fleets.push(fleet)
  return fleet
}
afterEach(async () => {
  await Promise.all(fleets.splice(0).map((fleet) => fleet.close()))
  for (const dir of dirs.splice(0)) rmSync(dir, { recursive: true, force: true })
})

/** Tags of the public face that are not services with methods, and where the fleet has them instead. */
const NOT_SERVICES: Record<string, string> = {
  FleetProject: "fleet.projectKey and fleet.location",
  WritePolicy: "configuration with a default, not a service",
  TimeAuthority: "configuration (which clock decides), not a service"
}

const propertyName = (exportName: string) => exportName[0]!.toLowerCase() + exportName.slice(1)

/** The rejection of `promise`, which must reject. */
const rejection = async (promise: Promise<unknown>): Promise<unknown> => {
  try {
    await promise
  } catch (error) {
    return error
  }
  throw new Error("expected a rejection")
}

describe("completeness", () => {
  it("every service Tag of the public face has every member on the fleet", async () => {
    const tags = Object.entries(Face).filter(([, value]) => Context.isTag(value)) as Array<[string, Context.Tag<unknown, unknown>]>
    expect(tags.length).toBeGreaterThan(10)
    const built = await Effect.runPromise(Effect.scoped(Layer.build(Face.FleetDb.layerMemory())))
    const fleet = await open({ memory: true }) as unknown as Record<string, Record<string, unknown> | undefined>
    const missing: Array<string> = []
    for (const [name, tag] of tags) {
      if (name in NOT_SERVICES) continue
      const service = Context.unsafeGet(built, tag) as Record<string, unknown>
      const face = fleet[propertyName(name)]
      if (face === undefined) {
        missing.push(`fleet.${propertyName(name)} (service ${name})`)
        continue
      }
      for (const [member, value] of Object.entries(service)) {
        const counterpart = face[member]
        const wanted = typeof value === "function" || Effect.isEffect(value) ? "function" : typeof value
        if (typeof counterpart !== wanted) missing.push(`fleet.${propertyName(name)}.${member} (${wanted})`)
      }
    }
    expect(missing, "service members without a Promise counterpart in src/promise.ts").toEqual([])
  })

  it("no member of the fleet's type is never (a service member the Promise mapping cannot express)", () => {
    type NeverMembers = {
      [S in keyof Fleet]: Fleet[S] extends object
        ? { [M in keyof Fleet[S]]: [Fleet[S][M]] extends [never] ? `${S & string}.${M & string}` : never }[keyof Fleet[S]]
        : never
    }[keyof Fleet]
    expectTypeOf<NeverMembers>().toEqualTypeOf<never>()
  })
})

describe("calls", () => {
  it("register, claimNext (undefined for none), and the same values as the services", async () => {
    const fleet = await open({ memory: true, projectKey: "p" })
    expect(fleet.projectKey).toBe("p")
    const pilot = await fleet.pilots.register({ callsign: "viper-1", model: "claude" })
    expect(pilot).toBeInstanceOf(Face.Pilot)
    const thrown = await rejection(fleet.pilots.get("nobody"))
    // The error itself, not Effect's span-annotated proxy of it.
    expect(Cause.originalError(thrown)).toBe(thrown)
    expect((await fleet.pilots.get("viper-1")).model).toBe("claude")
    expect(await fleet.sorties.claimNext("viper-1")).toBeUndefined()
    const sortie = await fleet.sorties.create({ title: "Fix the login test", priority: 0 })
    const claimed = await fleet.sorties.claimNext("viper-1")
    expect(claimed?.id).toBe(sortie.id)
    expect(claimed?.status).toBe("in_progress")
    // The work graph: both forms of claimNext, and the Option of removeDependency as undefined.
    const first = await fleet.sorties.create({ title: "first", files: ["src/a.ts"] })
    const second = await fleet.sorties.create({ title: "second" })
    await fleet.sorties.addDependency(second.id, first.id)
    expect((await fleet.sorties.ready()).map((s) => s.id)).toEqual([first.id])
    const withFiles = await fleet.sorties.claimNext("viper-1", { reserveFiles: true, ttl: "1 minute" })
    expect(withFiles.sortie?.id).toBe(first.id)
    expect(withFiles.reservations.map((r) => r.path_pattern)).toEqual(["src/a.ts"])
    await fleet.sorties.complete(first.id)
    expect(await fleet.sorties.removeDependency(second.id, first.id)).toBeDefined()
    expect(await fleet.sorties.removeDependency(second.id, first.id)).toBeUndefined()
    expect(await fleet.events.latestSequence()).toBeGreaterThan(0)
    expect(await fleet.checkpoints.latest({ callsign: "viper-1" })).toBeUndefined()
    expect(fleet.replica.isReplica).toBe(false)
    expect(await fleet.replica.sync()).toEqual({ frame_no: undefined, frames_synced: 0 })
  })

  it("opens a project directory, and a URL", async () => {
    const dir = freshDir()
    const byPath = await open({ projectPath: dir })
    await byPath.pilots.register({ callsign: "viper-1" })
    expect(byPath.location).toBe(join(dir, ".fleet", "fleet.db"))
    await byPath.close()
    const byUrl = await open({ url: `file:${join(dir, ".fleet", "fleet.db")}`, projectKey: byPath.projectKey })
    expect((await byUrl.pilots.list()).map((p) => p.callsign)).toEqual(["viper-1"])
  })
})

describe("on a libSQL server", () => {
  const context = sqldContext()
  it.skipIf(context.status === "unsupported")("openFleet({ url, projectKey }): calls, a lock, and close", async () => {
    if (context.status !== "ready") throw new Error(`sqld: ${context.reason}`)
    const projectKey = `promise-${randomUUID()}`
    const fleet = await open({ url: context.url, projectKey })
    expect(fleet.projectKey).toBe(projectKey)
    await fleet.pilots.register({ callsign: "viper-1" })
    const fence = await fleet.locks.withLock("deploy", { holder: "viper-1", ttl: "1 minute" }, (lock) => lock.fence)
    expect(fence).toBe(1)
    await fleet.close()
    const again = await open({ url: context.url, projectKey })
    expect((await again.pilots.list()).map((p) => p.callsign)).toEqual(["viper-1"])
  })
})

describe("errors reject with the same tagged instances", () => {
  type Case = (fleet: Fleet) => Promise<unknown>
  const cases: Record<string, Case> = {
    PilotNotFound: (fleet) => fleet.pilots.get("nobody"),
    SortieNotFound: (fleet) => fleet.sorties.get("srt_missing"),
    MissionNotFound: (fleet) => fleet.missions.get("msn_missing"),
    WorkOrderNotFound: (fleet) => fleet.workOrders.get("wo_missing"),
    MessageNotFound: (fleet) => fleet.messages.ack(999, "viper-1"),
    LockHeld: async (fleet) => {
      await fleet.locks.acquire("deploy", { holder: "viper-1", ttl: "1 minute" })
      return fleet.locks.acquire("deploy", { holder: "viper-2", ttl: "1 minute" })
    },
    LockTimeout: async (fleet) => {
      await fleet.locks.acquire("deploy", { holder: "viper-1", ttl: "1 minute" })
      return fleet.locks.acquire("deploy", { holder: "viper-2", ttl: "1 minute", wait: "20 millis" })
    },
    LockNotHeld: async (fleet) => {
      const lock = await fleet.locks.acquire("deploy", { holder: "viper-1", ttl: "1 minute" })
      await fleet.locks.release(lock)
      return fleet.locks.release(lock)
    },
    SortieAlreadyClaimed: async (fleet) => {
      const sortie = await fleet.sorties.create({ title: "t" })
      await fleet.sorties.claim(sortie.id, "viper-1")
      return fleet.sorties.claim(sortie.id, "viper-2")
    },
    DependencyCycle: async (fleet) => {
      const sortie = await fleet.sorties.create({ title: "t" })
      return fleet.sorties.addDependency(sortie.id, sortie.id)
    },
    SortieNotReady: async (fleet) => {
      const first = await fleet.sorties.create({ title: "first" })
      const second = await fleet.sorties.create({ title: "second" })
      await fleet.sorties.addDependency(second.id, first.id)
      return fleet.sorties.claim(second.id, "viper-1")
    },
    InvalidTransition: async (fleet) => {
      const mission = await fleet.missions.create({ title: "m" })
      return fleet.missions.complete(mission.id)
    },
    ReservationConflict: async (fleet) => {
      await fleet.reservations.reserve({ callsign: "viper-1", paths: ["src/**"], ttl: "1 minute" })
      return fleet.reservations.reserve({ callsign: "viper-2", paths: ["src/a.ts"], ttl: "1 minute" })
    },
    ReservationNotHeld: (fleet) => fleet.reservations.renew({ callsign: "viper-1", paths: ["src/**"], ttl: "1 minute" }),
    UnknownRecipient: (fleet) => fleet.messages.send({ from: "viper-1", to: ["nobody"], subject: "s", body: "b" }),
    NotARecipient: async (fleet) => {
      await fleet.pilots.register({ callsign: "viper-1" })
      await fleet.pilots.register({ callsign: "viper-2" })
      const sent = await fleet.messages.send({ from: "viper-1", to: ["viper-2"], subject: "s", body: "b" })
      return fleet.messages.ack(sent.message.id, "viper-1")
    },
    InvalidInput: (fleet) => fleet.pilots.register({ callsign: "" }),
    // A row another tool wrote that does not decode: written with raw libSQL beside the fleet.
    UndecodableRow: async () => {
      const dir = freshDir()
      const fleet = await open({ projectPath: dir })
      await fleet.pilots.register({ callsign: "viper-1" })
      const raw = createClient({ url: `file:${join(dir, ".fleet", "fleet.db")}` })
      await raw.execute({ sql: "UPDATE pilots SET registered_at = ? WHERE callsign = ?", args: ["yesterday", "viper-1"] })
      raw.close()
      return fleet.pilots.get("viper-1")
    },
    FleetClosed: async (fleet) => {
      await fleet.close()
      return fleet.pilots.list()
    }
  }
  // The tagged error classes: subclasses of Error with a static `_tag` (Schema.TaggedError).
  const classes = Object.entries(Errors).filter(([, value]) =>
    typeof value === "function" && value.prototype instanceof Error && typeof (value as { _tag?: unknown })._tag === "string"
  )

  it("covers every error class of the public face", () => {
    expect(classes.length).toBeGreaterThan(15)
    const untested = classes.map(([name]) => name).filter((name) =>
      !(name in cases) && !(name in SQL_CAUSES) && name !== "DatabaseOpenError"
    )
    expect(untested, "error classes without a case in test/promise.test.ts").toEqual([])
  })

  for (const [name, make] of Object.entries(cases)) {
    it(name, async () => {
      const fleet = await open({ memory: true })
      const error = await rejection(make(fleet))
      expect(error).toBeInstanceOf((Errors as Record<string, unknown>)[name] as new(...args: never) => unknown)
      expect((error as { _tag: string })._tag).toBe(name)
    })
  }

  // Errors that reach callers as the `cause` of a `SqlError`, never on their own.
  const SQL_CAUSES: Record<string, true> = {
    ReadOnlyDatabase: true,
    StatementTimeout: true,
    // Raised only by `Idempotency.run`, an Effect combinator (a command inside its transaction)
    // that the Promise face does not wrap.
    IdempotencyConflict: true
  }

  it("a write in read-only mode rejects with the SqlError whose cause is ReadOnlyDatabase", async () => {
    const dir = freshDir()
    const writer = await open({ projectPath: dir })
    await writer.pilots.register({ callsign: "viper-1" })
    await writer.close()
    const reader = await open({ projectPath: dir, readOnly: true })
    expect((await reader.pilots.list()).map((p) => p.callsign)).toEqual(["viper-1"])
    const error = await rejection(reader.pilots.register({ callsign: "viper-2" }))
    expect((error as { _tag: string })._tag).toBe("SqlError")
    expect((error as { cause: unknown }).cause).toBeInstanceOf(Errors.ReadOnlyDatabase)
  })

  it("DatabaseOpenError from openFleet", async () => {
    const dir = freshDir()
    mkdirSync(join(dir, ".fleet"))
    writeFileSync(join(dir, ".fleet", "fleet.db"), Buffer.alloc(8192, 7))
    const error = await rejection(openFleet({ projectPath: dir }))
    expect(error).toBeInstanceOf(Errors.DatabaseOpenError)
    expect((error as Errors.DatabaseOpenError).reason).toBe("not-a-database")
  })
})

describe("withLock", () => {
  it("resolves to the callback's value and releases", async () => {
    const fleet = await open({ memory: true })
    const fence = await fleet.locks.withLock("deploy", { holder: "viper-1", ttl: "1 minute" }, async (lock) => {
      expect(Option.isSome(Option.fromNullable(await fleet.locks.current("deploy")))).toBe(true)
      return lock.fence
    })
    expect(fence).toBe(1)
    expect(await fleet.locks.current("deploy")).toBeUndefined()
  })

  it("releases when the callback throws, and rejects with the thrown error itself", async () => {
    const fleet = await open({ memory: true })
    const thrown = new Error("deploy failed")
    const error = await rejection(fleet.locks.withLock("deploy", { holder: "viper-1", ttl: "1 minute" }, async () => {
      throw thrown
    }))
    expect(error).toBe(thrown)
    expect(await fleet.locks.current("deploy")).toBeUndefined()
    const next = await fleet.locks.acquire("deploy", { holder: "viper-2", ttl: "1 minute" })
    expect(next.fence).toBe(2)
  })

  it("rejects with LockHeld without running the callback", async () => {
    const fleet = await open({ memory: true })
    await fleet.locks.acquire("deploy", { holder: "viper-1", ttl: "1 minute" })
    let ran = false
    const error = await rejection(fleet.locks.withLock("deploy", { holder: "viper-2", ttl: "1 minute" }, () => {
      ran = true
    }))
    expect(error).toBeInstanceOf(Errors.LockHeld)
    expect(ran).toBe(false)
  })
})

describe("streams", () => {
  it("events.stream with for await: backlog, then live events, ended by break", async () => {
    const fleet = await open({ memory: true })
    await fleet.pilots.register({ callsign: "viper-1" })
    const seen: Array<string> = []
    for await (const event of fleet.events.stream({ types: ["pilot_registered"], pollInterval: "5 millis" })) {
      seen.push(event.known && event.type === "pilot_registered" ? event.data.callsign : "?")
      if (seen.length === 1) await fleet.pilots.register({ callsign: "viper-2" })
      if (seen.length === 2) break
    }
    expect(seen).toEqual(["viper-1", "viper-2"])
    // The stream stopped with the loop: the fleet still works and closes promptly.
    expect((await fleet.pilots.list()).length).toBe(2)
  })

  it("cursors.consume: commit moves the cursor", async () => {
    const fleet = await open({ memory: true })
    await fleet.events.append({ type: "build.done", data: { n: 1 } })
    await fleet.events.append({ type: "build.done", data: { n: 2 } })
    for await (const { commit, event } of fleet.cursors.consume("builder", { types: ["build.done"], pollInterval: 5 })) {
      const last = await commit()
      expect(last).toBe(event.sequence)
      if (event.sequence === 2) break
    }
    expect(await fleet.cursors.get("builder")).toBe(2)
  })

  it("a stream failure rejects the loop with the tagged error", async () => {
    const fleet = await open({ memory: true })
    const error = await rejection((async () => {
      for await (const _ of fleet.cursors.consume("")) break
    })())
    expect(error).toBeInstanceOf(Errors.InvalidInput)
  })
})

describe("close", () => {
  it("ends live streams, lets calls in flight finish, refuses later calls, and closes the file", async () => {
    const dir = freshDir()
    const fleet = await openFleet({ projectPath: dir })
    await fleet.pilots.register({ callsign: "viper-1" })
    await fleet.events.append({ type: "build.done", data: {} })
    const iterator = fleet.events.stream({ pollInterval: "5 millis", types: ["build.done"] })[Symbol.asyncIterator]()
    expect((await iterator.next()).done).toBe(false)
    // Waits for an event that never comes (the call below appends `pilot_registered`, which this
    // stream does not follow: on a local file that call may commit before `close()` is reached).
    const pending = iterator.next()
    const inFlight = fleet.pilots.register({ callsign: "viper-2" })
    await fleet.close()
    expect((await inFlight).callsign).toBe("viper-2")
    expect((await pending).done).toBe(true)
    expect(await rejection(fleet.pilots.list())).toBeInstanceOf(Errors.FleetClosed)
    expect(await rejection(fleet.events.stream()[Symbol.asyncIterator]().next())).toBeInstanceOf(Errors.FleetClosed)
    await fleet.close() // twice is harmless
    // Closed means closed: the last connection checkpointed the WAL away.
    const reopened = await open({ projectPath: dir })
    expect((await reopened.pilots.list()).map((p) => p.callsign).sort()).toEqual(["viper-1", "viper-2"])
  })
})
