/**
 * The package's version, for `--version` (read without loading anything else).
 *
 * @module
 */
import { readFileSync } from "node:fs"

/** The version in the package's manifest: two directories up, in the source tree and in `dist/`. */
export const packageVersion = (): string => {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL("../../package.json", import.meta.url), "utf8"))
    return typeof pkg === "object" && pkg !== null && "version" in pkg ? String(pkg.version) : "0.0.0"
  } catch {
    return "0.0.0"
  }
}
