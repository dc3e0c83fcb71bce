;; The integer GEMM's 4×8 tile for q8_0 panels (`relaxed.rs`) on relaxed SIMD; only the
;; relaxed-SIMD build links it (scripts/link-wat.mjs --relaxed).
;;
;; `i16x8.relaxed_dot_i8x16_i7x16_s` wants its second operand in [0, 127] (there every
;; engine gives the exact products), so the activations are quantised to 7 bits,
;; `q ∈ [−63, 63]`, and stored as `q + 64`; the weight codes are the signed operand.
;; Per block of 32 depths: 8 steps of four depths. A step loads two of the panels' depth
;; pairs (8 rows × 2 codes each, the order kernel_q_4x8_simd128.wat reads) and interleaves
;; their words into rows 0–3 and rows 4–7, four depths a row; broadcasts each activation
;; row's four codes (`v128.load32_splat`); the relaxed dot sums two products a lane
;; (|·| ≤ 2·127·127 < 2¹⁵), and `i32x4.dot_i16x8_s` by ones adds lane pairs into the
;; row's int32 sums. After the block, `Σ w·(q + 64) − 64·Σw` is the exact `Σ w·q`: each
;; weight row's code sum comes from the panels' sum plane. Then, as in that tile, the sums
;; are converted and multiplied by `d_x · d_w` into the float tile.
;;
;; Three vector operations per 16 multiply-adds against that tile's 4.5 (its widening
;; included); V8's own lowering of `i32x4.relaxed_dot_i8x16_i7x16_add_s` on x64 without
;; AVX-VNNI rebuilds its constant every time and measured slower (docs/performance.md).
;;
;; `a`: per block 8 groups × 4 rows × 4 codes `q + 64` (16 bytes a group), then the 4 rows'
;; f32 scales (144 bytes). `b`: the panels' sliver, 256 bytes a block; `sw` its 8 rows' f32
;; scales and `sq` their i32 code sums, 32 bytes a block each. `out`, `ldo`, `bias` as in
;; gemm_q_4x8.
(func (export "gemm_q8_4x8") (param $nb i32) (param $a i32) (param $b i32) (param $sw i32) (param $sq i32) (param $out i32)
  (param $ldo i32) (param $bias i32)
  (local $h00 v128) (local $h01 v128) (local $h10 v128) (local $h11 v128)
  (local $h20 v128) (local $h21 v128) (local $h30 v128) (local $h31 v128)
  (local $v v128) (local $w0 v128) (local $w1 v128) (local $x v128) (local $m v128)
  (local $s0 v128) (local $s1 v128) (local $sa v128) (local $c v128)
  (local $d v128) (local $q i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
  (local.set $o1 (i32.add (local.get $out) (local.get $ldo)))
  (local.set $o2 (i32.add (local.get $o1) (local.get $ldo)))
  (local.set $o3 (i32.add (local.get $o2) (local.get $ldo)))
  (local.set $m (v128.const i16x8 1 1 1 1 1 1 1 1))
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
        (local.set $w1 (v128.load offset=16 (local.get $b)))
        (local.set $w0 (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $v) (local.get $w1)))
        (local.set $w1 (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $v) (local.get $w1)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $h00 (i32x4.add (local.get $h00) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w0) (local.get $x)) (local.get $m))))
        (local.set $h01 (i32x4.add (local.get $h01) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w1) (local.get $x)) (local.get $m))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $h10 (i32x4.add (local.get $h10) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w0) (local.get $x)) (local.get $m))))
        (local.set $h11 (i32x4.add (local.get $h11) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w1) (local.get $x)) (local.get $m))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $h20 (i32x4.add (local.get $h20) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w0) (local.get $x)) (local.get $m))))
        (local.set $h21 (i32x4.add (local.get $h21) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w1) (local.get $x)) (local.get $m))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $h30 (i32x4.add (local.get $h30) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w0) (local.get $x)) (local.get $m))))
        (local.set $h31 (i32x4.add (local.get $h31) (i32x4.dot_i16x8_s (i16x8.relaxed_dot_i8x16_i7x16_s (local.get $w1) (local.get $x)) (local.get $m))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 32)))
        (br_if $quad (local.tee $q (i32.sub (local.get $q) (i32.const 1)))))
      (local.set $s0 (v128.load (local.get $sw)))
      (local.set $s1 (v128.load offset=16 (local.get $sw)))
      (local.set $sa (v128.load (local.get $a)))
      ;; The weight rows' 64·Σq (the activations were stored as codes + 64).
      (local.set $c (i32x4.shl (v128.load (local.get $sq)) (i32.const 6)))
      (local.set $v (i32x4.shl (v128.load offset=16 (local.get $sq)) (i32.const 6)))
      (local.set $d (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $out) (f32x4.add (v128.load offset=0 (local.get $out))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h00) (local.get $c))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $out) (f32x4.add (v128.load offset=16 (local.get $out))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h01) (local.get $v))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $o1) (f32x4.add (v128.load offset=0 (local.get $o1))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h10) (local.get $c))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o1) (f32x4.add (v128.load offset=16 (local.get $o1))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h11) (local.get $v))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $o2) (f32x4.add (v128.load offset=0 (local.get $o2))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h20) (local.get $c))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o2) (f32x4.add (v128.load offset=16 (local.get $o2))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h21) (local.get $v))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $o3) (f32x4.add (v128.load offset=0 (local.get $o3))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h30) (local.get $c))) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o3) (f32x4.add (v128.load offset=16 (local.get $o3))
        (f32x4.mul (f32x4.convert_i32x4_s (i32x4.sub (local.get $h31) (local.get $v))) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
      (local.set $sw (i32.add (local.get $sw) (i32.const 32)))
      (local.set $sq (i32.add (local.get $sq) (i32.const 32)))
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
