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
 * - matching is case-sensitive, like Git (a case-insensitive project compares the lower-cased
 *   `comparisonForm`); a leading `!` or `(…)` has no special meaning.
 *
 * Two patterns overlap when some path is covered by both. Glob against glob is decided
 * exactly (a product automaton over both patterns), never by testing one side as a path, in
 * work bounded by the pattern limits and countable in steps (`overlapsWithin`).
 *
 * What services take is first put in canonical form by `canonicalize` (trimmed, NFC,
 * project-relative); see the README's Reservations section.
 *
 * @module
 */
import { Either, ParseResult, Schema } from "effect"

/** Longest accepted pattern, in UTF-16 code units, once canonical (project-relative). */
export const MAX_PATTERN_LENGTH = 1024

/** Longest accepted segment (between two `/`), like a file name's limit on common filesystems. */
export const MAX_SEGMENT_LENGTH = 255

/**
 * Most segments in a pattern: deeper than any real tree, and it bounds the automaton two patterns
 * make together (65 × 65 states).
 */
export const MAX_SEGMENTS = 64

/** Longest accepted input before canonicalisation (an absolute path also spells out the root). */
export const MAX_INPUT_LENGTH = 4096

/** Most patterns accepted in one request. */
export const MAX_PATTERNS = 100

/**
 * The most overlap work, in `Meter` steps, `Reservations.reserve` spends inside its write
 * transaction (a few ms of CPU; see bench/README.md). A check that needs more is worked
 * out before the transaction and only looked up inside it.
 */
export const TRANSACTION_OVERLAP_STEPS = 250_000

const WILDCARD = /[*?[\]{}]/
// eslint-disable-next-line no-control-regex
const CONTROL = /[\u0000-\u001f\u007f]/
const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/
const DRIVE = /^[A-Za-z]:(?=\/|$)/

/** True when the pattern has a wildcard or a `[`/`{` construct, i.e. it is not one literal path. */
export const isGlob = (pattern: string): boolean => WILDCARD.test(pattern)

interface Normalised {
  readonly segments: ReadonlyArray<string>
  /** Why the pattern is unacceptable (the first problem met), if it is. */
  readonly problem: string | undefined
}

/**
 * Resolve `.`, `..` and empty segments of a `/`-separated path. `absolute`: a `..` at the top
 * stays at the top (as `/..` is `/`); otherwise it is a problem (it leaves the project).
 */
