import { describe, expect, it } from "@effect/vitest"
import { Either, FastCheck as fc } from "effect"
import { Paths } from "../src/index.js"

const { normalize, overlaps, validate } = Paths

describe("Paths.overlaps: table", () => {
  // [a, b, overlap?] — each row is checked both ways round.
  const table: ReadonlyArray<readonly [string, string, boolean]> = [
    // The README's examples (Reservations).
    ["src/**", "src/a.ts", true],
    ["src/**/x.ts", "src/a/*.ts", true],
    ["src/*.ts", "src/a/b.ts", false],
    ["docs/**", "src/**", false],
    ["src/api", "src/api/x.ts", true],
    ["a/b", "a/bc", false],
    ["src/*.ts", "src/*.js", false],
    ["src/a?.ts", "src/ab.ts", true],
    // segment boundaries: `*` and `?` never cross `/`
    ["src/*", "src/a", true],
    ["src/*", "src/a/b.ts", false],
    ["*", "a/b.ts", false],
    ["a*", "ab/c.ts", false],
    ["*/b.ts", "a/*", true],
    ["src/*/x.ts", "src/a/b/x.ts", false],
    ["src/*/x.ts", "src/a/x.ts", true],
    ["a/b.ts", "a/b.ts", true],
    ["a/b.ts", "a/b.tsx", false],
    ["a/b.ts", "b.ts", false],
    ["a/b.ts", "a", true],
    // `?`: exactly one character
    ["a?", "a", false],
    ["a?", "ab", true],
    ["a?", "abc", false],
    ["src/?.ts", "src/ab.ts", false],
    ["??", "*", true],
    ["?", "a/b", false],
    ["a?c", "?b?", true],
    ["a?c", "?d?", true],
    ["a?c", "?d?d", false],
    // glob against glob, inside a segment
    ["*a*", "*b*", true],
    ["a*", "*b", true],
    ["a*", "b*", false],
    ["*.test.ts", "*.ts", true],
    ["*.test.ts", "*.js", false],
    ["x*y", "*z*", true],
    ["ab*", "a*c", true],
    ["ab*", "b*", false],
    // `**` at the start, in the middle, at the end, alone, against `**`
    ["**", "anything/at/all.ts", true],
    ["**/x.ts", "x.ts", true],
    ["**/x.ts", "a/b/c/x.ts", true],
    ["**/x.ts", "a/b/y.ts", false],
    ["a/**/b.ts", "a/b.ts", true],
    ["a/**/b.ts", "a/x/y/b.ts", true],
    ["a/**/b.ts", "c/x/b.ts", false],
    ["a/**", "a", true],
    ["a/**", "ab/c.ts", false],
    ["**/*.ts", "**/*.js", false],
    ["**/*.ts", "src/**", true],
    ["**/a/**", "**/b/**", true],
    ["**/a.ts", "**/b.ts", false],
    ["a/**/z.ts", "**/b/**", true],
    ["a/**/z.ts", "b/**", false],
    ["**", "**", true],
    ["src/**/test/**/*.ts", "src/a/b/test/c.ts", true],
    ["src/**/test/*.ts", "src/test/x/c.ts", false],
    // literal names: a directory covers what is beneath it, a file name does not
    ["src/api", "src/**/x.ts", true],
    ["src/api", "src/*/x.ts", true],
    ["src/api", "src/apix/x.ts", false],
    [".github", ".github/workflows/ci.yml", true],
    ["src/a.ts", "src/**/*.test.ts", false],
    ["README.md", "**/*.ts", false],
    ["README.md", "**/*.md", true],
    ["packages/socket.io", "packages/socket.io/lib/x.js", true],
    ["packages/socket.io", "packages/socket.io/**", true],
    ["src/*/api", "src/x/api/y.ts", true],
    // conservative constructs
    ["src/[ab].ts", "src/c.ts", true],
    ["src/[ab].ts", "lib/a.ts", false],
    ["src/{a,b}.ts", "src/c.js", true],
    ["src/{a,b/c}.ts", "src/b/x/c.ts", true],
    ["app/[id]/page.tsx", "app/x/page.tsx", true],
    ["app/[id]", "app/x/y/z.ts", true],
    // Windows separators, `.` and `..`, leading `/`
    ["src\\a\\b.ts", "src/a/b.ts", true],
    ["src\\*.ts", "src/a/b.ts", false],
    ["./src/./a.ts", "src/a.ts", true],
    ["src/x/../a.ts", "src/a.ts", true],
    ["src/x/../a.ts", "src/x/a.ts", false],
    ["/src//a.ts", "src/a.ts", true],
    ["src/a/", "src/a/b.ts", true]
  ]

  it.each(table)("%s vs %s → %s", (a, b, expected) => {
    expect(overlaps(a, b)).toBe(expected)
    expect(overlaps(b, a)).toBe(expected)
  })
})

