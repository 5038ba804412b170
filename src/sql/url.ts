/**
 * Database URLs, read one way everywhere: which local file a `file:` URL names, and how to print
 * any URL without the credentials it may carry. Exported as `DatabaseUrl`.
 *
 * @module
 */
import { resolve } from "node:path"

/** True for the URLs of an in-memory database. */
export const isMemory = (url: string): boolean => {
  const text = url.trim()
  return text === ":memory:" || text === "file::memory:"
}

/**
 * The absolute path of the local file a `file:` URL names (`file:db`, `file:/abs/db`,
 * `file:///abs/db`, `file://localhost/abs/db`; percent-escapes decoded, the query ignored), or
 * undefined for any other URL and for `file::memory:`. Relative paths resolve against the
 * current directory.
 */
export const filePath = (url: string): string | undefined => {
  const text = url.trim()
  if (!text.startsWith("file:") || isMemory(text)) return undefined
  return resolve(decodeURIComponent(text.slice("file:".length).replace(/^\/\/(localhost)?(?=\/)/, "").replace(/\?.*$/, "")))
}

/** The query parameters of a URL (empty without a query). */
export const searchParams = (url: string): URLSearchParams => {
  const text = url.trim()
  const at = text.indexOf("?")
  return new URLSearchParams(at < 0 ? "" : text.slice(at + 1))
}

/**
 * `url` fit to print: without user name, password and query (where tokens travel), whether or
 * not it parses as a URL.
 */
export const redact = (url: string): string => {
  const text = url.trim()
  try {
    const parsed = new URL(text)
    if (parsed.protocol !== "file:") {
      parsed.username = ""
      parsed.password = ""
      parsed.search = ""
      return parsed.toString()
    }
  } catch {
    // Not a URL the WHATWG parser accepts: redacted by hand below.
  }
  // `file:` URLs keep the path exactly as given; anything else drops `…@` before the host.
  return text.replace(/\?.*$/s, "").replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/#]*@/i, "$1")
}
