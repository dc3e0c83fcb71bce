;; The integer GEMM's 4×8 tile (`q_gemm_4x8_simd128` in kernel_q_simd128.rs) in WebAssembly
;; text, for the reason given in ../wat_simd128.rs: LLVM's loop computed each of a step's six
;; addresses anew (an `lea` per load); here two pointers step by 16 bytes and every load
;; keeps one of six fixed offsets (V8 holds a register per offset of a splat or widening
;; load, so the offsets must not grow, and unrolling by hand let V8 hoist four steps' loads
;; and spill: 0.36–0.74× of the Rust loop). V8 unrolls the loop by two itself.
;;
;; Per block of 32 depths: 16 steps of one depth pair. A step widens the sliver's 8 rows ×
;; 2 int8 codes to two int16 vectors (`v128.load8x8_s`, four rows' pairs each), broadcasts
;; each activation row's int16 pair from memory (`v128.load32_splat`, a load port) and adds
;; `i32x4.dot_i16x8_s` of the two into that row's two int32 sums: exact (|Σ| ≤ 32·127·127 <
;; 2²⁴). After the block, each sum is converted (exact) and multiplied by its row and
;; column's scale product `d_x · d_w`, then added to the float32 tile in `out` (read and
;; written: with the 8 int32 sums in registers, 8 more accumulators would spill). The same
;; products added in the same order as the Rust loop it replaces: bit for bit the same.
;;
;; The step's eight `i32x4.add`s bound it: the loop alone, on data in L1, runs 31–33 GMAC/s,
;; and 48–52 with the adds left out (docs/performance.md).
;;
;; `a`: the four activation rows packed by `pack_a_q` (quant.rs), per block 16 depth pairs ×
;; 4 rows (16 bytes a pair) then the 4 rows' f32 scales. `b`: the weight sliver (256 bytes a
;; block), `sw` its 8 rows' f32 scales a block. `out`: the 4×8 tile, rows of 8 floats `ldo`
;; bytes apart (the output matrix itself for a whole tile: no copy, no zeroing call), set to
;; zero first; `bias`, when not 0, 8 floats added to every row after the last block.
(func (export "gemm_q_4x8") (param $nb i32) (param $a i32) (param $b i32) (param $sw i32) (param $out i32)
  (param $ldo i32) (param $bias i32)
  (local $i00 v128) (local $i01 v128) (local $i10 v128) (local $i11 v128)
  (local $i20 v128) (local $i21 v128) (local $i30 v128) (local $i31 v128)
  (local $b0 v128) (local $b1 v128) (local $x v128) (local $s0 v128) (local $s1 v128) (local $sa v128)
  (local $d v128) (local $pairs i32) (local $o1 i32) (local $o2 i32) (local $o3 i32)
  (local.set $o1 (i32.add (local.get $out) (local.get $ldo)))
  (local.set $o2 (i32.add (local.get $o1) (local.get $ldo)))
  (local.set $o3 (i32.add (local.get $o2) (local.get $ldo)))
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
      (local.set $i00 (v128.const i32x4 0 0 0 0))
      (local.set $i01 (v128.const i32x4 0 0 0 0))
      (local.set $i10 (v128.const i32x4 0 0 0 0))
      (local.set $i11 (v128.const i32x4 0 0 0 0))
      (local.set $i20 (v128.const i32x4 0 0 0 0))
      (local.set $i21 (v128.const i32x4 0 0 0 0))
      (local.set $i30 (v128.const i32x4 0 0 0 0))
      (local.set $i31 (v128.const i32x4 0 0 0 0))
      (local.set $pairs (i32.const 16))
      (loop $pair
        (local.set $b0 (v128.load8x8_s (local.get $b)))
        (local.set $b1 (v128.load8x8_s offset=8 (local.get $b)))
        (local.set $x (v128.load32_splat (local.get $a)))
        (local.set $i00 (i32x4.add (local.get $i00) (i32x4.dot_i16x8_s (local.get $b0) (local.get $x))))
        (local.set $i01 (i32x4.add (local.get $i01) (i32x4.dot_i16x8_s (local.get $b1) (local.get $x))))
        (local.set $x (v128.load32_splat offset=4 (local.get $a)))
        (local.set $i10 (i32x4.add (local.get $i10) (i32x4.dot_i16x8_s (local.get $b0) (local.get $x))))
        (local.set $i11 (i32x4.add (local.get $i11) (i32x4.dot_i16x8_s (local.get $b1) (local.get $x))))
        (local.set $x (v128.load32_splat offset=8 (local.get $a)))
        (local.set $i20 (i32x4.add (local.get $i20) (i32x4.dot_i16x8_s (local.get $b0) (local.get $x))))
        (local.set $i21 (i32x4.add (local.get $i21) (i32x4.dot_i16x8_s (local.get $b1) (local.get $x))))
        (local.set $x (v128.load32_splat offset=12 (local.get $a)))
        (local.set $i30 (i32x4.add (local.get $i30) (i32x4.dot_i16x8_s (local.get $b0) (local.get $x))))
        (local.set $i31 (i32x4.add (local.get $i31) (i32x4.dot_i16x8_s (local.get $b1) (local.get $x))))
        (local.set $a (i32.add (local.get $a) (i32.const 16)))
        (local.set $b (i32.add (local.get $b) (i32.const 16)))
        (br_if $pair (local.tee $pairs (i32.sub (local.get $pairs) (i32.const 1)))))
      ;; The block's scales: $a now points at the four rows' d_x.
      (local.set $s0 (v128.load (local.get $sw)))
      (local.set $s1 (v128.load offset=16 (local.get $sw)))
      (local.set $sa (v128.load (local.get $a)))
      (local.set $d (i8x16.shuffle 0 1 2 3 0 1 2 3 0 1 2 3 0 1 2 3 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $out) (f32x4.add (v128.load offset=0 (local.get $out))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i00)) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $out) (f32x4.add (v128.load offset=16 (local.get $out))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i01)) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 4 5 6 7 4 5 6 7 4 5 6 7 4 5 6 7 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $o1) (f32x4.add (v128.load offset=0 (local.get $o1))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i10)) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o1) (f32x4.add (v128.load offset=16 (local.get $o1))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i11)) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 8 9 10 11 8 9 10 11 8 9 10 11 8 9 10 11 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $o2) (f32x4.add (v128.load offset=0 (local.get $o2))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i20)) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o2) (f32x4.add (v128.load offset=16 (local.get $o2))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i21)) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $d (i8x16.shuffle 12 13 14 15 12 13 14 15 12 13 14 15 12 13 14 15 (local.get $sa) (local.get $sa)))
      (v128.store offset=0 (local.get $o3) (f32x4.add (v128.load offset=0 (local.get $o3))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i30)) (f32x4.mul (local.get $d) (local.get $s0)))))
      (v128.store offset=16 (local.get $o3) (f32x4.add (v128.load offset=16 (local.get $o3))
        (f32x4.mul (f32x4.convert_i32x4_s (local.get $i31)) (f32x4.mul (local.get $d) (local.get $s1)))))
      (local.set $a (i32.add (local.get $a) (i32.const 16)))
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