describe("Paths.compilePath: a file's path, not a pattern", () => {
  const pathOverlaps = (path: string, pattern: string) => Paths.overlapsCompiled(Paths.compilePath(path), Paths.compile(pattern))
  // [file, pattern, overlap?]
  const table: ReadonlyArray<readonly [string, string, boolean]> = [
    ["app/[slug]/page.tsx", "app/s/page.tsx", false],
    ["app/[slug]/page.tsx", "app/*/page.tsx", true],
    ["app/[slug]/page.tsx", "app/[slug]/page.tsx", true],
    ["app/[slug]/page.tsx", "app/**", true],
    ["notes/a*b.md", "notes/aXb.md", false],
    ["notes/a*b.md", "notes/*.md", true],
    ["notes/a?.md", "notes/ab.md", false],
    ["x/{a,b}.ts", "x/a.ts", false],
    ["x/{a,b}.ts", "x/*.ts", true],
    ["src/a.ts", "src/*.ts", true],
    ["src/a.ts", "src/b.ts", false],
    // As a pattern, a last segment without an extension may be a directory.
    ["vendor/lib", "vendor/lib/x.ts", true]
  ]
  it.each(table)("%s against %s: %s", (path, pattern, expected) => {
    expect(pathOverlaps(path, pattern)).toBe(expected)
  })

  it("a path without wildcard characters overlaps exactly what the same text as a pattern does", () => {
    fc.assert(
      fc.property(globArb.chain((tokens) => fc.tuple(instanceArb(tokens), messyArb)), ([path, pattern]) => {
        expect(pathOverlaps(path, pattern)).toBe(overlaps(path, pattern))
      }),
      { numRuns: 500 }
    )
  })
})

describe("Paths.normalize and Paths.validate", () => {
  it.each([
    ["src/a.ts", "src/a.ts"],
    ["./src/a.ts", "src/a.ts"],
    ["src\\a\\b.ts", "src/a/b.ts"],
    ["/src//a/./b/", "src/a/b"],
    ["a/b/../c", "a/c"],
    ["a/b/../../c", "c"],
    ["src/*/../x.ts", "src/x.ts"],
    ["**", "**"]
  ])("normalize(%j) = %j", (raw, expected) => {
    expect(normalize(raw)).toBe(expected)
  })

  it.each([
    ["a/b/../c", "a/c"],
    ["src/**", "src/**"],
    ["  src/a.ts\n", "src/a.ts"],
    ["src/e\u0301.ts", "src/\u00e9.ts"]
  ])("validate(%j) = right(%j)", (raw, expected) => {
    expect(validate(raw)).toEqual(Either.right(expected))
  })

  it.each([
    ["", "empty"],
    ["   ", "empty"],
    [".", "inside the project"],
    ["./", "inside the project"],
    ["a/..", "inside the project"],
    ["../x", "inside the project"],
    ["a/../../x", "inside the project"],
    ["..\\x", "inside the project"],
    ["src/**/../x", "wildcard"],
    ["src/*/../x", "wildcard"],
    ["C:\\repo\\x.ts", "absolute"],
    ["c:/repo/x.ts", "absolute"],
    ["\\\\server\\share\\x", "absolute"],
    ["/src/a.ts", "absolute"],
    ["\\src\\a.ts", "absolute"],
    ["a\u0000b", "control"],
    ["a\nb", "control"],
    ["a\u007fb", "control"],
    ["a\uD800b", "Unicode"],
    [`${"x".repeat(200)}/`.repeat(6), "at most 1024"],
    ["x".repeat(256), "longer than 255"],
    ["a/".repeat(65), "at most 64 segments"],
    [`src/${"x".repeat(256)}/a.ts`, "longer than 255"]
  ])("validate(%j) is refused (%s)", (raw, reason) => {
    const result = validate(raw)
    expect(Either.isLeft(result)).toBe(true)
    expect(Either.getLeft(result).pipe((o) => o._tag === "Some" ? o.value : "")).toContain(reason)
  })

  it("accepts a pattern of exactly 1024 characters, and segments of 255", () => {
    const longest = `${"x".repeat(254)}/`.repeat(4) + "y".repeat(4)
    expect(longest).toHaveLength(1024)
    expect(Either.isRight(validate(longest))).toBe(true)
    expect(Either.isRight(validate("x".repeat(255)))).toBe(true)
  })
})

