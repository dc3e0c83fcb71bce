;; The q4_0 block loop of the gemv tile (`q_gemv` in quant_simd128.rs, with `q4_0_dot32`),
;; written in WebAssembly text so that the engine gets it in this order. Linked into the
;; SIMD128 module at build time (scripts/link-wat.mjs); declared to Rust in
;; crates/kernels/src/wat_simd128.rs.
;;
;; As `q8_0_dot4_simd128.wat`, over 4-bit codes: a block's 16 bytes read as eight u16
;; lanes give the nibbles widened to i16 by one mask and three shifts, in the order
;; `q4_0_prepare` put the activations in; the nibbles are codes + 8, so the block's
;; `8·Σx` (`sums`, one i32 a block, shared by the four rows) is taken off the i32 dot
;; (exact). Each row's float sums are those of the Rust loop in the same order, bit for
;; bit; the activation block is loaded once for four rows instead of twice.
(func (export "q4_0_dot4") (param $x i32) (param $sums i32) (param $w0 i32) (param $w1 i32) (param $w2 i32)
  (param $w3 i32) (param $sp i32) (param $blocks i32) (param $acc i32)
  (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128) (local $m v128) (local $c v128) (local $v v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
  (local.set $m (v128.const i16x8 15 15 15 15 15 15 15 15))
  (local.set $a0 (v128.load (local.get $acc)))
  (local.set $a1 (v128.load offset=16 (local.get $acc)))
  (local.set $a2 (v128.load offset=32 (local.get $acc)))
  (local.set $a3 (v128.load offset=48 (local.get $acc)))
  (if (local.get $blocks) (then
    (loop $block
      (local.set $x0 (v128.load (local.get $x)))
      (local.set $x1 (v128.load offset=16 (local.get $x)))
      (local.set $x2 (v128.load offset=32 (local.get $x)))
      (local.set $x3 (v128.load offset=48 (local.get $x)))
      (local.set $c (v128.load32_zero (local.get $sums)))
      (local.set $v (v128.load (local.get $w0)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.sub
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0))
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x1)))
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x2))
              (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
          (local.get $c)))
        (v128.load32_splat (local.get $sp)))))
      (local.set $v (v128.load (local.get $w1)))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.sub
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0))
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x1)))
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x2))
              (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
          (local.get $c)))
        (v128.load32_splat offset=256 (local.get $sp)))))
      (local.set $v (v128.load (local.get $w2)))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.sub
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0))
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x1)))
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x2))
              (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
          (local.get $c)))
        (v128.load32_splat offset=512 (local.get $sp)))))
      (local.set $v (v128.load (local.get $w3)))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.sub
          (i32x4.add
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (local.get $v) (local.get $m)) (local.get $x0))
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)) (local.get $x1)))
            (i32x4.add
              (i32x4.dot_i16x8_s (v128.and (i16x8.shr_u (local.get $v) (i32.const 8)) (local.get $m)) (local.get $x2))
              (i32x4.dot_i16x8_s (i16x8.shr_u (local.get $v) (i32.const 12)) (local.get $x3))))
          (local.get $c)))
        (v128.load32_splat offset=768 (local.get $sp)))))
      (local.set $x (i32.add (local.get $x) (i32.const 64)))
      (local.set $sums (i32.add (local.get $sums) (i32.const 4)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
      (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
      (br_if $block (local.tee $blocks (i32.sub (local.get $blocks) (i32.const 1)))))))
  (v128.store (local.get $acc) (local.get $a0))
  (v128.store offset=16 (local.get $acc) (local.get $a1))
  (v128.store offset=32 (local.get $acc) (local.get $a2))
  (v128.store offset=48 (local.get $acc) (local.get $a3)))
