/**
 * Path patterns of file reservations: normalisation, validation and overlap. Pure functions, no
 * I/O: the Reservations service loads the active rows and decides conflicts with `overlaps`.
 *
 * A pattern names paths relative to the repository root, on `/`-separated segments:
 *
 * - `*` and `?` match within one segment (`src/*.ts` does not reach `src/a/b.ts`);
 * - a segment that is exactly `**` matches zero or more whole segments;
 * - a pattern whose last segment is literal may name a directory, and then covers everything
 *   beneath it. It is taken as one when that segment has no file extension (`src/api`,
 *   `.github`, `Makefile` cover what is under them), or when the other pattern continues below it
 *   (its segments start with all of this pattern's: `packages/socket.io` ~
 *   `packages/socket.io/lib/x.js`). Otherwise a name with an extension is a file: `src/a.ts` and
 *   `src/**\/x.ts` are disjoint, though `src/a.ts/x.ts` would match the latter. `a/b` never
 *   covers `a/bc`;
 * - a segment containing `[`, `]`, `{` or `}` is treated conservatively as matching any one
 *   segment (and a brace group that spans a `/`, or may expand to nothing, as `**`), so such
 *   patterns can only produce extra conflicts, never miss one;
 * - matching is case-sensitive, like Git; a leading `!` or `(…)` has no special meaning.
 *
 * Two patterns overlap when some path is covered by both. Glob against glob is decided
 * exactly (a product automaton over both patterns), never by testing one side as a path.
 *
 * @module
 */
import { Either, ParseResult, Schema } from "effect"

/** Longest accepted pattern, in UTF-16 code units. */
export const MAX_PATTERN_LENGTH = 1024

/** Most patterns accepted in one request. */
export const MAX_PATTERNS = 100

const WILDCARD = /[*?[\]{}]/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const DRIVE = /^[A-Za-z]:/

/** True when the pattern has a wildcard or a `[`/`{` construct, i.e. it is not one literal path. */
export const isGlob = (pattern: string): boolean => WILDCARD.test(pattern)

interface Normalised {
  readonly segments: ReadonlyArray<string>
  /** Why the pattern is unacceptable (the first problem met), if it is. */
  readonly problem: string | undefined
}

const resolveSegments = (pattern: string): Normalised => {
  const out: Array<string> = []
  let problem: string | undefined
  for (const segment of pattern.replace(/\\/g, "/").split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment !== "..") {
      out.push(segment)
      continue
    }
    const last = out.pop()
    if (last === undefined) {
      problem ??= "must stay inside the repository (a \"..\" goes above the root)"
    } else if (/^\*{2,}$/.test(last)) {
      // `a/b/**/..` is `a` (zero segments) or any directory under `a/b`: keep the superset `a/**`.
      problem ??= "must not use \"..\" after a wildcard segment"
      out.pop()
      out.push("**")
    } else if (isGlob(last)) {
      problem ??= "must not use \"..\" after a wildcard segment"
    }
  }
  return { segments: out, problem }
}

/**
 * The canonical form of a pattern: `\` becomes `/`, `.` and empty segments are dropped, `..` is
 * resolved, and there is no leading or trailing `/`. Total: a `..` above the root is dropped
 * (use `validate` to refuse such patterns). Idempotent.
 */
export const normalize = (pattern: string): string => resolveSegments(pattern).segments.join("/")

/**
 * Validate and normalise a pattern a caller asked for: `Either.right(normalised)`, or
 * `Either.left(reason)` when it is empty, longer than 1024 characters, contains control
 * characters or invalid Unicode, is an absolute Windows path (`C:\…`, `\\server\…`), or leaves
 * the repository through `..`.
 */
export const validate = (pattern: string): Either.Either<string, string> => {
  if (typeof pattern !== "string") return Either.left("must be a string")
  if (pattern.length === 0) return Either.left("must not be empty")
  if (pattern.length > MAX_PATTERN_LENGTH) {
    return Either.left(`must be at most ${MAX_PATTERN_LENGTH} characters (got ${pattern.length})`)
  }
  if (CONTROL.test(pattern)) return Either.left("must not contain NUL or other control characters")
  if (LONE_SURROGATE.test(pattern)) return Either.left("must be valid Unicode text (it contains a lone surrogate)")
  if (DRIVE.test(pattern) || pattern.startsWith("\\\\")) {
    return Either.left("must be relative to the repository, not an absolute Windows path")
  }
  const { problem, segments } = resolveSegments(pattern)
  if (problem !== undefined) return Either.left(problem)
  if (segments.length === 0) return Either.left("must name a path inside the repository (use \"**\" for all of it)")
  return Either.right(segments.join("/"))
}

/**
 * A path pattern as service input: validated, and decoded to its normalised form. A bad pattern
 * fails with the reason from `validate`.
 */
