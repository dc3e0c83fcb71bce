//! Fused attention and attention_probs against a float64 reference.
mod common;
use common::{assert_close, ref_attention, RefOpts, Rng, Strides};
use kernels::attention::{attention_forward, attention_probs, Layout, Options, Shape};
use kernels::Mask;

struct Problem {
    shape: Shape,
    q: Vec<f32>,
    k: Vec<f32>,
    v: Vec<f32>,
    ql: Layout,
    kl: Layout,
    vl: Layout,
    ol: Layout,
    out_len: usize,
}

/// Random problem; `interleaved` stores tensors as `[B, L, H, D + 3]` (row stride
/// skips the other heads and 3 padding values), otherwise contiguous `[B, H, L, D]`.
fn problem(rng: &mut Rng, dims: [usize; 7], interleaved: bool) -> Problem {
    let [b, hq, hkv, lq, lk, d, dv] = dims;
    let lay = |h: usize, l: usize, w: usize| {
        if interleaved {
            Layout { batch: l * h * (w + 3), head: w + 3, row: h * (w + 3) }
        } else {
            Layout::contiguous(h, l, w)
        }
    };
    let (ql, kl, vl, ol) = (lay(hq, lq, d), lay(hkv, lk, d), lay(hkv, lk, dv), lay(hq, lq, dv));
    Problem {
        shape: Shape { batch: b, heads_q: hq, heads_kv: hkv, len_q: lq, len_k: lk, head_dim: d, value_dim: dv },
        q: rng.vec(b * ql.batch, 1.5),
        k: rng.vec(b * kl.batch, 1.5),
        v: rng.vec(b * vl.batch, 1.0),
        ql,
        kl,
        vl,
        ol,
        out_len: b * ol.batch,
    }
}

fn strides(l: Layout) -> Strides {
    [l.batch, l.head, l.row]
}

/// Runs forward (checking out and lse) and probs for a range of rows with and
/// without lse (checking against the reference weights and row sums).
fn check(name: &str, p: &Problem, opts: &Options, r: &RefOpts) {
    let s = p.shape;
    let dims = [s.batch, s.heads_q, s.heads_kv, s.len_q, s.len_k, s.head_dim, s.value_dim];
    let want = ref_attention(dims, &p.q, strides(p.ql), &p.k, strides(p.kl), &p.v, strides(p.vl), r);
    let mut out = vec![f32::NAN; p.out_len];
    let mut lse = vec![f32::NAN; s.batch * s.heads_q * s.len_q];
    attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut out, p.ol, Some(&mut lse), s, opts);
    let mut got = Vec::with_capacity(want.out.len());
    for b in 0..s.batch {
        for h in 0..s.heads_q {
            for i in 0..s.len_q {
                let o = p.ol.offset(b, h, i);
                got.extend_from_slice(&out[o..o + s.value_dim]);
            }
        }
    }
    assert_close(&format!("{}: out", name), &got, &want.out, 2e-6, 2e-5);
    assert_close(&format!("{}: lse", name), &lse, &want.lse, 2e-6, 2e-6);

    let rs = s.len_q / 3;
    let rc = (s.len_q - rs).min(70);
    let n = s.batch * s.heads_q * rc * s.len_k;
    let mut wref = Vec::with_capacity(n);
    for bh in 0..s.batch * s.heads_q {
        for i in rs..rs + rc {
            wref.extend_from_slice(&want.probs[(bh * s.len_q + i) * s.len_k..(bh * s.len_q + i + 1) * s.len_k]);
        }
    }
    for &with_lse in &[true, false] {
        let mut w = vec![f32::NAN; n];
        let l = if with_lse { Some(&lse[..]) } else { None };
        attention_probs(&p.q, p.ql, &p.k, p.kl, l, s, opts, rs, rc, &mut w);
        assert_close(&format!("{}: probs (lse given: {})", name, with_lse), &w, &wref, 1e-7, 2e-5);
        if r.sinks.is_none() && s.len_k > 0 {
            for (row, wr) in w.chunks(s.len_k).zip(wref.chunks(s.len_k)) {
                let sum: f64 = row.iter().map(|&x| x as f64).sum();
                let blocked = wr.iter().all(|&x| x == 0.0);
                let target = if blocked { 0.0 } else { 1.0 };
                assert!((sum - target).abs() < 1e-5, "{}: probs row sums to {}", name, sum);
            }
        }
    }
}

