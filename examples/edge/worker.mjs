// Cloudflare Workers entry: the bundler (wrangler) turns the .wasm import into a
// compiled WebAssembly.Module at deploy time, so nothing is compiled at run time.
// Vercel Edge: `import module from 'wasm-attention/simd.wasm?module'`.
import module from 'wasm-attention/simd.wasm';
import { handle } from './handler.mjs';

export default {
  fetch: (request) => handle(request, module),
};
