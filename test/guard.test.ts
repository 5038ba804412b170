/**
 * `fleet-db guard`, in real git repositories with the real `git` binary and the built command:
 * two pilots, one refused a commit touching the other's exclusive reservation (holder, pattern and
 * expiry named), its own reservations allowed; renames (both sides) and deletions count; a hook
 * already there keeps running, through install and uninstall, also under `core.hooksPath`; a
 * second worktree is checked against the main worktree's database; and what happens when the
 * database is missing or unreadable (`--on-error`, `FLEET_GUARD_ON_ERROR`; `guard check` run
 * in-process, see support/cli-inprocess.ts).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest"
import { Effect } from "effect"
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { FleetDb, Pilots, Reservations } from "../src/index.js"
import { runCli } from "./support/cli-inprocess.js"
import { fleetIn, git, initRepository, run, type Run, sharedCli } from "./support/cli-run.js"

const TEST_TIMEOUT = 300_000

let build = ""
let scratch = ""
beforeAll(async () => {
  build = sharedCli()
  scratch = mkdtempSync(join(tmpdir(), "fleetdb-guard-"))
}, TEST_TIMEOUT)
afterAll(() => {
  if (scratch !== "") rmSync(scratch, { recursive: true, force: true })
})

const fleet = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) => fleetIn(build)(args, { cwd, env })

/** `fleet-db guard check` run in-process (what the hook runs, without git running it). */
const checkInProcess = (args: ReadonlyArray<string>, cwd: string, env: Record<string, string> = {}) => runCli(args, { cwd, env })

/** Reserve `paths` for `callsign` (registering it) in the project at `dir`, through the library. */
const reserve = (dir: string, callsign: string, paths: ReadonlyArray<string>, exclusive = true) =>
  Effect.runPromise(
    Effect.gen(function*() {
      yield* (yield* Pilots).register({ callsign })
      yield* (yield* Reservations).reserve({ callsign, paths: [...paths], exclusive, ttl: "2 hours" })
    }).pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))
  )

/** `git commit` as a pilot; the commit's process result (the hook's output is on stderr). */
const commitAs = (dir: string, callsign: string, message: string): Promise<Run> =>
  run("git", ["commit", "-q", "-m", message], { cwd: dir, env: { FLEET_CALLSIGN: callsign } })

const write = (dir: string, path: string, text: string) => {
  mkdirSync(join(dir, path, ".."), { recursive: true })
  writeFileSync(join(dir, path), text)
}

const headMessage = (dir: string) => git(["log", "-1", "--format=%s"], { cwd: dir }).then((s) => s.trim())

/** A repository with a fleet: bravo holds `src/**` exclusively, alpha holds `docs/**`. */
const fleetRepository = async (name: string): Promise<string> => {
  const dir = join(scratch, name)
  mkdirSync(dir)
  await initRepository(dir)
  write(dir, ".gitignore", ".fleet/\n")
  write(dir, "src/a.ts", "a\n")
  write(dir, "docs/x.md", "x\n")
  await git(["add", "-A"], { cwd: dir })
  await git(["commit", "-q", "-m", "files"], { cwd: dir })
  await reserve(dir, "bravo", ["src/**"])
  await reserve(dir, "alpha", ["docs/**"])
  return dir
}

