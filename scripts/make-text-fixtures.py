#!/usr/bin/env python3
"""Makes the text fixtures in test/fixtures/text/: model folders with real tokenizers, and what
sentence-transformers, transformers and the Rust `tokenizers` library make of some texts.

Not part of `npm test` (its outputs are committed). Needs torch, transformers, safetensors,
tokenizers and sentence-transformers:

    python3 -m venv /path/to/venv && /path/to/venv/bin/pip install torch transformers safetensors tokenizers sentence-transformers
    /path/to/venv/bin/python scripts/make-text-fixtures.py

It writes:
  bert/          a sentence-transformers folder (as `SentenceTransformer.save` writes it): a tiny random BERT
                 (config.json, model.safetensors), a WordPiece tokenizer trained here on CORPUS with BERT's
                 normaliser (lower case, accents stripped, CJK characters split) (tokenizer.json,
                 tokenizer_config.json), modules.json, mean pooling (1_Pooling/config.json), Normalize, and
                 max_seq_length 16 (sentence_bert_config.json), so long texts are cut
  bert-sharded/  the same model and tokenizer with the weights in shards (model.safetensors.index.json)
  bert.json      TEXTS, their ids as the Rust tokenizer gives them (truncated to 16) and the vectors
                 `SentenceTransformer.encode` gives
  gpt2/          a tiny random GPT-2 (config.json, model.safetensors) with a byte-level BPE tokenizer
                 trained here on CORPUS (tokenizer.json, tokenizer_config.json)
  gpt2.json      PROMPTS, their ids, the greedy continuation of `generate` (ids) and its decoded text

Random init leaves LayerNorm at γ = 1, β = 0 and biases at 0; they are perturbed (as in
make-encoder-fixtures.py) so that a loader which drops them fails the tests.
"""
import json
import os
import shutil

import torch
from sentence_transformers import SentenceTransformer
from sentence_transformers.models import Normalize, Pooling, Transformer
from tokenizers import Tokenizer, decoders, models, normalizers, pre_tokenizers, processors, trainers
from transformers import BertConfig, BertModel, BertTokenizerFast, GPT2Config, GPT2LMHeadModel, GPT2TokenizerFast

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'text')
MAX_SEQ = 16  # shorter than the longest text, so truncation is exercised

CORPUS = [
    'The quick brown fox jumps over the lazy dog.',
    'Attention is all you need; exact attention runs in WebAssembly.',
    'Sentence embeddings at the edge: a query and a passage, compared by cosine similarity.',
    'Café, naïve, résumé and jalapeño keep their letters once the accents are gone.',
    'Tokenizers split words into pieces: unbelievable, unthinkable, rethinking.',
    '東京 and 北京 are cities; 日本語 is a language.',
    'Numbers like 3.14159, 2026 and 42 appear too!',
    'Emoji 🙂 and symbols ∑ ≤ ≥ are bytes to a byte-level tokenizer.',
]
TEXTS = [
    'a query',
    'a passage about exact attention in WebAssembly',
    'Café naïve RÉSUMÉ',
    '東京 is a city',
    'an unseen word: zyxwvut qq',
    'This sentence is long enough that the tokenizer has to cut it at sixteen tokens, special ones included.',
    '',
]
PROMPTS = ['The quick brown', 'Emoji 🙂 and', 'Café']


def perturb(model):
    with torch.no_grad():
        for _, p in model.named_parameters():
            if p.dim() == 1:
                p.add_(0.1 * torch.randn_like(p))


def wordpiece():
    tok = Tokenizer(models.WordPiece(unk_token='[UNK]'))
    tok.normalizer = normalizers.BertNormalizer(lowercase=True, strip_accents=None, handle_chinese_chars=True)
    tok.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
    special = ['[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]']
    tok.train_from_iterator(CORPUS, trainers.WordPieceTrainer(vocab_size=220, special_tokens=special))
    cls, sep = tok.token_to_id('[CLS]'), tok.token_to_id('[SEP]')
    tok.post_processor = processors.TemplateProcessing(
        single='[CLS] $A [SEP]', pair='[CLS] $A [SEP] $B:1 [SEP]:1', special_tokens=[('[CLS]', cls), ('[SEP]', sep)])
    tok.decoder = decoders.WordPiece()
    return BertTokenizerFast(tokenizer_object=tok, unk_token='[UNK]', pad_token='[PAD]', cls_token='[CLS]',
                             sep_token='[SEP]', mask_token='[MASK]', model_max_length=512)


