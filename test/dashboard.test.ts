/**
 * `fleet-db serve` in a real browser: headless Chromium (Debian's `chromium`, driven by
 * playwright-core) against the bundled CLI run as a process, on a temp project the test writes
 * through the library (another process than the server). Also the token rule over plain HTTP.
 * A screenshot of the page after a demo-like fleet ran is saved to test-artifacts/dashboard.png.
 */
import { afterAll, beforeAll, describe, expect, it } from "@effect/vitest"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { existsSync, mkdirSync, mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"
import { type Browser, chromium, type Page } from "playwright-core"
import { Events, FleetDb, Locks, Messages, Missions, Pilots, Reservations, Sorties } from "../src/index.js"
import { findSqld, startSqld } from "./support/sqld.js"
import { sharedCli } from "./support/cli-run.js"

const root = fileURLToPath(new URL("..", import.meta.url))
const CHROMIUM = "/usr/bin/chromium"
const haveChromium = existsSync(CHROMIUM)
// In CI the browser tests must run (`.ci/run` installs chromium); elsewhere they are skipped without it.
const skipBrowser = !haveChromium && process.env["CI"] === undefined
if (skipBrowser) console.warn(`dashboard browser tests skipped: ${CHROMIUM} is missing (apt-get install chromium)`)

const TEST_TIMEOUT = 180_000
/** The promise: a command shows on the page within 2 s, without reload. */
const LIVE_WITHIN_MS = 2_000

let build = ""
const dirs: Array<string> = []
const servers = new Set<ChildProcess>()

const baseEnv = (): Record<string, string> => {
  const env: Record<string, string> = {}
  for (const [key, value] of Object.entries(process.env)) {
    if (value !== undefined && !key.startsWith("FLEET_")) env[key] = value
  }
  return { ...env, NO_COLOR: "1" }
}

const cli = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  spawn(process.execPath, [join(build, "dist", "cli", "main.js"), ...args], {
    cwd: root,
    env: { ...baseEnv(), ...env },
    stdio: ["ignore", "pipe", "pipe"]
  })

const run = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const child = cli(args, env)
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk))
    child.on("error", reject)
    child.on("close", (code) => resolve({ code, stdout, stderr }))
  })

/** Start `fleet-db serve` and resolve with its URL once it says it listens. */
const startServer = (args: ReadonlyArray<string>, env: Record<string, string> = {}) =>
  new Promise<{ url: string; child: ChildProcess }>((resolve, reject) => {
    const child = cli(["serve", ...args], env)
    servers.add(child)
    let stderr = ""
    child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
      stderr += chunk
      const match = /fleet-db serve: listening on (http:\/\/\S+)\n/.exec(stderr)
      if (match !== null) resolve({ url: match[1]!, child })
    })
    child.on("error", reject)
    child.on("close", (code) => {
      servers.delete(child)
      reject(new Error(`serve ended (${code}) before listening: ${stderr}`))
    })
  })

const stopServer = (child: ChildProcess) =>
  new Promise<void>((resolve) => {
    if (child.exitCode !== null || child.signalCode !== null) return resolve()
    child.once("close", () => resolve())
    child.kill("SIGTERM")
  })

const freshProject = () => {
  const dir = mkdtempSync(join(tmpdir(), "fleetdb-dashboard-"))
  dirs.push(dir)
  return dir
}

const withDb = <A, E>(dir: string, effect: Effect.Effect<A, E, FleetDb.FleetServices>) =>
  Effect.runPromise(Effect.provide(effect, FleetDb.layerFile({ projectPath: dir })))

const latest = (dir: string) => withDb(dir, Effect.flatMap(Events, (events) => events.latestSequence))

/** A small fleet: three pilots, a mission with open, blocked, in-progress and closed sorties, a lock, reservations, mail. */
const writeFleet = (dir: string) =>
  withDb(dir, Effect.gen(function*() {
    const pilots = yield* Pilots
    for (const callsign of ["alpha", "bravo", "charlie"]) {
      yield* pilots.register({ callsign, program: "test", model: "none", task_description: `dashboard test pilot ${callsign}` })
    }
    const mission = yield* (yield* Missions).create({ title: "Ship the dashboard", created_by: "alpha" })
    const sorties = yield* Sorties
    const make = (title: string, files: ReadonlyArray<string>) => sorties.create({ title, mission_id: mission.id, files: [...files] })
    const routes = yield* make("Write the HTTP routes", ["src/dashboard/server.ts"])
    const page = yield* make("Draw the page", ["src/dashboard/page.ts"])
    const tests = yield* make("Test it in a browser", ["test/dashboard.test.ts"])
    yield* make("Document the endpoints", ["README.md"])
    yield* sorties.claim(routes.id, "alpha")
    yield* sorties.complete(routes.id, { callsign: "alpha" })
    yield* sorties.claim(page.id, "bravo")
    yield* sorties.claim(tests.id, "charlie")
    yield* sorties.block(tests.id, "waits for chromium", { callsign: "charlie" })
    yield* (yield* Locks).acquire("release", { holder: "bravo", ttl: "10 minutes" })
    yield* (yield* Reservations).reserve({ callsign: "bravo", paths: ["src/dashboard/page.ts"], ttl: "30 minutes", reason: "drawing" })
    yield* (yield* Messages).send({
      from: "charlie",
      to: ["alpha", "bravo"],
      subject: "Where is chromium?",
      body: "The browser tests wait for it.",
      ack_required: true
    })
  }))

