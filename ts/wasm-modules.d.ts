// @rollup/plugin-wasm turns a .wasm import into a loader: called without imports
// it resolves to the compiled WebAssembly.Module.
declare module '*.wasm' {
  const load: (imports?: WebAssembly.Imports) => Promise<WebAssembly.Module>;
  export default load;
}
