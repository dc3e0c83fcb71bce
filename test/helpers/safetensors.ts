/** A float32 safetensors file of `tensors` (name → [shape, values]), in insertion order. */
export function writeSafetensors(tensors: Map<string, [number[], Float32Array]>): Uint8Array {
  const header: Record<string, unknown> = {};
  let offset = 0;
  for (const [name, [shape, data]] of tensors) {
    header[name] = { dtype: 'F32', shape, data_offsets: [offset, offset + data.byteLength] };
    offset += data.byteLength;
  }
  let json = JSON.stringify(header);
  json += ' '.repeat((8 - (json.length % 8)) % 8);
  const out = new Uint8Array(8 + json.length + offset);
  new DataView(out.buffer).setBigUint64(0, BigInt(json.length), true);
  out.set(new TextEncoder().encode(json), 8);
  let at = 8 + json.length;
  for (const [, [, data]] of tensors) {
    out.set(new Uint8Array(data.buffer, data.byteOffset, data.byteLength), at);
    at += data.byteLength;
  }
  return out;
}
