/**
 * wasm-attention/models: GPT-2 and LLaMA-family (LLaMA, Mistral, Qwen2, SmolLM) decoders and
 * BERT-style encoders (BERT, RoBERTa, XLM-RoBERTa, DistilBERT, ModernBERT)
 * from a Hugging Face `config.json` and safetensors weights — or a whole model folder with its
 * tokenizer (`fromFolder`, through the optional peer dependency `@huggingface/tokenizers`) —
 * built on the library's public API. A separate entry so that the core bundle stays free of model code; it shares the
 * core's module instance (import `init` from 'wasm-attention' as usual).
 * @packageDocumentation
 */
export {
  CausalLM, DecoderCache, type ForwardOptions, type GenerateOptions, type GenerateResult, type LoadOptions,
  type ModelWeightFormat, type CausalLMFolderOptions,
} from './causal-lm.js';
export { parseConfig, type DecoderConfig, type Json } from './config.js';
export { sampleToken, seededRandom, argmax, type SamplingOptions } from './sampling.js';
export {
  EncoderModel, similarity, type EncoderInput, type EncoderLoadOptions, type EncoderWeightFormat, type EmbedOptions,
  type PackedEncoderInput, type Pooling, type EncoderFolderOptions,
} from './encoder.js';
export type { FolderSource, FolderOptions } from './folder.js';
export {
  TextTokenizer, TextStream, type TextTokenizerOptions, type TokenBatch, type TokenizersModule, type HfTokenizer,
  type HfEncoding, type HfTokenizerClass,
  type TextGenerateOptions, type TextGenerateResult,
} from './text.js';
export { parseEncoderConfig, type EncoderConfig, type EncoderJson } from './encoder-config.js';
