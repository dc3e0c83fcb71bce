;; The 4-bit GEMM's 4×8 tile (`relaxed.rs`, `q4_panels.rs`) on relaxed SIMD; only the
;; relaxed-SIMD build links it (scripts/link-wat.mjs --relaxed).
;;
;; Per block of 32 depths: 8 steps of one group of four depths. A step loads the sliver's
;; 16 bytes (q4_0 panels, ../format.rs) and masks them into two vectors of nibbles
;; `q + 8 ∈ [0, 15]`, rows 0–3 and rows 4–7, four depths a row; broadcasts each activation
;; row's four int8 codes (`v128.load32_splat`) and adds `i16x8.relaxed_dot_i8x16_i7x16_s`
;; of the two into that row's two int16 sums. The nibbles are the 7-bit operand, so every
;; engine gives the exact products; a lane sums two, at most 2·127·15 = 3810, and a
;; block's eight steps at most 30480 < 2¹⁵: no overflow. After the block, each row's sums
;; are widened (`i32x4.extadd_pairwise_i16x8_s`: lane c is weight row c's sum over the
;; block), less the row's `8·Σx` (so the codes count as `q`, not `q + 8`), converted and
;; multiplied by `d_x · d_w` into the float tile, as kernel_q_4x8_simd128.wat does.
;;
;; Against that tile's 18 vector operations per 64 multiply-adds, a step here is 19 per
;; 128 (docs/performance.md has the measured rates).
;;
;; `a`: per block 8 groups × 4 rows × 4 codes (16 bytes a group), then the 4 rows' f32
;; scales, then their i32 `8·Σx` (160 bytes). `b`: the sliver, 128 bytes a block; `sw`
;; its 8 rows' f32 scales a block. `out`, `ldo`, `bias` as in gemm_q_4x8.
(func (export "gemm_q4_4x8") (param $nb i32) (param $a i32) (param $b i32) (param $sw i32) (param $out i32)
  (param $ldo i32) (param $bias i32)
  (local $h00 v128) (local $h01 v128) (local $h10 v128) (local $h11 v128)
  (local $h20 v128) (local $h21 v128) (local $h30 v128) (local $h31 v128)
  (local $v v128) (local $w0 v128) (local $w1 v128) (local $x v128) (local $m v128)
  (local $s0 v128) (local $s1 v128) (local $sa v128) (local $c v128)
  (local $d v128) (local $q i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
  (local.set $o1 (i32.add (local.get $out) (local.get $ldo)))
  (local.set $o2 (i32.add (local.get $o1) (local.get $ldo)))
  (local.set $o3 (i32.add (local.get $o2) (local.get $ldo)))
  (local.set $m (v128.const i8x16 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15 15))
  (local.set $d (v128.const i32x4 0 0 0 0))
  (v128.store offset=0 (local.get $out) (local.get $d))
  (v128.store offset=16 (local.get $out) (local.get $d))
  (v128.store offset=0 (local.get $o1) (local.get $d))
  (v128.store offset=16 (local.get $o1) (local.get $d))
  (v128.store offset=0 (local.get $o2) (local.get $d))
  (v128.store offset=16 (local.get $o2) (local.get $d))
  (v128.store offset=0 (local.get $o3) (local.get $d))
  (v128.store offset=16 (local.get $o3) (local.get $d))
  (if (local.get $nb) (then
    (loop $block
      (local.set $h00 (v128.const i32x4 0 0 0 0))
      (local.set $h01 (v128.const i32x4 0 0 0 0))
      (local.set $h10 (v128.const i32x4 0 0 0 0))
      (local.set $h11 (v128.const i32x4 0 0 0 0))
      (local.set $h20 (v128.const i32x4 0 0 0 0))
      (local.set $h21 (v128.const i32x4 0 0 0 0))
      (local.set $h30 (v128.const i32x4 0 0 0 0))
      (local.set $h31 (v128.const i32x4 0 0 0 0))
      (local.set $q (i32.const 8))
      (loop $quad
        (local.set $v (v128.load (local.get $b)))
        (local.set $w0 (v128.and (local.get $v) (local.get $m)))
        (local.set $w1 (v128.and (i16x8.shr_u (local.get $v) (i32.const 4)) (local.get $m)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $h00 (i16x8.add (local.get $h00) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w0))))
        (local.set $h01 (i16x8.add (local.get $h01) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w1))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $h10 (i16x8.add (local.get $h10) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w0))))
        (local.set $h11 (i16x8.add (local.get $h11) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w1))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $h20 (i16x8.add (local.get $h20) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w0))))
        (local.set $h21 (i16x8.add (local.get $h21) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w1))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $h30 (i16x8.add (local.get $h30) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w0))))
        (local.set $h31 (i16x8.add (local.get $h31) (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $x) (local.get $w1))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br_if $quad (local.tee $q (i32.sub (local.get $q) (i32.const 1)))))
      (local.set $s0 (v128.load (local.get $sw)))
      (local.set $s1 (v128.load offset=16 (local.get $sw)))
      (local.set $sa (v128.load (local.get $a)))
      (local.set $c (v128.load offset=16 (local.get $a)))
      (local.set $d (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $sa) (local.get $sa)))
      (local.set $x (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $c) (local.get $c)))
      (v128.store offset=0 (local.get $out) (f32x4.add (v128.load offset=0 (local.get $out))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h00)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $out) (f32x4.add (v128.load offset=16 (local.get $out))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h01)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $sa) (local.get $sa)))
      (local.set $x (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $c) (local.get $c)))
      (v128.store offset=0 (local.get $o1) (f32x4.add (v128.load offset=0 (local.get $o1))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h10)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o1) (f32x4.add (v128.load offset=16 (local.get $o1))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h11)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $sa) (local.get $sa)))
      (local.set $x (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $c) (local.get $c)))
      (v128.store offset=0 (local.get $o2) (f32x4.add (v128.load offset=0 (local.get $o2))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h20)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o2) (f32x4.add (v128.load offset=16 (local.get $o2))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h21)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $sa) (local.get $sa)))
      (local.set $x (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $c) (local.get $c)))
      (v128.store offset=0 (local.get $o3) (f32x4.add (v128.load offset=0 (local.get $o3))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h30)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o3) (f32x4.add (v128.load offset=16 (local.get $o3))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (i32x4.extadd_pairwise_i16x8_s (local.get $h31)) (local.get $x))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $a (i32.add (local.get $a) (i32.const 32)))
      (local.set $sw (i32.add (local.get $sw) (i32.const 32)))
      (br_if $block (local.tee $nb (i32.sub (local.get $nb) (i32.const 1)))))))
  (if (local.get $bias) (then
    (local.set $s0 (v128.load (local.get $bias)))
    (local.set $s1 (v128.load offset=16 (local.get $bias)))
    (v128.store offset=0 (local.get $out) (f32x4.add (v128.load offset=0 (local.get $out)) (local.get $s0)))
    (v128.store offset=16 (local.get $out) (f32x4.add (v128.load offset=16 (local.get $out)) (local.get $s1)))
    (v128.store offset=0 (local.get $o1) (f32x4.add (v128.load offset=0 (local.get $o1)) (local.get $s0)))
    (v128.store offset=16 (local.get $o1) (f32x4.add (v128.load offset=16 (local.get $o1)) (local.get $s1)))
    (v128.store offset=0 (local.get $o2) (f32x4.add (v128.load offset=0 (local.get $o2)) (local.get $s0)))
    (v128.store offset=16 (local.get $o2) (f32x4.add (v128.load offset=16 (local.get $o2)) (local.get $s1)))
    (v128.store offset=0 (local.get $o3) (f32x4.add (v128.load offset=0 (local.get $o3)) (local.get $s0)))
    (v128.store offset=16 (local.get $o3) (f32x4.add (v128.load offset=16 (local.get $o3)) (local.get $s1))))))
