;; The q8_0 block loop of the gemv tile (`q_gemv` in quant_simd128.rs), written in
;; WebAssembly text so that the engine gets it in this order. Linked into the SIMD128
;; module at build time (scripts/link-wat.mjs); declared to Rust in
;; crates/kernels/src/wat_simd128.rs.
;;
;; Four weight rows against one activation row, one block of 32 a step: the block's 32
;; int16 activation codes loaded once for the four rows; per row, four sign-extending
;; 8-byte loads and four `i32x4.dot_i16x8_s` (exact i32 sums), converted to f32, times
;; the row's scale product for the block (`sp`, rows 64 floats apart, as `tile_scales`
;; writes them), added to the row's accumulator. Each row's float sums are those of the
;; Rust loop in the same order, so the results are bit for bit the same.
;;
;; Why text: from the Rust loop (two rows a pass), LLVM issues a step's eight weight
;; loads, four activation loads and two scale splats before the arithmetic; with the two
;; accumulators that is one vector more than V8 allocates on x64, so one accumulator went
;; through the stack every block (a store-to-load chain where most of the loop's samples
;; sat). Here each row's loads sit next to its dot products (eleven vectors live at
;; most), and the activation block is loaded once for four rows instead of twice.
(func (export "q8_0_dot4") (param $x i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
  (param $sp i32) (param $blocks i32) (param $acc i32)
  (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $x3 v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
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
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.add
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w0)) (local.get $x0))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w0)) (local.get $x1)))
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w0)) (local.get $x2))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w0)) (local.get $x3)))))
        (v128.load32_splat (local.get $sp)))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.add
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w1)) (local.get $x0))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w1)) (local.get $x1)))
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w1)) (local.get $x2))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w1)) (local.get $x3)))))
        (v128.load32_splat offset=256 (local.get $sp)))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.add
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w2)) (local.get $x0))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w2)) (local.get $x1)))
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w2)) (local.get $x2))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w2)) (local.get $x3)))))
        (v128.load32_splat offset=512 (local.get $sp)))))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul
        (f32x4.convert_i32x4_s (i32x4.add
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s (local.get $w3)) (local.get $x0))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=8 (local.get $w3)) (local.get $x1)))
          (i32x4.add
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=16 (local.get $w3)) (local.get $x2))
            (i32x4.dot_i16x8_s (v128.load8x8_s offset=24 (local.get $w3)) (local.get $x3)))))
        (v128.load32_splat offset=768 (local.get $sp)))))
      (local.set $x (i32.add (local.get $x) (i32.const 64)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 32)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 32)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 32)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 32)))
      (local.set $sp (i32.add (local.get $sp) (i32.const 4)))
      (br_if $block (local.tee $blocks (i32.sub (local.get $blocks) (i32.const 1)))))))
  (v128.store (local.get $acc) (local.get $a0))
  (v128.store offset=16 (local.get $acc) (local.get $a1))
  (v128.store offset=32 (local.get $acc) (local.get $a2))
  (v128.store offset=48 (local.get $acc) (local.get $a3)))
