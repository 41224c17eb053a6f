// llama_oracle.mjs: llama.cpp (through node-llama-cpp) as the independent oracle.
//   node llama_oracle.mjs logits MODEL IDS OUT [--kv f32|f16] [--threads N]
//       writes float32 logits of every position (n x n_vocab), like `frugal logits`
//   node llama_oracle.mjs greedy MODEL IDS N [--kv f32|f16]
//       prints N greedy token ids (space separated) after the prompt IDS
//   node llama_oracle.mjs tokenize MODEL TEXTFILE [--special]
//       prints token ids of the file's text
// IDS is a comma-separated list. Modules come from $FRUGAL_NODE_MODULES
// (default: tests/oracle/node_modules).
import { createRequire } from 'node:module';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = process.env.FRUGAL_NODE_MODULES || path.join(here, 'node_modules');
const entry = createRequire(path.join(nm, 'x.js')).resolve('node-llama-cpp');
const { getLlama } = await import(pathToFileURL(entry).href);

const [cmd, modelPath, a3, a4, ...rest] = process.argv.slice(2);
const opt = (name, def) => {
    const i = rest.indexOf(name);
    return i >= 0 ? rest[i + 1] : def;
};
const kv = (opt('--kv', 'f16')).toUpperCase();
const threads = Number(opt('--threads', '2'));

const llama = await getLlama({ gpu: false, build: 'never', logLevel: 'error', progressLogs: false });
const model = await llama.loadModel({ modelPath, gpuLayers: 0, vocabOnly: cmd === 'tokenize' });

if (cmd === 'tokenize') {
    const text = fs.readFileSync(a3, 'utf8');
    const ids = model.tokenize(text, rest.includes('--special'));
    process.stdout.write(Array.from(ids).join(' ') + '\n');
    process.exit(0);
}

const ids = a3.split(',').map(Number);
const nGen = cmd === 'greedy' ? Number(a4) : 0;
const ctxSize = Math.max(64, ids.length + nGen + 8);
const context = await model.createContext({
    contextSize: ctxSize, batchSize: ctxSize, threads, flashAttention: false,
    experimentalKvCacheKeyType: kv, experimentalKvCacheValueType: kv,
});
const seq = context.getSequence();

if (cmd === 'logits') {
    const input = ids.map((t) => [t, { generateNext: { logits: true } }]);
    const res = await seq.controlledEvaluate(input);
    const nVocab = res[0]?.next?.logits?.size; // the full logits map holds every token
    if (!nVocab) throw new Error('no logits from the oracle');
    const out = new Float32Array(ids.length * nVocab);
    for (let i = 0; i < ids.length; i++) {
        const m = res[i]?.next?.logits;
        if (!m) throw new Error(`no logits for position ${i}`);
        for (const [tok, v] of m) out[i * nVocab + tok] = v;
    }
    fs.writeFileSync(a4, Buffer.from(out.buffer));
} else if (cmd === 'greedy') {
    let input = ids.map((t, i) => (i === ids.length - 1 ? [t, { generateNext: { logits: true } }] : t));
    const gen = [];
    for (let k = 0; k < nGen; k++) {
        const res = await seq.controlledEvaluate(input);
        const m = res[input.length - 1].next.logits;
        let best = -1, bv = -Infinity;
        for (const [tok, v] of m) if (v > bv || (v === bv && tok < best)) { bv = v; best = tok; }
        gen.push(best);
        input = [[best, { generateNext: { logits: true } }]];
    }
    process.stdout.write(gen.join(' ') + '\n');
} else {
    throw new Error(`unknown command ${cmd}`);
}
await context.dispose();
await model.dispose();
await llama.dispose();
