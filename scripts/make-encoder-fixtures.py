#!/usr/bin/env python3
"""Makes the encoder fixtures in test/fixtures/encoders/ with PyTorch, transformers and sentence-transformers.

Not part of `npm test` (its outputs are committed). Needs torch, transformers, safetensors and
sentence-transformers:

    python3 -m venv /path/to/venv && /path/to/venv/bin/pip install torch transformers safetensors sentence-transformers
    /path/to/venv/bin/python scripts/make-encoder-fixtures.py

For every tiny, randomly initialised encoder (fixed seeds) it writes into test/fixtures/encoders/<name>/:
  config.json               the model's Hugging Face config
  model.safetensors         float32 weights, unprefixed names (as save_pretrained writes a base model)
  model-fp16.safetensors    the same weights rounded to float16, under the family's prefix (`bert.`,
                            `roberta.`, `distilbert.`, ModernBERT's `model.`, as a task-head checkpoint
                            stores them), so the tests read both naming styles
  model-bf16.safetensors    (bert only) rounded to bfloat16, unprefixed
  expected.json             the padded batch: ids, attention mask, token types (BERT), lengths
  expected.safetensors      float32: `hidden` [B, L, E] (last hidden state), `hidden_fp16` (`hidden_bf16`)
                            from the rounded weights run in float32; pooled from `hidden`: `mean`, `cls`,
                            `last`, `mean_norm` (L2-normalised mean), `mean_norm_16` (mean truncated to 16
                            dimensions, then normalised: Matryoshka)

ModernBERT is the rotary encoder here (rather than NomicBERT) because transformers implements it
(`ModernBertModel`), so its reference runs from a config with no hub code, and it exercises more of the
runner: RoPE, GeGLU, pre-norm without biases, and local/global attention alternating by layer.
Its padded positions are not a reference: a padded query whose whole local window is padding has
every score masked, which transformers' eager softmax spreads evenly and the fused kernel gives 0
for; the tests compare ModernBERT's real positions (all that pooling reads).

Pooling runs sentence-transformers' own `models.Pooling` ('mean', 'cls', 'lasttoken') and `models.Normalize`
modules on transformers' hidden states and attention mask, as `SentenceTransformer.encode` chains them.
Random init leaves LayerNorm at γ = 1, β = 0 and biases at 0; they are perturbed so that a loader which
drops or swaps them fails the tests.
"""
import json
import os
import shutil
import sys

import torch
import torch.nn.functional as F
from safetensors.torch import load_file, save_file
from sentence_transformers.sentence_transformer.modules import Normalize, Pooling
from transformers import (BertConfig, BertModel, DistilBertConfig, DistilBertModel, ModernBertConfig, ModernBertModel,
                          RobertaConfig, RobertaModel)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'encoders')
LENGTHS = (11, 5, 16)  # real tokens per sentence; padded to the longest
MATRYOSHKA = 16

MODELS = {
    # BERT (MiniLM, bge, e5 are BERT): token types, learned positions, post-norm, erf GELU, eps 1e-12.
    'bert': (BertModel, 'bert', BertConfig(
        vocab_size=128, hidden_size=32, num_hidden_layers=2, num_attention_heads=4, intermediate_size=64,
        max_position_embeddings=64, type_vocab_size=2, hidden_act='gelu', layer_norm_eps=1e-12,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.15, pad_token_id=0)),
    # RoBERTa: positions start at padding_idx + 1 (pads keep padding_idx), one token type.
    'roberta': (RobertaModel, 'roberta', RobertaConfig(
        vocab_size=128, hidden_size=48, num_hidden_layers=2, num_attention_heads=4, intermediate_size=96,
        max_position_embeddings=66, type_vocab_size=1, hidden_act='gelu', layer_norm_eps=1e-5,
        hidden_dropout_prob=0.0, attention_probs_dropout_prob=0.0, initializer_range=0.15,
        pad_token_id=1, bos_token_id=0, eos_token_id=2)),
    # DistilBERT: q_lin/k_lin/v_lin/out_lin, sa_layer_norm/output_layer_norm, no token types, eps 1e-12.
    'distilbert': (DistilBertModel, 'distilbert', DistilBertConfig(
        vocab_size=128, dim=40, n_layers=2, n_heads=4, hidden_dim=80, max_position_embeddings=64,
        activation='gelu', dropout=0.0, attention_dropout=0.0, initializer_range=0.15, pad_token_id=0,
        sinusoidal_pos_embds=False)),
    # ModernBERT (the rotary encoder): pre-norm, no biases, LayerNorm without β, RoPE with θ per layer
    # type, GeGLU, global attention in layers 0 and 2 and a local window |i − j| ≤ 4 in layer 1 (shorter
    # than the sentences, so it matters).
    'modernbert': (ModernBertModel, 'model', ModernBertConfig(
        vocab_size=128, hidden_size=32, intermediate_size=48, num_hidden_layers=3, num_attention_heads=4,
        max_position_embeddings=64, global_attn_every_n_layers=2, local_attention=8, global_rope_theta=160000.0,
        local_rope_theta=10000.0, hidden_activation='gelu', norm_eps=1e-5, norm_bias=False, attention_bias=False,
        mlp_bias=False, initializer_range=0.15, pad_token_id=0, bos_token_id=2, eos_token_id=3, cls_token_id=2,
        sep_token_id=3)),
}

