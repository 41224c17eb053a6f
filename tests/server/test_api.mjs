// test_api.mjs: `frugal serve` driven by the official openai SDK (a real client): chat
// completions, streaming, usage, stop sequences, logprobs, errors; greedy results equal
// `frugal run --temp 0` for the same rendered prompts, alone and 8 at once; 32 concurrent
// streams complete and equal their single-request results (aggregate throughput printed);
// a repeated long system prompt reuses cached KV blocks (/metrics) with a lower time to
// first token; a client that goes away frees its slot and blocks at once; SIGTERM lets a
// running stream finish and exits 0.
//   env: FRUGAL (binary), FRUGAL_MODEL (gguf), FRUGAL_TMP (scratch dir), FRUGAL_NODE_MODULES
import { pathToFileURL } from 'node:url';
import http from 'node:http';
import {
  check, fail, failed, metrics, pass, postJSON, raw, runGreedy, skip, sleep, startServer, test, words,
} from './lib.mjs';

const bin = process.env.FRUGAL, model = process.env.FRUGAL_MODEL, tmp = process.env.FRUGAL_TMP;
const nm = process.env.FRUGAL_NODE_MODULES;
let OpenAI;
try {
  OpenAI = (await import(pathToFileURL(`${nm}/openai/index.mjs`).href)).default;
} catch (e) {
  skip('sdk', `the openai SDK is not installed in ${nm} (scripts/deps.sh --test): ${e.message}`);
  process.exit(0);
}

const srv = await startServer(bin, ['-m', model, '-c', '32768', '-np', '16', '--queue', '64', '-t', '2']);
const client = new OpenAI({ baseURL: `${srv.base}/v1`, apiKey: 'unused', maxRetries: 0, timeout: 120000 });
const user = (text) => [{ role: 'user', content: text }];

// When batched results differ: do they agree with the tiled GEMM path off (FRUGAL_GEMM=0)?
// (a batch of n >= 2 tokens may take a different matmul kernel than a lone token)
async function gemmHint() {
  const s2 = await startServer(bin, ['-m', model, '-c', '8192', '-np', '8', '-t', '2'], { FRUGAL_GEMM: '0' });
  const q = (i) => postJSON(s2.base, '/v1/chat/completions', { messages: user(`prompt ${i} about rivers`), max_tokens: 40, temperature: 0 })
    .then((r) => r.json.choices[0].message.content);
  const alone = [];
  for (let i = 0; i < 8; i++) alone.push(await q(i));
  const all = await Promise.all(alone.map((_, i) => q(i)));
  await s2.stop();
  const same = all.every((t, i) => t === alone[i]);
  return same ? ' [with FRUGAL_GEMM=0 batched and lone results agree: the batched matmul kernel (n >= 2 tokens) ' +
    'does not compute bit-identical dot products to the single-token vec_dot path]' : ' [also with FRUGAL_GEMM=0]';
}

await test('chat', async () => {
  const r = await client.chat.completions.create({ model: 'm', messages: user('Hello there'), max_tokens: 12, temperature: 0 });
  const c = r.choices[0];
  check('chat', r.object === 'chat.completion' && c.message.role === 'assistant' && typeof c.message.content === 'string' &&
        c.message.content.length > 0 && c.finish_reason === 'length', `unexpected response ${JSON.stringify(r).slice(0, 300)}`);
  check('chat-usage', r.usage.completion_tokens === 12 && r.usage.prompt_tokens > 5 &&
        r.usage.total_tokens === r.usage.prompt_tokens + 12, `usage ${JSON.stringify(r.usage)}`);
  const models = await client.models.list();
  check('models', models.data.length === 1 && models.data[0].id === 'm', JSON.stringify(models.data));
});

