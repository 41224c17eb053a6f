// render_hf.mjs: the chat-template oracle: renders templates with @huggingface/jinja (an
// independent Jinja implementation) so that tests/oracle/test_templates.sh can compare frugal's
// output with it byte for byte.
//
//   node render_hf.mjs cases TEMPLATES_DIR OUT_DIR
//       For every *.jinja in TEMPLATES_DIR and every message case that applies to it, writes
//       OUT_DIR/<template>.<case>.json (the variables: messages, tools, bos_token, ...) and
//       OUT_DIR/<template>.<case>.out (the oracle's rendering) or .err (why the oracle threw).
//   node render_hf.mjs render TEMPLATE.jinja VARS.json
//       Prints one rendering (debugging).
//
// node_modules: $FRUGAL_NODE_MODULES (default tests/oracle/node_modules). strftime_now sees
// the clock fixed at $FRUGAL_NOW (seconds) when set; run with TZ=UTC like the frugal side.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL, fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const nm = process.env.FRUGAL_NODE_MODULES || path.join(here, "node_modules");
const { Template } = await import(pathToFileURL(path.join(nm, "@huggingface/jinja/dist/index.js")).href);

if (process.env.FRUGAL_NOW) {
  const fixed = Number(process.env.FRUGAL_NOW) * 1000;
  const RealDate = Date;
  class FixedDate extends RealDate {
    constructor(...a) {
      if (a.length === 0) super(fixed);
      else super(...a);
    }
    static now() {
      return fixed;
    }
  }
  globalThis.Date = FixedDate;
}

const BOS = "<|bos|>";
const EOS = "<|eos|>";

const TOOLS = [
  {
    type: "function",
    function: {
      name: "get_weather",
      description: "Get the current weather in a city.",
      parameters: {
        type: "object",
        properties: {
          location: { type: "string", description: "City name, e.g. Paris" },
          unit: { type: "string", description: "Temperature unit", enum: ["celsius", "fahrenheit"] },
          days: { type: "integer", description: "Forecast days" },
        },
        required: ["location"],
      },
    },
  },
  {
    type: "function",
    function: {
      name: "search",
      description: "Search the web.",
      parameters: {
        type: "object",
        properties: { query: { type: "string", description: "What to search for" } },
        required: ["query"],
      },
    },
  },
];

const SYS = { role: "system", content: "You are a helpful assistant." };
const U1 = { role: "user", content: "Hello! What is 2+2?" };
const A1 = { role: "assistant", content: "2+2 equals 4." };
const U2 = { role: "user", content: "And 3+3?" };
const UNI = {
  role: "user",
  content: 'Traduis: 你好，世界！😀 "quotes" \\ back\\slash\ttab\nnew line é ñ 日本語 한국어 العربية',
};
const A_UNI = { role: "assistant", content: "こんにちは 🌍 — «ok» 'single' \"double\"" };

function toolCall(args) {
  return {
    role: "assistant",
    content: "",
    tool_calls: [
      { id: "call_1", type: "function", function: { name: "get_weather", arguments: args } },
    ],
  };
}
const TOOL_RESULT = {
  role: "tool",
  tool_call_id: "call_1",
  name: "get_weather",
  content: '{"temperature": 22, "condition": "sunny"}',
};
const U_WEATHER = { role: "user", content: "What's the weather in Paris?" };
const A_FINAL = { role: "assistant", content: "It is 22°C and sunny in Paris." };

// Cases: name -> (template text) => vars | null (null: does not apply)
const CASES = {
  user: () => ({ messages: [U1], add_generation_prompt: true }),
  system: () => ({ messages: [SYS, U1], add_generation_prompt: true }),
  multi: () => ({ messages: [SYS, U1, A1, U2], add_generation_prompt: true }),
  multi_nosys: () => ({ messages: [U1, A1, U2], add_generation_prompt: true }),
  no_gen: () => ({ messages: [U1, A1], add_generation_prompt: false }),
  unicode: () => ({ messages: [SYS, UNI, A_UNI, U2], add_generation_prompt: true }),
  reasoning: (t) =>
    /reasoning_content|reasoning/.test(t)
      ? {
          messages: [
            U1,
            { role: "assistant", content: "The answer is 4.", reasoning_content: "Add two and two." },
            U2,
          ],
          add_generation_prompt: true,
        }
      : null,
  reasoning_last: (t) =>
    /reasoning_content|reasoning/.test(t)
      ? {
          messages: [U1, { role: "assistant", content: "The answer is 4.", reasoning_content: "Add two and two." }],
          add_generation_prompt: false,
        }
      : null,
  think_inline: (t) =>
    /think>/.test(t)
      ? {
          messages: [U1, { role: "assistant", content: "<think>\nAdd two and two.\n</think>\n\nThe answer is 4." }, U2],
          add_generation_prompt: true,
        }
      : null,
  thinking_on: (t) =>
    /enable_thinking|thinking/.test(t)
      ? { messages: [SYS, U1], add_generation_prompt: true, enable_thinking: true, thinking: true }
      : null,
  thinking_off: (t) =>
    /enable_thinking|thinking/.test(t)
      ? { messages: [SYS, U1], add_generation_prompt: true, enable_thinking: false, thinking: false }
      : null,
  tools_decl: (t) => (/tools/.test(t) ? { messages: [SYS, U_WEATHER], tools: TOOLS, add_generation_prompt: true } : null),
  tools_call: (t) =>
    /tool_calls|tool_call/.test(t)
      ? {
          messages: [U_WEATHER, toolCall({ location: "Paris", unit: "celsius" }), TOOL_RESULT, A_FINAL],
          tools: TOOLS,
          add_generation_prompt: false,
        }
      : null,
  tools_call_str: (t) =>
    /tool_calls|tool_call/.test(t)
      ? {
          messages: [U_WEATHER, toolCall('{"location": "Paris"}'), TOOL_RESULT],
          tools: TOOLS,
          add_generation_prompt: true,
        }
      : null,
};

function render(src, vars) {
  const tmpl = new Template(src);
  return tmpl.render(vars);
}

const [mode, a, b] = process.argv.slice(2);
if (mode === "render") {
  const src = fs.readFileSync(a, "utf8");
  const vars = JSON.parse(fs.readFileSync(b, "utf8"));
  process.stdout.write(render(src, vars));
} else if (mode === "cases") {
  fs.mkdirSync(b, { recursive: true });
  const files = fs.readdirSync(a).filter((f) => f.endsWith(".jinja")).sort();
  for (const f of files) {
    const name = f.slice(0, -6);
    const src = fs.readFileSync(path.join(a, f), "utf8");
    for (const [cname, make] of Object.entries(CASES)) {
      const v = make(src);
      if (!v) continue;
      const vars = { bos_token: BOS, eos_token: EOS, ...v };
      // firefunction-style templates take the date and the tool list as plain variables
      if (/\bdatetime\b/.test(src)) {
        vars.datetime = "2025-10-09";
        vars.functions = JSON.stringify(v.tools || []);
      }
      const base = path.join(b, `${name}.${cname}`);
      fs.writeFileSync(`${base}.json`, JSON.stringify(vars));
      try {
        fs.writeFileSync(`${base}.out`, render(src, JSON.parse(JSON.stringify(vars))));
      } catch (e) {
        fs.writeFileSync(`${base}.err`, String(e && e.message ? e.message : e).split("\n")[0]);
      }
    }
  }
} else {
  console.error("usage: node render_hf.mjs cases TEMPLATES_DIR OUT_DIR | render TEMPLATE VARS.json");
  process.exit(2);
}