fn opts_pair<'a>(scale: f32) -> (Options<'a>, RefOpts) {
    (Options::new(scale), RefOpts::new(scale as f64))
}

#[test]
fn plain_and_causal_awkward_sizes() {
    let mut rng = Rng::new(20);
    let lens = [1usize, 3, 17, 63, 65, 129];
    let ds = [(1usize, 8usize), (8, 5), (64, 64), (80, 3), (128, 128)];
    let mut n = 0;
    for &lq in &lens {
        for &lk in &lens {
            let (d, dv) = ds[n % ds.len()];
            let dims = [1 + n % 2, 2, 1 + n % 2, lq, lk, d, dv];
            let p = problem(&mut rng, dims, n % 3 == 0);
            let scale = 1.0 / (d as f32).sqrt();
            let (o, r) = opts_pair(scale);
            check(&format!("plain {:?}", dims), &p, &o, &r);
            let (mut o, mut r) = opts_pair(scale);
            o.causal = true;
            r.causal = true;
            check(&format!("causal {:?}", dims), &p, &o, &r);
            n += 1;
        }
    }
}

#[test]
fn gqa_equals_repeated_kv() {
    let mut rng = Rng::new(21);
    let (b, hq, hkv, l, d) = (2, 6, 2, 40, 16);
    let p = problem(&mut rng, [b, hq, hkv, l, l, d, d], false);
    let mut o = Options::new(0.25);
    o.causal = true;
    let mut out = vec![0.0; p.out_len];
    attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut out, p.ol, None, p.shape, &o);
    // Repeat each kv head g times and run as plain multi-head attention.
    let g = hq / hkv;
    let rep = |x: &[f32]| {
        let mut r = Vec::new();
        for bb in 0..b {
            for h in 0..hq {
                let s = (bb * hkv + h / g) * l * d;
                r.extend_from_slice(&x[s..s + l * d]);
            }
        }
        r
    };
    let (k2, v2) = (rep(&p.k), rep(&p.v));
    let lay = Layout::contiguous(hq, l, d);
    let mut shape = p.shape;
    shape.heads_kv = hq;
    let mut out2 = vec![0.0; p.out_len];
    attention_forward(&p.q, p.ql, &k2, lay, &v2, lay, &mut out2, p.ol, None, shape, &o);
    assert_eq!(out, out2);
}

