// llama_bench.mjs: llama.cpp's speed through node-llama-cpp, measured like `frugal bench`:
// pp N = N prompt tokens in one batch; tg N = N tokens decoded one at a time.
//   node llama_bench.mjs MODEL PP TG THREADS REPS   -> one JSON line {pp, tg, variant}
// Modules: $FRUGAL_BENCH_NODE_MODULES (default bench/node_modules: a full install that keeps
// every CPU variant, AMX included) or $FRUGAL_NODE_MODULES.
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = process.env.FRUGAL_BENCH_NODE_MODULES || path.join(here, 'node_modules');
const { getLlama } = await import(pathToFileURL(createRequire(path.join(nm, 'x.js')).resolve('node-llama-cpp')).href);
const [modelPath, ppS, tgS, thS, repS] = process.argv.slice(2);
const pp = Number(ppS), tg = Number(tgS), threads = Number(thS), reps = Number(repS || 3);

// ggml logs which CPU variant it loaded ("loaded CPU backend from .../libggml-cpu-zen4.so")
let variant = null;
const logger = (level, message) => {
    const m = /libggml-cpu-([a-z0-9_]+)\.so/.exec(message);
    if (m && /load/i.test(message)) variant = m[1];
    if (level === 'error' || level === 'fatal') process.stderr.write(message + '\n');
};
const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'debug', logger, progressLogs: false, maxThreads: threads });
const model = await llama.loadModel({ modelPath, gpuLayers: 0 });
const nv = model.tokens.vocabSize ?? 1000;
const ctxSize = Math.max(pp, tg) + 16;
const context = await model.createContext({ contextSize: ctxSize, batchSize: Math.max(pp, 1), threads: { ideal: threads, min: threads } });
const seq = context.getSequence();
const ids = Array.from({ length: Math.max(pp, tg) + 1 }, (_, i) => (i * 7919 + 13) % nv);
const now = () => Number(process.hrtime.bigint()) / 1e9;

async function runPP(n) {
    await seq.clearHistory();
    const t0 = now();
    await seq.controlledEvaluate(ids.slice(0, n).map((t, i) => (i === n - 1 ? [t, { generateNext: { logits: { filter: { tokens: [0] } } } }] : t)));
    return n / (now() - t0);
}
async function runTG(n) {
    await seq.clearHistory();
    const t0 = now();
    for (let i = 0; i < n; i++) await seq.controlledEvaluate([[ids[i], { generateNext: { logits: { filter: { tokens: [0] } } } }]]);
    return n / (now() - t0);
}
const med = (a) => { const s = [...a].sort((x, y) => x - y); return s[Math.floor(s.length / 2)]; };
const out = {};
if (pp) { await runPP(Math.min(pp, 16)); const r = []; for (let i = 0; i < reps; i++) r.push(await runPP(pp)); out.pp = med(r); }
if (tg) { await runTG(Math.min(tg, 4)); const r = []; for (let i = 0; i < reps; i++) r.push(await runTG(tg)); out.tg = med(r); }
out.variant = process.env.FRUGAL_BENCH_VARIANT || variant || 'unknown';
out.peak_rss_mib = Math.round(process.resourceUsage().maxRSS / 1024);
console.log(JSON.stringify(out));
await context.dispose(); await model.dispose(); await llama.dispose();
