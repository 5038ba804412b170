/**
 * `fleet-db mcp` start-up and tool-list size: spawn → `tools/list` answered by the official SDK
 * client (median of N runs, default 7), per profile, next to `node -e 0` and `fleet-db status
 * --json` measured in the same run (the machine's baseline). Needs a built `dist/` (`npm run
 * build`). Usage: `tsx bench/mcp-startup.ts [runs]`. Not a test: nothing is asserted.
 */
import { Client } from "@modelcontextprotocol/sdk/client/index.js"
import { StdioClientTransport } from "@modelcontextprotocol/sdk/client/stdio.js"
import { spawnSync } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const runs = Number(process.argv[2] ?? 7)
const main = fileURLToPath(new URL("../dist/cli/main.js", import.meta.url))
const dir = mkdtempSync(join(tmpdir(), "fleetdb-mcp-bench-"))
const median = (xs: Array<number>) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!

const timeProcess = (args: Array<string>) => {
  const start = performance.now()
  spawnSync(process.execPath, args, { stdio: "ignore" })
  return performance.now() - start
}

const startUp = async (profile: string) => {
  const start = performance.now()
  const client = new Client({ name: "bench", version: "1" })
  await client.connect(new StdioClientTransport({ command: process.execPath, args: [main, "mcp", "--project", dir, "--tools", profile] }))
  const { tools } = await client.listTools()
  const ms = performance.now() - start
  await client.close()
  return { ms, tools }
}

spawnSync(process.execPath, [main, "init", "--project", dir], { stdio: "ignore" })
const node = median(Array.from({ length: runs }, () => timeProcess(["-e", "0"])))
const status = median(Array.from({ length: runs }, () => timeProcess([main, "status", "--json", "--project", dir])))
console.log(`node -e 0: ${node.toFixed(0)} ms; fleet-db status --json: ${status.toFixed(0)} ms (medians of ${runs})`)
for (const profile of ["minimal", "core", "full"]) {
  const times: Array<number> = []
  let size = 0
  let count = 0
  for (let i = 0; i < runs; i++) {
    const { ms, tools } = await startUp(profile)
    times.push(ms)
    size = JSON.stringify(tools).length
    count = tools.length
  }
  console.log(`mcp --tools ${profile}: ${count} tools, ${size} chars ≈ ${Math.round(size / 4)} tokens; spawn → tools/list ${median(times).toFixed(0)} ms (median of ${runs}; min ${Math.min(...times).toFixed(0)})`)
}
rmSync(dir, { recursive: true, force: true })