beforeAll(async () => {
  build = sharedCli()
}, TEST_TIMEOUT)

afterAll(async () => {
  await Promise.all([...servers].map(stopServer))
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true })
})

describe("fleet-db serve: the token rule", () => {
  it("refuses a non-loopback bind without a token (exit 2, one clear line)", async () => {
    const dir = freshProject()
    expect((await run(["init", "--project", dir])).code).toBe(0)
    const refused = await run(["serve", "--project", dir, "--host", "0.0.0.0", "--port", "0"])
    expect(refused.code).toBe(2)
    expect(refused.stderr).toMatch(/^fleet-db: refusing to serve the dashboard on 0\.0\.0\.0 without a token.*--token/)
  }, TEST_TIMEOUT)

  it("with a token, a request without it gets 401 and one with it gets through", async () => {
    const dir = freshProject()
    expect((await run(["init", "--project", dir])).code).toBe(0)
    const { url, child } = await startServer(["--project", dir, "--port", "0"], { FLEET_DASHBOARD_TOKEN: "s3cret" })
    try {
      for (const path of ["/", "/api/status", "/api/events", "/api/stream"]) {
        expect((await fetch(`${url}${path}`)).status, path).toBe(401)
      }
      expect((await fetch(`${url}/api/status`, { headers: { authorization: "Bearer wrong" } })).status).toBe(401)
      expect((await fetch(`${url}/api/status`, { headers: { authorization: "Bearer s3cret" } })).status).toBe(200)
      expect((await fetch(`${url}/api/events?token=s3cret`)).status).toBe(200)
    } finally {
      await stopServer(child)
    }
  }, TEST_TIMEOUT)
})

describe("fleet-db demo --serve", () => {
  it("prints the dashboard's URL and serves the demo's fleet while it runs", async () => {
    const dir = freshProject()
    const child = cli(["demo", "--serve", "--port", "0", "--project", dir, "--pilots", "2", "--sorties", "3", "--work-ms", "100", "--json"])
    servers.add(child)
    child.on("close", () => servers.delete(child))
    let stdout = ""
    let stderr = ""
    child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk))
    const url = await new Promise<string>((resolve, reject) => {
      child.stderr!.setEncoding("utf8").on("data", (chunk: string) => {
        stderr += chunk
        const match = /Dashboard: (http:\/\/\S+)/.exec(stderr)
        if (match !== null) resolve(match[1]!)
      })
      child.on("close", (code) => reject(new Error(`demo ended (${code}): ${stderr}`)))
    })
    // The summary on stdout means the demo is done; the dashboard stays up until Ctrl-C.
    await new Promise<void>((resolve) => {
      const check = () => (stdout.trimEnd().endsWith("}") ? resolve() : child.stdout!.once("data", check))
      check()
    })
    const summary = JSON.parse(stdout) as { mission_id: string; sorties: { done: number } }
    expect(summary.sorties.done).toBe(3)
    const status = (await (await fetch(`${url}/api/status`)).json()) as { missions: Array<{ id: string; percent: number }> }
    expect(status.missions.find((m) => m.id === summary.mission_id)?.percent).toBe(100)
    await stopServer(child)
  }, TEST_TIMEOUT)
})

const sqldBinary = findSqld()

describe.skipIf(sqldBinary._tag !== "Found")("fleet-db serve when the database cannot be read", () => {
  it("answers 503 with a JSON error, the page says \"database unavailable\", and the server stays up", async () => {
    const sqld = await startSqld(sqldBinary._tag === "Found" ? sqldBinary.path : "sqld")
    const env = { FLEET_PROJECT_KEY: "dashboard-503" }
    expect((await run(["init", "--url", sqld.url], env)).code).toBe(0)
    const { url, child } = await startServer(["--url", sqld.url, "--port", "0"], env)
    try {
      expect((await fetch(`${url}/api/status`)).status).toBe(200)
      await sqld.stop()
      const response = await fetch(`${url}/api/status`)
      expect(response.status).toBe(503)
      expect(((await response.json()) as { error: string }).error).toBe("database unavailable")
      expect((await fetch(`${url}/api/events`)).status).toBe(503)
      if (!skipBrowser) {
        const browser = await chromium.launch({ executablePath: CHROMIUM, args: ["--no-sandbox", "--disable-gpu"] })
        try {
          const page = await browser.newPage()
          await page.goto(url)
          await page.locator("#banner.show", { hasText: "database unavailable" }).waitFor()
        } finally {
          await browser.close()
        }
      }
      expect((await fetch(`${url}/`)).status).toBe(200)
      expect(child.exitCode).toBe(null)
    } finally {
      await stopServer(child)
      await sqld.stop()
    }
  }, TEST_TIMEOUT)
})

