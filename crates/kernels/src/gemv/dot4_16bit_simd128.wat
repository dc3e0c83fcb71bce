;; The 16-bit main loops of the gemv row-dot tile (`dot4_simd128` in tile_simd128.rs) for
;; bfloat16 and finite float16 weights, written in WebAssembly text for the reason given
;; in dot4_f32_simd128.wat: four weight rows against one activation row, eight columns a
;; step (one 16-byte load per row), two accumulators per row, the same products added in
;; the same order as the Rust loop, so the results are bit for bit the same. Each row's
;; lanes are widened next to their multiply-adds.

;; bfloat16: a value's f32 bits are its 16 bits followed by sixteen zeros, so each half of
;; a row's eight lanes is an interleave with a zero vector.
(func (export "dot4_bf16") (param $x i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
  (param $steps i32) (param $out i32)
  (local $x0 v128) (local $x1 v128) (local $h v128) (local $z v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
  (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
  (if (local.get $steps) (then
    (loop $step
      (local.set $x0 (v128.load (local.get $x)))
      (local.set $x1 (v128.load offset=16 (local.get $x)))
      (local.set $h (v128.load (local.get $w0)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $z) (local.get $h)) (local.get $x0))))
      (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $z) (local.get $h)) (local.get $x1))))
      (local.set $h (v128.load (local.get $w1)))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $z) (local.get $h)) (local.get $x0))))
      (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $z) (local.get $h)) (local.get $x1))))
      (local.set $h (v128.load (local.get $w2)))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $z) (local.get $h)) (local.get $x0))))
      (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $z) (local.get $h)) (local.get $x1))))
      (local.set $h (v128.load (local.get $w3)))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $z) (local.get $h)) (local.get $x0))))
      (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $z) (local.get $h)) (local.get $x1))))
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
      (br_if $step (local.tee $steps (i32.sub (local.get $steps) (i32.const 1)))))))
  (v128.store (local.get $out) (local.get $a0))
  (v128.store offset=16 (local.get $out) (local.get $b0))
  (v128.store offset=32 (local.get $out) (local.get $a1))
  (v128.store offset=48 (local.get $out) (local.get $b1))
  (v128.store offset=64 (local.get $out) (local.get $a2))
  (v128.store offset=80 (local.get $out) (local.get $b2))
  (v128.store offset=96 (local.get $out) (local.get $a3))
  (v128.store offset=112 (local.get $out) (local.get $b3)))

;; Finite float16 as raw lanes (the values times 2^-112, `f16x8_finite_raw`): each f32 is
;; `sign | exponent|mantissa >> 3` (arithmetic shift, the sign's copies masked off) over
;; the mantissa's last three bits `<< 13`. The activations are taken times `$f` (2^112,
;; exact) as they are loaded, as the Rust loop does.
(func (export "dot4_f16_raw") (param $x i32) (param $f f32) (param $w0 i32) (param $w1 i32) (param $w2 i32)
  (param $w3 i32) (param $steps i32) (param $out i32)
  (local $x0 v128) (local $x1 v128) (local $h v128) (local $hi v128) (local $lo v128) (local $fs v128) (local $mask v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
  (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
  (local.set $fs (f32x4.splat (local.get $f)))
  (local.set $mask (i16x8.splat (i32.const 0x8fff)))
  (if (local.get $steps) (then
    (loop $step
      (local.set $x0 (f32x4.mul (v128.load (local.get $x)) (local.get $fs)))
      (local.set $x1 (f32x4.mul (v128.load offset=16 (local.get $x)) (local.get $fs)))
      (local.set $h (v128.load (local.get $w0)))
      (local.set $hi (v128.and (i16x8.shr_s (local.get $h) (i32.const 3)) (local.get $mask)))
      (local.set $lo (i16x8.shl (local.get $h) (i32.const 13)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $lo) (local.get $hi)) (local.get $x0))))
      (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $lo) (local.get $hi)) (local.get $x1))))
      (local.set $h (v128.load (local.get $w1)))
      (local.set $hi (v128.and (i16x8.shr_s (local.get $h) (i32.const 3)) (local.get $mask)))
      (local.set $lo (i16x8.shl (local.get $h) (i32.const 13)))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $lo) (local.get $hi)) (local.get $x0))))
      (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $lo) (local.get $hi)) (local.get $x1))))
      (local.set $h (v128.load (local.get $w2)))
      (local.set $hi (v128.and (i16x8.shr_s (local.get $h) (i32.const 3)) (local.get $mask)))
      (local.set $lo (i16x8.shl (local.get $h) (i32.const 13)))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $lo) (local.get $hi)) (local.get $x0))))
      (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $lo) (local.get $hi)) (local.get $x1))))
      (local.set $h (v128.load (local.get $w3)))
      (local.set $hi (v128.and (i16x8.shr_s (local.get $h) (i32.const 3)) (local.get $mask)))
      (local.set $lo (i16x8.shl (local.get $h) (i32.const 13)))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (i8x16.shuffle 0 1 16 17 2 3 18 19 4 5 20 21 6 7 22 23 (local.get $lo) (local.get $hi)) (local.get $x0))))
      (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (i8x16.shuffle 8 9 24 25 10 11 26 27 12 13 28 29 14 15 30 31 (local.get $lo) (local.get $hi)) (local.get $x1))))
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 16)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 16)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 16)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 16)))
      (br_if $step (local.tee $steps (i32.sub (local.get $steps) (i32.const 1)))))))
  (v128.store (local.get $out) (local.get $a0))
  (v128.store offset=16 (local.get $out) (local.get $b0))
  (v128.store offset=32 (local.get $out) (local.get $a1))
  (v128.store offset=48 (local.get $out) (local.get $b1))
  (v128.store offset=64 (local.get $out) (local.get $a2))
  (v128.store offset=80 (local.get $out) (local.get $b2))
  (v128.store offset=96 (local.get $out) (local.get $a3))
  (v128.store offset=112 (local.get $out) (local.get $b3)))
