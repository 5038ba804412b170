/**
 * Runs before each test file (vitest `setupFiles`), also when a worker runs several files in one
 * module graph: what a file opened on shared test modules is closed after its tests.
 */
import { afterAll } from "vitest"
import { closeSqldConnection } from "./backends.js"

afterAll(closeSqldConnection)