describe.skipIf(skipBrowser)("fleet-db serve in a real browser", () => {
  let browser: Browser
  let page: Page
  let project = ""
  let port = 0
  let server: ChildProcess | undefined

  beforeAll(async () => {
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      args: ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--no-first-run", "--disable-sync"]
    })
    page = await browser.newPage({ viewport: { width: 1400, height: 1000 } })
  }, TEST_TIMEOUT)

  afterAll(async () => {
    await browser?.close()
  })

  const seqCount = (sequence: number) => page.locator(`#feed li[data-seq="${sequence}"]`).count()

  it("loads and shows the fleet the test wrote", async () => {
    project = freshProject()
    expect((await run(["init", "--project", project])).code).toBe(0)
    await writeFleet(project)
    const started = await startServer(["--project", project, "--port", "0"])
    server = started.child
    const url = started.url
    port = Number(new URL(url).port)
    await page.goto(url)
    await page.locator('.pilot[data-callsign="charlie"] .badge.active').waitFor()
    const text = await page.locator("main").innerText()
    for (const expected of ["alpha", "bravo", "Draw the page", "waits for chromium", "Ship the dashboard", "Where is chromium?", "src/dashboard/page.ts"]) {
      expect(text).toContain(expected)
    }
    expect(await page.locator('.column[data-status="blocked"] .sortie').count()).toBe(1)
    expect(await page.locator('.column[data-status="closed"] .sortie').count()).toBe(1)
    const last = await latest(project)
    await page.locator(`#feed li[data-seq="${last}"]`).waitFor()
    expect(await page.locator("#feed li").first().getAttribute("data-seq")).toBe(String(last))
  }, TEST_TIMEOUT)

  it("shows a command run by another process within 2 s, without reload", async () => {
    const navigations: Array<string> = []
    page.on("framenavigated", (frame) => navigations.push(frame.url()))
    await withDb(project, Effect.flatMap(Pilots, (pilots) => pilots.register({ callsign: "delta", task_description: "late arrival" })))
    const sequence = await latest(project)
    await page.locator(`#feed li[data-seq="${sequence}"]`).waitFor({ timeout: LIVE_WITHIN_MS })
    await page.locator('.pilot[data-callsign="delta"]').waitFor({ timeout: LIVE_WITHIN_MS })
    expect(await page.locator(`#feed li[data-seq="${sequence}"]`).innerText()).toContain("delta")
    expect(navigations).toEqual([])
  }, TEST_TIMEOUT)

  it("reconnects after the server restarts and shows the missed events exactly once", async () => {
    const before = await latest(project)
    await stopServer(server!)
    await page.locator("#live:not(.on)").waitFor()
    // Written while no server runs: the page can only learn them from the resumed stream.
    await withDb(project, Effect.gen(function*() {
      const pilots = yield* Pilots
      yield* pilots.heartbeat("alpha")
      yield* pilots.register({ callsign: "echo", task_description: "joined while the dashboard was down" })
      yield* (yield* Locks).acquire("deploy", { holder: "echo", ttl: "5 minutes" })
    }))
    const after = await latest(project)
    expect(after).toBeGreaterThan(before)
    server = (await startServer(["--project", project, "--port", String(port)])).child
    await page.locator(`#feed li[data-seq="${after}"]`).waitFor({ timeout: 30_000 })
    await page.locator("#live.on").waitFor()
    for (let sequence = 1; sequence <= after; sequence++) expect(await seqCount(sequence), `event #${sequence}`).toBe(1)
    await page.locator('.pilot[data-callsign="echo"]').waitFor()
  }, TEST_TIMEOUT)

  it("shows a demo's fleet (screenshot saved to test-artifacts/dashboard.png)", async () => {
    const demo = await run(["demo", "--project", project, "--pilots", "3", "--sorties", "9", "--work-ms", "200"])
    expect(demo.code, demo.stderr).toBe(0)
    const last = await latest(project)
    await page.locator(`#feed li[data-seq="${last}"]`).waitFor({ timeout: 30_000 })
    // The feed keeps the newest 300 events.
    for (let sequence = Math.max(1, last - 250); sequence <= last; sequence++) expect(await seqCount(sequence), `event #${sequence}`).toBe(1)
    await page.getByText(/Demo run .* — 100%/).waitFor()
    const artifacts = join(root, "test-artifacts")
    mkdirSync(artifacts, { recursive: true })
    await page.screenshot({ path: join(artifacts, "dashboard.png"), fullPage: true })
  }, TEST_TIMEOUT)
})