await test('stream', async () => {
  const args = { model: 'm', messages: user('Tell me a story'), max_tokens: 20, temperature: 0 };
  const whole = await client.chat.completions.create(args);
  const stream = await client.chat.completions.create({ ...args, stream: true, stream_options: { include_usage: true } });
  let text = '', chunks = 0, finish = null, usage = null, role = null;
  for await (const ch of stream) {
    chunks++;
    if (ch.usage) usage = ch.usage;
    const c = ch.choices[0];
    if (!c) continue;
    if (c.delta.role) role = c.delta.role;
    if (c.delta.content) text += c.delta.content;
    if (c.finish_reason) finish = c.finish_reason;
  }
  // (tokens generated faster than the client reads are sent together in one chunk)
  check('stream', role === 'assistant' && finish === 'length' && chunks >= 3 && text === whole.choices[0].message.content,
        `stream text [${text}] vs [${whole.choices[0].message.content}], finish ${finish}, ${chunks} chunks`);
  check('stream-usage', usage && usage.completion_tokens === 20 && usage.prompt_tokens === whole.usage.prompt_tokens,
        `usage ${JSON.stringify(usage)}`);
  // the raw stream ends with data: [DONE]
  const raw = await postJSON(srv.base, '/v1/chat/completions', { ...args, max_tokens: 3, stream: true });
  check('stream-done', raw.status === 200 && /data: \[DONE\]\n\n$/.test(raw.text) &&
        raw.headers.get('content-type').startsWith('text/event-stream'), `tail ${JSON.stringify(raw.text.slice(-60))}`);
});

await test('stop', async () => {
  const base = await client.chat.completions.create({ model: 'm', messages: user('Count for me'), max_tokens: 40, temperature: 0 });
  const full = base.choices[0].message.content;
  // a stop sequence from the middle of the greedy text: the answer is the text before it
  const cps = [...full];
  let k = Math.floor(cps.length / 2);
  while (k < cps.length - 2 && (cps[k] === '\uFFFD' || cps[k + 1] === '\uFFFD')) k++;
  const stop = cps.slice(k, k + 2).join('');
  const want = full.slice(0, full.indexOf(stop));
  for (const stream of [false, true]) {
    const args = { model: 'm', messages: user('Count for me'), max_tokens: 40, temperature: 0, stop: [stop, 'never-seen-xyz'] };
    let text = '', finish;
    if (stream) {
      for await (const ch of await client.chat.completions.create({ ...args, stream: true })) {
        const c = ch.choices[0];
        if (c && c.delta.content) text += c.delta.content;
        if (c && c.finish_reason) finish = c.finish_reason;
      }
    } else {
      const r = await client.chat.completions.create(args);
      text = r.choices[0].message.content;
      finish = r.choices[0].finish_reason;
    }
    check(`stop${stream ? '-stream' : ''}`, text === want && finish === 'stop',
          `stop ${JSON.stringify(stop)}: got ${JSON.stringify(text)} (${finish}), want ${JSON.stringify(want)}`);
  }
});

await test('logprobs', async () => {
  const r = await client.chat.completions.create({ model: 'm', messages: user('Hi'), max_tokens: 5, temperature: 0, logprobs: true, top_logprobs: 3 });
  const lp = r.choices[0].logprobs.content;
  const ok = lp.length === 5 && lp.every((t) => t.logprob <= 0 && t.top_logprobs.length === 3 &&
    // greedy: the chosen token is the most likely one, and alternatives are sorted
    Math.abs(t.top_logprobs[0].logprob - t.logprob) < 1e-6 && t.top_logprobs[0].logprob >= t.top_logprobs[1].logprob &&
    Array.isArray(t.bytes));
  const joined = Buffer.from(lp.flatMap((t) => t.bytes)).toString('utf8');
  check('logprobs', ok && joined === r.choices[0].message.content, `logprobs ${JSON.stringify(lp).slice(0, 400)}`);
  const c = await client.completions.create({ model: 'm', prompt: 'The river', max_tokens: 4, temperature: 0, logprobs: 2 });
  const l = c.choices[0].logprobs;
  check('completions-logprobs', l.tokens.length === 4 && l.token_logprobs.length === 4 && l.top_logprobs.length === 4 &&
        l.text_offset[0] === 0, JSON.stringify(l));
});

await test('completions', async () => {
  const prompt = 'The quick brown fox';
  const r = await client.completions.create({ model: 'm', prompt, max_tokens: 16, temperature: 0 });
  // the same as `frugal run -p`
  const { execFileSync } = await import('node:child_process');
  const out = execFileSync(bin, ['run', '-m', model, '-p', prompt, '-n', '16', '--temp', '0'], { stdio: ['ignore', 'pipe', 'ignore'] })
    .toString('utf8').replace(/\n$/, '');
  check('completions', r.object === 'text_completion' && r.choices[0].text === out,
        `server [${r.choices[0].text}] vs run [${out}]`);
  const tok = await postJSON(srv.base, '/tokenize', { content: prompt });
  const det = await postJSON(srv.base, '/detokenize', { tokens: tok.json.tokens });
  check('tokenize', tok.status === 200 && tok.json.tokens.length > 2 && det.json.content === prompt,
        `${JSON.stringify(tok.json)} -> ${JSON.stringify(det.json)}`);
});

