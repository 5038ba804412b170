// Preloaded (`node --require`) into each process bench/cli-startup.ts times: on exit, writes the
// process's CPU time (user + system, all threads, µs) to fd 3, which the bench reads. CPU time
// is what load from other processes does not inflate (much), unlike wall time.
"use strict"
const { writeSync } = require("node:fs")
process.on("exit", () => {
  const { system, user } = process.cpuUsage()
  try {
    writeSync(3, String(user + system))
  } catch {
    // fd 3 is not open: not run by the bench.
  }
})