export const PathPattern: Schema.Schema<string, string> = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (raw, _, ast) =>
    Either.match(validate(raw), {
      onLeft: (reason) => ParseResult.fail(new ParseResult.Type(ast, raw, reason)),
      onRight: ParseResult.succeed
    }),
  encode: ParseResult.succeed
})

/** 1 to 100 patterns, normalised, duplicates (after normalisation) removed, in first-seen order. */
export const PathPatterns: Schema.Schema<ReadonlyArray<string>, ReadonlyArray<string>> = Schema.Array(PathPattern).pipe(
  Schema.minItems(1, { message: () => "must list at least one path pattern" }),
  Schema.maxItems(MAX_PATTERNS, { message: () => `must list at most ${MAX_PATTERNS} path patterns` }),
  Schema.transform(Schema.Array(Schema.String), {
    strict: true,
    decode: (patterns) => Array.from(new Set(patterns)),
    encode: (patterns) => patterns
  })
)

// ---------------------------------------------------------------------------------------------
// Compilation

/** One character class of a segment glob: a literal code point, `?` (any one) or `*` (any run). */
type Atom = string | typeof ANY_CHAR | typeof ANY_RUN
const ANY_CHAR = 0
const ANY_RUN = 1

/** One token of a compiled pattern. */
type Token =
  | { readonly _tag: "Globstar" }
  | { readonly _tag: "AnySegment" }
  | { readonly _tag: "Segment"; readonly atoms: ReadonlyArray<Atom>; readonly literal: string | undefined }

const GLOBSTAR: Token = { _tag: "Globstar" }
const ANY_SEGMENT: Token = { _tag: "AnySegment" }

/** A pattern compiled for overlap tests. */
export interface CompiledPattern {
  /** The normalised pattern. */
  readonly pattern: string
  /** Its `/`-separated segments. */
  readonly segments: ReadonlyArray<string>
  /** The segment automaton, with a trailing `**` when the pattern may name a directory. */
  readonly tokens: ReadonlyArray<Token>
}

/** `name.ext` (after any leading dots): a file name, not a directory. */
const hasExtension = (segment: string): boolean => {
  const name = segment.replace(/^\.+/, "")
  const dot = name.lastIndexOf(".")
  return dot > 0 && dot < name.length - 1
}

const segmentToken = (segment: string): Token => {
  if (/^\*{2,}$/.test(segment)) return GLOBSTAR
  if (/[[\]{}]/.test(segment)) {
    // A lone brace group with an empty alternative (`{a,}`) may expand to no segment at all.
    return /^\{.*\}$/.test(segment) && /\{,|,\}|,,|\{\}/.test(segment) ? GLOBSTAR : ANY_SEGMENT
  }
  const atoms: Array<Atom> = []
  for (const ch of segment) {
    if (ch === "*") {
      if (atoms[atoms.length - 1] !== ANY_RUN) atoms.push(ANY_RUN)
    } else {
      atoms.push(ch === "?" ? ANY_CHAR : ch)
    }
  }
  return { _tag: "Segment", atoms, literal: /[*?]/.test(segment) ? undefined : segment }
}

/** Segments `[from, to]` of a brace group that spans a `/`, each as its own range. */
const braceSpans = (segments: ReadonlyArray<string>): Array<readonly [number, number]> => {
  const spans: Array<readonly [number, number]> = []
  let depth = 0
  let openedAt = -1
  segments.forEach((segment, index) => {
    for (const ch of segment) {
      if (ch === "{") {
        if (depth === 0) openedAt = index
        depth++
      } else if (ch === "}" && depth > 0) {
        depth--
        if (depth === 0 && openedAt !== index) spans.push([openedAt, index])
      }
    }
  })
  return spans
}

const compileUncached = (pattern: string): CompiledPattern => {
  const normalised = normalize(pattern)
  const segments = normalised === "" ? [] : normalised.split("/")
  const spans = braceSpans(segments)
  const tokens: Array<Token> = []
  for (let i = 0; i < segments.length; i++) {
    const span = spans.find(([from]) => from === i)
    if (span !== undefined) {
      tokens.push(GLOBSTAR)
      i = span[1]
    } else {
      tokens.push(segmentToken(segments[i]!))
    }
  }
  // The empty pattern (only from `normalize` of e.g. "." — `validate` refuses it) is the root.
  const last = tokens[tokens.length - 1]
  if (
    last === undefined || last._tag === "AnySegment" ||
    (last._tag === "Segment" && last.literal !== undefined && !hasExtension(last.literal))
  ) {
    // It may name a directory: it covers everything beneath it too.
    tokens.push(GLOBSTAR)
  }
  // Adjacent `**` are one `**`.
  const merged = tokens.filter((t, i) => !(t._tag === "Globstar" && tokens[i - 1]?._tag === "Globstar"))
  return { pattern: normalised, segments, tokens: merged }
}

const cache = new Map<string, CompiledPattern>()
const CACHE_SIZE = 2048