// ---------------------------------------------------------------------------------------------
// Properties

/** A segment glob as atoms: literal characters, `?`, `*` (never two `*` in a row). */
type Atom = { readonly lit: string } | "?" | "*"
type Tok = "**" | ReadonlyArray<Atom>

const render = (tokens: ReadonlyArray<Tok>): string =>
  tokens.map((t) => (t === "**" ? "**" : t.map((a) => (typeof a === "string" ? a : a.lit)).join(""))).join("/")

const collapse = (atoms: ReadonlyArray<Atom>): Array<Atom> =>
  atoms.filter((a, i) => !(a === "*" && atoms[i - 1] === "*"))

const atomArb = (chars: string) =>
  fc.oneof(
    { weight: 4, arbitrary: fc.constantFrom(...chars.split("")).map((c): Atom => ({ lit: c })) },
    { weight: 1, arbitrary: fc.constant<Atom>("?") },
    { weight: 1, arbitrary: fc.constant<Atom>("*") }
  )

const isDotSegment = (atoms: ReadonlyArray<Atom>) => {
  const s = atoms.map((a) => (typeof a === "string" ? a : a.lit)).join("")
  return s === "." || s === ".."
}

const segmentArb = (chars: string, maxAtoms: number) =>
  fc.array(atomArb(chars), { minLength: 1, maxLength: maxAtoms }).map(collapse).filter((atoms) => !isDotSegment(atoms))

const tokensArb = (chars: string, maxTokens: number, maxAtoms: number) =>
  fc.array(
    fc.oneof({ weight: 1, arbitrary: fc.constant<Tok>("**") }, { weight: 4, arbitrary: segmentArb(chars, maxAtoms) }),
    { minLength: 1, maxLength: maxTokens }
  ).map((tokens) => tokens.filter((t, i) => !(t === "**" && tokens[i - 1] === "**")))

const globArb = tokensArb("abc.", 4, 4)

/** Patterns with every construct, written any way (separators, `.`, `..`, brackets, braces). */
const messyArb = fc.array(
  fc.oneof(
    fc.constantFrom("a", "b", "ab", "a.ts", "b.ts", "*", "**", "*.ts", "a?", "?", ".", "..", "", "[ab]", "{a,b}", "{a,", "b}", "x*y"),
    fc.stringMatching(/^[ab.*?]{1,3}$/)
  ),
  { minLength: 1, maxLength: 5 }
).chain((segments) => fc.constantFrom("/", "\\").map((sep) => segments.join(sep)))

/** A path matched by `tokens`, built by choosing what each wildcard stands for. */
const letters = (min: number, max: number) =>
  fc.array(fc.constantFrom("a", "b", "c"), { minLength: min, maxLength: max }).map((cs) => cs.join(""))
const fill = letters(0, 3)
const wholeSegments = fc.array(letters(1, 3), { maxLength: 2 })

const instanceArb = (tokens: ReadonlyArray<Tok>) => {
  return fc.tuple(...tokens.map((t) =>
    t === "**"
      ? wholeSegments
      : fc.tuple(...t.map((a) =>
        a === "*" ? fill : a === "?" ? fc.constantFrom("a", "b", "z") : fc.constant(a.lit)
      )).map((parts) => [parts.join("")])
  )).map((parts) => parts.flat())
    .filter((segments) => segments.length > 0 && segments.every((s) => s !== "" && s !== "." && s !== ".."))
    .map((segments) => segments.join("/"))
}

/** A pattern that matches `path`: some segments become `*`, `**` or get a `?`/`*` inside. */
const generaliseArb = (path: string) =>
  fc.tuple(...path.split("/").map((segment) =>
    fc.oneof(
      fc.constant(segment),
      fc.constant("*"),
      fc.constant("**"),
      fc.nat(segment.length - 1).map((i) => segment.slice(0, i) + "?" + segment.slice(i + 1)),
      fc.nat(segment.length).map((i) => segment.slice(0, i) + "*")
    )
  )).chain((segments) =>
    fc.boolean().map((prefix) => (prefix ? ["**", ...segments] : segments).join("/"))
  )

