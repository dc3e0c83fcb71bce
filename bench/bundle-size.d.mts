/** One line of `bundleSizes()`: an import as an app bundles it, or a binary on its own. */
export interface BundleSize {
  /** `'default'`, `'default+pool'`, `'separate'`, or a build's name for its binary. */
  key: string;
  /** What was measured, as the script prints it. */
  name: string;
  /** Bytes, minified. */
  raw: number;
  /** Bytes after gzip level 9. */
  gzip: number;
}

/** Sizes of the package in `distDir` (default: this checkout's dist/). */
export function bundleSizes(distDir?: string): Promise<BundleSize[]>;
