/**
 * Where the demo's pilot worker lives: `demo-pilot` beside this module, with this module's
 * extension. That is `src/cli/demo-pilot.ts` under tsx, and `dist/cli/demo-pilot.js` once built,
 * where this module is bundled into `dist/cli/main.js`.
 *
 * @module
 */
import { dirname, extname, join } from "node:path"
import { fileURLToPath } from "node:url"

/** The pilot worker's path. */
export const pilotScript = (): string => {
  const here = fileURLToPath(import.meta.url)
  return join(dirname(here), `demo-pilot${extname(here)}`)
}
