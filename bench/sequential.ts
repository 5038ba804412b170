/**
 * A cross-check of `micro.ts`'s interleaved rounds: `tsx bench/sequential.ts <register|lock|append> [ops]`
 * runs `ops` operations through the service, then the same through the careful baseline
 * (lib/careful.ts), each on its own file, three times in a row, and prints this process's CPU time
 * per operation and the ratio for each pass. One implementation runs at a time, so neither pays
 * for the other's garbage or cold caches; the first pass includes the warm-up.
 */
import type * as Libsql from "@libsql/client"
import { Effect } from "effect"
import { Events, Locks, Pilots } from "../src/index.js"
import * as Careful from "./lib/careful.js"
import { createDatabase, dbFile, openRaw, openService, PROJECT_KEY as pk, tempDir } from "./lib/setup.js"

const TTL = 60_000
const event = (i: number) => ({ type: "sortie_claimed" as const, data: { sortie_id: `srt_${i}`, callsign: "viper-1" } })

const cases = {
  register: {
    service: (i: number) => Effect.flatMap(Pilots, (pilots) => pilots.register({ callsign: `pilot-${i}`, model: "m" })),
    careful: (client: Libsql.Client, i: number) => Careful.registerPilot(client, pk, { callsign: `pilot-${i}`, model: "m" })
  },
  lock: {
    service: () =>
      Effect.flatMap(Locks, (locks) =>
        Effect.flatMap(locks.acquire("key", { holder: "viper-1", ttl: TTL }), (lock) => locks.release(lock))),
    careful: (client: Libsql.Client) =>
      Careful.acquireLock(client, pk, "key", "viper-1", TTL).then((lock) => Careful.releaseLock(client, pk, lock))
  },
  append: {
    service: (i: number) => Effect.flatMap(Events, (events) => events.append(event(i))),
    careful: (client: Libsql.Client, i: number) => Careful.append(client, pk, event(i).type, event(i).data)
  }
} as const

const name = process.argv[2] as keyof typeof cases
const ops = Number(process.argv[3] ?? 3_000)
if (!(name in cases)) throw new Error(`usage: tsx bench/sequential.ts <${Object.keys(cases).join("|")}> [ops]`)
const chosen = cases[name]

const cpu = () => {
  const { system, user } = process.cpuUsage()
  return user + system
}

const { cleanup, dir } = tempDir(`sequential-${name}`)
try {
  await createDatabase(dir, "service")
  await createDatabase(dir, "careful")
  const runtime = await openService(dir, "service")
  const client = await openRaw(dbFile(dir, "careful"))
  try {
    for (let pass = 0; pass < 3; pass++) {
      let start = cpu()
      await runtime.runPromise(Effect.gen(function*() {
        for (let i = 0; i < ops; i++) yield* chosen.service(pass * ops + i)
      }))
      const service = (cpu() - start) / ops
      start = cpu()
      for (let i = 0; i < ops; i++) await chosen.careful(client, pass * ops + i)
      const careful = (cpu() - start) / ops
      console.log(JSON.stringify({
        case: name,
        pass: pass + 1,
        ops,
        service_cpu_us: Math.round(service),
        careful_cpu_us: Math.round(careful),
        ratio: Number((service / careful).toFixed(2))
      }))
    }
  } finally {
    client.close()
    await runtime.dispose()
  }
} finally {
  cleanup()
}
