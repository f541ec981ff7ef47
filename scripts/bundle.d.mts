/** Writes the bundle of src/cli/main.ts to `outdir` (default dist/cli; its entry kindler.mjs). */
export declare function bundleCli(outdir?: string): Promise<void>;
