;; The q8_0 block loop of the gemv tile (`q_gemv` in quant_simd128.rs), written in
;; WebAssembly text so that the engine gets it in this order. Linked into the SIMD128
;; module at build time (scripts/link-wat.mjs); declared to Rust in
;; crates/kernels/src/wat_simd128.rs.
;;
;; Four weight rows against one activation row, one block of 32 a step: the block's 32
;; int16 activation codes loaded once for the four rows; per row, four sign-extending
;; 8-byte loads and four `i32x4.dot_i16x8_s` (exact i32 sums in four lanes). The four
;; rows' lanes are summed into one vector, a row a lane, by four interleaves and three
;; adds (still exact); that vector is converted to f32 once, times the block's four scale
;; products (the four rows' weight scales `sp`, four floats a block from the tile's scale
;; plane, times the activation block's scale `xs`, one float a block), and added to the
;; tile's one accumulator: the per-row convert, splat, multiply and add of a row-wise
;; loop become one of each for four rows, and no lane sums remain at the end.
;;
;; Why text, and why the stores: the engine schedules a side-effect-free value just
;; before its first use. Summed across rows, every row's dot products would first be
;; used at the end of the step, so all four rows' weights were loaded and unpacked
;; together (twenty live vectors, half of them spilled). Each row's sum is therefore
;; stored to `out` (a slot overwritten at the end) before the next row's weights are
;; loaded: a store is ordered against loads, which pins the row's work before it, and
;; costs one store a row. (LLVM, from the Rust loop, issued a step's loads before its
;; arithmetic likewise.)
(func (export "q8_0_dot4") (param $x i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
  (param $sp i32) (param $xs i32) (param $blocks i32) (param $out i32)
  (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
  (local $d0 v128) (local $d1 v128) (local $s01 v128) (local $acc v128)
  (local.set $acc (v128.load (local.get $out)))
  (if (local.get $blocks) (then
    (loop $block
      (local.set $x0 (v128.load (local.get $x)))
      (local.set $x1 (v128.load offset=16 (local.get $x)))
      (local.set $x2 (v128.load offset=32 (local.get $x)))
      (local.set $x3 (v128.load offset=48 (local.get $x)))
      (local.set $d0 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w0)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w0)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w0)) (local.get $x2))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w0)) (local.get $x3)))))
      (v128.store (local.get $out) (local.get $d0))
      (local.set $d1 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w1)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w1)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w1)) (local.get $x2))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w1)) (local.get $x3)))))
      (v128.store (local.get $out) (local.get $d1))
      (local.set $s01 (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
      (local.set $d0 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w2)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w2)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w2)) (local.get $x2))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w2)) (local.get $x3)))))
      (v128.store (local.get $out) (local.get $d0))
      (local.set $d1 (i32x4.add
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w3)) (local.get $x0))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w3)) (local.get $x1)))
        (i32x4.add
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w3)) (local.get $x2))
          (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w3)) (local.get $x3)))))
      (local.set $d0 (i32x4.add
        (i8x16.shuffle 0 1 2 3 16 17 18 19 4 5 6 7 20 21 22 23 (local.get $d0) (local.get $d1))
        (i8x16.shuffle 8 9 10 11 24 25 26 27 12 13 14 15 28 29 30 31 (local.get $d0) (local.get $d1))))
      (local.set $acc (f32x4.add (local.get $acc) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.add
          (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $s01) (local.get $d0))
          (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $s01) (local.get $d0))))
        (f32x4.mul (v128.load (local.get $sp)) (v128.load32_splat (local.get $xs))))))
      (local.set $x (i32.add (local.get $x) (i32.const 64)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 32)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 32)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 32)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 32)))
      (local.set $sp (i32.add (local.get $sp) (i32.const 16)))
      (local.set $xs (i32.add (local.get $xs) (i32.const 4)))
      (br_if $block (local.tee $blocks (i32.sub (local.get $blocks) (i32.const 1)))))))
  (v128.store (local.get $out) (local.get $acc)))