// ---- an independent reference, by brute force over a small universe of paths ----

const segmentRegex = (segment: string) =>
  new RegExp("^" + segment.replace(/[.+^${}()|[\]\\]/g, "\\$&").replace(/\*/g, ".*").replace(/\?/g, ".") + "$", "u")

/** A path matcher for `tokens` (backtracking over `**`). */
const pathMatcher = (tokens: ReadonlyArray<string>) => {
  const regexes = tokens.map((t) => (t === "**" ? undefined : segmentRegex(t)))
  const go = (t: number, segments: ReadonlyArray<string>, s: number): boolean => {
    if (t === tokens.length) return s === segments.length
    const regex = regexes[t]
    if (regex === undefined) {
      for (let k = s; k <= segments.length; k++) if (go(t + 1, segments, k)) return true
      return false
    }
    return s < segments.length && regex.test(segments[s]!) && go(t + 1, segments, s + 1)
  }
  return (segments: ReadonlyArray<string>) => go(0, segments, 0)
}

const matchPath = (tokens: ReadonlyArray<string>, segments: ReadonlyArray<string>): boolean =>
  pathMatcher(tokens)(segments)

/** `name.ext` after any leading dots. */
const hasExtension = (segment: string) => /^[^.].*\.[^.]+$/.test(segment.replace(/^\.+/, ""))

/** Does the pattern cover a path: it matches it, or (naming a directory) a prefix of it? */
const covers = (pattern: string) => {
  const tokens = pattern.split("/")
  const matches = pathMatcher(tokens)
  const last = tokens[tokens.length - 1]!
  const directory = !/[*?]/.test(last) && !hasExtension(last)
  return (path: ReadonlyArray<string>): boolean => {
    if (matches(path)) return true
    if (directory) for (let k = 1; k < path.length; k++) if (matches(path.slice(0, k))) return true
    return false
  }
}

const universe: ReadonlyArray<ReadonlyArray<string>> = (() => {
  const segs: Array<string> = []
  for (const a of "ab.") {
    segs.push(a)
    for (const b of "ab.") segs.push(a + b)
  }
  // `.` and `..` are kept: the automaton treats a segment as any non-empty string, so a
  // segment that could only be `.` or `..` counts as an overlap (conservative, never a miss).
  const usable = segs
  let level: Array<Array<string>> = usable.map((s) => [s])
  const all: Array<Array<string>> = [...level]
  for (let depth = 2; depth <= 4; depth++) {
    level = level.flatMap((p) => usable.map((s) => [...p, s]))
    all.push(...level)
  }
  return all
})()

const referenceOverlap = (a: string, b: string): boolean => {
  const sa = a.split("/")
  const sb = b.split("/")
  const prefix = (x: Array<string>, y: Array<string>) => x.length <= y.length && x.every((s, i) => s === y[i])
  if (prefix(sa, sb) || prefix(sb, sa)) return true
  const coversA = covers(a)
  const coversB = covers(b)
  return universe.some((path) => coversA(path) && coversB(path))
}

