// The default entry's init() with one way of inflating the embedded binary taken away. Prints JSON.
//   node inflate-path.mjs <zlib|stream|file>
// zlib:   as Node is (node:zlib);
// stream: no node:zlib, so DecompressionStream (as in browsers);
// file:   neither, so the SIMD128 binary is read from its file beside the bundle.
// Every fetch and every read of a .wasm file is recorded, to show which way the bytes came.
const [path] = process.argv.slice(2);
const realGet = process.getBuiltinModule.bind(process);
const reads = [];
process.getBuiltinModule = (id) => {
  if (path !== 'zlib' && id === 'node:zlib') return undefined;
  const mod = realGet(id);
  if (id !== 'node:fs/promises') return mod;
  return { ...mod, readFile: (where, ...rest) => { reads.push(String(where).split('/').pop()); return mod.readFile(where, ...rest); } };
};
if (path === 'file') delete globalThis.DecompressionStream;

const lib = await import('../../../dist/index.js');
const info = await lib.init();
const q = lib.Tensor.from([1, 0, 0, 1], [2, 2]);
console.log(JSON.stringify({ build: info.build, reads, out: Array.from(lib.attention(q, q, q).data) }));
