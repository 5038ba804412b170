/**
 * Path patterns as services take them: canonical against the project's root and case rule (see
 * `Paths.canonicalize` and the README's Reservations section).
 *
 * @module
 */
import { Effect, Either } from "effect"
import { InvalidInput } from "../../errors.js"
import type { PathContext } from "../../paths/patterns.js"
import { canonicalize, comparisonForm } from "../../paths/patterns.js"
import type { FleetProjectShape } from "../../Project.js"

/** Where a project's patterns are resolved: its root (and the other spellings of it) and case rule. */
export const pathContext = (project: FleetProjectShape): PathContext => ({
  roots: project.root === undefined ? [] : [project.root, ...(project.rootAliases ?? [])],
  caseInsensitive: project.caseInsensitive ?? false
})

/** A requested pattern: canonical (`path`, stored and shown) and in the project's comparison form (`key`). */
export interface Placed {
  readonly path: string
  readonly key: string
}

/**
 * Canonicalise requested patterns; patterns equal in comparison form count once, the first
 * spelling kept. A refused one fails with `InvalidInput` naming `{field}.{index}`.
 */
export const placePaths = (
  paths: ReadonlyArray<string>,
  context: PathContext,
  field: string
): Effect.Effect<ReadonlyArray<Placed>, InvalidInput> =>
  Effect.suspend(() => {
    const placed = new Map<string, Placed>()
    for (const [index, raw] of paths.entries()) {
      const canonical = canonicalize(raw, context)
      if (Either.isLeft(canonical)) return Effect.fail(new InvalidInput({ field: `${field}.${index}`, reason: canonical.left }))
      const key = comparisonForm(canonical.right, context.caseInsensitive)
      if (!placed.has(key)) placed.set(key, { path: canonical.right, key })
    }
    return Effect.succeed(Array.from(placed.values()))
  })
