/**
 * Shared fast-check arbitraries.
 */
import { FastCheck as fc } from "effect"

/**
 * One code point of the whole range, lone surrogates included: what `fc.string({ unit: "binary" })`
 * draws from. fast-check's own "binary" unit costs 0.9 s of CPU in every process that first builds
 * a string of it (it maps all 1.1 million code points back to indexes to find the strings it adds
 * on purpose, such as `__proto__`); the ASCII strings beside it in each property still get those.
 */
const anyCodePoint = fc.integer({ min: 0, max: 0x10ffff }).map((codePoint) => String.fromCodePoint(codePoint))

/** Strings of any code points, lone surrogates included (`fc.string({ unit: "binary" })`, cheaper). */
export const binaryString = (constraints: Omit<fc.StringConstraints, "unit"> = {}): fc.Arbitrary<string> =>
  fc.string({ ...constraints, unit: anyCodePoint })
