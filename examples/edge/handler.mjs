// A request handler for edge runtimes (Cloudflare Workers, Vercel Edge, Deno Deploy…),
// which forbid compiling WebAssembly from bytes at run time: the platform gives the
// handler a precompiled WebAssembly.Module and init({ module }) only instantiates it.
//
// POST a JSON body { q, k, v, shape: [H, L, D], causal? } (flat number arrays);
// the response is { simd, out } with out the attention output as a flat array, or
// { error } with status 400 for a body that is not such a problem.
import { init, Tensor, attention } from 'wasm-attention';

/** Handles one request with the library instantiated from `module`. */
export async function handle(request, module) {
  const info = await init({ module }); // instantiates once; later calls return the same instance
  if (request.method !== 'POST') return Response.json({ error: 'POST a JSON attention problem' }, { status: 405 });
  const tensors = [];
  try {
    let body;
    try {
      body = await request.json();
    } catch {
      return Response.json({ error: 'the body is not JSON' }, { status: 400 });
    }
    const { q, k, v, shape, causal = false } = body ?? {};
    if (!Array.isArray(shape) || shape.length !== 3) {
      return Response.json({ error: 'shape must be [heads, length, headDim]' }, { status: 400 });
    }
    // Tensor.from and attention reject wrong sizes and values with a message naming the problem.
    for (const data of [q, k, v]) tensors.push(Tensor.from(data, shape));
    const out = attention(tensors[0], tensors[1], tensors[2], { causal: causal === true });
    tensors.push(out);
    return Response.json({ simd: info.simd, out: Array.from(out.data) });
  } catch (e) {
    return Response.json({ error: e instanceof Error ? e.message : String(e) }, { status: 400 });
  } finally {
    for (const t of tensors) t.dispose(); // explicit: some runtimes have no FinalizationRegistry
  }
}
