/**
 * Text in and out of the models through a Hugging Face `tokenizer.json`, run by the optional
 * peer dependency `@huggingface/tokenizers` (the pure-JS tokenizers of transformers.js). The
 * core never imports it: `importTokenizers` loads it on first use, or takes the module from
 * the caller (bundled workers, pages without an import map).
 *
 * Encoding follows what transformers' `tokenizer(texts, padding=True, truncation=True,
 * max_length=n)` gives for single sentences: the tokenizer's special tokens (`[CLS] … [SEP]`,
 * `<s> … </s>`), sentences longer than `n` cut at the end of their content (the special tokens
 * kept), right padding with the pad token and a 0/1 attention mask.
 *
 * Decoding streams: {@link TextStream} decodes the ids so far and hands out only the new
 * text, holding it back while it ends in U+FFFD (a byte-level token that splits a UTF-8
 * character, completed by the next one).
 */
import { describe } from '../shape.js';
import type { GenerateOptions, GenerateResult } from './causal-lm.js';

/** The parts of `@huggingface/tokenizers`' `Tokenizer` used here. */
export interface HfTokenizer {
  /** The ids of `text`, with the special tokens unless `add_special_tokens` is false. */
  encode(text: string, options?: { add_special_tokens?: boolean }): HfEncoding;
  /** The text of `ids`. */
  decode(ids: number[], options?: { skip_special_tokens?: boolean }): string;
  /** The id of a token of the vocabulary, or undefined. */
  token_to_id(token: string): number | undefined;
}

/** What {@link HfTokenizer.encode} returns (the part used here). */
export interface HfEncoding {
  /** Token ids. */
  ids: number[];
}

/** The constructor of {@link HfTokenizer}: `new Tokenizer(tokenizerJson, tokenizerConfig)`. */
export type HfTokenizerClass = new (tokenizerJson: object, tokenizerConfig: object) => HfTokenizer;

/** The `@huggingface/tokenizers` module, or any object with its `Tokenizer` class. */
export interface TokenizersModule {
  /** `new Tokenizer(tokenizerJson, tokenizerConfig)`. */
  Tokenizer: HfTokenizerClass;
}

const PACKAGE = '@huggingface/tokenizers';

/**
 * The tokenizers module: `given` if passed (checked), else `import('@huggingface/tokenizers')`.
 * The specifier is kept out of the bundlers' sight so that an application that never reads
 * text builds without the package installed.
 * @internal
 */
export async function importTokenizers(given: unknown, at: string): Promise<TokenizersModule> {
  if (given !== undefined) {
    if (given === null || typeof given !== 'object' || typeof (given as TokenizersModule).Tokenizer !== 'function') {
      throw new TypeError(`${at}: options.tokenizers must be the ${PACKAGE} module (an object with its Tokenizer class), got ${describe(given)}`);
    }
    return given as TokenizersModule;
  }
  const specifier = PACKAGE;
  let module: unknown;
  try {
    module = await import(/* webpackIgnore: true */ /* @vite-ignore */ specifier);
  } catch (e) {
    throw new Error(`${at}: text needs the optional peer dependency ${PACKAGE}: install it (npm install ${PACKAGE}), ` +
      `or pass the module as options.tokenizers (import * as tokenizers from '${PACKAGE}') where bare imports do not resolve ` +
      `(${(e as Error).message})`, { cause: e });
  }
  if (typeof (module as TokenizersModule).Tokenizer !== 'function') {
    throw new Error(`${at}: ${PACKAGE} was imported but has no Tokenizer class; version 0.2 or later is needed`);
  }
  return module as TokenizersModule;
}

/** A padded batch of token ids, the shape `EncoderModel.forward` and `embed` take. */
export interface TokenBatch {
  /** Token ids, row-major `[B, L]`, pad ids after each sentence. */
  readonly ids: Int32Array;
  /** `[B, L]`: sentences and the longest one's length. */
  readonly shape: readonly [number, number];
  /** `[B, L]`: 1 for a real token, 0 for padding. */
  readonly attentionMask: Uint8Array;
}

/** Settings of a {@link TextTokenizer}. */
export interface TextTokenizerOptions {
  /** Tokens a sentence keeps at most, special tokens included (longer ones are cut). @defaultValue no limit */
  maxLength?: number;
  /** The id padding takes when the tokenizer names no pad token. @defaultValue 0 */
  padId?: number;
}

/**
 * A Hugging Face tokenizer (`tokenizer.json` + `tokenizer_config.json`) with the batch
 * encoding the encoders take and the streaming decoding of generated text.
 */
