;; The float32 main loop of the gemv row-dot tile (`dot4_simd128` in tile_simd128.rs),
;; written in WebAssembly text so that the engine gets it in this order. Linked into
;; the SIMD128 module at build time (scripts/link-wat.mjs); declared to Rust in
;; crates/kernels/src/wat_simd128.rs.
;;
;; Four weight rows against one activation row, eight columns a step, two accumulators
;; per row (even and odd groups of four columns): the same products added in the same
;; order as the Rust loop it replaces, so the results are bit for bit the same.
;;
;; Why text: from the Rust loop, LLVM puts a step's ten loads ahead of its arithmetic and
;; V8 keeps that order, so ten loaded vectors and eight accumulators outrun x64's sixteen
;; vector registers and three of them go through the stack every step; each row's
;; address is also recomputed from the column index. Here each row's two loads sit next
;; to their multiply-adds (eleven vectors live at most) and each pointer steps by 32
;; bytes with the second load's +16 as the load's offset.
(func (export "dot4_f32") (param $x i32) (param $w0 i32) (param $w1 i32) (param $w2 i32) (param $w3 i32)
  (param $steps i32) (param $out i32)
  (local $x0 v128) (local $x1 v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128) (local $a3 v128)
  (local $b0 v128) (local $b1 v128) (local $b2 v128) (local $b3 v128)
  (if (local.get $steps) (then
    (loop $step
      (local.set $x0 (v128.load (local.get $x)))
      (local.set $x1 (v128.load offset=16 (local.get $x)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (v128.load (local.get $w0)) (local.get $x0))))
      (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (v128.load offset=16 (local.get $w0)) (local.get $x1))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (v128.load (local.get $w1)) (local.get $x0))))
      (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (v128.load offset=16 (local.get $w1)) (local.get $x1))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (v128.load (local.get $w2)) (local.get $x0))))
      (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (v128.load offset=16 (local.get $w2)) (local.get $x1))))
      (local.set $a3 (f32x4.add (local.get $a3) (f32x4.mul (v128.load (local.get $w3)) (local.get $x0))))
      (local.set $b3 (f32x4.add (local.get $b3) (f32x4.mul (v128.load offset=16 (local.get $w3)) (local.get $x1))))
      (local.set $x (i32.add (local.get $x) (i32.const 32)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 32)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 32)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 32)))
      (local.set $w3 (i32.add (local.get $w3) (i32.const 32)))
      (br_if $step (local.tee $steps (i32.sub (local.get $steps) (i32.const 1)))))))
  ;; out: a0 b0 a1 b1 a2 b2 a3 b3
  (v128.store (local.get $out) (local.get $a0))
  (v128.store offset=16 (local.get $out) (local.get $b0))
  (v128.store offset=32 (local.get $out) (local.get $a1))
  (v128.store offset=48 (local.get $out) (local.get $b1))
  (v128.store offset=64 (local.get $out) (local.get $a2))
  (v128.store offset=80 (local.get $out) (local.get $b2))
  (v128.store offset=96 (local.get $out) (local.get $a3))
  (v128.store offset=112 (local.get $out) (local.get $b3)))