describe("fleet-db guard", () => {
  it("refuses another pilot's exclusive paths (naming holder, pattern, expiry), allows your own; an existing hook keeps running through install and uninstall", async () => {
    const dir = await fleetRepository("two-pilots")
    const hooks = join(dir, ".git", "hooks")
    const log = join(scratch, "two-pilots.log")
    const existing = `#!/bin/sh\necho "existing hook ran" >> '${log}'\n`
    writeFileSync(join(hooks, "pre-commit"), existing)
    chmodSync(join(hooks, "pre-commit"), 0o755)

    const installed = await fleet(["guard", "install"], dir)
    expect(installed.code, installed.stderr).toBe(0)
    expect(installed.stdout).toContain("pre-commit.fleet-chained")

    // alpha touches bravo's src/**: refused, holder, pattern and expiry named.
    write(dir, "src/a.ts", "alpha's change\n")
    await git(["add", "src/a.ts"], { cwd: dir })
    const refused = await commitAs(dir, "alpha", "alpha edits src")
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toMatch(/src\/a\.ts: reserved exclusively by bravo \(src\/\*\*, until \d{4}-\d\d-\d\dT[\d:.]+Z\)/)
    expect(await headMessage(dir)).toBe("files")

    // bravo commits the same change: its own reservation.
    const own = await commitAs(dir, "bravo", "bravo edits src")
    expect(own.code, own.stderr).toBe(0)
    expect(await headMessage(dir)).toBe("bravo edits src")

    // alpha's own docs/** is allowed.
    write(dir, "docs/x.md", "alpha's docs\n")
    await git(["add", "docs/x.md"], { cwd: dir })
    const docs = await commitAs(dir, "alpha", "alpha edits docs")
    expect(docs.code, docs.stderr).toBe(0)
    expect(readFileSync(log, "utf8").match(/existing hook ran/g)?.length).toBe(3)

    // Uninstall: the original hook is back, byte for byte, and still runs; nothing is guarded.
    const removed = await fleet(["guard", "uninstall"], dir)
    expect(removed.code, removed.stderr).toBe(0)
    expect(readFileSync(join(hooks, "pre-commit"), "utf8")).toBe(existing)
    expect(existsSync(join(hooks, "pre-commit.fleet-chained"))).toBe(false)
    write(dir, "src/a.ts", "unguarded\n")
    await git(["add", "src/a.ts"], { cwd: dir })
    const unguarded = await commitAs(dir, "alpha", "unguarded")
    expect(unguarded.code, unguarded.stderr).toBe(0)
    expect(readFileSync(log, "utf8").match(/existing hook ran/g)?.length).toBe(4)
  }, TEST_TIMEOUT)

  it("counts both sides of a rename, and deletions; shared reservations do not stop a commit", async () => {
    const dir = await fleetRepository("renames")
    await reserve(dir, "bravo", ["lib/**"], false)
    write(dir, "lib/shared.ts", "shared\n")
    await git(["add", "-A"], { cwd: dir })
    expect((await fleet(["guard", "install"], dir)).code).toBe(0)

    const shared = await commitAs(dir, "alpha", "shared lib")
    expect(shared.code, shared.stderr).toBe(0)

    // Renaming out of src/** touches the old path.
    await git(["mv", "src/a.ts", "moved.ts"], { cwd: dir })
    const out = await commitAs(dir, "alpha", "rename out")
    expect(out.code).not.toBe(0)
    expect(out.stderr).toContain("src/a.ts: reserved exclusively by bravo")
    await git(["reset", "-q", "--hard"], { cwd: dir })

    // Renaming into src/** touches the new path.
    await git(["mv", "docs/x.md", "src/x.md"], { cwd: dir })
    const into = await commitAs(dir, "alpha", "rename in")
    expect(into.code).not.toBe(0)
    expect(into.stderr).toContain("src/x.md: reserved exclusively by bravo")
    await git(["reset", "-q", "--hard"], { cwd: dir })

    // Deleting is touching.
    await git(["rm", "-q", "src/a.ts"], { cwd: dir })
    const deleted = await commitAs(dir, "alpha", "delete")
    expect(deleted.code).not.toBe(0)
    expect(deleted.stderr).toContain("src/a.ts: reserved exclusively by bravo")
    expect(await headMessage(dir)).toBe("shared lib")
  }, TEST_TIMEOUT)

  it("a failing chained hook still stops the commit; core.hooksPath is where the hook goes", async () => {
    const dir = await fleetRepository("hooks-path")
    await git(["config", "core.hooksPath", ".githooks"], { cwd: dir })
    const failing = "#!/bin/sh\necho 'lint failed' >&2\nexit 7\n"
    write(dir, ".githooks/pre-commit", failing)
    chmodSync(join(dir, ".githooks", "pre-commit"), 0o755)
    const installed = await fleet(["guard", "install", "--json"], dir)
    expect(installed.code, installed.stderr).toBe(0)
    expect(JSON.parse(installed.stdout)).toMatchObject({ hook: join(dir, ".githooks", "pre-commit"), replaced: false })
    expect(readFileSync(join(dir, ".githooks", "pre-commit"), "utf8")).toContain("fleet-db guard")
    expect(existsSync(join(dir, ".git", "hooks", "pre-commit"))).toBe(false)

    write(dir, "docs/x.md", "alpha's docs\n")
    await git(["add", "docs/x.md"], { cwd: dir })
    const stopped = await commitAs(dir, "alpha", "docs")
    expect(stopped.code).not.toBe(0)
    expect(stopped.stderr).toContain("lint failed")

    // Installing again rewrites ours and keeps the chained hook.
    const again = await fleet(["guard", "install", "--json"], dir)
    expect(JSON.parse(again.stdout)).toMatchObject({ replaced: true })
    expect((await fleet(["guard", "uninstall"], dir)).code).toBe(0)
    expect(readFileSync(join(dir, ".githooks", "pre-commit"), "utf8")).toBe(failing)
  }, TEST_TIMEOUT)

  it("in a second worktree, checks against the main worktree's database", async () => {
    const dir = await fleetRepository("worktrees")
    const second = join(scratch, "worktrees-second")
    await git(["worktree", "add", "-q", second], { cwd: dir })
    expect((await fleet(["guard", "install"], second)).code).toBe(0)
    write(second, "src/a.ts", "from the second worktree\n")
    await git(["add", "src/a.ts"], { cwd: second })
    const refused = await commitAs(second, "alpha", "worktree edit")
    expect(refused.code).not.toBe(0)
    expect(refused.stderr).toContain("src/a.ts: reserved exclusively by bravo")
    expect(existsSync(join(second, ".fleet"))).toBe(false)
    const own = await commitAs(second, "bravo", "worktree edit")
    expect(own.code, own.stderr).toBe(0)
  }, TEST_TIMEOUT)

  it("a staged file's name is a name: [slug], * and {a,b} in it are not wildcards", async () => {
    const dir = join(scratch, "literal-names")
    mkdirSync(dir)
    await initRepository(dir)
    write(dir, ".gitignore", ".fleet/\n")
    write(dir, "README.md", "r\n")
    await git(["add", "-A"], { cwd: dir })
    await git(["commit", "-q", "-m", "files"], { cwd: dir })
    // bravo holds three plain files whose names the staged ones would match as globs.
    await reserve(dir, "bravo", ["app/s/page.tsx", "notes/aXb.md", "x/a.ts"])
    for (const path of ["app/[slug]/page.tsx", "notes/a*b.md", "x/{a,b}.ts"]) write(dir, path, "alpha\n")
    await git(["add", "-A"], { cwd: dir })
    const allowed = await checkInProcess(["guard", "check", "--staged", "--json"], dir, { FLEET_CALLSIGN: "alpha" })
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(JSON.parse(allowed.stdout)).toMatchObject({ allowed: true, checked: 3, refusals: [] })

    // A reservation that does cover one of them still refuses it.
    await Effect.runPromise(
      Effect.flatMap(Reservations, (r) => r.release({ callsign: "bravo" })).pipe(Effect.provide(FleetDb.layerFile({ projectPath: dir })))
    )
    await reserve(dir, "charlie", ["app/*/page.tsx"])
    const refused = await checkInProcess(["guard", "check", "--staged", "--json"], dir, { FLEET_CALLSIGN: "alpha" })
    expect(refused.code).toBe(1)
    expect(JSON.parse(refused.stdout)).toMatchObject({
      allowed: false,
      refusals: [{ path: "app/[slug]/page.tsx", holder: "charlie", pattern: "app/*/page.tsx" }]
    })
  }, TEST_TIMEOUT)

  it("missing or unreadable database: allowed with a warning by default, refused (exit 3) with --on-error refuse or FLEET_GUARD_ON_ERROR=refuse", async () => {
    const dir = join(scratch, "no-fleet")
    mkdirSync(dir)
    await initRepository(dir)
    write(dir, "src/a.ts", "a\n")
    await git(["add", "-A"], { cwd: dir })

    const allowed = await checkInProcess(["guard", "check", "--staged"], dir)
    expect(allowed.code, allowed.stderr).toBe(0)
    expect(allowed.stderr).toMatch(/warning: no fleet database at .*allowing the commit/)
    const refused = await checkInProcess(["guard", "check", "--staged", "--on-error", "refuse"], dir)
    expect(refused.code).toBe(3)
    expect(refused.stderr).toMatch(/commit refused: no fleet database at /)
    const byEnv = await checkInProcess(["guard", "check", "--staged"], dir, { FLEET_GUARD_ON_ERROR: "refuse" })
    expect(byEnv.code).toBe(3)
    // The guard never creates a database.
    expect(existsSync(join(dir, ".fleet"))).toBe(false)

    // A file that is not a database.
    write(dir, ".fleet/fleet.db", "this is not a database, just text long enough to be read as a header\n".repeat(20))
    const garbage = await checkInProcess(["guard", "check", "--staged", "--json"], dir)
    expect(garbage.code, garbage.stderr).toBe(0)
    expect(JSON.parse(garbage.stdout)).toMatchObject({ allowed: true, checked: 1 })
    expect(garbage.stderr).toMatch(/warning: cannot read the fleet database/)
    const strict = await checkInProcess(["guard", "check", "--staged", "--on-error", "refuse"], dir)
    expect(strict.code).toBe(3)
    expect(strict.stderr).toMatch(/commit refused: cannot read the fleet database/)
  }, TEST_TIMEOUT)
})