/** Compile a pattern (normalising it first) for repeated `overlapsCompiled` tests. */
export const compile = (pattern: string): CompiledPattern => {
  const hit = cache.get(pattern)
  if (hit !== undefined) return hit
  const compiled = compileUncached(pattern)
  if (cache.size >= CACHE_SIZE) cache.clear()
  cache.set(pattern, compiled)
  return compiled
}

// ---------------------------------------------------------------------------------------------
// Overlap

/** Is there one segment string matched by both segment globs? A product automaton over both. */
const atomsIntersect = (a: ReadonlyArray<Atom>, b: ReadonlyArray<Atom>): boolean => {
  const width = b.length + 1
  const seen = new Uint8Array((a.length + 1) * width)
  const stack: Array<number> = [0]
  seen[0] = 1
  const push = (p: number, q: number) => {
    const key = p * width + q
    if (seen[key] === 0) {
      seen[key] = 1
      stack.push(key)
    }
  }
  while (stack.length > 0) {
    const key = stack.pop()!
    const p = Math.floor(key / width)
    const q = key % width
    // Both patterns consumed at once. A string both accept that is empty means both are all `*`,
    // and then any one-character segment is a witness too, so segments stay non-empty.
    if (p === a.length && q === b.length) return true
    const x = a[p]
    const y = b[q]
    if (x === ANY_RUN) push(p + 1, q)
    if (y === ANY_RUN) push(p, q + 1)
    if (x === undefined || y === undefined) continue
    if (x === ANY_RUN && y === ANY_RUN) continue
    if (typeof x === "string" && typeof y === "string" && x !== y) continue
    push(x === ANY_RUN ? p : p + 1, y === ANY_RUN ? q : q + 1)
  }
  return false
}

const segmentsIntersect = (x: Token, y: Token): boolean =>
  x._tag !== "Segment" || y._tag !== "Segment"
    ? true
    : x.literal !== undefined && y.literal !== undefined
    ? x.literal === y.literal
    : atomsIntersect(x.atoms, y.atoms)

/** Are `a`'s segments the first segments of `b` (so `b` treats `a` as a directory)? */
const isPrefix = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean =>
  a.length <= b.length && a.every((segment, i) => segment === b[i])

const firstLiteral = (p: CompiledPattern): string | undefined => {
  const first = p.tokens[0]
  return first?._tag === "Segment" ? first.literal : undefined
}

/** Do two compiled patterns cover a common path? */
export const overlapsCompiled = (a: CompiledPattern, b: CompiledPattern): boolean => {
  if (isPrefix(a.segments, b.segments) || isPrefix(b.segments, a.segments)) return true
  // Fast path for the common case of different top-level names.
  const x = firstLiteral(a)
  const y = firstLiteral(b)
  if (x !== undefined && y !== undefined && x !== y) return false
  return intersect(a, b)
}

/** Is there a path matched by both token automata? A product automaton over both. */
const intersect = (a: CompiledPattern, b: CompiledPattern): boolean => {
  const A = a.tokens
  const B = b.tokens
  const width = B.length + 1
  const seen = new Uint8Array((A.length + 1) * width)
  const stack: Array<number> = [0]
  seen[0] = 1
  const push = (i: number, j: number) => {
    const key = i * width + j
    if (seen[key] === 0) {
      seen[key] = 1
      stack.push(key)
    }
  }
  while (stack.length > 0) {
    const key = stack.pop()!
    const i = Math.floor(key / width)
    const j = key % width
    if (i === A.length && j === B.length) return true
    const x = A[i]
    const y = B[j]
    // `**` may match zero segments.
    if (x?._tag === "Globstar") push(i + 1, j)
    if (y?._tag === "Globstar") push(i, j + 1)
    if (x === undefined || y === undefined) continue
    if (x._tag === "Globstar" && y._tag === "Globstar") continue
    // One segment consumed by both sides; `**` consumes it and stays.
    if (segmentsIntersect(x, y)) push(x._tag === "Globstar" ? i : i + 1, y._tag === "Globstar" ? j : j + 1)
  }
  return false
}

/**
 * Do two patterns cover a common path? Symmetric; every pattern overlaps itself. Both are
 * normalised first (`normalize`), so `./src\\a.ts` and `src/a.ts` are the same pattern.
 *
 * @example
 * overlaps("src/**", "src/a.ts")          // true
 * overlaps("src/**\/x.ts", "src/a/*.ts")  // true: src/a/x.ts
 * overlaps("src/*.ts", "src/a/b.ts")      // false: `*` stays in one segment
 * overlaps("src/api", "src/api/x.ts")     // true: a directory covers what is beneath it
 * overlaps("src/a.ts", "src/**\/*.test.ts") // false: `src/a.ts` is a file
 */
export const overlaps = (a: string, b: string): boolean => overlapsCompiled(compile(a), compile(b))