await test('errors', async () => {
  const cases = [
    ['unknown-model', { model: 'gpt-nonexistent', messages: user('x') }, 404, 'model_not_found'],
    ['bad-temperature', { model: 'm', messages: user('x'), temperature: 7 }, 400, 'invalid_value'],
    ['negative-max-tokens', { model: 'm', messages: user('x'), max_tokens: -5 }, 400, 'integer_below_min_value'],
    ['empty-messages', { model: 'm', messages: [] }, 400, 'empty_array'],
    ['n-2', { model: 'm', messages: user('x'), n: 2 }, 400, 'unsupported_value'],
    ['long-prompt', { model: 'm', messages: user(words(5000, 3)) }, 400, 'context_length_exceeded'],
  ];
  for (const [name, args, status, code] of cases) {
    try {
      await client.chat.completions.create(args);
      fail(`error-${name}`, 'no error');
    } catch (e) {
      check(`error-${name}`, e instanceof OpenAI.APIError && e.status === status && e.code === code &&
            typeof e.message === 'string' && e.error && e.error.type,
            `status ${e.status} code ${e.code} ${e.message}`);
    }
  }
});

// Greedy outputs through the server equal `frugal run --temp 0`, one request and 8 at once.
await test('greedy', async () => {
  const prompts = Array.from({ length: 8 }, (_, i) => [
    ...(i % 2 ? [{ role: 'system', content: `You are assistant number ${i}.` }] : []),
    { role: 'user', content: `${words(5 + 7 * i, 100 + i)}?` }]);
  const N = 24;
  const want = prompts.map((m, i) => runGreedy(bin, model, tmp, m, N, `g${i}`));
  const one = await client.chat.completions.create({ model: 'm', messages: prompts[0], max_tokens: N, temperature: 0 });
  check('greedy-single', one.choices[0].message.content === want[0].text && one.usage.completion_tokens === want[0].ids.length,
        `server [${one.choices[0].message.content}] vs run [${want[0].text}]`);
  const all = await Promise.all(prompts.map((m) =>
    client.chat.completions.create({ model: 'm', messages: m, max_tokens: N, temperature: 0 })));
  const bad = all.map((r, i) => (r.choices[0].message.content === want[i].text &&
    r.usage.completion_tokens === want[i].ids.length ? -1 : i)).filter((i) => i >= 0);
  check('greedy-8-concurrent', bad.length === 0,
        bad.map((i) => `#${i}: [${all[i].choices[0].message.content}] vs [${want[i].text}]`).join('; ') + await gemmHint());
});

// 32 concurrent streams (16 slots, the rest queued) complete and equal their lone results.
await test('concurrent-32', async () => {
  const N = 32, M = 48;
  const prompts = Array.from({ length: N }, (_, i) => user(`${words(8 + (i % 5), 7 * i + 1)}.`));
  const t0 = performance.now();
  const results = await Promise.all(prompts.map(async (m) => {
    let text = '', finish = null, usage = null, ttft = 0;
    const ts = performance.now();
    for await (const ch of await client.chat.completions.create({ model: 'm', messages: m, max_tokens: M, temperature: 0,
      stream: true, stream_options: { include_usage: true } })) {
      if (ch.usage) usage = ch.usage;
      const c = ch.choices[0];
      if (c && c.delta.content) { if (!ttft) ttft = performance.now() - ts; text += c.delta.content; }
      if (c && c.finish_reason) finish = c.finish_reason;
    }
    return { text, finish, usage, ttft };
  }));
  const secs = (performance.now() - t0) / 1000;
  const tokens = results.reduce((a, r) => a + (r.usage ? r.usage.completion_tokens : 0), 0);
  const okAll = results.every((r) => r.finish && r.usage && r.usage.completion_tokens > 0);
  let mism = [];
  for (let i = 0; i < N; i++) {
    const alone = await client.chat.completions.create({ model: 'm', messages: prompts[i], max_tokens: M, temperature: 0 });
    if (alone.choices[0].message.content !== results[i].text) mism.push(i);
  }
  const ttfts = results.map((r) => r.ttft).sort((a, b) => a - b);
  check('concurrent-32', okAll, `incomplete streams: ${results.filter((r) => !(r.finish && r.usage)).length}`,
        `${tokens} tokens in ${secs.toFixed(2)} s = ${(tokens / secs).toFixed(1)} tok/s aggregate, ` +
        `median TTFT ${ttfts[N >> 1].toFixed(0)} ms`);
  check('concurrent-32-equal', mism.length === 0,
        `different from the same request alone: ${mism.join(',')}${mism.length ? await gemmHint() : ''}`);
});