#[test]
fn each_option() {
    let mut rng = Rng::new(22);
    let dims = [2usize, 4, 2, 70, 130, 24, 20];
    let (b, lq, lk) = (dims[0], dims[3], dims[4]);
    let slopes = vec![0.5f32, 0.25, 0.125, 0.0625];
    let sinks = vec![0.5f32, -1.0, 2.0, 0.0];
    let mut mask = rng.vec(b * lq * lk, 2.0);
    mask.iter_mut().step_by(7).for_each(|x| *x = f32::NEG_INFINITY);
    let mut rows_blocked = vec![0.0f32; lq * lk];
    for i in (0..lq).step_by(5) {
        rows_blocked[i * lk..(i + 1) * lk].iter_mut().for_each(|x| *x = f32::NEG_INFINITY);
    }
    let m_bij = [lq * lk, 0, lk, 1];
    for &interleaved in &[false, true] {
        let p = problem(&mut rng, dims, interleaved);
        type Setup<'a> = (&'a str, Box<dyn Fn(&mut Options<'a>, &mut RefOpts) + 'a>);
        // One case a line: the option, then the same option for the reference.
        #[rustfmt::skip]
        let cases: Vec<Setup> = vec![
            ("window", Box::new(|o, r| { o.window = Some((10, 5)); r.window = o.window; })),
            ("window+causal", Box::new(|o, r| { o.causal = true; r.causal = true; o.window = Some((40, 0)); r.window = o.window; })),
            ("window huge", Box::new(|o, r| { o.window = Some((0, usize::MAX)); r.window = Some((0, 1 << 30)); })),
            ("softcap", Box::new(|o, r| { o.softcap = 2.0; r.softcap = 2.0; })),
            ("alibi+causal", Box::new(|o, r| { o.causal = true; r.causal = true; o.alibi_slopes = Some(&slopes); r.alibi = Some(slopes.clone()); })),
            ("sinks", Box::new(|o, r| { o.sinks = Some(&sinks); r.sinks = Some(sinks.clone()); })),
            ("sinks+tiny window", Box::new(|o, r| { o.causal = true; r.causal = true; o.window = Some((3, 0)); r.window = o.window; o.sinks = Some(&sinks); r.sinks = Some(sinks.clone()); })),
            ("mask [B,1,Lq,Lk]", Box::new(|o, r| { o.mask = Some(Mask { data: &mask, strides: m_bij }); r.mask = Some((mask.clone(), m_bij)); })),
            ("mask blocking rows", Box::new(|o, r| { let st = [0, 0, lk, 1]; o.mask = Some(Mask { data: &rows_blocked, strides: st }); r.mask = Some((rows_blocked.clone(), st)); })),
            ("key mask + causal", Box::new(|o, r| { let st = [0, 0, 0, 1]; o.causal = true; r.causal = true; o.mask = Some(Mask { data: &mask[..lk], strides: st }); r.mask = Some((mask[..lk].to_vec(), st)); })),
            ("causal offset 0 (top-left)", Box::new(|o, r| { o.causal = true; r.causal = true; o.causal_offset = Some(0); r.offset = Some(0); })),
            ("causal offset 30 + window", Box::new(|o, r| { o.causal = true; r.causal = true; o.causal_offset = Some(30); r.offset = Some(30); o.window = Some((20, 0)); r.window = o.window; })),
            ("causal offset -5 + alibi", Box::new(|o, r| { o.causal = true; r.causal = true; o.causal_offset = Some(-5); r.offset = Some(-5); o.alibi_slopes = Some(&slopes); r.alibi = Some(slopes.clone()); })),
            ("offset past the keys, window both ways", Box::new(|o, r| { o.causal_offset = Some(200); r.offset = Some(200); o.window = Some((100, 3)); r.window = o.window; o.softcap = 3.0; r.softcap = 3.0; })),
            ("everything", Box::new(|o, r| {
                o.causal = true; r.causal = true; o.window = Some((50, 0)); r.window = o.window;
                o.softcap = 5.0; r.softcap = 5.0; o.alibi_slopes = Some(&slopes); r.alibi = Some(slopes.clone());
                o.sinks = Some(&sinks); r.sinks = Some(sinks.clone());
                o.mask = Some(Mask { data: &mask, strides: m_bij }); r.mask = Some((mask.clone(), m_bij));
            })),
        ];
        for (name, set) in &cases {
            let (mut o, mut r) = opts_pair(0.3);
            set(&mut o, &mut r);
            check(&format!("{} (interleaved: {})", name, interleaved), &p, &o, &r);
        }
    }
}

#[test]
fn fully_blocked_rows() {
    let mut rng = Rng::new(23);
    // Causal with len_q > len_k: the first len_q − len_k rows see no key.
    let p = problem(&mut rng, [1, 2, 2, 100, 37, 16, 16], false);
    let mut o = Options::new(0.25);
    o.causal = true;
    let mut out = vec![f32::NAN; p.out_len];
    let mut lse = vec![0.0; 200];
    attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut out, p.ol, Some(&mut lse), p.shape, &o);
    for h in 0..2 {
        for i in 0..100 {
            let l = lse[h * 100 + i];
            let row = &out[(h * 100 + i) * 16..(h * 100 + i + 1) * 16];
            if i < 63 {
                assert_eq!(l, f32::NEG_INFINITY, "row {} lse", i);
                assert!(row.iter().all(|&x| x == 0.0), "row {} not zero", i);
            } else {
                assert!(l.is_finite());
            }
        }
    }
    let mut r = RefOpts::new(0.25);
    r.causal = true;
    check("causal len_q > len_k", &p, &o, &r);
    // No keys at all, and no values.
    let p = problem(&mut rng, [1, 1, 1, 5, 0, 8, 8], false);
    check("len_k = 0", &p, &Options::new(0.5), &RefOpts::new(0.5));
    let p = problem(&mut rng, [1, 1, 1, 5, 9, 8, 0], false);
    check("value_dim = 0", &p, &Options::new(0.5), &RefOpts::new(0.5));
}

