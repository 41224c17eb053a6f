// test_hostile.mjs: `frugal serve` against hostile clients, on the ASan+UBSan build when it
// exists: malformed JSON, wrong types, missing fields, a 100 MB body (413 before it is read:
// the server's memory does not grow), a chunked body over the limit, a prompt longer than
// the context, negative/huge max_tokens, an unknown model, unknown URLs and methods, a
// missing API key, a full queue (503), a client sending its headers one byte per second
// (closed at the deadline while others are served), 200 connections opened and dropped.
// Every case gets the right status in OpenAI's error shape or is closed; afterwards the
// server still answers, and SIGTERM ends it with exit 0 and no sanitizer report.
//   env: FRUGAL (binary to test), FRUGAL_MODEL
import net from 'node:net';
import { check, failed, metrics, pass, postJSON, raw, sleep, startServer, test, words } from './lib.mjs';

const bin = process.env.FRUGAL, model = process.env.FRUGAL_MODEL;
const KEY = 'sk-test-hostile';
const auth = { Authorization: `Bearer ${KEY}` };
const srv = await startServer(bin, ['-m', model, '-c', '2048', '-np', '2', '--queue', '2', '--timeout', '3',
  '--api-key', KEY, '--cors', 'https://app.example', '-t', '2'],
  { ASAN_OPTIONS: 'detect_leaks=1:abort_on_error=0', UBSAN_OPTIONS: 'print_stacktrace=1' });
const chat = (body, headers = auth) => postJSON(srv.base, '/v1/chat/completions', body, headers);
const msgs = [{ role: 'user', content: 'hi' }];

// an OpenAI-shaped error with this status (and code, when given)
function isError(r, status, code) {
  const e = r.json && r.json.error;
  return r.status === status && e && typeof e.message === 'string' && typeof e.type === 'string' &&
    'param' in e && 'code' in e && (!code || e.code === code);
}
const show = (r) => `${r.status} ${r.text.slice(0, 200)}`;

await test('bad-requests', async () => {
  const cases = [
    ['malformed-json', '{"messages": [', 400, 'invalid_json'],
    ['not-json', 'hello', 400, 'invalid_json'],
    ['empty-body', '', 400, 'invalid_json'],
    ['body-array', '[1, 2]', 400, 'invalid_type'],
    ['bad-utf8', Buffer.from([0x7b, 0x22, 0x61, 0x22, 0x3a, 0x22, 0xff, 0xfe, 0x22, 0x7d]), 400, 'invalid_json'],
    ['deep-nesting', '['.repeat(100000) + ']'.repeat(100000), 400, 'invalid_json'],
    ['nul-in-string', '{"messages":[{"role":"user","content":"a\\u0000b"}]}', 400, 'invalid_json'],
    ['huge-int', '{"messages":[{"role":"user","content":"x"}],"max_tokens":123456789012345678901234567890}', 400, 'invalid_json'],
    ['messages-string', { messages: 'hi' }, 400, 'invalid_type'],
    ['message-number', { messages: [5] }, 400, 'invalid_type'],
    ['content-number', { messages: [{ role: 'user', content: 5 }] }, 400, 'invalid_type'],
    ['content-image', { messages: [{ role: 'user', content: [{ type: 'image_url', image_url: { url: 'x' } }] }] }, 400, 'invalid_value'],
    ['role-missing', { messages: [{ content: 'x' }] }, 400, 'missing_required_parameter'],
    ['messages-missing', { model: 'm' }, 400, 'missing_required_parameter'],
    ['max-tokens-string', { messages: msgs, max_tokens: '10' }, 400, 'invalid_type'],
    ['max-tokens-float', { messages: msgs, max_tokens: 1.5 }, 400, 'invalid_type'],
    ['max-tokens-negative', { messages: msgs, max_tokens: -1 }, 400, 'integer_below_min_value'],
    ['max-tokens-zero', { messages: msgs, max_tokens: 0 }, 400, 'integer_below_min_value'],
    ['max-tokens-huge', { messages: msgs, max_tokens: 1e12 }, 400, 'integer_above_max_value'],
    ['temperature-string', { messages: msgs, temperature: 'hot' }, 400, 'invalid_type'],
    ['top-p-range', { messages: msgs, top_p: 1.5 }, 400, 'invalid_value'],
    ['stream-string', { messages: msgs, stream: 'yes' }, 400, 'invalid_type'],
    ['stop-number', { messages: msgs, stop: 5 }, 400, 'invalid_type'],
    ['stop-too-many', { messages: msgs, stop: Array(40).fill('a') }, 400, 'invalid_value'],
    ['logit-bias-key', { messages: msgs, logit_bias: { abc: 1 } }, 400, 'invalid_value'],
    ['logit-bias-id', { messages: msgs, logit_bias: { 99999999: 1 } }, 400, 'invalid_value'],
    ['top-logprobs-range', { messages: msgs, logprobs: true, top_logprobs: 50 }, 400, 'integer_above_max_value'],
    ['stream-options-no-stream', { messages: msgs, stream_options: { include_usage: true } }, 400, 'invalid_value'],
    ['unknown-model', { model: 'gpt-4o', messages: msgs }, 404, 'model_not_found'],
    ['model-number', { model: 7, messages: msgs }, 400, 'invalid_type'],
    ['prompt-too-long', { messages: [{ role: 'user', content: words(6000, 9) }] }, 400, 'context_length_exceeded'],
  ];
  const bad = [];
  for (const [name, body, status, code] of cases) {
    const r = await chat(body);
    if (!isError(r, status, code)) bad.push(`${name}: ${show(r)}`);
  }
  check('bad-requests', bad.length === 0, bad.join(' | '), `${cases.length} cases`);
  const t = [
    [await postJSON(srv.base, '/v1/completions', { model: 'm' }, auth), 400, 'missing_required_parameter'],
    [await postJSON(srv.base, '/v1/completions', { prompt: [1, -3] }, auth), 400, 'invalid_value'],
    [await postJSON(srv.base, '/v1/completions', { prompt: 'x', echo: true }, auth), 400, 'unsupported_value'],
    [await postJSON(srv.base, '/tokenize', { content: 5 }, auth), 400, 'invalid_type'],
    [await postJSON(srv.base, '/detokenize', { tokens: [1, 'a'] }, auth), 400, 'invalid_value'],
    [await postJSON(srv.base, '/detokenize', { tokens: [2147483647] }, auth), 400, 'invalid_value'],
  ];
  const bad2 = t.filter(([r, s, c]) => !isError(r, s, c)).map(([r]) => show(r));
  check('bad-requests-other-endpoints', bad2.length === 0, bad2.join(' | '));
});

