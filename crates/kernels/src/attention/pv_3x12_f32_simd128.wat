;; The float32 P·V block of the decode kernel for a group of three query rows
;; (`pv_block_simd128::<f32, 3, 3>` in decode_float_simd128.rs), written in WebAssembly
;; text so that the engine gets it in this order. Linked into the SIMD128 module at build
;; time (scripts/link-wat.mjs); declared to Rust in crates/kernels/src/wat_simd128.rs.
;;
;; o[r][c..c+12] += Σ_j w[r][j] · v_j[c..c+12] for the three rows r: nine accumulators
;; (three rows × three vectors of four columns) stay in registers across the n keys.
;; The same products added in the same order as the Rust loop, bit for bit.
;;
;; Why text: from the Rust loop, LLVM issues a key's three value loads and three weight
;; splats before the nine multiply-adds; with the nine accumulators and a product that
;; is sixteen vectors, one more than V8 allocates on x64, so one accumulator went through
;; the stack every key (a store-to-load chain on the loop's critical path). Here each
;; row's splat sits next to its three multiply-adds: fourteen vectors live at most.
(func (export "pv3x12_f32") (param $w0 i32) (param $wrow i32) (param $v i32) (param $vstride i32) (param $n i32)
  (param $o i32) (param $orow i32)
  (local $w1 i32) (local $w2 i32) (local $o1 i32) (local $o2 i32)
  (local $v0 v128) (local $v1 v128) (local $v2 v128) (local $p v128)
  (local $a0 v128) (local $a1 v128) (local $a2 v128)
  (local $b0 v128) (local $b1 v128) (local $b2 v128)
  (local $c0 v128) (local $c1 v128) (local $c2 v128)
  (local.set $w1 (i32.add (local.get $w0) (local.get $wrow)))
  (local.set $w2 (i32.add (local.get $w1) (local.get $wrow)))
  (local.set $o1 (i32.add (local.get $o) (local.get $orow)))
  (local.set $o2 (i32.add (local.get $o1) (local.get $orow)))
  (local.set $a0 (v128.load (local.get $o)))
  (local.set $a1 (v128.load offset=16 (local.get $o)))
  (local.set $a2 (v128.load offset=32 (local.get $o)))
  (local.set $b0 (v128.load (local.get $o1)))
  (local.set $b1 (v128.load offset=16 (local.get $o1)))
  (local.set $b2 (v128.load offset=32 (local.get $o1)))
  (local.set $c0 (v128.load (local.get $o2)))
  (local.set $c1 (v128.load offset=16 (local.get $o2)))
  (local.set $c2 (v128.load offset=32 (local.get $o2)))
  (if (local.get $n) (then
    (loop $key
      (local.set $v0 (v128.load (local.get $v)))
      (local.set $v1 (v128.load offset=16 (local.get $v)))
      (local.set $v2 (v128.load offset=32 (local.get $v)))
      (local.set $p (v128.load32_splat (local.get $w0)))
      (local.set $a0 (f32x4.add (local.get $a0) (f32x4.mul (local.get $p) (local.get $v0))))
      (local.set $a1 (f32x4.add (local.get $a1) (f32x4.mul (local.get $p) (local.get $v1))))
      (local.set $a2 (f32x4.add (local.get $a2) (f32x4.mul (local.get $p) (local.get $v2))))
      (local.set $p (v128.load32_splat (local.get $w1)))
      (local.set $b0 (f32x4.add (local.get $b0) (f32x4.mul (local.get $p) (local.get $v0))))
      (local.set $b1 (f32x4.add (local.get $b1) (f32x4.mul (local.get $p) (local.get $v1))))
      (local.set $b2 (f32x4.add (local.get $b2) (f32x4.mul (local.get $p) (local.get $v2))))
      (local.set $p (v128.load32_splat (local.get $w2)))
      (local.set $c0 (f32x4.add (local.get $c0) (f32x4.mul (local.get $p) (local.get $v0))))
      (local.set $c1 (f32x4.add (local.get $c1) (f32x4.mul (local.get $p) (local.get $v1))))
      (local.set $c2 (f32x4.add (local.get $c2) (f32x4.mul (local.get $p) (local.get $v2))))
      (local.set $v (i32.add (local.get $v) (local.get $vstride)))
      (local.set $w0 (i32.add (local.get $w0) (i32.const 4)))
      (local.set $w1 (i32.add (local.get $w1) (i32.const 4)))
      (local.set $w2 (i32.add (local.get $w2) (i32.const 4)))
      (br_if $key (local.tee $n (i32.sub (local.get $n) (i32.const 1)))))))
  (v128.store (local.get $o) (local.get $a0))
  (v128.store offset=16 (local.get $o) (local.get $a1))
  (v128.store offset=32 (local.get $o) (local.get $a2))
  (v128.store (local.get $o1) (local.get $b0))
  (v128.store offset=16 (local.get $o1) (local.get $b1))
  (v128.store offset=32 (local.get $o1) (local.get $b2))
  (v128.store (local.get $o2) (local.get $c0))
  (v128.store offset=16 (local.get $o2) (local.get $c1))
  (v128.store offset=32 (local.get $o2) (local.get $c2)))