#[test]
fn nan_query_poisons_only_its_row() {
    let mut rng = Rng::new(24);
    let mut p = problem(&mut rng, [1, 1, 1, 9, 20, 8, 8], false);
    p.q[3 * 8 + 2] = f32::NAN;
    let mut out = vec![0.0; p.out_len];
    attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut out, p.ol, None, p.shape, &Options::new(0.3));
    for i in 0..9 {
        let nan = out[i * 8..(i + 1) * 8].iter().any(|x| x.is_nan());
        assert_eq!(nan, i == 3, "row {}", i);
    }
}

#[test]
fn long_causal_sequence() {
    let mut rng = Rng::new(25);
    let p = problem(&mut rng, [1, 2, 1, 300, 300, 64, 64], true);
    let (mut o, mut r) = opts_pair(0.125);
    o.causal = true;
    r.causal = true;
    check("causal 300 interleaved", &p, &o, &r);
}

#[test]
fn short_queries_share_tiles_across_gqa_heads() {
    // len_q < BLOCK_Q: the heads of a group run as rows of one tile, so every per-head
    // option (ALiBi slope, sink, mask head stride) must follow its row's head.
    let mut rng = Rng::new(26);
    for &(lq, lk, interleaved) in &[(1usize, 77usize, false), (5, 77, true), (20, 40, false)] {
        let dims = [2usize, 8, 2, lq, lk, 16, 12];
        let p = problem(&mut rng, dims, interleaved);
        let slopes: Vec<f32> = (0..8).map(|h| 0.05 * (h + 1) as f32).collect();
        let sinks: Vec<f32> = (0..8).map(|h| h as f32 * 0.4 - 1.0).collect();
        let st = [8 * lq * lk, lq * lk, lk, 1];
        let mut mask = rng.vec(2 * 8 * lq * lk, 1.0);
        mask.iter_mut().step_by(5).for_each(|x| *x = f32::NEG_INFINITY);
        let (mut o, mut r) = opts_pair(0.3);
        o.causal = true;
        r.causal = true;
        check(&format!("causal decode-like lq={} lk={}", lq, lk), &p, &o, &r);
        o.window = Some((30, 0));
        r.window = o.window;
        o.alibi_slopes = Some(&slopes);
        r.alibi = Some(slopes.clone());
        o.sinks = Some(&sinks);
        r.sinks = Some(sinks.clone());
        o.mask = Some(Mask { data: &mask, strides: st });
        r.mask = Some((mask.clone(), st));
        o.softcap = 4.0;
        r.softcap = 4.0;
        check(&format!("all options decode-like lq={} lk={}", lq, lk), &p, &o, &r);
    }
}

#[test]
fn chunked_prefill_with_causal_offset_equals_one_call() {
    // Causal attention over 150 positions computed in chunks of 40 query rows, each
    // chunk attending to every key so far (offset = the chunk's first position), must
    // equal the one-call result row for row.
    let mut rng = Rng::new(27);
    let p = problem(&mut rng, [1, 4, 2, 150, 150, 32, 32], false);
    let mut o = Options::new(0.2);
    o.causal = true;
    let mut full = vec![0.0; p.out_len];
    attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut full, p.ol, None, p.shape, &o);
    for start in (0..150).step_by(40) {
        let n = 40.min(150 - start);
        let mut shape = p.shape;
        shape.len_q = n;
        let mut oc = o;
        oc.causal_offset = Some(start as isize);
        let mut out = vec![0.0; 4 * n * 32];
        let ol = Layout::contiguous(4, n, 32);
        attention_forward(&p.q[start * 32..], p.ql, &p.k, p.kl, &p.v, p.vl, &mut out, ol, None, shape, &oc);
        for h in 0..4 {
            for i in 0..n {
                let a = &out[ol.offset(0, h, i)..ol.offset(0, h, i) + 32];
                let b = &full[p.ol.offset(0, h, start + i)..p.ol.offset(0, h, start + i) + 32];
                for (x, y) in a.iter().zip(b) {
                    assert!((x - y).abs() <= 1e-6, "chunk {} head {} row {}: {} vs {}", start, h, i, x, y);
                }
            }
        }
    }
}