await test('routing-auth', async () => {
  const r404 = await postJSON(srv.base, '/v1/nope', {}, auth);
  const r405 = await fetch(`${srv.base}/v1/chat/completions`, { headers: auth });
  const j405 = await r405.json().catch(() => null);
  const noKey = await chat({ messages: msgs }, {});
  const badKey = await chat({ messages: msgs }, { Authorization: 'Bearer wrong' });
  const health = await fetch(`${srv.base}/health`);
  check('routing', isError(r404, 404, 'unknown_url') && r405.status === 405 && r405.headers.get('allow') === 'POST' &&
        j405 && j405.error, `404: ${show(r404)}; 405: ${r405.status}`);
  check('api-key', isError(noKey, 401, 'invalid_api_key') && isError(badKey, 401, 'invalid_api_key') && health.status === 200,
        `no key ${show(noKey)}, bad key ${show(badKey)}, health ${health.status}`);
  const pre = await fetch(`${srv.base}/v1/chat/completions`, { method: 'OPTIONS', headers: { Origin: 'https://app.example' } });
  check('cors', pre.status === 204 && pre.headers.get('access-control-allow-origin') === 'https://app.example' &&
        /Authorization/.test(pre.headers.get('access-control-allow-headers')), `preflight ${pre.status}`);
});

