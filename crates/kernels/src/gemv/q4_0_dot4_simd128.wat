;; The q4_0 block loop of the gemv tile (`q_gemv` in quant_simd128.rs), written in
;; WebAssembly text so that the engine gets it in this order. Linked into the SIMD128
;; module at build time (scripts/link-wat.mjs); declared to Rust in
;; crates/kernels/src/wat_simd128.rs.
;;
;; As `q8_0_dot4_simd128.wat` (the four rows' sums gathered into one vector, the stores
;; that keep each row's work in place), over 4-bit codes: a block's 16 bytes read as
;; eight u16 lanes give the nibbles as i16 by three masks in place (n, 16·n, 256·n) and
;; one shift (n): four operations for 32 weights. `q4_0_prepare` put the activations in
;; that order and scaled them to match (256·x, 16·x, x, 256·x), so every sum is 256
;; times the true one, taken off once per output (exact). The nibbles are codes + 8, so
;; the block's `8·Σx` (`sums`, one i32 a block, lifted alike, shared by the four rows) is
;; taken off the four rows' i32 sums (exact).
(func (export "q4_0_dot4") (param $x i32) (param $sums i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
  (param $sp i32) (param $xs i32) (param $blocks i32) (param $out i32)
  (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $m0 v128) (local $m1 v128) (local $m2 v128) (local $v v128)
  (local $d0 v128) (local $d1 v128) (local $s01 v128) (local $acc v128)
  (local.set $m0 (v128.const i16x8 15 15 15 15 15 15 15 15))
  (local.set $m1 (v128.const i16x8 240 240 240 240 240 240 240 240))
  (local.set $m2 (v128.const i16x8 3840 3840 3840 3840 3840 3840 3840 3840))
  (local.set $acc (v128.load (local.get $out)))
  (if (local.get $blocks) (then
    (loop $block
      (local.set $x0 (v128.load (local.get $x)))
      (local.set $x1 (v128.load offset=16 (local.get $x)))
      (local.set $x2 (v128.load offset=32 (local.get $x)))
      (local.set $x3 (v128.load offset=48 (local.get $x)))
      (local.set $v (v128.load (local.get $w0)))
      (local.set $d0 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $x2))
          (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3)))))
      (v128.store (local.get $out) (local.get $d0))
      (local.set $v (v128.load (local.get $w1)))
      (local.set $d1 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $x2))
          (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3)))))
      (v128.store (local.get $out) (local.get $d1))
      (local.set $s01 (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
      (local.set $v (v128.load (local.get $w2)))
      (local.set $d0 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $x2))
          (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3)))))
      (v128.store (local.get $out) (local.get $d0))
      (local.set $v (v128.load (local.get $w3)))
      (local.set $d1 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m0)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m1)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m2)) (local.get $x2))
          (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3)))))
      (local.set $d0 (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.sub (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s01) (local.get $d0))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s01) (local.get $d0)))
          (v128.load32_splat (local.get $sums))))
        (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xs))))))
      (local.set $x (i32.add (local.get $x) (i32.const 64)))
      (local.set $sums (i32.add (local.get $sums) (i32.const 4)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
      (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
      (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
      (br_if $block (local.tee $blocks (i32.sub (local.get $blocks) (i32.const 1)))))))
  (v128.store (local.get $out) (local.get $acc)))
