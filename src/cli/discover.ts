/**
 * Which project a command works on when no `--project` or `--url` names one: found like git finds
 * a repository (see the README, "Finding the project"). Plain file reads, no `git` process: this
 * runs on every command and in the pre-commit hook.
 *
 * @module
 */
import { readFileSync, realpathSync, statSync } from "node:fs"
import { basename, dirname, isAbsolute, join, resolve } from "node:path"

/** How the project directory was found, for `status` and messages. */
export type FoundBy =
  | "--project"
  | "nearest .fleet/"
  | "repository root"
  | "main worktree"
  | "current directory"

/** A project directory and how it was found. */
export interface Found {
  readonly dir: string
  readonly foundBy: FoundBy
}

const isDirectory = (path: string): boolean => statSync(path, { throwIfNoEntry: false })?.isDirectory() === true

const readText = (path: string): string | undefined => {
  try {
    return readFileSync(path, "utf8")
  } catch {
    return undefined
  }
}

/**
 * The git directory a `.git` entry names: the directory itself, or the `gitdir:` line of a `.git`
 * file (a linked worktree's, or a submodule's).
 */
const gitDirOf = (dotGit: string): string | undefined => {
  if (isDirectory(dotGit)) return dotGit
  const match = /^gitdir:\s*(.+?)\s*$/m.exec(readText(dotGit) ?? "")
  if (match === null) return undefined
  return resolve(dirname(dotGit), match[1]!)
}

/**
 * The project of the repository whose working tree is `top`. A linked worktree's git directory
 * has a `commondir` file naming the repository's own git directory; when that is a `.git`
 * directory, the main worktree is its parent, and every worktree shares that project. (A
 * submodule's names its checkout in `core.worktree`; a bare repository has no main worktree, so
 * its worktrees share the repository directory itself.)
 */
const repositoryProject = (top: string): Found => {
  const gitDir = gitDirOf(join(top, ".git"))
  const common = gitDir === undefined ? undefined : readText(join(gitDir, "commondir"))?.trim()
  if (gitDir === undefined || common === undefined || common.length === 0) return { dir: top, foundBy: "repository root" }
  const commonDir = isAbsolute(common) ? common : resolve(gitDir, common)
  if (!isDirectory(commonDir)) return { dir: top, foundBy: "repository root" }
  if (basename(commonDir) === ".git") return { dir: dirname(commonDir), foundBy: "main worktree" }
  // A submodule's git directory (under the superproject's .git/modules/) names its checkout.
  const worktree = /^\s*worktree\s*=\s*(.+?)\s*$/m.exec(readText(join(commonDir, "config")) ?? "")
  const main = worktree === null ? commonDir : resolve(commonDir, worktree[1]!)
  return { dir: isDirectory(main) ? main : commonDir, foundBy: "main worktree" }
}

/**
 * Walk up from `start` (its real path) to the nearest directory that is a repository's working
 * tree (has a `.git` entry) or holds a `.fleet/` directory, whichever comes first; a repository
 * root stands for its main worktree. Nothing found: `start` itself.
 */
export const findProject = (start: string): Found => {
  const from = realpathSync(start)
  for (let dir = from; ; dir = dirname(dir)) {
    if (statSync(join(dir, ".git"), { throwIfNoEntry: false }) !== undefined) return repositoryProject(dir)
    if (isDirectory(join(dir, ".fleet"))) return { dir, foundBy: "nearest .fleet/" }
    if (dirname(dir) === dir) return { dir: from, foundBy: "current directory" }
  }
}