// A long shared system prompt: the second request reuses its blocks and starts sooner.
await test('prefix-cache', async () => {
  const sys = { role: 'system', content: `Rules: ${words(550, 77)}` };
  // warm up with another prompt of the same size (page-ins, thread wake-up)
  await client.chat.completions.create({ model: 'm', messages: [{ role: 'system', content: words(550, 78) }, ...user('w')], max_tokens: 2 });
  const m0 = await metrics(srv.base);
  const ask = async (q) => {
    const ts = performance.now();
    const r = await client.chat.completions.create({ model: 'm', messages: [sys, ...user(q)], max_tokens: 2, temperature: 0 })
      .withResponse();
    return { ms: performance.now() - ts, data: r.data };
  };
  const a = await ask('first question?');
  const m1 = await metrics(srv.base);
  const b = await ask('a different second question?');
  const m2 = await metrics(srv.base);
  const hits1 = m1.frugal_kv_prefix_hit_blocks_total - m0.frugal_kv_prefix_hit_blocks_total;
  const hits2 = m2.frugal_kv_prefix_hit_blocks_total - m1.frugal_kv_prefix_hit_blocks_total;
  const cached = b.data.usage.prompt_tokens_details.cached_tokens, n = b.data.usage.prompt_tokens;
  const ttA = a.data.timings.first_token_ms, ttB = b.data.timings.first_token_ms;
  check('prefix-cache-hits', hits1 === 0 && hits2 * 32 === cached && cached >= n - 64 && cached > 500,
        `hit blocks ${hits1} then ${hits2}, cached ${cached} of ${n} prompt tokens`,
        `${hits2} blocks = ${cached} of ${n} prompt tokens reused`);
  check('prefix-cache-ttft', ttB < ttA && b.ms < a.ms, `TTFT first ${ttA.toFixed(1)} ms, second ${ttB.toFixed(1)} ms`,
        `TTFT ${ttA.toFixed(1)} ms -> ${ttB.toFixed(1)} ms (client ${a.ms.toFixed(0)} -> ${b.ms.toFixed(0)} ms)`);
});

// Chunked prefill: a running stream keeps its pace while a long prompt is evaluated (in
// chunks of --prefill-chunk tokens per step, not n_batch = 512 or the whole prompt at once).
await test('prefill-chunking', async () => {
  // tokens the running stream gets while the long prompt is being read (from its admission
  // to its first token, by the server's timings): one per step, so about n/128 steps in
  // chunks of 128, about n/512 if it went in whole batches; counted by logprobs records
  const events = []; // [arrival ms, tokens]
  let started;
  const first = new Promise((r) => { started = r; });
  const ac = new AbortController();
  const run = (async () => {
    try {
      for await (const ch of await client.chat.completions.create({ model: 'm', messages: user('keep talking'), max_tokens: 1800,
        temperature: 0, stream: true, ignore_eos: true, logprobs: true }, { signal: ac.signal })) {
        const c = ch.choices[0];
        const k = c && c.logprobs ? c.logprobs.content.length : 0;
        if (k) { events.push([performance.now(), k]); started(); }
      }
    } catch { /* aborted below */ }
  })();
  await first;
  await sleep(30);
  const long = await client.chat.completions.create({ model: 'm', messages: user(words(620, 5)), max_tokens: 1, temperature: 0 });
  const longEnd = performance.now();
  ac.abort();
  await run;
  const n = long.usage.prompt_tokens, t = long.timings, prefill = t.first_token_ms - t.queued_ms;
  const from = longEnd - prefill - 2, to = longEnd;
  const win = events.filter(([at]) => at >= from && at <= to);
  const during = win.reduce((a, [, k]) => a + k, 0);
  let gap = 0;
  for (let i = 1; i < win.length; i++) gap = Math.max(gap, win[i][0] - win[i - 1][0]);
  check('prefill-chunking', during >= Math.ceil(n / 128) * 0.6 && during > Math.ceil(n / 512) + 2,
        `the running stream got only ${during} tokens while a ${n}-token prompt was read (${prefill.toFixed(0)} ms)`,
        `${n}-token prompt read in ${prefill.toFixed(0)} ms while the running stream got ${during} tokens ` +
        `(longest pause ${gap.toFixed(0)} ms)`);
});

