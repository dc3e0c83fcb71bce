;; The SIMD128 build's stand-ins for kernel_q4_4x8_relaxedsimd.wat, which only the
;; relaxed-SIMD build links: `relaxed_dot` tells the Rust caller (q4_panels.rs) that the
;; tile is absent, so it never calls `gemm_q4_4x8` here.
(func (export "relaxed_dot") (result i32) (i32.const 0))
(func (export "gemm_q4_4x8") (param $nb i32) (param $a i32) (param $b i32) (param $sw i32) (param $out i32)
  (param $ldo i32) (param $bias i32)
  (unreachable))
