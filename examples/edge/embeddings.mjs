// A Cloudflare Worker (workerd) serving sentence embeddings. The model folder (config.json,
// model.safetensors, tokenizer.json, sentence-transformers' modules.json …) is fetched once per
// isolate through the MODEL service binding — any service that serves the folder's files by path:
// in Cloudflare a Worker in front of R2 or static assets, in workerd a `disk` service (the config
// is in docs/runtimes.md) — and kept for every later request. The platform compiles the .wasm import at deploy time; init({ module }) only
// instantiates it. The tokenizer (@huggingface/tokenizers) is bundled and handed over, since a
// bundled worker has no bare imports at run time. It imports the relaxed-SIMD binary: workerd and
// Cloudflare Workers run relaxed SIMD, on which the int8 GEMM is about 1.3× faster (activations
// rounded to 7 bits; docs/models.md); a runtime without it takes 'wasm-attention/simd.wasm'.
//
//   POST /embed  { "texts": ["a query", "a passage"] }
//   →  { "dimensions": 384, "vectors": [[…], […]] }   (pooling and normalisation from the folder)
//   GET  /       → { "ready": bool }: whether this isolate has loaded the model yet
import module from 'wasm-attention/relaxed-simd.wasm';
import { init } from 'wasm-attention';
import { EncoderModel } from 'wasm-attention/models';
import * as tokenizers from '@huggingface/tokenizers';

/** Texts a request may carry at most (one padded batch; bounds a request's memory). */
const MAX_TEXTS = 64;

/** The model's promise, shared by the requests of this isolate; dropped if loading failed. */
let loading = null;

function model(env) {
  if (loading === null) {
    loading = (async () => {
      await init({ module });
      // An optional WEIGHTS text binding ('int8', 'float16', …) picks the stored format; absent, the file's.
      return EncoderModel.fromFolder('http://model/', { tokenizers, fetch: (url) => env.MODEL.fetch(url), weights: env.WEIGHTS });
    })();
    loading.catch(() => { loading = null; }); // the next request tries again
  }
  return loading;
}

export default {
  async fetch(request, env) {
    const { pathname } = new URL(request.url);
    if (request.method === 'GET' && pathname === '/') return Response.json({ ready: loading !== null });
    if (request.method !== 'POST' || pathname !== '/embed') {
      return Response.json({ error: 'POST /embed with { "texts": [strings] }' }, { status: 404 });
    }
    let texts;
    try {
      ({ texts } = await request.json());
    } catch {
      return Response.json({ error: 'the body is not JSON' }, { status: 400 });
    }
    if (!Array.isArray(texts) || texts.length === 0 || texts.length > MAX_TEXTS || !texts.every((t) => typeof t === 'string')) {
      return Response.json({ error: `texts must be an array of 1 to ${MAX_TEXTS} strings` }, { status: 400 });
    }
    let m;
    try {
      m = await model(env);
    } catch (e) {
      return Response.json({ error: `the model did not load: ${e.message}` }, { status: 503 });
    }
    try {
      const vectors = m.embed(texts);
      return Response.json({ dimensions: vectors[0].length, vectors: vectors.map((v) => Array.from(v)) });
    } catch (e) {
      return Response.json({ error: e.message }, { status: 400 });
    }
  },
};
