/**
 * Scalar activation functions in float64, on single numbers (tensors go through the
 * float32 kernels of `applyActivation`).
 * - `gelu` (in erf.ts): exact `x·Φ(x)`, PyTorch `GELU()`, ONNX `Gelu`.
 * - {@link geluTanh}: the tanh approximation of Hendrycks & Gimpel,
 *   `x/2·(1 + tanh(√(2/π)·(x + 0.044715·x³)))` — PyTorch `GELU(approximate='tanh')`,
 *   ONNX `Gelu(approximate="tanh")`, Hugging Face `gelu_new` / `gelu_pytorch_tanh` (GPT-2).
 * - {@link silu}: `x·σ(x)`, PyTorch `SiLU()`, Hugging Face `silu`/`swish` (LLaMA's SwiGLU gate).
 */

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

/** Tanh-approximate GELU (GPT-2's `gelu_new`). */
export function geluTanh(x: number): number {
  return 0.5 * x * (1 + Math.tanh(SQRT_2_OVER_PI * (x + 0.044715 * x * x * x)));
}

/**
 * SiLU / swish `x·σ(x) = x / (1 + e^(−x))`. For very negative `x`, `e^(−x)` overflows to
 * `+∞` and the quotient is `−0`, the correct limit; NaN stays NaN.
 */
export function silu(x: number): number {
  return x / (1 + Math.exp(-x));
}