/// Every option on decode-sized problems: the decode kernel (through `attention_forward`)
/// equals the tiled kernel within 1e-6, and both match the float64 reference (`check`).
#[test]
fn decode_equals_tiled_for_every_option() {
    use kernels::attention::attention_tiled;
    let mut rng = Rng::new(30);
    let shapes: [[usize; 7]; 6] = [
        [1, 1, 1, 1, 1, 8, 8],
        [1, 4, 1, 1, 300, 64, 64],
        [2, 8, 2, 2, 517, 20, 13],
        [1, 12, 12, 1, 1030, 64, 64],
        [1, 32, 8, 1, 700, 128, 128],
        [1, 3, 1, 5, 260, 7, 5],
    ];
    for (n, &dims) in shapes.iter().enumerate() {
        let p = problem(&mut rng, dims, n % 2 == 1);
        let s = p.shape;
        let (hq, lq, lk) = (s.heads_q, s.len_q, s.len_k);
        let slopes: Vec<f32> = (0..hq).map(|h| 0.02 * (h + 1) as f32).collect();
        let sinks: Vec<f32> = (0..hq).map(|h| h as f32 * 0.3 - 1.0).collect();
        let st = [hq * lq * lk, lq * lk, lk, 1];
        let mut mask = rng.vec(s.batch * hq * lq * lk, 1.0);
        mask.iter_mut().step_by(6).for_each(|x| *x = f32::NEG_INFINITY);
        type Setup<'a> = (&'a str, Box<dyn Fn(&mut Options<'a>, &mut RefOpts) + 'a>);
        // One case a line: the option, then the same option for the reference.
        #[rustfmt::skip]
        let cases: Vec<Setup> = vec![
            ("plain", Box::new(|_, _| {})),
            ("causal", Box::new(|o, r| { o.causal = true; r.causal = true; })),
            ("causal offset 100 + window", Box::new(|o, r| { o.causal = true; r.causal = true; o.causal_offset = Some(100); r.offset = Some(100); o.window = Some((60, 0)); r.window = o.window; })),
            ("window both sides", Box::new(|o, r| { o.window = Some((40, 7)); r.window = o.window; o.causal_offset = Some(50); r.offset = Some(50); })),
            ("softcap", Box::new(|o, r| { o.softcap = 1.5; r.softcap = 1.5; })),
            ("alibi + causal", Box::new(|o, r| { o.causal = true; r.causal = true; o.alibi_slopes = Some(&slopes); r.alibi = Some(slopes.clone()); })),
            ("sinks", Box::new(|o, r| { o.sinks = Some(&sinks); r.sinks = Some(sinks.clone()); })),
            ("mask", Box::new(|o, r| { o.mask = Some(Mask { data: &mask, strides: st }); r.mask = Some((mask.clone(), st)); })),
            ("blocked (offset before every key)", Box::new(|o, r| { o.causal = true; r.causal = true; o.causal_offset = Some(-10); r.offset = Some(-10); })),
            ("everything", Box::new(|o, r| {
                o.causal = true; r.causal = true; o.window = Some((200, 0)); r.window = o.window;
                o.softcap = 5.0; r.softcap = 5.0; o.alibi_slopes = Some(&slopes); r.alibi = Some(slopes.clone());
                o.sinks = Some(&sinks); r.sinks = Some(sinks.clone());
                o.mask = Some(Mask { data: &mask, strides: st }); r.mask = Some((mask.clone(), st));
            })),
        ];
        for (name, set) in &cases {
            let (mut o, mut r) = opts_pair(1.0 / (s.head_dim as f32).sqrt());
            set(&mut o, &mut r);
            let label = format!("{} {:?}", name, dims);
            check(&label, &p, &o, &r);
            let mut a = vec![0.0; p.out_len];
            let mut b = vec![0.0; p.out_len];
            let mut la = vec![0.0; s.batch * hq * lq];
            let mut lb = la.clone();
            attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut a, p.ol, Some(&mut la), s, &o);
            attention_tiled(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut b, p.ol, Some(&mut lb), s, &o);
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert!((x - y).abs() <= 1e-6, "{}: decode {} vs tiled {} at {}", label, x, y, i);
            }
            for (i, (x, y)) in la.iter().zip(&lb).enumerate() {
                assert!(
                    x == y || (x - y).abs() <= 1e-6 * y.abs().max(1.0),
                    "{}: lse decode {} vs tiled {} at {}",
                    label,
                    x,
                    y,
                    i
                );
            }
        }
    }
}