const resolveSegments = (path: string, absolute = false): Normalised => {
  const out: Array<string> = []
  let problem: string | undefined
  for (const segment of path.split("/")) {
    if (segment === "" || segment === ".") continue
    if (segment !== "..") {
      out.push(segment)
      continue
    }
    const last = out.pop()
    if (last === undefined) {
      if (!absolute) problem ??= "must stay inside the project (a \"..\" goes above the project root)"
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
 * The normalised form of a relative pattern: `\` becomes `/`, `.` and empty segments are
 * dropped, `..` is resolved, and there is no leading or trailing `/`. Total: a `..` above the
 * root is dropped, and an absolute path is read as relative (use `canonicalize` to relativise or
 * refuse it). Idempotent. Does not trim or apply NFC (`canonicalize` does).
 */
export const normalize = (pattern: string): string => resolveSegments(pattern.replace(/\\/g, "/")).segments.join("/")

/** Where patterns are resolved: the project root (and the rules to compare paths under it). */
export interface PathContext {
  /**
   * The project root as an absolute path (`/`-separated, or `C:/…` on Windows), first the
   * canonical one (after symlinks), then any other spelling of it that absolute patterns may use
   * (e.g. the path the layer was opened with). Empty: absolute patterns are refused.
   */
  readonly roots?: ReadonlyArray<string> | undefined
  /** Compare paths case-insensitively (the project's case rule). */
  readonly caseInsensitive?: boolean | undefined
}

/** The form paths are compared in: the canonical pattern, lower-cased on a case-insensitive project. */
export const comparisonForm = (canonical: string, caseInsensitive: boolean | undefined): string =>
  caseInsensitive === true ? canonical.toLowerCase() : canonical

/**
 * The comparison form of a pattern as stored in a row, whenever it was written: rows written
 * before canonicalisation may be padded, decomposed (NFD) or carry `./`, `//`, `\`; they compare
 * like their canonical form. (Such rows never hold an absolute path: those were read as relative.)
 */
export const storedComparisonForm = (stored: string, caseInsensitive: boolean | undefined): string => {
  // Every conflict check reads every active reservation: the same few stored patterns, again and
  // again, each worth a canonicalisation (a pure function of the two arguments).
  const key = caseInsensitive === true ? `i${stored}` : `s${stored}`
  const hit = storedForms.get(key)
  if (hit !== undefined) return hit
  const form = comparisonForm(
    Either.getOrElse(canonicalize(stored), () => normalize(stored.trim().normalize("NFC"))),
    caseInsensitive
  )
  if (storedForms.size >= CACHE_SIZE) storedForms.clear()
  storedForms.set(key, form)
  return form
}

const storedForms = new Map<string, string>()

const isAbsolute = (path: string): boolean => path.startsWith("/") || DRIVE.test(path)

/** Split an absolute path into its segments after the first `/` (a drive letter is one segment). */
const absoluteSegments = (path: string): Normalised => resolveSegments(path, true)

const rootSegments = (root: string): ReadonlyArray<string> =>
  absoluteSegments(root.normalize("NFC").replace(/\\/g, "/")).segments

/**
 * The canonical form of a path pattern, or why it is refused (`Either.left(reason)`):
 *
 * 1. surrounding whitespace (spaces, tabs, newlines) is trimmed, then the pattern must be
 *    non-empty, free of control characters and valid Unicode;
 * 2. Unicode NFC; `\` becomes `/`;
 * 3. `.` and empty segments are dropped and `..` is resolved: a `..` above the project root, or
 *    after a wildcard segment, is refused;
 * 4. an absolute path (`/…`, `C:/…`, `//server/…`) inside the project root becomes
 *    project-relative; outside it (or with no root in `context`) it is refused, naming the root;
 * 5. the result (no leading or trailing `/`) must be 1 to 1024 characters, each segment at most
 *    255, and at most 64 segments (no real path is longer or deeper; the limits keep the
 *    overlap test cheap).
 *
 * Case is kept (see `comparisonForm`). Idempotent: a canonical pattern is its own canonical form.
 */
export const canonicalize = (pattern: string, context: PathContext = {}): Either.Either<string, string> =>
  place(pattern, context, false)

const tooLong = (length: number) => Either.left(`must be at most ${MAX_PATTERN_LENGTH} characters (got ${length})`)

/** `canonicalize`; with `keepAbsolute`, an absolute path is returned resolved but not placed. */
const place = (pattern: string, context: PathContext, keepAbsolute: boolean): Either.Either<string, string> => {
  if (typeof pattern !== "string") return Either.left("must be a string")
  const trimmed = pattern.trim()
  if (trimmed.length === 0) return Either.left("must not be empty")
  if (trimmed.length > MAX_INPUT_LENGTH) return tooLong(trimmed.length)
  if (CONTROL.test(trimmed)) return Either.left("must not contain NUL or other control characters")
  if (LONE_SURROGATE.test(trimmed)) return Either.left("must be valid Unicode text (it contains a lone surrogate)")
  const text = trimmed.normalize("NFC").replace(/\\/g, "/")
  let segments: ReadonlyArray<string>
  if (isAbsolute(text)) {
    const resolved = absoluteSegments(text)
    if (resolved.problem !== undefined) return Either.left(resolved.problem)
    if (keepAbsolute) return Either.right((DRIVE.test(text) ? "" : "/") + resolved.segments.join("/"))
    const roots = context.roots ?? []
    if (roots.length === 0) {
      return Either.left(
        "is an absolute path, but this project has no root directory to resolve it against " +
          "(give a project-relative path, or open the layer with projectRoot)"
      )
    }
    const fold = (s: string) => comparisonForm(s, context.caseInsensitive)
    const inside = roots.map(rootSegments).find((root) =>
      root.length <= resolved.segments.length && root.every((segment, i) => fold(segment) === fold(resolved.segments[i]!))
    )
    if (inside === undefined) return Either.left(`must be inside the project root ${roots[0]} (got an absolute path outside it)`)
    segments = resolved.segments.slice(inside.length)
  } else {
    const resolved = resolveSegments(text)
    if (resolved.problem !== undefined) return Either.left(resolved.problem)
    segments = resolved.segments
  }
  if (segments.length === 0) return Either.left("must name a path inside the project (use \"**\" for all of it)")
  if (segments.length > MAX_SEGMENTS) {
    return Either.left(`must have at most ${MAX_SEGMENTS} segments (got ${segments.length})`)
  }
  const long = segments.find((segment) => segment.length > MAX_SEGMENT_LENGTH)
  if (long !== undefined) {
    return Either.left(`must not have a segment longer than ${MAX_SEGMENT_LENGTH} characters (got ${long.length})`)
  }
  const canonical = segments.join("/")
  // Dropping a `./` or `/` can uncover whitespace at an end (`./ a`, `a /`): trimmed too, so the
  // canonical form is its own canonical form. Each round is shorter, so this ends.
  if (canonical.trim() !== canonical) return place(canonical, context, keepAbsolute)
  return canonical.length > MAX_PATTERN_LENGTH ? tooLong(canonical.length) : Either.right(canonical)
}

/**
 * Validate and canonicalise a pattern without a project root: `canonicalize(pattern)`, so an
 * absolute path is refused.
 */
export const validate = (pattern: string): Either.Either<string, string> => canonicalize(pattern)

/**
 * A path pattern as service input: checked, and decoded to its canonical form — or, for an
 * absolute path, to its resolved absolute form, which the service places under the project root
 * with `canonicalize`. A bad pattern fails with the reason from `canonicalize`.
 */
export const PathPattern: Schema.Schema<string, string> = Schema.transformOrFail(Schema.String, Schema.String, {
  strict: true,
  decode: (raw, _, ast) =>
    Either.match(place(raw, {}, true), {
      onLeft: (reason) => ParseResult.fail(new ParseResult.Type(ast, raw, reason)),
      onRight: ParseResult.succeed
    }),
  encode: ParseResult.succeed
})

/**
 * 1 to 100 patterns, decoded with `PathPattern`, exact duplicates removed, in first-seen order.
 * (The service removes the duplicates that appear once paths are placed under the root.)
 */
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
  /** Unique per compilation: the key of remembered overlap answers. */
  readonly id: number
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
  return finish(normalised, segments, tokens)
}

/** Close a pattern's tokens: a trailing `**` when it may name a directory; adjacent `**` merged. */
const finish = (normalised: string, segments: ReadonlyArray<string>, tokens: Array<Token>): CompiledPattern => {
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
  return { id: nextId++, pattern: normalised, segments, tokens: merged }
}

let nextId = 0

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

/**
 * Compile one path that names a file as it is (normalising it first), such as a file a commit
 * changes: `*`, `?`, `[`, `]`, `{` and `}` in it are characters of its name, not wildcards, so
 * `app/[slug]/page.tsx` overlaps the patterns that cover that file and no other. Like a pattern,
 * a last segment without an extension may name a directory.
 */
export const compilePath = (path: string): CompiledPattern => {
  const normalised = normalize(path)
  const segments = normalised === "" ? [] : normalised.split("/")
  return finish(normalised, segments, segments.map((segment) => ({ _tag: "Segment", atoms: [...segment], literal: segment })))
}

// ---------------------------------------------------------------------------------------------
// Overlap
//
// The work of one overlap test is metered in steps (a state of the segment automaton visited, or
// one character compared), so that a caller can bound it: a hostile pattern costs at most
// linear-times-linear work, never exponential, but at the allowed maxima that is still too much
// to spend while holding the write lock (see `overlapsWithin`).

/** A work allowance in steps, spent by `overlapsWithin`. */
export interface Meter {
  remaining: number
}

/** Thrown (and caught here) when a meter runs out mid-test. */
const OUT_OF_STEPS: unique symbol = Symbol("OutOfSteps")

let totalSteps = 0

/** Every step spent by overlap tests in this process so far (for tests and benchmarks). */
export const overlapWork = (): number => totalSteps

const spend = (meter: Meter | undefined, steps: number): void => {
  totalSteps += steps
  if (meter !== undefined && (meter.remaining -= steps) < 0) throw OUT_OF_STEPS
}

const compatible = (x: Atom, y: Atom): boolean => x === ANY_CHAR || y === ANY_CHAR || x === y

/** Do `a[from, from + length)` and `b[at, at + length)` match position by position? */
const compatibleRun = (
  a: ReadonlyArray<Atom>,
  from: number,
  b: ReadonlyArray<Atom>,
  at: number,
  length: number,
  meter: Meter | undefined
): boolean => {
  let i = 0
  while (i < length && compatible(a[from + i]!, b[at + i]!)) i++
  spend(meter, i + 1)
  return i === length
}

/**
 * Does the star-free `fixed` (literal characters and `?`) match some string of `glob` (which has
 * at least one `*`)? Prefix and suffix align with the ends; each fragment between two `*` is then
 * placed at its leftmost fit after the previous one (leftmost leaves the most room, so if any
 * placement works this one does).
 */
const fixedMatchesGlob = (fixed: ReadonlyArray<Atom>, glob: ReadonlyArray<Atom>, meter: Meter | undefined): boolean => {
  const first = glob.indexOf(ANY_RUN)
  const last = glob.lastIndexOf(ANY_RUN)
  const suffix = glob.length - 1 - last
  if (fixed.length < first + suffix) return false
  if (!compatibleRun(fixed, 0, glob, 0, first, meter)) return false
  if (!compatibleRun(fixed, fixed.length - suffix, glob, last + 1, suffix, meter)) return false
  let position = first
  const end = fixed.length - suffix
  let start = first + 1
  while (start <= last) {
    let stop = start
    while (stop < last && glob[stop] !== ANY_RUN) stop++
    const length = stop - start
    let at = position
    while (at + length <= end && !compatibleRun(fixed, at, glob, start, length, meter)) at++
    if (at + length > end) return false
    position = at + length
    start = stop + 1
  }
  return true
}

/**
 * Is there one segment string matched by both segment globs? With a `*` on both sides, exactly
 * when the parts before the first `*` agree and the parts after the last `*` agree (a witness:
 * the longer prefix, every middle fragment of both, the longer suffix). With a `*` on one side,
 * `fixedMatchesGlob`; on neither, position by position.
 */
const atomsIntersect = (a: ReadonlyArray<Atom>, b: ReadonlyArray<Atom>, meter: Meter | undefined): boolean => {
  const aFirst = a.indexOf(ANY_RUN)
  const bFirst = b.indexOf(ANY_RUN)
  spend(meter, 1)
  if (aFirst < 0 && bFirst < 0) return a.length === b.length && compatibleRun(a, 0, b, 0, a.length, meter)
  if (aFirst < 0) return fixedMatchesGlob(a, b, meter)
  if (bFirst < 0) return fixedMatchesGlob(b, a, meter)
  const prefix = Math.min(aFirst, bFirst)
  const suffix = Math.min(a.length - 1 - a.lastIndexOf(ANY_RUN), b.length - 1 - b.lastIndexOf(ANY_RUN))
  return compatibleRun(a, 0, b, 0, prefix, meter) &&
    compatibleRun(a, a.length - suffix, b, b.length - suffix, suffix, meter)
}

const segmentsIntersect = (x: Token, y: Token, meter: Meter | undefined): boolean =>
  x._tag !== "Segment" || y._tag !== "Segment"
    ? true
    : x.literal !== undefined && y.literal !== undefined
    ? (spend(meter, 1 + Math.min(x.literal.length, y.literal.length)), x.literal === y.literal)
    : atomsIntersect(x.atoms, y.atoms, meter)

/** Are `a`'s segments the first segments of `b` (so `b` treats `a` as a directory)? */
const isPrefix = (a: ReadonlyArray<string>, b: ReadonlyArray<string>): boolean =>
  a.length <= b.length && a.every((segment, i) => segment === b[i])

const firstLiteral = (p: CompiledPattern): string | undefined => {
  const first = p.tokens[0]
  return first?._tag === "Segment" ? first.literal : undefined
}

const decide = (a: CompiledPattern, b: CompiledPattern, meter: Meter | undefined): boolean => {
  spend(meter, 1 + Math.min(a.pattern.length, b.pattern.length))
  if (isPrefix(a.segments, b.segments) || isPrefix(b.segments, a.segments)) return true
  // Fast path for the common case of different top-level names.
  const x = firstLiteral(a)
  const y = firstLiteral(b)
  if (x !== undefined && y !== undefined && x !== y) return false
  return intersect(a, b, meter)
}

/** Do two compiled patterns cover a common path? (Unmetered; see `overlapsWithin`.) */
export const overlapsCompiled = (a: CompiledPattern, b: CompiledPattern): boolean => decide(a, b, undefined)

// Answers already worked out, by the pair of compilation ids (smaller first): pure, so they can
// be computed outside a transaction and reused inside it.
const answers = new Map<number, Map<number, boolean>>()
let answerCount = 0
const ANSWERS_SIZE = 1 << 17

const remembered = (a: CompiledPattern, b: CompiledPattern): boolean | undefined =>
  a.id <= b.id ? answers.get(a.id)?.get(b.id) : answers.get(b.id)?.get(a.id)

const remember = (a: CompiledPattern, b: CompiledPattern, answer: boolean): void => {
  if (answerCount >= ANSWERS_SIZE) {
    answers.clear()
    answerCount = 0
  }
  const [low, high] = a.id <= b.id ? [a, b] : [b, a]
  let row = answers.get(low.id)
  if (row === undefined) answers.set(low.id, row = new Map())
  if (!row.has(high.id)) answerCount++
  row.set(high.id, answer)
}

/**
 * `overlapsCompiled`, remembering the answer, spending at most what `meter` allows: `undefined`
 * when it ran out first (nothing is remembered then). A remembered answer costs one step. Without
 * a meter the work is unbounded (up to the product of the two patterns' lengths).
 */
export const overlapsWithin = (a: CompiledPattern, b: CompiledPattern, meter?: Meter): boolean | undefined => {
  const known = remembered(a, b)
  if (known !== undefined) {
    spend(meter, 1)
    return known
  }
  try {
    const answer = decide(a, b, meter)
    remember(a, b, answer)
    return answer
  } catch (error) {
    if (error === OUT_OF_STEPS) return undefined
    throw error
  }
}

/** Is there a path matched by both token automata? A product automaton over both. */
const intersect = (a: CompiledPattern, b: CompiledPattern, meter: Meter | undefined): boolean => {
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
    spend(meter, 1)
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
    if (segmentsIntersect(x, y, meter)) push(x._tag === "Globstar" ? i : i + 1, y._tag === "Globstar" ? j : j + 1)
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