describe("Paths: properties", () => {
  it("the brute-force reference agrees with the table's easy cases (sanity of the oracle)", () => {
    expect(referenceOverlap("a/**", "a/b")).toBe(true)
    expect(referenceOverlap("a*", "*b")).toBe(true)
    expect(referenceOverlap("a/*", "a/b/a")).toBe(false)
    expect(referenceOverlap("a", "a/b")).toBe(true)
    expect(referenceOverlap("a.b", "**/a")).toBe(false)
    expect(referenceOverlap("ab", "**/a")).toBe(true)
    expect(universe.length).toBe(12 + 12 ** 2 + 12 ** 3 + 12 ** 4)
  })

  it("overlap agrees with a brute-force search for a common path (small patterns)", () => {
    // Patterns of ≤ 2 segment globs (≤ 2 atoms each) plus `**`: a common path, if any, has ≤ 4
    // segments of ≤ 2 characters, all of which the universe holds.
    const small = tokensArb("ab.", 3, 2).filter((t) => t.filter((x) => x !== "**").length <= 2).map(render)
    fc.assert(
      fc.property(small, small, (a, b) => {
        expect(overlaps(a, b)).toBe(referenceOverlap(a, b))
      }),
      { numRuns: 400 }
    )
  })

  it("overlap is symmetric", () => {
    fc.assert(fc.property(messyArb, messyArb, (a, b) => overlaps(a, b) === overlaps(b, a)), { numRuns: 1000 })
  })

  it("every pattern overlaps itself", () => {
    fc.assert(fc.property(messyArb, (a) => overlaps(a, a)), { numRuns: 500 })
  })

  it("a literal path overlaps every glob that matches it", () => {
    fc.assert(
      fc.property(globArb.chain((tokens) => fc.tuple(fc.constant(render(tokens)), instanceArb(tokens))), ([glob, path]) => {
        expect(matchPath(glob.split("/"), path.split("/"))).toBe(true)
        expect(overlaps(glob, path)).toBe(true)
        expect(overlaps(path, glob)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("two globs that match one path overlap", () => {
    const arb = globArb.chain((tokens) =>
      instanceArb(tokens).chain((path) => fc.tuple(fc.constant(render(tokens)), fc.constant(path), generaliseArb(path)))
    )
    fc.assert(
      fc.property(arb, ([glob, path, other]) => {
        expect(matchPath(other.split("/"), path.split("/"))).toBe(true)
        expect(overlaps(glob, other)).toBe(true)
      }),
      { numRuns: 1000 }
    )
  })

  it("normalisation is idempotent and validation keeps normal forms", () => {
    const raw = fc.stringMatching(/^[ab/\\.*?]{0,12}$/)
    fc.assert(
      fc.property(raw, (s) => {
        const once = normalize(s)
        expect(normalize(once)).toBe(once)
        expect(once.startsWith("/") || once.endsWith("/") || once.includes("//") || once.includes("\\")).toBe(false)
        const valid = validate(s)
        if (Either.isRight(valid)) {
          expect(valid.right).toBe(once)
          expect(validate(valid.right)).toEqual(valid)
        }
      }),
      { numRuns: 1000 }
    )
  })
})

describe("Paths.canonicalize with a project root", () => {
  const context = { roots: ["/srv/Repo", "/home/me/repo-link"] }
  it.each([
    ["/srv/Repo/src/a.ts", context, "src/a.ts"],
    ["  /srv/Repo//src/./a.ts/  ", context, "src/a.ts"],
    ["/home/me/repo-link/src/a.ts", context, "src/a.ts"],
    ["/srv/Repo/src/../lib/**", context, "lib/**"],
    ["/srv/other/../Repo/src/a.ts", context, "src/a.ts"],
    ["/SRV/repo/Src/A.ts", { ...context, caseInsensitive: true }, "Src/A.ts"],
    ["C:\\Work\\Repo\\src\\a.ts", { roots: ["C:\\Work\\Repo"] }, "src/a.ts"],
    ["src/cafe\u0301.ts", {}, "src/caf\u00e9.ts"]
  ])("canonicalize(%j) = right(%j)", (raw, ctx, expected) => {
    expect(Paths.canonicalize(raw, ctx)).toEqual(Either.right(expected))
  })

  it.each([
    ["/srv/Repo", context, "inside the project"],
    ["/srv/Repo/..", context, "project root /srv/Repo"],
    ["/srv/Repository/a.ts", context, "project root /srv/Repo"],
    ["/SRV/repo/src/a.ts", context, "project root /srv/Repo"],
    ["/srv/Repo/src/a.ts", {}, "no root directory"],
    ["/srv/Repo/src/*/../a.ts", context, "wildcard"]
  ])("canonicalize(%j) is refused (%s)", (raw, ctx, reason) => {
    const result = Paths.canonicalize(raw, ctx)
    expect(Either.isLeft(result) ? result.left : "").toContain(reason)
  })

  it("is idempotent, and equal comparison forms mean equal canonical forms up to case", () => {
    fc.assert(
      fc.property(fc.string({ maxLength: 30 }), fc.boolean(), (s, caseInsensitive) => {
        const once = Paths.canonicalize(s, { ...context, caseInsensitive })
        if (Either.isRight(once)) {
          expect(Paths.canonicalize(once.right, { ...context, caseInsensitive })).toEqual(once)
          expect(Paths.storedComparisonForm(once.right, caseInsensitive)).toBe(
            Paths.comparisonForm(once.right, caseInsensitive)
          )
        }
      }),
      { numRuns: 2_000 }
    )
  })
})
