/**
 * How the user can run this same `fleet-db` again, for hints: `fleet-db` when that name on the
 * PATH is this program, `npm run fleet-db --` inside the package's checkout, else `node PATH`.
 *
 * @module
 */
import { existsSync, realpathSync } from "node:fs"
import { delimiter, join, relative } from "node:path"

const real = (path: string): string | undefined => {
  try {
    return realpathSync(path)
  } catch {
    return undefined
  }
}

/** A shell word: quoted when it holds anything but plain path characters. */
export const shellWord = (word: string): string => /^[\w@%+=:,./-]+$/.test(word) ? word : `'${word.replace(/'/g, "'\\''")}'`

/**
 * The command that runs this program again, as the user would type it in `cwd`. (Which script
 * runs is this process's own fact: its `argv[1]`, found on its `PATH`.)
 */
export const selfCommand = (cwd: string): string => {
  const script = process.argv[1]
  if (script === undefined) return "fleet-db"
  const self = real(script)
  for (const dir of (process.env["PATH"] ?? "").split(delimiter).filter((d) => d !== "")) {
    const candidate = join(dir, "fleet-db")
    if (existsSync(candidate) && real(candidate) === self) return "fleet-db"
  }
  if (process.env["npm_lifecycle_event"] === "fleet-db") return "npm run fleet-db --"
  const shown = relative(cwd, script)
  return `node ${shellWord(shown.startsWith("..") || shown === "" ? script : shown)}`
}
