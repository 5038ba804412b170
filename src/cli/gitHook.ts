/**
 * The git side of `fleet-db guard`: where git runs hooks from, the pre-commit hook that chains the
 * one it found, and the staged paths. Plain `git` processes and files, no Effect.
 *
 * @module
 */
import { execFileSync } from "node:child_process"
import { chmodSync, existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs"
import { join } from "node:path"

/** The line that marks a hook as ours. */
const MARK = "# fleet-db guard (installed by `fleet-db guard install`)"

/** The name the hook found at install time is kept under, and run from ours. */
export const CHAINED = "pre-commit.fleet-chained"

/** Run `git …args` in `cwd`; its stdout. Throws (with git's message) when git fails. */
export const git = (cwd: string, args: ReadonlyArray<string>): string =>
  execFileSync("git", args, { cwd, encoding: "utf8", stdio: ["ignore", "pipe", "pipe"], maxBuffer: 256 * 1024 * 1024 })

/** Why a git command failed, in one line (git's own message when it gave one). */
export const gitFailure = (error: unknown): string => {
  const stderr = typeof error === "object" && error !== null && "stderr" in error ? String(error.stderr).trim() : ""
  const text = stderr.length > 0 ? stderr : error instanceof Error ? error.message : String(error)
  return text.replace(/\s*\n\s*/g, " ")
}

/** The working tree's top directory. */
export const topLevel = (cwd: string): string => git(cwd, ["rev-parse", "--show-toplevel"]).trim()

/**
 * The paths the next commit changes, relative to the top of the working tree: added, modified,
 * deleted, and both sides of a rename (`--no-renames` lists a rename as a deletion and an
 * addition). Uses the index git hands the hook (`GIT_INDEX_FILE`, e.g. for `git commit -a`).
 */
export const stagedPaths = (cwd: string): ReadonlyArray<string> =>
  git(cwd, ["diff", "--cached", "--name-only", "--no-renames", "-z"]).split("\0").filter((p) => p.length > 0)

/** The directory git runs hooks from: `core.hooksPath` when set, else the repository's `hooks/`. */
export const hooksDir = (cwd: string): string =>
  git(cwd, ["rev-parse", "--path-format=absolute", "--git-path", "hooks"]).trim()

const shellQuote = (text: string): string => `'${text.replace(/'/g, `'\\''`)}'`

/** The hook script: the chained hook first (its failure stops the commit), then the check. */
export const hookScript = (command: ReadonlyArray<string>): string =>
  [
    "#!/bin/sh",
    MARK,
    "# Refuses a commit that touches a path another pilot reserved exclusively (see `fleet-db guard --help`).",
    `# \`fleet-db guard uninstall\` removes it and puts back the hook it chained (${CHAINED}).`,
    `chained="$(dirname "$0")/${CHAINED}"`,
    `if [ -x "$chained" ]; then`,
    `  "$chained" "$@" || exit $?`,
    "fi",
    `exec ${command.map(shellQuote).join(" ")}`,
    ""
  ].join("\n")

/** Is the file at `path` our hook? */
export const isOurs = (path: string): boolean => {
  try {
    return readFileSync(path, "utf8").includes(MARK)
  } catch {
    return false
  }
}

/** What `install` did. */
export interface Installed {
  readonly hook: string
  /** The hook that was there before, now run first from ours (absent: there was none). */
  readonly chained: string | undefined
  /** Ours was there already and was rewritten. */
  readonly replaced: boolean
}

/**
 * Install the hook in `dir`. A hook already there (not ours) is kept as `pre-commit.fleet-chained`
 * and run first; ours already there is rewritten. Refuses (throws) when both another hook and a
 * chained one exist, rather than lose either.
 */
export const install = (dir: string, command: ReadonlyArray<string>): Installed => {
  mkdirSync(dir, { recursive: true })
  const hook = join(dir, "pre-commit")
  const chained = join(dir, CHAINED)
  const ours = isOurs(hook)
  const present = existsSync(hook)
  if (present && !ours) {
    if (existsSync(chained)) {
      throw new Error(`both ${hook} and ${chained} exist and neither is the fleet-db guard; move one of them away first`)
    }
    renameSync(hook, chained)
  }
  writeFileSync(hook, hookScript(command))
  chmodSync(hook, 0o755)
  return { hook, chained: existsSync(chained) ? chained : undefined, replaced: ours }
}

/** What `uninstall` did. */
export interface Uninstalled {
  readonly hook: string
  readonly removed: boolean
  /** The chained hook put back as `pre-commit`. */
  readonly restored: boolean
}

/** Remove our hook from `dir` and put the chained one back. A hook that is not ours is left alone. */
export const uninstall = (dir: string): Uninstalled => {
  const hook = join(dir, "pre-commit")
  const chained = join(dir, CHAINED)
  if (!isOurs(hook)) return { hook, removed: false, restored: false }
  rmSync(hook)
  const restored = existsSync(chained)
  if (restored) renameSync(chained, hook)
  return { hook, removed: true, restored }
}
