/** Bundle `{root}/src/cli` into `outdir` (`main.js`, `cli-HASH.js`, `demo-pilot.js` and chunks). */
export declare const bundleCli: (root: string, outdir: string) => Promise<void>
