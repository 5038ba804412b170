/** Bundle `{root}/src/cli` into `outdir` (`main.js`, `demo-pilot.js`). */
export declare const bundleCli: (root: string, outdir: string) => Promise<void>
