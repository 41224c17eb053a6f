// lib.mjs: helpers for the `frugal serve` tests: start/stop a server on a free port,
// report PASS/FAIL/SKIP lines (counted by tests/run.sh), raw HTTP over a socket, /metrics.
import { spawn, execFileSync } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';

let failures = 0;
export const failed = () => failures;
export function pass(name, info) { console.log(`PASS serve.${name}${info ? ` (${info})` : ''}`); }
export function fail(name, msg) { failures++; console.log(`FAIL serve.${name}: ${msg}`); }
export function skip(name, why) { console.log(`SKIP serve.${name}: ${why}`); }
export function check(name, cond, msg, info) { if (cond) pass(name, info); else fail(name, msg); return !!cond; }
export const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

// Runs fn as a named test: an exception is a failure with its message.
export async function test(name, fn) {
  const t0 = performance.now();
  try { await fn(); if (process.env.FRUGAL_TEST_TIMES) console.log(`  ${name}: ${((performance.now() - t0) / 1000).toFixed(1)} s`); } catch (e) { fail(name, `threw ${e && e.stack ? e.stack.split('\n').slice(0, 3).join(' | ') : e}`); }
}

export async function startServer(bin, args, env = {}) {
  const proc = spawn(bin, ['serve', '--port', '0', ...args], {
    stdio: ['ignore', 'ignore', 'pipe'], env: { ...process.env, ...env },
  });
  let log = '';
  proc.stderr.on('data', (d) => { log += d; });
  const exited = new Promise((res) => proc.on('exit', (code, sig) => res({ code, sig })));
  const port = await new Promise((res, rej) => {
    const t = setTimeout(() => rej(new Error(`server did not start in 120 s: ${log}`)), 120000);
    const look = () => {
      const m = /listening on http:\/\/[^ ]+:(\d+)/.exec(log);
      if (m) { clearTimeout(t); res(+m[1]); }
    };
    proc.stderr.on('data', look);
    exited.then((x) => { clearTimeout(t); rej(new Error(`server exited (${x.code}/${x.sig}) at start: ${log}`)); });
  });
  return {
    proc, port, base: `http://127.0.0.1:${port}`, log: () => log, exited,
    // SIGTERM (or sig) and the exit status; kills after timeoutMs
    async stop(sig = 'SIGTERM', timeoutMs = 30000) {
      if (proc.exitCode !== null || proc.signalCode !== null) return exited;
      proc.kill(sig);
      const t = setTimeout(() => proc.kill('SIGKILL'), timeoutMs);
      const r = await exited;
      clearTimeout(t);
      return r;
    },
    rss() { // resident memory in KiB
      try { return +/VmRSS:\s+(\d+)/.exec(fs.readFileSync(`/proc/${proc.pid}/status`, 'utf8'))[1]; } catch { return 0; }
    },
  };
}

export async function metrics(base, headers = {}) {
  const r = await fetch(`${base}/metrics`, { headers });
  const text = await r.text();
  const m = {};
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    m[line.slice(0, i)] = Number(line.slice(i + 1));
  }
  return m;
}

export async function postJSON(base, path, body, headers = {}) {
  const r = await fetch(base + path, {
    method: 'POST', headers: { 'Content-Type': 'application/json', ...headers },
    body: typeof body === 'string' || Buffer.isBuffer(body) ? body : JSON.stringify(body),
  });
  const text = await r.text();
  let json = null;
  try { json = JSON.parse(text); } catch { /* not JSON */ }
  return { status: r.status, headers: r.headers, text, json };
}

// Sends raw bytes; resolves with {status, head, body, closed} when the server answers and/or
// closes, or {timeout: true} after timeoutMs.
export function raw(port, data, timeoutMs = 10000) {
  return new Promise((resolve) => {
    const s = net.connect(port, '127.0.0.1');
    let buf = Buffer.alloc(0), done = false;
    const finish = (extra) => {
      if (done) return;
      done = true;
      clearTimeout(t);
      s.destroy();
      const text = buf.toString('latin1');
      const m = /^HTTP\/1\.[01] (\d{3})/.exec(text);
      const cut = text.indexOf('\r\n\r\n');
      resolve({ status: m ? +m[1] : 0, head: cut >= 0 ? text.slice(0, cut) : text,
                body: cut >= 0 ? text.slice(cut + 4) : '', ...extra });
    };
    const t = setTimeout(() => finish({ timeout: true }), timeoutMs);
    s.on('data', (d) => {
      buf = Buffer.concat([buf, d]);
      const text = buf.toString('latin1'), cut = text.indexOf('\r\n\r\n');
      if (cut >= 0) { // complete once Content-Length bytes are in
        const cl = /content-length:\s*(\d+)/i.exec(text.slice(0, cut));
        if (cl && buf.length >= cut + 4 + +cl[1]) finish({});
      }
    });
    s.on('error', () => finish({ closed: true }));
    s.on('close', () => finish({ closed: true }));
    s.write(data);
  });
}

// Renders messages with the model's template and runs `frugal run --temp 0` on the result;
// returns {text, ids} (text decoded as UTF-8 like any client, the trailing newline removed).
export function runGreedy(bin, model, tmp, messages, n, tag) {
  const mf = `${tmp}/msgs-${tag}.json`, pf = `${tmp}/prompt-${tag}.txt`;
  fs.writeFileSync(mf, JSON.stringify(messages));
  const prompt = execFileSync(bin, ['template', '-m', model, '--messages', mf, '--add-generation-prompt']);
  fs.writeFileSync(pf, prompt);
  const args = ['run', '-m', model, '-f', pf, '-n', String(n), '--temp', '0'];
  const out = execFileSync(bin, args, { stdio: ['ignore', 'pipe', 'ignore'] });
  const ids = execFileSync(bin, [...args, '--print-ids'], { stdio: ['ignore', 'pipe', 'ignore'] }).toString().trim();
  let text = out.toString('utf8');
  if (text.endsWith('\n')) text = text.slice(0, -1);
  return { text, ids: ids ? ids.split(' ').map(Number) : [] };
}

export function words(n, seed) { // a deterministic text of n words
  const vocab = ['the', 'river', 'stone', 'light', 'quick', 'model', 'server', 'token', 'blue', 'tree',
                 'cloud', 'seven', 'paper', 'music', 'ocean', 'story', 'green', 'small', 'north', 'glass'];
  let x = seed >>> 0, out = [];
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) >>> 0; out.push(vocab[(x >>> 16) % vocab.length]); }
  return out.join(' ');
}
