#!/usr/bin/env python3
"""Makes the model fixtures in test/fixtures/models/ with PyTorch and Hugging Face transformers.

Not part of `npm test` (its outputs are committed). Needs torch, transformers and safetensors:

    python3 -m venv /path/to/venv && /path/to/venv/bin/pip install torch transformers safetensors
    /path/to/venv/bin/python scripts/make-model-fixtures.py

For every tiny, randomly initialised model (fixed seeds) it writes into test/fixtures/models/<name>/:
  config.json                the model's Hugging Face config
  model.safetensors          float32 weights (as save_pretrained writes them)
  model-fp16.safetensors     the same weights rounded to float16
  model-bf16.safetensors     (llama only) the same weights rounded to bfloat16
  expected.json              prompt ids, teacher-forced decode ids, the greedy `generate` of 32 tokens,
                             and the smallest top-1/top-2 logit gap met (how safe exact-id tests are)
  expected.safetensors       float32 logits: prefill [P, V] and each decode step [S, V], for the float32
                             weights and for the float16- (and bfloat16-) rounded weights (run in float32)
"""
import json
import os
import shutil
import sys

import torch
from safetensors.torch import load_file, save_file
from transformers import (GPT2Config, GPT2LMHeadModel, LlamaConfig, LlamaForCausalLM, MistralConfig, MistralForCausalLM,
                          Qwen2Config, Qwen2ForCausalLM)

OUT = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', 'test', 'fixtures', 'models')
PROMPT_LEN, DECODE_STEPS, GENERATE = 8, 8, 32

MODELS = {
    # GPT-2: learned positions, pre-norm LayerNorm, Conv1D ([in, out]) weights, gelu_new, tied lm_head.
    'gpt2': (GPT2LMHeadModel, GPT2Config(
        vocab_size=128, n_positions=64, n_embd=48, n_layer=2, n_head=4, activation_function='gelu_new',
        resid_pdrop=0.0, embd_pdrop=0.0, attn_pdrop=0.0, layer_norm_epsilon=1e-5, initializer_range=0.15,
        bos_token_id=0, eos_token_id=0)),
    # LLaMA: RMSNorm, RoPE with a non-default theta, grouped-query heads (4 query / 2 key-value), SwiGLU,
    # separate lm_head.
    'llama': (LlamaForCausalLM, LlamaConfig(
        vocab_size=128, hidden_size=64, intermediate_size=128, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=50000.0,
        hidden_act='silu', tie_word_embeddings=False, attention_bias=False, initializer_range=0.15,
        bos_token_id=0, eos_token_id=None, pad_token_id=None)),
    # Qwen2: the LLaMA architecture with q/k/v biases, multi-query heads and a tied lm_head.
    'qwen2': (Qwen2ForCausalLM, Qwen2Config(
        vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=1, max_position_embeddings=128, rms_norm_eps=1e-6, rope_theta=1000000.0,
        hidden_act='silu', tie_word_embeddings=True, initializer_range=0.15,
        bos_token_id=0, eos_token_id=None, pad_token_id=None)),
    # Mistral: the LLaMA architecture with sliding-window attention (each query sees itself and the 5
    # positions before it), shorter than the prompt, so prefill, decode and generate all cross it.
    'mistral': (MistralForCausalLM, MistralConfig(
        vocab_size=128, hidden_size=48, intermediate_size=96, num_hidden_layers=2, num_attention_heads=4,
        num_key_value_heads=2, max_position_embeddings=128, rms_norm_eps=1e-5, rope_theta=10000.0,
        sliding_window=6, hidden_act='silu', tie_word_embeddings=False, initializer_range=0.15,
        bos_token_id=0, eos_token_id=None, pad_token_id=None)),
}


def logits_run(model, prompt, steps):
    """Prefill logits [P, V], then one-token decode steps on the KV cache (teacher-forced)."""
    with torch.no_grad():
        out = model(input_ids=prompt[None], use_cache=True)
        prefill, past = out.logits[0], out.past_key_values
        decode = []
        for t in steps.tolist():
            out = model(input_ids=torch.tensor([[t]]), past_key_values=past, use_cache=True)
            decode.append(out.logits[0, -1])
            past = out.past_key_values
    return prefill.float().contiguous(), torch.stack(decode).float().contiguous()


def top2_gap(logits):
    top = torch.topk(logits.double(), 2, dim=-1).values
    return float((top[..., 0] - top[..., 1]).min())


def make(name, cls, config, seed):
    torch.manual_seed(seed)
    config._attn_implementation = 'eager'
    model = cls(config).eval().float()
    d = os.path.join(OUT, name)
    shutil.rmtree(d, ignore_errors=True)
    os.makedirs(d)
    model.save_pretrained(d, safe_serialization=True)
    for extra in ('generation_config.json',):
        p = os.path.join(d, extra)
        if os.path.exists(p):
            os.remove(p)
    weights = load_file(os.path.join(d, 'model.safetensors'))
    half_types = {'fp16': torch.float16, **({'bf16': torch.bfloat16} if name == 'llama' else {})}
    for tag, dt in half_types.items():
        save_file({k: v.to(dt).contiguous() for k, v in weights.items()}, os.path.join(d, f'model-{tag}.safetensors'),
                  metadata={'format': 'pt'})

    g = torch.Generator().manual_seed(seed + 1)
    prompt = torch.randint(0, config.vocab_size, (PROMPT_LEN,), generator=g)
    steps = torch.randint(0, config.vocab_size, (DECODE_STEPS,), generator=g)
    prefill, decode = logits_run(model, prompt, steps)
    with torch.no_grad():
        gen = model.generate(prompt[None], max_new_tokens=GENERATE, min_new_tokens=GENERATE, do_sample=False,
                             output_scores=True, return_dict_in_generate=True, pad_token_id=0)
    new_ids = gen.sequences[0, PROMPT_LEN:].tolist()
    gaps = [top2_gap(s[0]) for s in gen.scores]

    # The rounded weights, run in float32 (what a float32 engine computes from the fp16/bf16 file).
    logits = {'prefill': prefill, 'decode': decode}
    for tag, dt in half_types.items():
        rounded = cls(config).eval().float()
        rounded.load_state_dict({k: v.to(dt).float() for k, v in model.state_dict().items()})
        logits[f'prefill_{tag}'], logits[f'decode_{tag}'] = logits_run(rounded, prompt, steps)
    prefill16 = logits['prefill_fp16']
    save_file(logits, os.path.join(d, 'expected.safetensors'))
    expected = {
        'model': cls.__name__, 'torch': torch.__version__, 'transformers': __import__('transformers').__version__,
        'seed': seed, 'prompt': prompt.tolist(), 'decode_ids': steps.tolist(), 'generated': new_ids,
        'min_top2_gap_generate': min(gaps), 'min_top2_gap_prefill': top2_gap(prefill),
        'fp16_max_abs_logit_change': float((prefill16 - prefill).abs().max().item()),
    }
    with open(os.path.join(d, 'expected.json'), 'w') as f:
        json.dump(expected, f, indent=1)
    sizes = {f: os.path.getsize(os.path.join(d, f)) for f in sorted(os.listdir(d))}
    print(name, json.dumps({k: v for k, v in expected.items() if 'gap' in k or 'fp16' in k}), sizes)


if __name__ == '__main__':
    torch.set_num_threads(1)
    only = sys.argv[1:]
    for i, (name, (cls, config)) in enumerate(MODELS.items()):
        if not only or name in only:
            make(name, cls, config, 1234 + 100 * i)
