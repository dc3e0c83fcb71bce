;; The SIMD128 build's stand-in for kernel_q8_4x8_relaxedsimd.wat, which only the
;; relaxed-SIMD build links; the Rust caller (relaxed.rs) calls it only there.
(func (export "gemm_q8_4x8") (param $nb i32) (param $a i32) (param $b i32) (param $sw i32) (param $sq i32)
  (param $out i32) (param $ldo i32) (param $bias i32)
  (unreachable))
