;; The depth loop of the 4×8 float32 GEMM microkernel (`tile` in kernel_simd128.rs), written
;; in WebAssembly text for the reason given in ../wat_simd128.rs: the same loads, products
;; and sums in the same order as the Rust loop (bit for bit the same accumulators), with the
;; addresses as two pointers that step by their strides and the other elements reached by
;; the loads' offsets, where the Rust loop's wasm recomputes each address every step.
;;
;; Per step: B's two vectors, then each of A's four values broadcast from memory and
;; multiplied into its row's two accumulators. Writes c00 c01 c10 c11 c20 c21 c30 c31 (rows
;; of the tile, two vectors each, from zero) to `out`.
(func (export "gemm_f32_4x8_depth") (param $k i32) (param $a i32) (param $a_step i32) (param $b i32) (param $b_step i32)
  (param $out i32)
  (local $b0 v128) (local $b1 v128) (local $x v128)
  (local $c00 v128) (local $c01 v128) (local $c10 v128) (local $c11 v128)
  (local $c20 v128) (local $c21 v128) (local $c30 v128) (local $c31 v128)
  (if (local.get $k) (then
    (loop $step
      (local.set $b0 (v128.load (local.get $b)))
      (local.set $b1 (v128.load offset=16 (local.get $b)))
      (local.set $x (v128.load32_splat (local.get $a)))
      (local.set $c00 (f32x4.add (local.get $c00) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c01 (f32x4.add (local.get $c01) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=4 (local.get $a)))
      (local.set $c10 (f32x4.add (local.get $c10) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c11 (f32x4.add (local.get $c11) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=8 (local.get $a)))
      (local.set $c20 (f32x4.add (local.get $c20) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c21 (f32x4.add (local.get $c21) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $x (v128.load32_splat offset=12 (local.get $a)))
      (local.set $c30 (f32x4.add (local.get $c30) (f32x4.mul (local.get $x) (local.get $b0))))
      (local.set $c31 (f32x4.add (local.get $c31) (f32x4.mul (local.get $x) (local.get $b1))))
      (local.set $a (i32.add (local.get $a) (local.get $a_step)))
      (local.set $b (i32.add (local.get $b) (local.get $b_step)))
      (br_if $step (local.tee $k (i32.sub (local.get $k) (i32.const 1)))))))
  (v128.store (local.get $out) (local.get $c00))
  (v128.store offset=16 (local.get $out) (local.get $c01))
  (v128.store offset=32 (local.get $out) (local.get $c10))
  (v128.store offset=48 (local.get $out) (local.get $c11))
  (v128.store offset=64 (local.get $out) (local.get $c20))
  (v128.store offset=80 (local.get $out) (local.get $c21))
  (v128.store offset=96 (local.get $out) (local.get $c30))
  (v128.store offset=112 (local.get $out) (local.get $c31)))
