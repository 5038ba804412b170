/**
 * JSON a caller hands in (event data, checkpoint context): plain JSON that round-trips exactly
 * through SQLite, at most `MAX_JSON_DEPTH` deep and `MAX_JSON_CHARS` once serialised. One checker
 * for every such value; its walks are bounded by the depth limit, so no input can overflow the
 * stack (the recursive Schema decoders run only on values it accepted).
 *
 * @module
 */
import { Either } from "effect"

/** JSON from a caller may nest arrays and objects at most this deep. */
export const MAX_JSON_DEPTH = 64

/** JSON from a caller may serialise to at most this many characters (1 MiB). */
export const MAX_JSON_CHARS = 1_048_576

/** Where a value stops being acceptable JSON: the path inside it, and why. */
export interface JsonIssue {
  readonly path: ReadonlyArray<PropertyKey>
  readonly message: string
}

const tooDeep = `must nest at most ${MAX_JSON_DEPTH} levels deep`

// `String.prototype.isWellFormed` (no lone surrogates: the text survives UTF-8), Node ≥ 20.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed()

/**
 * Where `value` stops being JSON that round-trips exactly (NaN and ±Infinity become null, lone
 * surrogates cannot be stored as UTF-8 text, functions and undefined vanish, class instances lose
 * their identity, cycles throw) or nests too deep, naming the path; undefined when it is fine.
 * Size is not checked here: see `encodeJson`.
 */
export const jsonIssue = (
  value: unknown,
  path: ReadonlyArray<PropertyKey> = [],
  ancestors: ReadonlyArray<object> = []
): JsonIssue | undefined => {
  switch (typeof value) {
    case "boolean":
      return undefined
    case "number":
      return Number.isFinite(value) ? undefined : { path, message: `must be a finite number, got ${value}` }
    case "string":
      return isWellFormed(value) ? undefined : { path, message: "must be valid Unicode text (it contains a lone surrogate)" }
    case "object": {
      if (value === null) return undefined
      if (ancestors.includes(value)) return { path, message: "must not contain a cycle" }
      if (ancestors.length >= MAX_JSON_DEPTH) return { path, message: tooDeep }
      const inner = [...ancestors, value]
      if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
          const issue = jsonIssue(value[i], [...path, i], inner)
          if (issue !== undefined) return issue
        }
        return undefined
      }
      const proto = Object.getPrototypeOf(value)
      if (proto !== Object.prototype && proto !== null) return { path, message: "must be a plain JSON object" }
      for (const [key, item] of Object.entries(value)) {
        if (!isWellFormed(key)) return { path: [...path, key], message: "keys must be valid Unicode text" }
        const issue = jsonIssue(item, [...path, key], inner)
        if (issue !== undefined) return issue
      }
      return undefined
    }
    default:
      return { path, message: `must be a JSON value, got ${typeof value}` }
  }
}

/**
 * The common case of `jsonIssue`: true exactly when it finds no issue, without building a path per
 * value (appendAll checks every event of a batch). Notes in `seen` whether a negative zero was met
 * (JSON has none: it reads back as 0).
 */
export const isPlainJson = (value: unknown, ancestors: Array<object>, seen: { negativeZero: boolean }): boolean => {
  switch (typeof value) {
    case "boolean":
      return true
    case "number":
      if (Object.is(value, -0)) seen.negativeZero = true
      return Number.isFinite(value)
    case "string":
      return isWellFormed(value)
    case "object": {
      if (value === null) return true
      if (ancestors.length >= MAX_JSON_DEPTH || ancestors.includes(value)) return false
      ancestors.push(value)
      try {
        if (Array.isArray(value)) {
          for (let i = 0; i < value.length; i++) if (!isPlainJson(value[i], ancestors, seen)) return false
          return true
        }
        const proto = Object.getPrototypeOf(value)
        if (proto !== Object.prototype && proto !== null) return false
        for (const key of Object.keys(value)) {
          if (!isWellFormed(key) || !isPlainJson((value as Record<string, unknown>)[key], ancestors, seen)) return false
        }
        return true
      } finally {
        ancestors.pop()
      }
    }
    default:
      return false
  }
}

/** The issue of JSON text longer than `MAX_JSON_CHARS`, else undefined. */
export const jsonSizeIssue = (json: string): JsonIssue | undefined =>
  json.length > MAX_JSON_CHARS
    ? { path: [], message: `must serialise to at most ${MAX_JSON_CHARS} characters of JSON (got ${json.length})` }
    : undefined

/** Check `value` (shape, depth, then size) and serialise it: its JSON text, or the first issue. */
export const encodeJson = (value: unknown): Either.Either<string, JsonIssue> => {
  if (!isPlainJson(value, [], { negativeZero: false })) {
    return Either.left(jsonIssue(value) ?? { path: [], message: "must be a JSON value" })
  }
  const json = JSON.stringify(value)
  const issue = jsonSizeIssue(json)
  return issue === undefined ? Either.right(json) : Either.left(issue)
}

/** The field name of an issue inside `field`: `data.a.0`. */
export const issueField = (field: string, issue: JsonIssue): string =>
  issue.path.length === 0 ? field : `${field}.${issue.path.map(String).join(".")}`

/**
 * Only the structure of `value`: a cycle, or objects of any kind nested deeper than
 * `MAX_JSON_DEPTH`; undefined otherwise. For values that need not be plain JSON as a whole (a known
 * event payload may carry extra fields that decoding drops) but must not send a recursive decoder
 * into unbounded recursion.
 */
export const nestingIssue = (
  value: unknown,
  path: ReadonlyArray<PropertyKey> = [],
  ancestors: Array<object> = []
): JsonIssue | undefined => {
  if (typeof value !== "object" || value === null) return undefined
  if (ancestors.includes(value)) return { path, message: "must not contain a cycle" }
  if (ancestors.length >= MAX_JSON_DEPTH) return { path, message: tooDeep }
  ancestors.push(value)
  try {
    for (const key of Object.keys(value)) {
      const issue = nestingIssue((value as Record<string, unknown>)[key], [...path, key], ancestors)
      if (issue !== undefined) return issue
    }
    return undefined
  } finally {
    ancestors.pop()
  }
}
