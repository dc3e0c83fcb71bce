// Text in a browser page (Chromium): EncoderModel.fromFolder over fetch from the dev server, which
// serves the repository at the page's origin (test/fixtures/text), with @huggingface/tokenizers handed over as a
// module, as a bundled page does; vectors against SentenceTransformer.encode's, ids against the
// Rust tokenizer's (scripts/make-text-fixtures.py).
import { afterAll, beforeAll, expect, it } from 'vitest';
import * as tokenizers from '@huggingface/tokenizers';
import { init } from '../../ts/index.js';
import { CausalLM, EncoderModel } from '../../ts/models/index.js';
import bert from '../fixtures/text/bert.json';
import gpt2 from '../fixtures/text/gpt2.json';

/** A fixture folder's URL (not `new URL(…, import.meta.url)`, which the dev server rewrites as an asset). */
const folder = (name: string) => new URL(`/test/fixtures/text/${name}/`, location.href);

let model: EncoderModel;
beforeAll(async () => {
  await init();
  model = await EncoderModel.fromFolder(folder('bert'), { tokenizers });
});
afterAll(() => model?.dispose());

it('fromFolder(url) in a page: ids and vectors equal the Python references', () => {
  bert.texts.forEach((t, i) => expect(model.tokenizer!.encode(t)).toEqual(bert.ids[i]));
  const vectors = model.embed(bert.texts);
  let worst = 0;
  vectors.forEach((v, i) => v.forEach((x, j) => { worst = Math.max(worst, Math.abs(x - bert.vectors[i]![j]!)); }));
  expect(worst).toBeLessThanOrEqual(1e-5);
});

it('sharded weights and a relative path string resolve against the page', async () => {
  const path = '/test/fixtures/text/bert-sharded';
  const sharded = await EncoderModel.fromFolder(path, { tokenizers });
  try {
    const v = sharded.embed(model.tokenizer!.encodeBatch(['a query']), { normalize: true })[0]!;
    v.forEach((x, j) => expect(Math.abs(x - bert.vectors[0]![j]!)).toBeLessThanOrEqual(1e-5));
  } finally {
    sharded.dispose();
  }
});

it('CausalLM.fromFolder(url).generate(text) streams transformers\' greedy text', async () => {
  const lm = await CausalLM.fromFolder(folder('gpt2'), { tokenizers });
  try {
    const c = gpt2.cases[0]!;
    const pieces: string[] = [];
    const r = lm.generate(c.prompt, { maxNewTokens: c.generated.length, eosTokenIds: [], onText: (t) => { pieces.push(t); } });
    expect(r.ids).toEqual(c.generated);
    expect(pieces.join('')).toBe(c.text);
  } finally {
    lm.dispose();
  }
});
