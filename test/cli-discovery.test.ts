/**
 * One fleet per repository, as `fleet-db` (run in-process in each directory, see
 * support/cli-inprocess.ts) finds it without `--project`: from a subdirectory, from a second
 * worktree (real `git worktree add`) and through a symlinked path, the same database and project;
 * the nearest `.fleet/` outside a repository; and read-only inspection (`--read-only`, and a
 * database the user cannot write).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect } from "effect"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, realpathSync, rmSync, symlinkSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Pilots } from "../src/index.js"
import { runCli } from "./support/cli-inprocess.js"
import { git, initRepository } from "./support/cli-run.js"

const TEST_TIMEOUT = 300_000

let scratch = ""
beforeAll(() => {
  // Real paths: a temp directory may itself sit behind a symlink (macOS /var → /private/var).
  scratch = realpathSync(mkdtempSync(join(tmpdir(), "fleetdb-discovery-")))
}, TEST_TIMEOUT)
afterAll(() => {
  if (scratch !== "") chmodSync(scratch, 0o755)
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true })
})

const fleet = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) => runCli(args, { cwd, env })

interface StatusJson {
  readonly database: string
  readonly project_key: string
  readonly found_by: string
  readonly read_only: boolean
  readonly pilots: { readonly registered: number }
}

const status = async (cwd: string, args: ReadonlyArray<string> = []): Promise<StatusJson> => {
  const result = await fleet(["status", "--json", ...args], cwd)
  expect(result.code, result.stderr).toBe(0)
  return JSON.parse(result.stdout) as StatusJson
}

const register = (dir: string, callsign: string) =>
  Effect.runPromise(Pilots.pipe(
    Effect.flatMap((pilots) => pilots.register({ callsign })),
    Effect.provide(FleetDb.layerFile({ projectPath: dir }))
  ))

const isRoot = process.getuid?.() === 0

describe("finding the project", () => {
  it("a subdirectory, a second worktree and a symlinked path all see the main worktree's fleet", async () => {
    const repo = join(scratch, "repo")
    mkdirSync(join(repo, "src", "deep"), { recursive: true })
    await initRepository(repo)
    const second = join(scratch, "repo-second")
    await git(["worktree", "add", "-q", second], { cwd: repo })
    mkdirSync(join(second, "src", "deep"), { recursive: true })
    const link = join(scratch, "link-to-repo")
    symlinkSync(repo, link, "dir")

    // `init` from a subdirectory creates the database at the repository root.
    const init = await fleet(["init"], join(repo, "src", "deep"))
    expect(init.code, init.stderr).toBe(0)
    const database = join(repo, ".fleet", "fleet.db")
    expect(existsSync(database)).toBe(true)
    expect(existsSync(join(repo, "src", "deep", ".fleet"))).toBe(false)
    await register(repo, "alpha")

    const fromRoot = await status(repo)
    const fromSub = await status(join(repo, "src", "deep"))
    const fromWorktree = await status(join(second, "src", "deep"))
    const fromLink = await status(join(link, "src"))
    for (const seen of [fromRoot, fromSub, fromWorktree, fromLink]) {
      expect(seen).toMatchObject({ database, project_key: repo, read_only: false, pilots: { registered: 1 } })
    }
    // Named through the symlink with --project: the same fleet (the file's stored key).
    const named = await status(scratch, ["--project", link])
    expect(named).toMatchObject({ project_key: repo, found_by: "--project", pilots: { registered: 1 } })
    expect(fromSub.found_by).toBe("repository root")
    expect(fromWorktree.found_by).toBe("main worktree")
    // The worktree got no database of its own.
    expect(existsSync(join(second, ".fleet"))).toBe(false)

    // The text screen says which database and project, and how it was found.
    const text = await fleet(["status"], second)
    expect(text.stdout.split("\n")[0]).toBe(`FleetTools ${database}  (project ${repo}; found by main worktree)`)

    // --project still names a directory as given.
    const explicit = await fleet(["init", "--project", second, "--json"], repo)
    expect(explicit.code, explicit.stderr).toBe(0)
    expect(existsSync(join(second, ".fleet", "fleet.db"))).toBe(true)
  }, TEST_TIMEOUT)

  it("outside a repository: the nearest .fleet/ up, else the current directory", async () => {
    const project = join(scratch, "plain")
    mkdirSync(join(project, "a", "b"), { recursive: true })
    expect((await fleet(["init"], project)).code).toBe(0)
    const seen = await status(join(project, "a", "b"))
    expect(seen).toMatchObject({ database: join(project, ".fleet", "fleet.db"), found_by: "nearest .fleet/" })

    const lone = join(scratch, "lone")
    mkdirSync(lone)
    const missing = await fleet(["status"], lone)
    expect(missing.code).toBe(3)
    expect(missing.stderr).toContain(`no FleetTools database at ${join(lone, ".fleet", "fleet.db")}`)
  }, TEST_TIMEOUT)
})

describe("read-only inspection", () => {
  it("--read-only: reads work and say so; a write is refused and writes nothing", async () => {
    const project = join(scratch, "read-only-flag")
    mkdirSync(project)
    expect((await fleet(["init"], project)).code).toBe(0)
    await register(project, "alpha")

    const seen = await status(project, ["--read-only"])
    expect(seen).toMatchObject({ read_only: true, pilots: { registered: 1 } })
    const text = await fleet(["status", "--read-only"], project)
    expect(text.stdout.split("\n")[0]).toContain("(read-only)")
    for (const args of [["events", "--json"], ["pilots", "--json"], ["reservations"], ["doctor"]]) {
      const result = await fleet([...args, "--read-only"], project)
      expect(result.code, `${args.join(" ")}: ${result.stderr}`).toBe(0)
    }
    expect((await fleet(["doctor", "--read-only"], project)).stdout).toMatch(/opened .* read-only/)

    // A write (sweep declares alpha lost after 1 ms of silence) fails with a clear line.
    const sweep = await fleet(["sweep", "--stale-after", "1ms", "--read-only"], project)
    expect(sweep.code).not.toBe(0)
    expect(sweep.stderr).toContain("is open in read-only mode: writes are refused")
    expect(sweep.stderr.trim().split("\n")).toHaveLength(1)
    const after = await status(project)
    expect(after.pilots.registered).toBe(1)
    const events = await fleet(["events", "--json", "--type", "pilot_lost"], project)
    expect(events.stdout.trim()).toBe("")
  }, TEST_TIMEOUT)

  // Permissions do not stop root, so as root the chmod below would not make the file read-only;
  // the library's read-only mode itself is covered above through --read-only.
  it.skipIf(isRoot)("a database and directory the user cannot write: read commands open read-only and say so", async () => {
    const project = join(scratch, "read-only-chmod")
    mkdirSync(project)
    expect((await fleet(["init"], project)).code).toBe(0)
    await register(project, "alpha")
    const fleetDir = join(project, ".fleet")
    chmodSync(join(fleetDir, "fleet.db"), 0o444)
    chmodSync(fleetDir, 0o555)
    try {
      const result = await fleet(["status", "--json"], project)
      expect(result.code, result.stderr).toBe(0)
      expect(JSON.parse(result.stdout)).toMatchObject({ read_only: true, pilots: { registered: 1 } })
      expect(result.stderr).toContain("is read-only for this user")
      const doctor = await fleet(["doctor"], project)
      expect(doctor.stdout).toMatch(/opened .* read-only/)
      // `init` writes: refused at open, naming why.
      const init = await fleet(["init"], project)
      expect(init.code).not.toBe(0)
      expect(init.stderr).toContain("this user cannot write it")
    } finally {
      chmodSync(fleetDir, 0o755)
      chmodSync(join(fleetDir, "fleet.db"), 0o644)
    }
  }, TEST_TIMEOUT)
})
