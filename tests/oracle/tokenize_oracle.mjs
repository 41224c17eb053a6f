// tokenize_oracle.mjs: llama.cpp's tokenizer (through node-llama-cpp) as the oracle.
// usage: node tokenize_oracle.mjs MODEL.gguf JOB [JOB ...]
//   JOB = IN:OUT[:special]   tokenize the bytes of IN and write the ids, space separated,
//                            on one line to OUT; ":special" parses special tokens.
//   JOB = detok:IDS:OUT[:special]  detokenize the ids in IDS (one line) to OUT (raw bytes).
// The model is loaded vocab-only; tokenize() is called with add_special = false (that is
// what node-llama-cpp's model.tokenize does). JS strings cannot hold invalid UTF-8: IN is
// decoded with TextDecoder (each bad sequence -> U+FFFD) before it reaches llama.cpp.
// node_modules come from $FRUGAL_NODE_MODULES (default: tests/oracle/node_modules).
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const nm = resolve(process.env.FRUGAL_NODE_MODULES || join(here, 'node_modules'));
const [modelPath, ...jobs] = process.argv.slice(2);
if (!modelPath || jobs.length === 0) {
  console.error('usage: node tokenize_oracle.mjs MODEL.gguf IN:OUT[:special] ...');
  process.exit(2);
}
const { getLlama, LlamaLogLevel } = await import(pathToFileURL(join(nm, 'node-llama-cpp/dist/index.js')).href);
const llama = await getLlama({ gpu: false, build: 'never', logLevel: LlamaLogLevel.error, logger: () => {} });
const model = await llama.loadModel({ modelPath, vocabOnly: true });
for (const job of jobs) {
  const parts = job.split(':');
  if (parts[0] === 'detok') {
    const ids = readFileSync(parts[1], 'utf8').trim().split(/\s+/).filter((s) => s.length).map(Number);
    const text = model.detokenize(ids, parts[3] === 'special');
    writeFileSync(parts[2], text);
    continue;
  }
  const [inp, outp, mode] = parts;
  const text = new TextDecoder('utf-8').decode(readFileSync(inp));
  const ids = model.tokenize(text, mode === 'special');
  writeFileSync(outp, Array.from(ids).join(' ') + '\n');
}
await model.dispose();
await llama.dispose();
