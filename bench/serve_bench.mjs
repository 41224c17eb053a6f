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
const M = +opt('--tokens', '64'), sysWords = +opt('--system-words', '300');

function words(n, seed) {
  const v = ['the', 'river', 'stone', 'light', 'quick', 'model', 'server', 'token', 'blue', 'tree', 'cloud',
             'seven', 'paper', 'music', 'ocean', 'story', 'green', 'small', 'north', 'glass'];
  let x = seed >>> 0; const out = [];
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out.push(v[(x >>> 16) % v.length]); }
  return out.join(' ');
}

async function stream(messages, maxTokens) {
  const t0 = performance.now();
  const r = await fetch(`${base}/v1/chat/completions`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages, max_tokens: maxTokens, temperature: 0, ignore_eos: true, stream: true,
                           stream_options: { include_usage: true } }),
  });
  if (r.status !== 200) throw new Error(`HTTP ${r.status}: ${await r.text()}`);
  const rd = r.body.getReader(), dec = new TextDecoder();
  let buf = '', first = 0, usage = null, timings = null;
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
      if (!first && j.choices && j.choices[0] && j.choices[0].delta.content) first = performance.now();
    }
  }
  const end = performance.now();
  // the server's clock for the first token: a token may show no text yet (a partial
  // UTF-8 character), so the first content chunk can come later than the first token
  if (timings) first = t0 + timings.first_token_ms;
  return { t0, first, end, tokens: usage ? usage.completion_tokens : 0, usage };
}

const median = (a) => { const s = [...a].sort((x, y) => x - y); return s.length % 2 ? s[s.length >> 1] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2; };

await stream([{ role: 'user', content: 'warm up' }], 4);
console.log('| streams | tokens each | aggregate gen tok/s | vs 1 stream | per-stream tok/s (median) | TTFT median ms | wall s |');
console.log('| ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
let single = 0;
for (const C of levels) {
  const t0 = performance.now();
  const rs = await Promise.all(Array.from({ length: C }, (_, i) =>
    stream([{ role: 'user', content: `${words(12, 1000 * C + i)}?` }], M)));
  const wall = (Math.max(...rs.map((r) => r.end)) - t0) / 1000;
  const tokens = rs.reduce((a, r) => a + r.tokens, 0);
  const agg = tokens / wall;
  if (C === 1 || !single) single = agg;
  const per = median(rs.map((r) => (r.tokens - 1) / ((r.end - r.first) / 1000)));
  console.log(`| ${C} | ${M} | ${agg.toFixed(1)} | ${(agg / single).toFixed(2)}x | ${per.toFixed(1)} | ` +
              `${median(rs.map((r) => r.first - r.t0)).toFixed(0)} | ${wall.toFixed(1)} |`);
}
// prefix reuse: the same long system prompt twice (different questions)
const sys = { role: 'system', content: `You follow these rules. ${words(sysWords, 4242)}` };
const a = await stream([sys, { role: 'user', content: 'first question?' }], 2);
const b = await stream([sys, { role: 'user', content: 'another, different question?' }], 2);
console.log('');
console.log('| long system prompt | prompt tokens | cached tokens | TTFT ms |');
console.log('| --- | ---: | ---: | ---: |');
console.log(`| first request (cold) | ${a.usage.prompt_tokens} | ${a.usage.prompt_tokens_details.cached_tokens} | ${(a.first - a.t0).toFixed(0)} |`);
console.log(`| second request (prefix cached) | ${b.usage.prompt_tokens} | ${b.usage.prompt_tokens_details.cached_tokens} | ${(b.first - b.t0).toFixed(0)} |`);
