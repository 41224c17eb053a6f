// cmp_moe.mjs: compares MoE logits (float32, n x n_vocab: ours vs the oracle's) knowing where
// our router met a near-tie. Random-weight routers choose nearly at random, so now and then
// the k-th and (k+1)-th expert scores differ by less than the two implementations' rounding
// noise and a flipped choice changes that token's hidden state a lot (and, through
// attention, later tokens' a little). The routing trace (FRUGAL_MOE_TRACE: lines
// "layer seq pos margin experts...") gives each position's smallest routing margin.
//   node cmp_moe.mjs OURS ORACLE N TRACE --near T [--taint-after] [--max-diff X]
//                    [--min-argmax F] [--argmax-gap G] [--max-kl K] [--min-clean F]
// A position is a near-tie when its margin (router-logit units) < T in some layer. Bounds
// apply to the clean positions: not near-ties, and with --taint-after not after one either
// (attention carries a flip's effect forward). The output logits of a random model have
// near-ties too: with --argmax-gap G, argmax agreement counts only clean positions whose
// oracle top-2 logits differ by at least G (the count left out is printed). Fails when fewer
// than --min-clean (default 0.8) of the positions are clean. Prints stats over all and over
// clean positions.
import fs from 'node:fs';

const [a, b, npos, trace, ...rest] = process.argv.slice(2);
const opt = (name) => { const i = rest.indexOf(name); return i >= 0 ? Number(rest[i + 1]) : null; };
const toF32 = (buf) => new Float32Array(buf.buffer, buf.byteOffset, buf.byteLength / 4);
const x = toF32(fs.readFileSync(a)), y = toF32(fs.readFileSync(b));
const n = Number(npos), V = x.length / n;
if (x.length !== y.length || !Number.isInteger(V) || V <= 0) {
    console.log(`size mismatch: ${x.length} vs ${y.length} floats for ${n} positions`);
    process.exit(1);
}
const near = opt('--near') ?? 0;
const margin = new Array(n).fill(Infinity);
let decisions = 0;
for (const line of fs.readFileSync(trace, 'utf8').split('\n')) {
    const f = line.trim().split(/\s+/);
    if (f.length < 4) continue;
    const pos = Number(f[2]), m = Number(f[3]);
    decisions++;
    if (pos >= 0 && pos < n && m < margin[pos]) margin[pos] = m;
}
const taintAfter = rest.includes('--taint-after');
const clean = new Array(n);
let tainted = false, nNear = 0;
for (let i = 0; i < n; i++) {
    const isNear = margin[i] < near;
    if (isNear) nNear++;
    tainted = taintAfter ? tainted || isNear : isNear;
    clean[i] = !tainted;
}
const gapMin = opt('--argmax-gap') ?? 0;
function stats(sel) {
    let maxDiff = 0, agree = 0, klSum = 0, cnt = 0, cntAm = 0;
    for (let i = 0; i < n; i++) {
        if (!sel(i)) continue;
        cnt++;
        const xs = x.subarray(i * V, (i + 1) * V), ys = y.subarray(i * V, (i + 1) * V);
        let ax = 0, ay = 0;
        for (let j = 0; j < V; j++) {
            const d = Math.abs(xs[j] - ys[j]);
            if (!(d <= maxDiff)) maxDiff = Number.isNaN(d) ? Infinity : d;
            if (xs[j] > xs[ax]) ax = j;
            if (ys[j] > ys[ay]) ay = j;
        }
        let second = -Infinity;
        for (let j = 0; j < V; j++) if (j !== ay && ys[j] > second) second = ys[j];
        if (ys[ay] - second >= gapMin) {
            cntAm++;
            if (ax === ay) agree++;
        }
        let sx = 0, sy = 0;
        for (let j = 0; j < V; j++) { sx += Math.exp(xs[j] - xs[ax]); sy += Math.exp(ys[j] - ys[ay]); }
        const lzx = xs[ax] + Math.log(sx), lzy = ys[ay] + Math.log(sy);
        let kl = 0;
        for (let j = 0; j < V; j++) {
            const lp = ys[j] - lzy, lq = xs[j] - lzx; // p = oracle, q = ours
            kl += Math.exp(lp) * (lp - lq);
        }
        klSum += kl;
    }
    return { cnt, cntAm, maxDiff, argmax: cntAm ? agree / cntAm : 1, kl: cnt ? klSum / cnt : 0 };
}
const all = stats(() => true), cl = stats((i) => clean[i]);
const fmt = (s) => `max|diff| ${s.maxDiff.toExponential(3)}, argmax ${(100 * s.argmax).toFixed(1)}%` +
    (s.cntAm < s.cnt ? ` (${s.cnt - s.cntAm} with top-2 gap < ${gapMin} not counted)` : '') +
    `, mean KL ${s.kl.toExponential(3)}`;
let ok = true;
const md = opt('--max-diff'), ma = opt('--min-argmax'), mk = opt('--max-kl'), mc = opt('--min-clean') ?? 0.8;
if (md !== null && !(cl.maxDiff <= md)) ok = false;
if (ma !== null && !(cl.argmax >= ma)) ok = false;
if (mk !== null && !(cl.kl <= mk)) ok = false;
if (!(cl.cnt >= mc * n)) ok = false;
let minM = Infinity;
for (const m of margin) minM = Math.min(minM, m);
console.log(`positions ${n}, routing decisions ${decisions}, near-tie positions ${nNear} (margin < ${near}, ` +
    `min margin ${minM.toExponential(2)}); all: ${fmt(all)}; clean ${cl.cnt}: ${fmt(cl)}`);
process.exit(ok ? 0 : 1);