def bytelevel():
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    tok.post_processor = processors.ByteLevel(trim_offsets=False)
    tok.train_from_iterator(CORPUS, trainers.BpeTrainer(
        vocab_size=320, special_tokens=['<|endoftext|>'], initial_alphabet=pre_tokenizers.ByteLevel.alphabet()))
    return GPT2TokenizerFast(tokenizer_object=tok, bos_token='<|endoftext|>', eos_token='<|endoftext|>',
                             unk_token='<|endoftext|>', model_max_length=64)


def make_bert():
    tokenizer = wordpiece()
    torch.manual_seed(2468)
    config = BertConfig(
        vocab_size=tokenizer.vocab_size, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64, type_vocab_size=2, hidden_act='gelu', layer_norm_eps=1e-12, hidden_dropout_prob=0.0,
        attention_probs_dropout_prob=0.0, initializer_range=0.15, pad_token_id=tokenizer.pad_token_id)
    model = BertModel(config).eval().float()
    perturb(model)
    raw = os.path.join(OUT, 'bert-raw')
    model.save_pretrained(raw, safe_serialization=True)
    tokenizer.save_pretrained(raw)
    transformer = Transformer(raw, max_seq_length=MAX_SEQ)
    st = SentenceTransformer(modules=[transformer, Pooling(32, pooling_mode='mean'), Normalize()], device='cpu')
    d = os.path.join(OUT, 'bert')
    st.save(d)
    os.remove(os.path.join(d, 'README.md'))  # a generated model card: not needed
    sharded = os.path.join(OUT, 'bert-sharded')
    model.save_pretrained(sharded, safe_serialization=True, max_shard_size='40KB')
    tokenizer.save_pretrained(sharded)
    shutil.rmtree(raw)
    ids = [tokenizer(t, truncation=True, max_length=MAX_SEQ)['input_ids'] for t in TEXTS]
    batch = st.tokenize(TEXTS)
    assert [row[:int(m.sum())] for row, m in zip(batch['input_ids'].tolist(), batch['attention_mask'])] == ids
    vectors = st.encode(TEXTS, convert_to_tensor=True, batch_size=len(TEXTS)).float()
    with open(os.path.join(OUT, 'bert.json'), 'w') as f:
        json.dump({
            'torch': torch.__version__, 'transformers': __import__('transformers').__version__,
            'sentence_transformers': __import__('sentence_transformers').__version__,
            'tokenizers': __import__('tokenizers').__version__, 'max_seq_length': MAX_SEQ,
            'texts': TEXTS, 'ids': ids, 'tokens': [tokenizer.convert_ids_to_tokens(i) for i in ids],
            'vectors': vectors.tolist(),
        }, f, indent=1, ensure_ascii=False)


def make_gpt2():
    tokenizer = bytelevel()
    torch.manual_seed(1357)
    eos = tokenizer.eos_token_id
    config = GPT2Config(
        vocab_size=tokenizer.vocab_size, n_positions=64, n_embd=32, n_layer=2, n_head=4, activation_function='gelu_new',
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, initializer_range=0.3, bos_token_id=eos, eos_token_id=eos)
    model = GPT2LMHeadModel(config).eval().float()
    perturb(model)
    d = os.path.join(OUT, 'gpt2')
    model.save_pretrained(d, safe_serialization=True)
    tokenizer.save_pretrained(d)
    cases = []
    for prompt in PROMPTS:
        ids = tokenizer(prompt)['input_ids']
        with torch.no_grad():
            out = model.generate(torch.tensor([ids]), attention_mask=torch.ones(1, len(ids), dtype=torch.long),
                                 max_new_tokens=12, do_sample=False, pad_token_id=eos)
        new = out[0, len(ids):].tolist()
        cases.append({'prompt': prompt, 'ids': ids, 'generated': new,
                      'text': tokenizer.decode(new, skip_special_tokens=True)})
    with open(os.path.join(OUT, 'gpt2.json'), 'w') as f:
        json.dump({'torch': torch.__version__, 'transformers': __import__('transformers').__version__,
                   'tokenizers': __import__('tokenizers').__version__, 'cases': cases}, f, indent=1, ensure_ascii=False)


if __name__ == '__main__':
    torch.set_num_threads(1)
    shutil.rmtree(OUT, ignore_errors=True)
    os.makedirs(OUT)
    make_bert()
    make_gpt2()
    for root, _, files in sorted(os.walk(OUT)):
        for f in sorted(files):
            print(os.path.relpath(os.path.join(root, f), OUT), os.path.getsize(os.path.join(root, f)))
