// The pool worker's bundled source text, provided by scripts/bundle-plugins.mjs.
declare module 'wasm-attention:pool-worker-source' {
  const source: string;
  export default source;
}