# Special ids per family: (start, end, pad).
SPECIAL = {'bert': (2, 3, 0), 'roberta': (0, 2, 1), 'distilbert': (2, 3, 0), 'modernbert': (2, 3, 0)}


def batch(name, vocab, g):
    """A right-padded batch of len(LENGTHS) sentences: start, random ids, end, then pads."""
    start, end, pad = SPECIAL[name]
    L = max(LENGTHS)
    ids = torch.full((len(LENGTHS), L), pad, dtype=torch.long)
    mask = torch.zeros((len(LENGTHS), L), dtype=torch.long)
    types = torch.zeros((len(LENGTHS), L), dtype=torch.long)
    for b, n in enumerate(LENGTHS):
        ids[b, :n] = torch.randint(4, vocab, (n,), generator=g)
        ids[b, 0], ids[b, n - 1] = start, end
        mask[b, :n] = 1
        # The first sentence is a pair (BERT): its second half has token type 1.
        if b == 0:
            types[b, n // 2:n] = 1
    return ids, mask, types


def hidden_states(model, name, ids, mask, types):
    with torch.no_grad():
        kwargs = {'input_ids': ids, 'attention_mask': mask}
        if name == 'bert':
            kwargs['token_type_ids'] = types
        return model(**kwargs).last_hidden_state.float().contiguous()


def pooled(h, mask):
    """sentence-transformers' Pooling and Normalize modules on transformers' output."""
    E = h.shape[-1]
    feats = lambda: {'token_embeddings': h, 'attention_mask': mask}
    out = {}
    for key, mode in (('mean', 'mean'), ('cls', 'cls'), ('last', 'lasttoken')):
        out[key] = Pooling(E, pooling_mode=mode)(feats())['sentence_embedding']
    out['mean_norm'] = Normalize()({'sentence_embedding': out['mean']})['sentence_embedding']
    out['mean_norm_16'] = F.normalize(out['mean'][:, :MATRYOSHKA], p=2, dim=1)
    return {k: v.float().contiguous() for k, v in out.items()}


def make(name, cls, prefix, config, seed):
    torch.manual_seed(seed)
    config._attn_implementation = 'eager'
    model = cls(config).eval().float()
    with torch.no_grad():
        for pname, p in model.named_parameters():
            if p.dim() == 1:  # LayerNorm γ/β and biases
                p.add_(0.1 * torch.randn_like(p))
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.save_pretrained(d, safe_serialization=True)
    weights = load_file(os.path.join(d, 'model.safetensors'))
    halves = {'fp16': torch.float16, **({'bf16': torch.bfloat16} if name == 'bert' else {})}
    for tag, dt in halves.items():
        pre = f'{prefix}.' if tag == 'fp16' else ''
        save_file({pre + k: v.to(dt).contiguous() for k, v in weights.items()},
                  os.path.join(d, f'model-{tag}.safetensors'), metadata={'format': 'pt'})

    g = torch.Generator().manual_seed(seed + 1)
    ids, mask, types = batch(name, config.vocab_size, g)
    h = hidden_states(model, name, ids, mask, types)
    tensors = {'hidden': h, **pooled(h, mask)}
    for tag, dt in halves.items():
        rounded = cls(config).eval().float()
        rounded.load_state_dict({k: v.to(dt).float() for k, v in model.state_dict().items()})
        tensors[f'hidden_{tag}'] = hidden_states(rounded, name, ids, mask, types)
    save_file(tensors, os.path.join(d, 'expected.safetensors'))
    expected = {
        'model': cls.__name__, 'torch': torch.__version__, 'transformers': __import__('transformers').__version__,
        'sentence_transformers': __import__('sentence_transformers').__version__, 'seed': seed,
        'shape': list(ids.shape), 'lengths': list(LENGTHS), 'ids': ids.flatten().tolist(),
        'attention_mask': mask.flatten().tolist(), 'matryoshka': MATRYOSHKA,
        **({'token_type_ids': types.flatten().tolist()} if name == 'bert' else {}),
        'fp16_max_abs_hidden_change': float((tensors['hidden_fp16'] - h).abs().max()),
    }
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in sorted(os.listdir(d))}
    print(name, {k: v for k, v in expected.items() if 'fp16' in k}, sizes)


if __name__ == '__main__':
    torch.set_num_threads(1)
    only = sys.argv[1:]
    for i, (name, (cls, prefix, config)) in enumerate(MODELS.items()):
        if not only or name in only:
            make(name, cls, prefix, config, 4321 + 100 * i)
