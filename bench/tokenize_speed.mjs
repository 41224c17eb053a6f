// tokenize_speed.mjs: llama.cpp's tokenizer speed through node-llama-cpp (vocab-only load).
// usage: node bench/tokenize_speed.mjs MODEL.gguf TEXTFILE [REPEATS]
// Prints "llama.cpp: BYTES bytes -> N tokens in MS ms (RATE MB/s)" for the best of REPEATS
// runs of model.tokenize(text) (add_special = false, parse_special = false); the time
// includes node-llama-cpp's JS <-> C++ string and array conversion.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nm = resolve(process.env.FRUGAL_NODE_MODULES || join(here, '../tests/oracle/node_modules'));
const [modelPath, textPath, rep = '3'] = process.argv.slice(2);
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(nm, 'node-llama-cpp/dist/index.js')).href);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, logger: () => {} });
const model = await llama.loadModel({ modelPath, vocabOnly: true });
const bytes = readFileSync(textPath);
const text = new TextDecoder('utf-8').decode(bytes);
let best = Infinity, n = 0;
for (let i = 0; i < Number(rep); i++) {
  const t0 = process.hrtime.bigint();
  n = model.tokenize(text, false).length;
  const ms = Number(process.hrtime.bigint() - t0) / 1e6;
  if (ms < best) best = ms;
}
console.log(`llama.cpp: ${bytes.length} bytes -> ${n} tokens in ${best.toFixed(1)} ms (${(bytes.length / best / 1e3).toFixed(2)} MB/s)`);
await model.dispose();
await llama.dispose();
