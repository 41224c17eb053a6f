// jinja_diff.mjs: differential test of frugal's Jinja interpreter against @huggingface/jinja
// on random expressions and small statements built from the constructs chat templates use.
//   node tests/oracle/jinja_diff.mjs FRUGAL_BINARY [COUNT=500] [SEED=1]
// Prints "DIFF <template>" with both outputs for every mismatch where the oracle rendered,
// then "jinja_diff: N compared, M identical, K oracle errors, J intended differences".
// Intended differences (frugal follows Python's Jinja there): division by zero is an error
// (the oracle prints NaN/Infinity) and % with a negative operand takes the divisor's sign.
// Exit 1 on any other mismatch.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { pathToFileURL, fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = process.env.FRUGAL_NODE_MODULES || path.join(here, "node_modules");
const { Template } = await import(pathToFileURL(path.join(nm, "@huggingface/jinja/dist/index.js")).href);

const [bin, countArg, seedArg] = process.argv.slice(2);
const COUNT = Number(countArg || 500);
let seed = Number(seedArg || 1) >>> 0;
function rnd(n) {
  seed = (seed * 1664525 + 1013904223) >>> 0;
  return seed % n;
}
const pick = (a) => a[rnd(a.length)];

const VARS = {
  messages: [
    { role: "system", content: "Be brief." },
    { role: "user", content: " Hello World " },
    { role: "assistant", content: "<think>\nhm\n</think>\n\nHi!", tool_calls: [{ function: { name: "f", arguments: { a: 1 } } }] },
  ],
  s: "Hello World",
  e: "",
  n: 3,
  z: 0,
  f: 2.5,
  b: true,
  l: [3, 1, 2],
  ls: ["b", "A", "c"],
  d: { a: 1, b: "x", c: [1, 2] },
  nn: null,
  uni: "日本語 😀 é",
};

const ATOMS = ["s", "e", "n", "z", "f", "b", "l", "ls", "d", "nn", "uni", "u", "messages", "messages[1]",
  "messages[-1]", "messages[0].content", "d.a", "d['b']", "d.c", "l[0]", "l[-1]", "ls[1:]", "s[::-1]", "s[1:4]",
  "1", "0", "-2", "2.0", "0.5", "'x'", "'a b'", "''", "true", "false", "none", "[1, 2]", "[]", "{'k': 'v'}", "{}",
  "(1, 2)"];
const BINOPS = ["+", "-", "*", "/", "//", "%", "~", "==", "!=", "<", ">", "<=", ">=", "in", "not in", "and", "or"];
const FILTERS = ["length", "trim", "upper", "lower", "title", "capitalize", "tojson", "string", "list", "first",
  "last", "join", "join(', ')", "reverse", "sort", "unique", "int", "float", "abs", "default('z')",
  "default('z', true)", "items", "tojson(indent=2)", "safe", "indent(2)", "replace('l', 'L')", "count",
  "selectattr('role', 'equalto', 'user') | list", "map(attribute='role') | list", "dictsort", "sort(reverse=true)"];
const TESTS = ["defined", "undefined", "none", "string", "number", "mapping", "iterable", "sequence", "true", "false",
  "odd", "even", "integer", "boolean", "lower", "upper"];
const METHODS = ["s.upper()", "s.lower()", "s.split(' ')", "s.split()", "s.strip()", "s.startswith('He')",
  "s.endswith('ld')", "s.replace('l', 'L')", "d.get('a')", "d.get('q', 7)", "d.items()", "d.keys()", "d.values()",
  "s.title()", "uni.split(' ')", "messages[1].content.strip()", "messages[2].content.split('</think>')[-1].lstrip()",
  "s.lstrip()", "s.rstrip()", "'  x '.strip()", "s.capitalize()"];