/// `cold_kv` (K/V from memory: the streaming order at any size) gives the cached order's
/// results within 1e-6 and the float64 reference's, at every size a decoding step meets:
/// one key, fewer keys than a score tile, chunk boundaries (of both chunk lengths), one to
/// sixteen query rows, groups of three with D and Dv off a multiple of four.
#[test]
fn decode_cold_kv_order_equals_the_cached_order() {
    let mut rng = Rng::new(32);
    let shapes: [[usize; 7]; 11] = [
        [1, 6, 2, 1, 1027, 18, 10],
        [1, 3, 1, 1, 2500, 64, 64],
        [1, 3, 1, 1, 7, 64, 64],
        [1, 1, 1, 1, 1, 8, 8],
        [1, 2, 1, 1, 3, 16, 16],
        [1, 9, 3, 1, 127, 64, 64],
        [1, 9, 3, 1, 1024, 64, 64],
        [1, 4, 1, 1, 257, 20, 13],
        [2, 8, 2, 2, 513, 32, 32],
        [1, 16, 1, 1, 300, 7, 5],
        [1, 12, 12, 1, 5, 64, 64],
    ];
    for (n, &dims) in shapes.iter().enumerate() {
        let p = problem(&mut rng, dims, n % 2 == 1);
        let s = p.shape;
        for causal in [false, true] {
            let (mut o, mut r) = opts_pair(1.0 / (s.head_dim as f32).sqrt());
            o.causal = causal;
            r.causal = causal;
            let label = format!("causal {} {:?}", causal, dims);
            let mut cold = o;
            cold.cold_kv = true;
            check(&format!("cold {}", label), &p, &cold, &r);
            let mut a = vec![0.0; p.out_len];
            let mut b = vec![0.0; p.out_len];
            attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut a, p.ol, None, s, &cold);
            attention_forward(&p.q, p.ql, &p.k, p.kl, &p.v, p.vl, &mut b, p.ol, None, s, &o);
            for (i, (x, y)) in a.iter().zip(&b).enumerate() {
                assert!((x - y).abs() <= 1e-6, "{}: cold {} vs cached {} at {}", label, x, y, i);
            }
        }
    }
}

