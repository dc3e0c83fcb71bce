// A request handler for edge runtimes (Cloudflare Workers, Vercel Edge, Deno Deploy…),
// which forbid compiling WebAssembly from bytes at run time: the platform gives the
// handler a precompiled WebAssembly.Module and init({ module }) only instantiates it.
//
// POST a JSON body { q, k, v, shape: [H, L, D], causal? } (flat number arrays);
// the response is { simd, out } with out the attention output as a flat array.
import { init, Tensor, attention } from 'wasm-attention';

/** Handles one request with the library instantiated from `module`. */
export async function handle(request, module) {
  const info = await init({ module }); // instantiates once; later calls return the same instance
  const { q, k, v, shape, causal = false } = await request.json();
  const [H, L, D] = shape;
  const tensors = [Tensor.from(q, [H, L, D]), Tensor.from(k, [H, L, D]), Tensor.from(v, [H, L, D])];
  try {
    const out = attention(tensors[0], tensors[1], tensors[2], { causal });
    tensors.push(out);
    return Response.json({ simd: info.simd, out: Array.from(out.data) });
  } catch (e) {
    return Response.json({ error: e.message }, { status: 400 });
  } finally {
    for (const t of tensors) t.dispose();
  }
}