function expr(depth) {
  const k = depth > 2 ? 0 : rnd(7);
  switch (k) {
    case 0: return pick(ATOMS);
    case 1: return `(${expr(depth + 1)} ${pick(BINOPS)} ${expr(depth + 1)})`;
    case 2: return `(${expr(depth + 1)} | ${pick(FILTERS)})`;
    case 3: return `(${expr(depth + 1)} is ${rnd(2) ? "not " : ""}${pick(TESTS)})`;
    case 4: return pick(METHODS);
    case 5: return `(${expr(depth + 1)} if ${expr(depth + 1)} else ${expr(depth + 1)})`;
    default: return `(not ${expr(depth + 1)})`;
  }
}

// text and tags with every whitespace-control combination (trim_blocks / lstrip_blocks)
const TEXT = ["a", " ", "  ", "\n", "\t", "  \n  ", "\n\n", "\u3000", "\u00a0", "\r\n", "b c", " \t\n"];
const TAGS = ["{{ 'x' }}", "{{- 'x' }}", "{{ 'x' -}}", "{{- 'x' -}}", "{# c #}", "{#- c #}", "{# c -#}",
  "{#- c -#}", "{% set y = 1 %}", "{%- set y = 1 %}", "{% set y = 1 -%}", "{%- set y = 1 -%}",
  "{% generation %}", "{%- generation -%}", "{% endgeneration %}"];
function wsTemplate() {
  let out = "";
  const n = 2 + rnd(6);
  for (let i = 0; i < n; i++) {
    out += pick(TEXT);
    if (rnd(4) === 0) {
      out += `${pick(["{% if true %}", "{%- if true %}", "{% if true -%}", "{%- if false -%}"])}${pick(TEXT)}${pick(TAGS)}${pick(TEXT)}${pick(["{% endif %}", "{%- endif %}", "{% endif -%}", "{%- endif -%}"])}`;
    } else {
      out += pick(TAGS);
    }
  }
  return out + pick(TEXT);
}

function stmt() {
  if (rnd(4) === 0) return wsTemplate();
  switch (rnd(6)) {
    case 0: return `{{ ${expr(0)} }}`;
    case 1: return `{% for x in ${pick(["l", "ls", "d", "messages", "s", "[]"])} %}{{ loop.index }}:{{ x }}{{ ',' if not loop.last }}{% else %}E{% endfor %}`;
    case 2: return `{% if ${expr(1)} %}T{% elif ${expr(1)} %}E{% else %}F{% endif %}`;
    case 3: return `{% set ns = namespace(v=${expr(1)}) %}{% for m in messages %}{% set ns.v = m.role %}{% endfor %}{{ ns.v }}`;
    case 4: return `{% macro m(a, b=${pick(ATOMS)}) %}[{{ a }}|{{ b }}]{% endmacro %}{{ m(${expr(1)}) }}`;
    default: return `{{- ${expr(0)} -}}  {%- if true %} x {% endif -%}`;
  }
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), "jinja-diff-"));
const varsPath = path.join(dir, "vars.json");
fs.writeFileSync(varsPath, JSON.stringify(VARS));
let compared = 0, same = 0, oracleErr = 0, diffs = 0, intended = 0;
const isIntended = (src, got) => /division by zero/.test(got) || (/%/.test(src) && /-\d/.test(src));
for (let i = 0; i < COUNT; i++) {
  const src = stmt();
  let want;
  try {
    want = new Template(src).render(JSON.parse(JSON.stringify(VARS)));
  } catch {
    oracleErr++;
    continue;
  }
  const tp = path.join(dir, "t.jinja");
  fs.writeFileSync(tp, src);
  let got;
  try {
    got = execFileSync(bin, ["template", "--template", tp, "--messages", varsPath], { stdio: ["ignore", "pipe", "pipe"] }).toString();
  } catch (e) {
    got = `<error: ${String(e.stderr || e.message).trim()}>`;
  }
  compared++;
  if (got === want) same++;
  else if (isIntended(src, got)) intended++;
  else {
    diffs++;
    console.log(`DIFF ${src}\n  oracle: ${JSON.stringify(want)}\n  frugal: ${JSON.stringify(got)}`);
  }
}
fs.rmSync(dir, { recursive: true, force: true });
console.log(`jinja_diff: ${compared} compared, ${same} identical, ${oracleErr} oracle errors, ${intended} intended differences`);
process.exit(diffs ? 1 : 0);