export class TextTokenizer {
  /** The `@huggingface/tokenizers` tokenizer itself. */
  readonly tokenizer: HfTokenizer;
  /** Tokens a sentence keeps at most, special tokens included (`Infinity`: no limit). */
  readonly maxLength: number;
  /** The id padding takes: the tokenizer's pad token, else `options.padId`, else 0. */
  readonly padId: number;

  /**
   * Builds the tokenizer from the parsed `tokenizer.json` and `tokenizer_config.json` (`{}`
   * when the folder has none) with `Tokenizer` from `tokenizers` (the module).
   */
  constructor(tokenizers: TokenizersModule, tokenizerJson: object, tokenizerConfig: object = {}, options: TextTokenizerOptions = {}) {
    const at = 'wasm-attention: models: TextTokenizer';
    if (tokenizers === null || typeof tokenizers !== 'object' || typeof tokenizers.Tokenizer !== 'function') {
      throw new TypeError(`${at}: tokenizers must be the ${PACKAGE} module, got ${describe(tokenizers)}`);
    }
    if (tokenizerJson === null || typeof tokenizerJson !== 'object' || Array.isArray(tokenizerJson)) {
      throw new TypeError(`${at}: tokenizerJson must be the parsed tokenizer.json (an object), got ${describe(tokenizerJson)}`);
    }
    if (tokenizerConfig === null || typeof tokenizerConfig !== 'object' || Array.isArray(tokenizerConfig)) {
      throw new TypeError(`${at}: tokenizerConfig must be the parsed tokenizer_config.json (an object), got ${describe(tokenizerConfig)}`);
    }
    if (options === null || typeof options !== 'object') throw new TypeError(`${at}: options must be an object, got ${describe(options)}`);
    const { maxLength = Infinity, padId } = options;
    if (maxLength !== Infinity && (!Number.isInteger(maxLength) || maxLength < 1)) {
      throw new RangeError(`${at}: maxLength must be a positive integer, got ${describe(maxLength)}`);
    }
    if (padId !== undefined && (!Number.isInteger(padId) || padId < 0)) {
      throw new RangeError(`${at}: padId must be an integer ≥ 0, got ${describe(padId)}`);
    }
    this.tokenizer = new tokenizers.Tokenizer(tokenizerJson, tokenizerConfig);
    this.maxLength = maxLength;
    this.padId = padTokenOf(this.tokenizer, tokenizerJson, tokenizerConfig) ?? padId ?? 0;
  }

  /** The ids of one text with the tokenizer's special tokens, cut to `maxLength`. */
  encode(text: string): number[] {
    if (typeof text !== 'string') throw new TypeError(`wasm-attention: models: encode: text must be a string, got ${describe(text)}`);
    return this.#encode(text);
  }

  /** Encodes every text and pads them to the longest: the input of `EncoderModel.embed`/`forward`. */
  encodeBatch(texts: readonly string[]): TokenBatch {
    checkTexts(texts, 'wasm-attention: models: encodeBatch');
    const rows = texts.map((t) => this.#encode(t));
    const B = rows.length, L = Math.max(1, ...rows.map((r) => r.length));
    const ids = new Int32Array(B * L).fill(this.padId), attentionMask = new Uint8Array(B * L);
    rows.forEach((r, b) => {
      ids.set(r, b * L);
      attentionMask.fill(1, b * L, b * L + r.length);
    });
    return { ids, shape: [B, L], attentionMask };
  }

  /** The text of `ids`, special tokens left out. */
  decode(ids: readonly number[]): string {
    return this.tokenizer.decode(Array.from(ids), { skip_special_tokens: true });
  }

  /** A decoder that turns ids given one at a time into pieces of text (see {@link TextStream}). */
  stream(): TextStream {
    return new TextStream(this);
  }

  #encode(text: string): number[] {
    const full = this.tokenizer.encode(text).ids;
    if (full.length <= this.maxLength) return full;
    // full = prefix specials + content + suffix specials; cut the content, keep the specials.
    const content = this.tokenizer.encode(text, { add_special_tokens: false }).ids;
    const specials = full.length - content.length;
    let p = 0;
    while (p <= specials && !content.every((id, i) => full[p + i] === id)) p++;
    if (p > specials) throw new Error('wasm-attention: models: encode: the tokenizer\'s output with special tokens does not contain its output without them; cannot truncate');
    const keep = Math.max(0, this.maxLength - specials);
    return [...full.slice(0, p), ...content.slice(0, keep), ...full.slice(p + content.length)];
  }
}

/**
 * Decodes generated ids as they come: `push(id)` returns the text they added (possibly empty),
 * `flush()` the rest. Each push decodes the whole sequence so far, so byte-level pieces of one
 * character and the decoder's word joining come out as the full decode gives them.
 */