/// Storage dtypes: each kernel path on f16/bf16/int8 operands equals the float64
/// reference computed from the widened (dequantised) values.
#[test]
fn stored_dtypes_match_the_reference_on_their_values() {
    use kernels::attention::{attention_forward_elems, Elems, RowScales};
    use kernels::dtype::{bf16_to_f32, f16_to_f32, f32_to_bf16, f32_to_f16, quantize_i8, F16Finite, BF16, F16};
    let mut rng = Rng::new(31);
    for &dims in &[[1usize, 8, 2, 1, 333, 64, 64], [1, 4, 4, 1, 70, 19, 9], [1, 2, 1, 40, 90, 16, 16]] {
        let p = problem(&mut rng, dims, false);
        let s = p.shape;
        let (mut o, mut r) = opts_pair(0.125);
        o.causal = true;
        r.causal = true;
        let f16: Vec<F16> = p.k.iter().map(|&x| F16(f32_to_f16(x))).collect();
        let v16: Vec<F16> = p.v.iter().map(|&x| F16(f32_to_f16(x))).collect();
        let f16f: Vec<F16Finite> = f16.iter().map(|h| F16Finite(h.0)).collect();
        let v16f: Vec<F16Finite> = v16.iter().map(|h| F16Finite(h.0)).collect();
        let q16: Vec<BF16> = p.q.iter().map(|&x| BF16(f32_to_bf16(x))).collect();
        let kb: Vec<BF16> = p.k.iter().map(|&x| BF16(f32_to_bf16(x))).collect();
        let vb: Vec<BF16> = p.v.iter().map(|&x| BF16(f32_to_bf16(x))).collect();
        // int8: one scale per (head, row).
        let quant = |x: &[f32], w: usize| {
            let rows = x.len() / w;
            let mut c = vec![0i8; x.len()];
            let sc: Vec<f32> =
                (0..rows).map(|j| quantize_i8(&x[j * w..(j + 1) * w], &mut c[j * w..(j + 1) * w])).collect();
            let deq: Vec<f32> = c.iter().enumerate().map(|(i, &q)| q as f32 * sc[i / w]).collect();
            (c, sc, deq)
        };
        let (kc, ksc, kdq) = quant(&p.k, s.head_dim);
        let (vc, vsc, vdq) = quant(&p.v, s.value_dim);
        let sl = Layout { batch: s.heads_kv * s.len_k, head: s.len_k, row: 1 };
        let dims7 = [s.batch, s.heads_q, s.heads_kv, s.len_q, s.len_k, s.head_dim, s.value_dim];
        let wid16 = |x: &[F16]| x.iter().map(|h| f16_to_f32(h.0)).collect::<Vec<f32>>();
        let widb = |x: &[BF16]| x.iter().map(|h| bf16_to_f32(h.0)).collect::<Vec<f32>>();
        // name, q, k, v as stored, and the float32 values of q, k, v for the reference.
        type Case<'a> = (&'a str, Elems<'a>, Elems<'a>, Elems<'a>, Vec<f32>, Vec<f32>, Vec<f32>);
        let cases: Vec<Case> = vec![
            ("f16 kv", Elems::F32(&p.q), Elems::F16(&f16), Elems::F16(&v16), p.q.clone(), wid16(&f16), wid16(&v16)),
            (
                "f16 finite kv",
                Elems::F32(&p.q),
                Elems::F16Finite(&f16f),
                Elems::F16Finite(&v16f),
                p.q.clone(),
                wid16(&f16),
                wid16(&v16),
            ),
            ("bf16 q k v", Elems::BF16(&q16), Elems::BF16(&kb), Elems::BF16(&vb), widb(&q16), widb(&kb), widb(&vb)),
            (
                "int8 kv",
                Elems::F32(&p.q),
                Elems::I8(&kc, RowScales { data: &ksc, layout: sl }),
                Elems::I8(&vc, RowScales { data: &vsc, layout: sl }),
                p.q.clone(),
                kdq.clone(),
                vdq.clone(),
            ),
        ];
        for (name, q, k, v, qf, kf, vf) in cases {
            let want = ref_attention(dims7, &qf, strides(p.ql), &kf, strides(p.kl), &vf, strides(p.vl), &r);
            let mut out = vec![f32::NAN; p.out_len];
            let mut lse = vec![f32::NAN; s.batch * s.heads_q * s.len_q];
            attention_forward_elems(q, p.ql, k, p.kl, v, p.vl, &mut out, p.ol, Some(&mut lse), s, &o);
            // int8 decoding takes integer dot products: queries and softmax weights are
            // rounded to int16 (steps of 1/32767 of a row's largest query element and of a
            // chunk's largest weight), so its outputs move by about √n·step/√12·max|v|
            // from the reference on the dequantised values (≈1e-5 here), not by f32 rounding.
            let (atol, rtol) =
                if name == "int8 kv" && s.len_q * (s.heads_q / s.heads_kv) <= 16 { (3e-5, 2e-4) } else { (2e-6, 2e-5) };
            assert_close(&format!("{} {:?}: out", name, dims), &out, &want.out, atol, rtol);
            assert_close(&format!("{} {:?}: lse", name, dims), &lse, &want.lse, atol, rtol.min(2e-5).max(2e-6));
        }
    }
}
