// serve_bench.mjs: load for a running `frugal serve`: for each concurrency level C, C streams
// at once (distinct short prompts, greedy, ignore_eos, max_tokens M each) and the aggregate
// generation rate (all completion tokens / wall time from first send to last token), time to
// first token (median over the streams) and per-stream rate; then time to first token of a
// long system prompt, cold and again with its KV blocks cached (a different user question).
//   node bench/serve_bench.mjs BASE_URL [--levels 1,4,16] [--tokens 64] [--system-words 350]
// Prints one markdown table row per level, then the prefix rows; plain fetch, no SDK.
const args = process.argv.slice(2);
const base = args[0];
const opt = (k, d) => { const i = args.indexOf(k); return i > 0 ? args[i + 1] : d; };
const levels = opt('--levels', '1,4,16').split(',').map(Number);
const M = +opt('--tokens', '64'), sysWords = +opt('--system-words', '300'), R = +opt('--repeat', '3');

function words(n, seed) {
  const v = ['the', 'river', 'stone', 'light', 'quick', 'model', 'server', 'token', 'blue', 'tree', 'cloud',
             'seven', 'paper', 'music', 'ocean', 'story', 'green', 'small', 'north', 'glass'];
  let x = seed >>> 0; const out = [];
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out.push(v[(x >>> 16) % v.length]); }
  return out.join(' ');
}

// temperature 1 (seeded): a random-weight model decoding greedily tends to repeat one token,
// which would route every step to the same experts and flatter a MoE model
async function stream(messages, maxTokens, seed = 1) {
  const t0 = performance.now();
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages, max_tokens: maxTokens, temperature: 1, seed, ignore_eos: true, stream: true,
                           logprobs: true, stream_options: { include_usage: true } }),
  });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  const rd = r.body.getReader(), dec = new TextDecoder();
  let buf = '', first = 0, usage = null, timings = null;
  const arrivals = []; // arrival time of every token (logprobs records count them)
  for (;;) {
    const { done, value } = await rd.read();
    if (done) break;
    buf += dec.decode(value, { stream: true });
    let k;
    while ((k = buf.indexOf('\n\n')) >= 0) {
      const ev = buf.slice(0, k); buf = buf.slice(k + 2);
      if (!ev.startsWith('data: ') || ev === 'data: [DONE]') continue;
      const j = JSON.parse(ev.slice(6));
      if (j.usage) usage = j.usage;
      if (j.timings) timings = j.timings;
      const c = j.choices && j.choices[0];
      if (c && c.logprobs) for (let i = 0; i < c.logprobs.content.length; i++) arrivals.push(performance.now());
      if (!first && c && c.delta.content) first = performance.now();
    }
  }
  const end = performance.now();
  // the server's clock for the first token: a token may show no text yet (a partial
  // UTF-8 character), so the first content chunk can come later than the first token
  if (timings) first = t0 + timings.first_token_ms;
  return { t0, first, end, tokens: usage ? usage.completion_tokens : 0, usage, arrivals };
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

await stream([{ role: 'user', content: 'warm up' }], 4);
console.log('| streams | tokens each | aggregate tok/s (wall) | decode tok/s (all decoding) | vs 1 stream | per-stream tok/s (median) | TTFT median ms | wall s |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
let single = 0;
const best = {};
for (let rep = 0; rep < R; rep++) { // levels interleaved, so each sees the machine's moods alike
  for (const C of levels) {
    const t0 = performance.now();
    const rs = await Promise.all(Array.from({ length: C }, (_, i) =>
      stream([{ role: 'user', content: `${words(12, 1000 * C + i)}?` }], M, 1 + i + 100 * rep)));
    const wall = (Math.max(...rs.map((r) => r.end)) - t0) / 1000;
    const tokens = rs.reduce((a, r) => a + r.tokens, 0);
    // steady state: tokens that arrived while every stream was past its prompt and not done
    const from = Math.max(...rs.map((r) => r.arrivals[0])), to = Math.min(...rs.map((r) => r.arrivals[r.arrivals.length - 1]));
    const inWin = rs.reduce((a, r) => a + r.arrivals.filter((t) => t > from && t <= to).length, 0);
    const run = { wall, agg: tokens / wall, dec: to > from ? inWin / ((to - from) / 1000) : 0,
                  per: median(rs.map((r) => (r.tokens - 1) / ((r.end - r.first) / 1000))),
                  ttft: median(rs.map((r) => r.first - r.t0)) };
    if (!best[C] || run.dec > best[C].dec) best[C] = run;
  }
}
for (const C of levels) {
  const b = best[C];
  if (!single) single = b.dec;
  console.log(`| ${C} | ${M} | ${b.agg.toFixed(1)} | ${b.dec.toFixed(1)} | ${(b.dec / single).toFixed(2)}x | ` +
              `${b.per.toFixed(1)} | ${b.ttft.toFixed(0)} | ${b.wall.toFixed(1)} |`);
}
// prefix reuse: the same long system prompt twice (different questions)
// a system prompt of about 80% of a request's context
const meta = (await (await fetch(`${base}/v1/models`)).json()).data[0].meta;
let nw = sysWords, sys;
for (;;) {
  sys = { role: 'system', content: `You follow these rules. ${words(nw, 4242)}` };
  const t = await (await fetch(`${base}/tokenize`, { method: 'POST', body: JSON.stringify({ content: sys.content }) })).json();
  if (t.tokens.length <= 0.8 * meta.n_ctx_per_request || nw < 10) break;
  nw = Math.floor(nw * 0.8 * meta.n_ctx_per_request / t.tokens.length);
}
const rows = [];
for (let rep = 0; rep < R; rep++) { // a fresh system prompt each time: cold, then cached
  const sp = { role: 'system', content: `${rep} ${sys.content}` };
  const a = await stream([sp, { role: 'user', content: 'first question?' }], 2);
  const b = await stream([sp, { role: 'user', content: 'another, different question?' }], 2);
  rows.push([a, b]);
}
const [a, b] = rows.reduce((x, y) => (y[0].first - y[0].t0) + (y[1].first - y[1].t0) < (x[0].first - x[0].t0) + (x[1].first - x[1].t0) ? y : x);
console.log('');
console.log('| long system prompt | prompt tokens | cached tokens | TTFT ms |');
console.log('| --- | ---: | ---: | ---: |');
console.log(`| first request (cold) | ${a.usage.prompt_tokens} | ${a.usage.prompt_tokens_details.cached_tokens} | ${(a.first - a.t0).toFixed(0)} |`);
console.log(`| second request (prefix cached) | ${b.usage.prompt_tokens} | ${b.usage.prompt_tokens_details.cached_tokens} | ${(b.first - b.t0).toFixed(0)} |`);