export class TextStream {
  readonly #tokenizer: TextTokenizer;
  readonly #ids: number[] = [];
  #printed = 0;

  /** A stream over `tokenizer`'s decoder. */
  constructor(tokenizer: TextTokenizer) {
    this.#tokenizer = tokenizer;
  }

  /** Adds one id; returns the new text (empty while a character is incomplete). */
  push(id: number): string {
    this.#ids.push(id);
    const text = this.#tokenizer.decode(this.#ids);
    if (text.endsWith('\uFFFD')) return '';
    return this.#take(text);
  }

  /** Whatever has not been returned yet (an incomplete character as U+FFFD). */
  flush(): string {
    return this.#take(this.#tokenizer.decode(this.#ids));
  }

  /** The text of every id pushed. */
  get text(): string {
    return this.#tokenizer.decode(this.#ids);
  }

  #take(text: string): string {
    // The decoder may rewrite what it printed (spaces joined before punctuation): then only
    // what lies past the printed length is new.
    const piece = text.length > this.#printed ? text.slice(this.#printed) : '';
    this.#printed = Math.max(this.#printed, text.length);
    return piece;
  }
}

/** Checks that `texts` is a non-empty array of strings; names the first bad entry. @internal */
export function checkTexts(texts: unknown, at: string): asserts texts is readonly string[] {
  if (!Array.isArray(texts)) throw new TypeError(`${at}: texts must be an array of strings, got ${describe(texts)}`);
  if (texts.length === 0) throw new RangeError(`${at}: texts must hold at least one string`);
  texts.forEach((t, i) => {
    if (typeof t !== 'string') throw new TypeError(`${at}: texts[${i}] must be a string, got ${describe(t)}`);
  });
}

/** The pad token's id: `tokenizer_config.json`'s `pad_token`, else `tokenizer.json`'s `padding.pad_id`. */
function padTokenOf(t: HfTokenizer, json: object, config: object): number | null {
  const pad = (config as { pad_token?: unknown }).pad_token;
  const name = typeof pad === 'string' ? pad : (pad as { content?: unknown } | null)?.content;
  if (typeof name === 'string') {
    const id = t.token_to_id(name);
    if (id !== undefined) return id;
  }
  const id = (json as { padding?: { pad_id?: unknown } | null }).padding?.pad_id;
  return typeof id === 'number' && Number.isInteger(id) && id >= 0 ? id : null;
}

/** Options of `CausalLM.generate` with a text prompt. */
export interface TextGenerateOptions extends GenerateOptions {
  /** Called with each new piece of decoded text as it is generated; return `false` to stop. */
  onText?: (text: string) => boolean | void;
}

/** What `CausalLM.generate` returns for a text prompt. */
export interface TextGenerateResult extends GenerateResult {
  /** The new tokens' text, special tokens left out (the pieces given to `onText`, joined). */
  readonly text: string;
}

/**
 * `generate` on a text prompt: the prompt encoded with the tokenizer's special tokens (as
 * transformers' `tokenizer(prompt)`), the new ids decoded as they come.
 * @internal
 */
export function generateText(tokenizer: TextTokenizer | null, prompt: string, options: TextGenerateOptions,
  generate: (ids: number[], options: GenerateOptions) => GenerateResult): TextGenerateResult {
  const at = 'wasm-attention: models: generate';
  if (tokenizer === null) throw new Error(`${at}: a text prompt needs a tokenizer: load the model with CausalLM.fromFolder()`);
  if (options === null || typeof options !== 'object') {
    throw new TypeError(`${at}: options.maxNewTokens is required (pass { maxNewTokens: n }), got options ${describe(options)}`);
  }
  if (options.onText !== undefined && typeof options.onText !== 'function') {
    throw new TypeError(`${at}: options.onText must be a function, got ${describe(options.onText)}`);
  }
  if (options.onToken !== undefined && typeof options.onToken !== 'function') {
    throw new TypeError(`${at}: options.onToken must be a function, got ${describe(options.onToken)}`);
  }
  const ids = tokenizer.encode(prompt);
  if (ids.length === 0) throw new RangeError(`${at}: the prompt ${JSON.stringify(prompt)} encodes to no tokens`);
  const stream = tokenizer.stream(), { onText, onToken } = options;
  const result = generate(ids, {
    ...options,
    onToken: (id, index) => {
      const goOn = onToken?.(id, index) !== false;
      const piece = onText === undefined ? '' : stream.push(id);
      return goOn && (piece === '' || onText!(piece) !== false);
    },
  });
  if (onText !== undefined) {
    const rest = stream.flush();
    if (rest !== '') onText(rest);
  }
  return { ...result, text: tokenizer.decode(result.ids) };
}
