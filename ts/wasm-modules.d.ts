// scripts/bundle-plugins.mjs turns an import of one of the package's .wasm binaries into its
// bytes, gzipped, as base64 text (ts/binaries/gunzip.ts inflates them).
declare module '*.wasm' {
  const gzipBase64: string;
  export default gzipBase64;
}
