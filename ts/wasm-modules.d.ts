// rollup.config.mjs turns an import of one of the package's .wasm binaries into its
// bytes as base64 text (ts/binaries/embedded.ts decodes and compiles them).
declare module '*.wasm' {
  const base64: string;
  export default base64;
}
