#!/usr/bin/env node
/**
 * Records how long each test file took, for the test order of a checkout that has not run the
 * suite yet (test/support/sequencer.ts). Usage, after a full run on this machine:
 *
 *   npx vitest run --reporter=default --reporter=json --outputFile=/tmp/report.json
 *   node scripts/test-durations.mjs /tmp/report.json
 */
import { readFileSync, writeFileSync } from "node:fs"
import { dirname, join, relative } from "node:path"
import { fileURLToPath } from "node:url"

const root = join(dirname(fileURLToPath(import.meta.url)), "..")
const reportPath = process.argv[2]
if (reportPath === undefined) {
  console.error("usage: node scripts/test-durations.mjs <vitest JSON report>")
  process.exit(2)
}
const report = JSON.parse(readFileSync(reportPath, "utf8"))
const seconds = report.testResults
  .map((file) => [relative(root, file.name), Math.round((file.endTime - file.startTime) / 100) / 10])
  .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1))
const target = join(root, "test", "support", "test-durations.json")
writeFileSync(target, JSON.stringify(Object.fromEntries(seconds), null, 2) + "\n")
console.log(`${relative(root, target)}: ${seconds.length} files, ${seconds.reduce((sum, [, s]) => sum + s, 0).toFixed(0)} s in all`)
