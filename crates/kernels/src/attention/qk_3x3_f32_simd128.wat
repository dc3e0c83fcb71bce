;; The float32 score tiles of the decode kernel for a group of three query rows
;; (`qk_tile_simd128::<f32, 3, 3>` in decode_float_simd128.rs, with the stores of
;; `store_qk_tile`), written in WebAssembly text so that the engine gets them in this
;; order. Linked into the SIMD128 module at build time (scripts/link-wat.mjs); declared
;; to Rust in crates/kernels/src/wat_simd128.rs.
;;
;; `tiles` tiles of three keys × three query rows: nine accumulators over the `steps`
;; groups of four components, each summed across its lanes as (l0 + l2) + (l1 + l3) and
;; stored to the scores. A tile's keys are `kx` bytes apart and successive tiles `kt`
;; bytes apart (in K and, by `sx` and `st`, in the scores), so one function serves both
;; key orders of the Rust driver. The same products added in the same order as the Rust
;; loop, bit for bit.
;;
;; Why text: LLVM issues a step's three query and three key loads before the nine
;; multiply-adds; with the nine accumulators and a product that is sixteen vectors, one
;; more than V8 allocates on x64, so one accumulator went through the stack every step.
;; Here each key's load sits next to its three multiply-adds (fourteen vectors live), and
;; the whole key loop is one call (a call per tile cost more than the spill).
(func (export "qk3x3_f32") (param $q i32) (param $qrow i32) (param $k i32) (param $kx i32) (param $kt i32)
  (param $s i32) (param $sx i32) (param $st i32) (param $srow i32) (param $tiles i32) (param $steps i32)
  (local $q0 i32) (local $q1 i32) (local $q2 i32) (local $k0 i32) (local $k1 i32) (local $k2 i32)
  (local $i i32) (local $p i32)
  (local $u v128) (local $w v128)
  (local $x0 v128) (local $x1 v128) (local $x2 v128) (local $y v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128)
  (local $b0 v128) (local $b1 v128) (local $b2 v128)
  (local $c0 v128) (local $c1 v128) (local $c2 v128)
  (if (i32.eqz (local.get $tiles)) (then (return)))
  (loop $tile
    ;; a*: key 0 against rows 0..2, b*: key 1, c*: key 2.
    (local.set $a0 (v128.const i64x2 0 0)) (local.set $a1 (v128.const i64x2 0 0)) (local.set $a2 (v128.const i64x2 0 0))
    (local.set $b0 (v128.const i64x2 0 0)) (local.set $b1 (v128.const i64x2 0 0)) (local.set $b2 (v128.const i64x2 0 0))
    (local.set $c0 (v128.const i64x2 0 0)) (local.set $c1 (v128.const i64x2 0 0)) (local.set $c2 (v128.const i64x2 0 0))
    (local.set $q0 (local.get $q))
    (local.set $q1 (i32.add (local.get $q) (local.get $qrow)))
    (local.set $q2 (i32.add (local.get $q1) (local.get $qrow)))
    (local.set $k0 (local.get $k))
    (local.set $k1 (i32.add (local.get $k) (local.get $kx)))
    (local.set $k2 (i32.add (local.get $k1) (local.get $kx)))
    (local.set $i (local.get $steps))
    (if (local.get $i) (then
      (loop $step
        (local.set $x0 (v128.load (local.get $q0)))
        (local.set $x1 (v128.load (local.get $q1)))
        (local.set $x2 (v128.load (local.get $q2)))
        (local.set $y (v128.load (local.get $k0)))
        (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $x2) (local.get $y))))
        (local.set $y (v128.load (local.get $k1)))
        (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $x2) (local.get $y))))
        (local.set $y (v128.load (local.get $k2)))
        (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $x0) (local.get $y))))
        (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $x1) (local.get $y))))
        (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $x2) (local.get $y))))
        (local.set $q0 (i32.add (local.get $q0) (i32.const 16)))
        (local.set $q1 (i32.add (local.get $q1) (i32.const 16)))
        (local.set $q2 (i32.add (local.get $q2) (i32.const 16)))
        (local.set $k0 (i32.add (local.get $k0) (i32.const 16)))
        (local.set $k1 (i32.add (local.get $k1) (i32.const 16)))
        (local.set $k2 (i32.add (local.get $k2) (i32.const 16)))
        (br_if $step (local.tee $i (i32.sub (local.get $i) (i32.const 1)))))))
    ;; Each accumulator's lanes summed as (l0 + l2) + (l1 + l3), four at a time: pairs
    ;; [l0 + l2, l1 + l3] of two accumulators in one vector, then the pairs added.
    ;; Row r of key x goes to s + r·srow + x·sx.
    (local.set $p (local.get $s))
    ;; Row 0: [key 0, key 1, key 2, key 2].
    (local.set $u (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a0) (local.get $b0))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a0) (local.get $b0))))
    (local.set $w (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c0) (local.get $c0))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c0) (local.get $c0))))
    (local.set $u (f32x4.add
      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $u) (local.get $w))
      (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $u) (local.get $w))))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $u)))
    (f32.store (i32.add (local.get $p) (local.get $sx)) (f32x4.extract_lane 1 (local.get $u)))
    (f32.store (i32.add (local.get $p) (i32.shl (local.get $sx) (i32.const 1))) (f32x4.extract_lane 2 (local.get $u)))
    (local.set $p (i32.add (local.get $p) (local.get $srow)))
    ;; Row 1: [key 0, key 1, key 2, key 2].
    (local.set $u (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a1) (local.get $b1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a1) (local.get $b1))))
    (local.set $w (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c1) (local.get $c1))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c1) (local.get $c1))))
    (local.set $u (f32x4.add
      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $u) (local.get $w))
      (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $u) (local.get $w))))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $u)))
    (f32.store (i32.add (local.get $p) (local.get $sx)) (f32x4.extract_lane 1 (local.get $u)))
    (f32.store (i32.add (local.get $p) (i32.shl (local.get $sx) (i32.const 1))) (f32x4.extract_lane 2 (local.get $u)))
    (local.set $p (i32.add (local.get $p) (local.get $srow)))
    ;; Row 2: [key 0, key 1, key 2, key 2].
    (local.set $u (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $a2) (local.get $b2))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $a2) (local.get $b2))))
    (local.set $w (f32x4.add
      (i8x16.shuffle 0 1 2 3 4 5 6 7 16 17 18 19 20 21 22 23 (local.get $c2) (local.get $c2))
      (i8x16.shuffle 8 9 10 11 12 13 14 15 24 25 26 27 28 29 30 31 (local.get $c2) (local.get $c2))))
    (local.set $u (f32x4.add
      (i8x16.shuffle 0 1 2 3 8 9 10 11 16 17 18 19 24 25 26 27 (local.get $u) (local.get $w))
      (i8x16.shuffle 4 5 6 7 12 13 14 15 20 21 22 23 28 29 30 31 (local.get $u) (local.get $w))))
    (f32.store (local.get $p) (f32x4.extract_lane 0 (local.get $u)))
    (f32.store (i32.add (local.get $p) (local.get $sx)) (f32x4.extract_lane 1 (local.get $u)))
    (f32.store (i32.add (local.get $p) (i32.shl (local.get $sx) (i32.const 1))) (f32x4.extract_lane 2 (local.get $u)))
    (local.set $k (i32.add (local.get $k) (local.get $kt)))
    (local.set $s (i32.add (local.get $s) (local.get $st)))
    (br_if $tile (local.tee $tiles (i32.sub (local.get $tiles) (i32.const 1))))))