// A client that disconnects mid-stream (and one waiting for a whole answer) frees its slot
// and its KV blocks at once.
await test('cancel', async () => {
  let m0 = await metrics(srv.base);
  for (let i = 0; i < 200 && m0.frugal_requests_running; i++) { await sleep(10); m0 = await metrics(srv.base); }
  const ac = new AbortController();
  const stream = await client.chat.completions.create({ model: 'm', messages: user('go on forever'), max_tokens: 1500,
    temperature: 0, stream: true, ignore_eos: true }, { signal: ac.signal });
  let n = 0;
  try { for await (const ch of stream) { if (++n === 5) ac.abort(); } } catch { /* aborted */ }
  const waitIdle = async () => {
    const t = performance.now();
    for (;;) {
      const m = await metrics(srv.base);
      if (m.frugal_requests_running === 0 && m.frugal_kv_blocks_in_use === 0) return [performance.now() - t, m];
      if (performance.now() - t > 3000) return [Infinity, m];
      await sleep(10);
    }
  };
  const [ms, m1] = await waitIdle();
  const cancelled = m1['frugal_requests_total{outcome="cancelled"}'] - m0['frugal_requests_total{outcome="cancelled"}'];
  check('cancel-stream', ms < 1000 && cancelled === 1 && m1.frugal_generated_tokens_total - m0.frugal_generated_tokens_total < 1000,
        `slot freed after ${ms} ms, cancelled +${cancelled}`, `freed ${ms.toFixed(0)} ms after the disconnect`);
  // non-streaming: the socket closes while the server generates
  const body = JSON.stringify({ model: 'm', messages: user('again'), max_tokens: 1500, temperature: 0, ignore_eos: true });
  await new Promise((res) => {
    const req = http.request(`${srv.base}/v1/chat/completions`, { method: 'POST', headers: { 'Content-Type': 'application/json' } });
    req.on('error', () => res());
    req.end(body);
    setTimeout(() => { req.destroy(); res(); }, 100);
  });
  const [ms2, m2] = await waitIdle();
  check('cancel-wait', ms2 < 1000 && m2['frugal_requests_total{outcome="cancelled"}'] === m1['frugal_requests_total{outcome="cancelled"}'] + 1,
        `non-streaming request not cancelled (${ms2} ms)`);
});

await test('cors-off', async () => {
  const r = await fetch(`${srv.base}/v1/models`, { headers: { Origin: 'http://evil.example' } });
  check('cors-off', r.status === 200 && !r.headers.get('access-control-allow-origin'), 'CORS header sent without --cors');
});

// SIGTERM while a stream runs: it finishes cleanly, new connections are refused, exit 0.
await test('shutdown', async () => {
  const stream = await client.chat.completions.create({ model: 'm', messages: user('last one'), max_tokens: 200, temperature: 0,
    stream: true });
  let text = '', finish = null, n = 0, sent = false;
  for await (const ch of stream) {
    if (++n === 3 && !sent) { sent = true; srv.proc.kill('SIGTERM'); }
    const c = ch.choices[0];
    if (c && c.delta.content) text += c.delta.content;
    if (c && c.finish_reason) finish = c.finish_reason;
  }
  // a fresh connection is refused (or told 503 while the listener closes)
  const h = await raw(srv.port, 'GET /health HTTP/1.1\r\nHost: x\r\n\r\n', 3000);
  const refused = h.status === 503 || (h.status === 0 && !!h.closed);
  const r = await srv.stop();
  check('shutdown', finish === 'length' && text.length > 0 && r.code === 0 && refused,
        `finish ${finish}, exit ${r.code}/${r.sig}, new connection refused: ${refused}; log: ${srv.log().slice(-300)}`);
});

if (srv.proc.exitCode === null) await srv.stop('SIGKILL');
process.exit(failed() ? 1 : 0);