await test('big-bodies', async () => {
  const rss0 = srv.rss();
  // 100 MB announced: 413 before the body is read. A client that waits for "100 Continue"
  // (curl does for big bodies) gets the 413 instead; one that writes everything at once gets
  // the 413 or, if it is still writing when the server closes, a reset.
  const send100 = (expect) => new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let got = '', sent = 0, err = null;
    const chunk = Buffer.alloc(1 << 20, 0x20);
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('error', (e) => { err = e.code; });
    s.on('close', () => resolve({ got, sent, err }));
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
            `Content-Type: application/json\r\nContent-Length: ${100 << 20}\r\n${expect ? 'Expect: 100-continue\r\n' : ''}\r\n`);
    const pump = () => {
      if (expect && !/^HTTP\/1\.1 100/.test(got)) return; /* never told to continue */
      while (sent < 100 && !s.destroyed) {
        sent++;
        if (!s.write(chunk)) { s.once('drain', pump); return; }
      }
      if (!s.destroyed) s.end();
    };
    setTimeout(pump, expect ? 500 : 0);
    setTimeout(() => s.destroy(), 20000);
  });
  const polite = await send100(true), rude = await send100(false);
  const grew = (srv.rss() - rss0) / 1024;
  const is413 = (r) => /^HTTP\/1\.[01] 413/.test(r.got) && /request_too_large/.test(r.got);
  check('body-100mb', is413(polite) && polite.sent === 0 && (is413(rude) || (rude.err && rude.sent < 100)) && grew < 50,
        `with Expect: ${JSON.stringify(polite.got.slice(0, 80))}; without: ${JSON.stringify(rude.got.slice(0, 80))} ` +
        `(${rude.err}) after ${rude.sent} MiB; RSS grew ${grew.toFixed(1)} MiB`,
        `413 without reading the body; a client writing blindly stopped after ${rude.sent} MiB ` +
        `(${is413(rude) ? '413' : rude.err}); server RSS +${grew.toFixed(1)} MiB`);
  // chunked, no length: cut off at the limit (8 MiB)
  const c = await new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let got = '';
    s.on('data', (d) => { got += d.toString('latin1'); });
    s.on('error', () => {});
    s.on('close', () => resolve(got));
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\nTransfer-Encoding: chunked\r\n\r\n`);
    const part = Buffer.alloc(1 << 20, 0x20);
    let n = 0;
    const pump = () => {
      while (n < 12 && !s.destroyed) {
        n++;
        s.write(`${part.length.toString(16)}\r\n`);
        s.write(part);
        if (!s.write('\r\n')) { s.once('drain', pump); return; }
      }
      if (!s.destroyed) s.end('0\r\n\r\n');
    };
    pump();
    setTimeout(() => s.destroy(), 20000);
  });
  check('body-chunked-over-limit', /^HTTP\/1\.[01] 413/.test(c) || c === '', `reply ${JSON.stringify(c.slice(0, 120))}`,
        c ? '413' : 'closed');
  // a header block over the connection's memory limit
  const h = await raw(srv.port, `GET /health HTTP/1.1\r\nHost: x\r\nX-Big: ${'a'.repeat(200000)}\r\n\r\n`, 10000);
  check('header-too-big', (h.status >= 400 && h.status < 500) || (h.closed && !h.status), `status ${h.status}`);
});

await test('queue-full', async () => {
  // 2 slots + 2 queued: the rest of 10 simultaneous long requests get 503 at once
  const rs = await Promise.all(Array.from({ length: 10 }, (_, i) =>
    chat({ messages: [{ role: 'user', content: `q${i}` }], max_tokens: 80, ignore_eos: true })));
  const ok = rs.filter((r) => r.status === 200).length, busy = rs.filter((r) => isError(r, 503, 'server_overloaded'));
  check('queue-full-503', ok >= 2 && busy.length >= 1 && ok + busy.length === 10 && busy[0].headers.get('retry-after'),
        `statuses ${rs.map((r) => r.status).join(',')}`, `${ok} served, ${busy.length} told 503`);
});

await test('slow-loris', async () => {
  // headers one byte per second: closed at the 3 s header deadline; others are served meanwhile
  const line = `GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ${'z'.repeat(30)}\r\n\r\n`;
  const t0 = performance.now();
  const closed = new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    let i = 0, got = '';
    const iv = setInterval(() => { if (i < line.length && !s.destroyed) s.write(line[i++]); }, 1000);
    s.on('data', (d) => { got += d; });
    s.on('error', () => {});
    s.on('close', () => { clearInterval(iv); resolve({ ms: performance.now() - t0, got, sent: i }); });
    setTimeout(() => { clearInterval(iv); s.destroy(); }, 15000);
  });
  await sleep(1200);
  const ts = performance.now();
  const h = await fetch(`${srv.base}/health`);
  const served = performance.now() - ts;
  const c = await closed;
  check('slow-loris', c.ms < 8000 && !/^HTTP\/1\.[01] 200/.test(c.got) && h.status === 200 && served < 1000,
        `closed after ${c.ms.toFixed(0)} ms (${c.sent} bytes sent), others served in ${served.toFixed(0)} ms`,
        `cut after ${(c.ms / 1000).toFixed(1)} s and ${c.sent} bytes; a normal request meanwhile took ${served.toFixed(0)} ms`);
});

await test('connection-storm', async () => {
  // 200 connections: opened, some send half a request, all dropped at once
  const socks = await Promise.all(Array.from({ length: 200 }, (_, i) => new Promise((resolve) => {
    const s = net.connect(srv.port, '127.0.0.1');
    s.on('error', () => resolve(s));
    s.on('connect', () => {
      if (i % 3 === 1) s.write('POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Length: 500\r\n\r\n{"messa');
      if (i % 3 === 2) s.write('GET /hea');
      resolve(s);
    });
  })));
  await sleep(200);
  for (const s of socks) s.destroy();
  await sleep(300);
  const h = await fetch(`${srv.base}/health`);
  const r = await chat({ messages: msgs, max_tokens: 4 });
  check('connection-storm', h.status === 200 && r.status === 200 && r.json.choices[0].finish_reason,
        `after 200 dropped connections: health ${h.status}, chat ${show(r)}`);
});

await test('disconnects', async () => {
  // clients that go away mid-stream, mid-wait, and while queued: slots and blocks come back
  const body = (i) => JSON.stringify({ messages: [{ role: 'user', content: `long ${i}` }], max_tokens: 900, ignore_eos: true,
                                       stream: i % 2 === 0 });
  const m0 = await metrics(srv.base, auth);
  const drop = (i, ms) => new Promise((res) => { // streams: once the first bytes came; others after ms
    const s = net.connect(srv.port, '127.0.0.1');
    s.on('error', () => res());
    if (i % 2 === 0) s.on('data', () => { s.destroy(); res(); });
    s.write(`POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${KEY}\r\n` +
            `Content-Length: ${Buffer.byteLength(body(i))}\r\n\r\n${body(i)}`);
    setTimeout(() => { s.destroy(); res(); }, ms);
  });
  // non-streamed clients leave after 100 ms: well before 900 tokens can finish even on a fast machine
  await Promise.all([drop(0, 5000), drop(1, 100), drop(2, 5000), drop(3, 100)]);
  let m;
  const t = performance.now();
  do { await sleep(20); m = await metrics(srv.base, auth); }
  while ((m.frugal_requests_running || m.frugal_requests_queued || m.frugal_kv_blocks_in_use) && performance.now() - t < 5000);
  check('disconnects', !m.frugal_requests_running && !m.frugal_requests_queued && !m.frugal_kv_blocks_in_use &&
        m['frugal_requests_total{outcome="cancelled"}'] - m0['frugal_requests_total{outcome="cancelled"}'] === 4,
        `after dropping 4 clients: running ${m.frugal_requests_running}, queued ${m.frugal_requests_queued}, blocks ${m.frugal_kv_blocks_in_use}, cancelled ${m['frugal_requests_total{outcome="cancelled"}']}`);
});

await test('still-serving', async () => {
  const r = await chat({ messages: msgs, max_tokens: 8, temperature: 0, stream: true });
  let m = await metrics(srv.base, auth);
  for (let i = 0; i < 100 && m.frugal_requests_running; i++) { await sleep(20); m = await metrics(srv.base, auth); }
  check('still-serving', r.status === 200 && r.text.endsWith('data: [DONE]\n\n') && m['frugal_http_responses_total{code="400"}'] > 20 &&
        m.frugal_requests_running === 0, `final request ${show(r)}`);
  // shutdown with a long stream running: SIGTERM (drain), then SIGINT (cut now): the stream
  // still ends properly, and the process exits 0 with no sanitizer report
  const res = await fetch(`${srv.base}/v1/chat/completions`, { method: 'POST', headers: { ...auth, 'Content-Type': 'application/json' },
    body: JSON.stringify({ messages: msgs, max_tokens: 900, ignore_eos: true, stream: true }) });
  const reader = res.body.getReader();
  let text = '', signalled = 0;
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    text += Buffer.from(value).toString();
    if (!signalled && text.length > 600) { srv.proc.kill('SIGTERM'); signalled = 1; setTimeout(() => srv.proc.kill('SIGINT'), 300); }
  }
  const x = await srv.stop();
  const log = srv.log();
  check('cut-stream', /"finish_reason":"length"/.test(text) && text.endsWith('data: [DONE]\n\n'),
        `stream tail ${JSON.stringify(text.slice(-200))}`);
  const san = /AddressSanitizer|LeakSanitizer|runtime error|UndefinedBehaviorSanitizer/.test(log);
  check('clean-exit', x.code === 0 && !san, `exit ${x.code}/${x.sig}; log tail: ${log.slice(-1500)}`,
        /asan/.test(bin) ? 'ASan+UBSan build, no report' : 'exit 0');
});

if (srv.proc.exitCode === null) await srv.stop('SIGKILL');
process.exit(failed() ? 1 : 0);
