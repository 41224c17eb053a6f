// corpus_gen.mjs: writes the tokenizer oracle corpus (deterministic, no inputs):
//   OUTDIR/corpus.txt           >= 100 KB of valid UTF-8: English, Chinese, Japanese, Korean,
//                               Arabic, Russian, Greek, Hindi, Vietnamese, emoji with skin-tone
//                               modifiers / ZWJ / flags / keycaps, source code, numbers, runs of
//                               spaces, tabs and newlines, non-ASCII whitespace, control bytes
//   OUTDIR/specials.txt         text with special-token spellings of many vocabs (for
//                               --parse-special) mixed with ordinary text
//   OUTDIR/invalid.bin          text with invalid UTF-8 bytes of the kinds where llama.cpp's
//                               per-byte U+FFFD replacement and a JS TextDecoder agree (lone
//                               continuation bytes, F8..FF, C0/C1, lead bytes followed by ASCII)
//   OUTDIR/invalid_replaced.txt invalid.bin decoded with U+FFFD replacement (what a JS string
//                               can carry to llama.cpp)
//   OUTDIR/long.txt             long single words: letters, digits, one emoji run, spaces
// usage: node corpus_gen.mjs OUTDIR
import { mkdirSync, writeFileSync } from 'node:fs';

const out = process.argv[2];
if (!out) { console.error('usage: node corpus_gen.mjs OUTDIR'); process.exit(2); }
mkdirSync(out, { recursive: true });

// small deterministic PRNG (mulberry32)
let seed = 0x5eed1234;
function rnd() {
  seed |= 0; seed = (seed + 0x6D2B79F5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
}
const pick = (a) => a[Math.floor(rnd() * a.length)];
const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));

const english = [
  "The committee met on Tuesday and decided, after a long discussion, to postpone the vote.",
  "It's not that we didn't try; we've tried everything, and they'd say the same if you asked.",
  "I'm sure you'll like it. She's been there before, and he's coming back next week.",
  "YOU'RE RIGHT, IT'S FINE. WE'VE SEEN IT. THEY'LL KNOW. I'D GO. HE'S HERE. I'M OK.",
  "Don't panic!  Really?  Yes... really.  (Well -- mostly.)  \"Quotes\" and 'single quotes'.",
  "A tokenizer turns text into numbers; a detokenizer turns them back into the same text.",
  "Mr. Smith paid $1,234.56 for 3 books, 12 pens and a 0.5-litre bottle on 2023-11-05.",
  "Hello world! Hello, World. HELLO WORLD? hello_world(); helloWorld; HelloWorld2024",
  "e-mail: someone@example.org, web: https://www.example.com/a/b?c=d&e=f#g, ftp://x.y",
  "Naïve café owners in São Paulo serve crème brûlée; Zoë and Björn order smørrebrød.",
  "The ratio was 3:2, then 16:9; the score ended 2-1 after extra time (120').",
  "over/under, either|or, this\\that, <tag attr=\"v\">, {braces}, [brackets], 50% off, #hashtag, @user",
];
const chinese = [
  "我们今天讨论的是大型语言模型的推理效率问题。",
  "北京是中国的首都，上海是最大的经济中心。",
  "这个函数返回一个整数，表示处理过的字节数量。",
  "他说：“明天见！”然后就走了。我想在apple工作1314151天～",
  "床前明月光，疑是地上霜。举头望明月，低头思故乡。",
  "深度学习模型需要大量的数据和计算资源；量化可以减少内存占用。",
  "请注意：输入可能包含中英文混合、数字123以及标点符号！？",
];
const japanese = [
  "今日はとても良い天気ですね。明日も晴れるでしょうか。",
  "コンピュータのプログラムを書くのが大好きです。",
  "東京駅から新幹線で大阪まで約二時間半かかります。",
  "ひらがな、カタカナ、そして漢字を組み合わせて書きます。ｶﾀｶﾅ半角も。",
];
const korean = [
  "안녕하세요. 오늘 날씨가 정말 좋네요.",
  "저는 서울에서 소프트웨어 엔지니어로 일하고 있습니다.",
  "한국어 문장과 English words가 섞여 있는 경우도 있습니다.",
];
const arabic = [
  "مرحبا بالعالم. هذه جملة باللغة العربية.",
  "اللُّغَةُ العَرَبِيَّةُ جَمِيلَةٌ وَغَنِيَّةٌ بِالمُفْرَدَاتِ.",
  "الرقم ١٢٣٤٥ مكتوب بالأرقام العربية الهندية، و 12345 بالأرقام اللاتينية.",
];
const others = [
  "Привет, мир! Это небольшая программа, которая работает быстро.",
  "Καλημέρα κόσμε! Η γλώσσα είναι όμορφη.",
  "नमस्ते दुनिया। यह एक छोटा सा परीक्षण है।",
  "Cửa Việt, Tiếng Việt có dấu: ắ ằ ẳ ẵ ặ ế ề ể ễ ệ.",
  "שלום עולם, זה טקסט בעברית.",
  "ภาษาไทยไม่มีการเว้นวรรคระหว่างคำ",
  "Ünïcödé with combining: e\u0301 a\u0308 o\u0302 n\u0303 and precomposed é ä ô ñ.",
  "Math letters 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 𝐁𝐨𝐥𝐝 and CJK ext-B 𠀀𠀁𠀂, private use \uE000\uF8FF, noncharacter \uFFFE.",
  "Numbers of other kinds: ½ ¼ ² ³ Ⅻ ⅷ １２３ ٣٤٥ ๑๒๓ ①②③.",
  "Unassigned \u0378 and \u0EFF sit next to letters: a\u0378b.",
];
const emoji = [
  "👍 👍🏻 👍🏼 👍🏽 👍🏾 👍🏿", "👩‍💻 👨‍👩‍👧‍👦 🏳️‍🌈 🧑🏽‍🚀", "🇯🇵 🇺🇸 🇩🇪 🇨🇳",
  "1️⃣ 2️⃣ #️⃣ *️⃣", "❤️ ✅ ⭐ ☕ ♻️", "😀😃😄😁😆😅😂🤣", "🦙🦙🦙 🚀 (normal) 😶‍🌫️", "🫠 🥲 🤌",
];
const code = [
  "int main(void) {\n\tint x = 42;\n\tprintf(\"%d\\n\", x);\n\treturn 0;\n}\n",
  "def f(a, b=2, *args, **kw):\n    if a is None:\n        raise ValueError('a')\n    return [x ** 2 for x in range(b)]\n",
  "const f = async (u) => { const r = await fetch(u); return r.ok ? r.json() : null; };\n",
  "{\"key\": [1, 2.5, -3e10, true, null], \"nested\": {\"a\": \"b\\\"c\"}}\n",
  "#!/bin/sh\nset -eu\nfor f in *.txt; do\n  wc -l \"$f\" | awk '{print $1}'\ndone\n",
  "<!DOCTYPE html>\n<html lang=\"en\">\n  <body>\n    <p class='x'>Hi &amp; bye</p>\n  </body>\n</html>\n",
  "fn main() -> Result<(), Box<dyn Error>> {\n    let v: Vec<u32> = (0..10).collect();\n    println!(\"{:?}\", v);\n    Ok(())\n}\n",
  "SELECT a.id, COUNT(*) AS n FROM t a JOIN u b ON a.id = b.tid WHERE x <> 0 GROUP BY 1;\n",
  "    if (x >= 0 && y <= 10 || z != 3) { a += b; c -= d; e *= f; g /= h; i %= j; k <<= 1; }\n",
];
const spaces = [
  " ", "  ", "   ", "    ", "        ", "\t", "\t\t", "\n", "\n\n", "\n\n\n", "\r\n", "\r\n\r\n",
  " \n", "  \n", "\t\n", " \t \t", "\n \n", "\u00A0", "\u3000", "\u2003", "\u2009", "\u200B", "\u0085",
  "\u2028", "\u202F", "\u1680", "\u000B", "\u000C", "\u001C", "\u001F",
];
const controls = ["\u0000", "\u0001", "\u001B[31m", "\u007F", "\u0008", "\uFEFF", "\u00AD"];

function number() {
  switch (int(0, 7)) {
    case 0: return String(int(0, 9));
    case 1: return String(int(10, 99999));
    case 2: return String(int(0, 2 ** 31 - 1)) + String(int(0, 999999));
    case 3: return (rnd() * 1000 - 500).toFixed(int(1, 6));
    case 4: return `${int(1, 9)}.${int(0, 99)}e${pick(['+', '-', ''])}${int(1, 30)}`;
    case 5: return `${int(1990, 2030)}-${String(int(1, 12)).padStart(2, '0')}-${String(int(1, 28)).padStart(2, '0')}`;
    case 6: return `${int(0, 23)}:${String(int(0, 59)).padStart(2, '0')}:${String(int(0, 59)).padStart(2, '0')}`;
    default: return '3'.repeat(int(1, 12));
  }
}

function piece() {
  switch (int(0, 11)) {
    case 0: case 1: case 2: return pick(english);
    case 3: return pick(chinese);
    case 4: return pick(japanese);
    case 5: return pick(korean);
    case 6: return pick(arabic);
    case 7: return pick(others);
    case 8: return pick(emoji);
    case 9: return pick(code);
    case 10: return number();
    default: return pick(controls) + pick(english).slice(0, int(3, 20));
  }
}

let text = '';
while (Buffer.byteLength(text, 'utf8') < 120 * 1024) {
  text += piece();
  text += pick(spaces);
  if (rnd() < 0.15) text += number() + pick(spaces);
}
// every fixed sentence at least once, in order
text += '\n' + [...english, ...chinese, ...japanese, ...korean, ...arabic, ...others, ...emoji, ...code].join('\n');
text += '\n' + spaces.join('x') + ' end   \n\n\t';
writeFileSync(`${out}/corpus.txt`, text);

const specials = [
  '<|endoftext|>', '<|im_start|>', '<|im_end|>', '<s>', '</s>', '<unk>', '<|padding|>',
  '<fim_prefix>', '<fim_middle>', '<fim_suffix>', '<|fim_prefix|>', '>>TITLE<<', '>>ABSTRACT<<',
  '<｜begin▁of▁sentence｜>', '<｜end▁of▁sentence｜>', '<|user|>', '<|assistant|>', '<|end|>',
  '<|system|>', '<|unused_3|>', '<unused_7>', '<filename>', '<gh_stars>', '<|begin_of_text|>',
];
let sp = '';
for (let i = 0; i < 400; i++) {
  sp += pick(specials);
  if (rnd() < 0.6) sp += pick(english).slice(0, int(0, 40));
  if (rnd() < 0.3) sp += pick(spaces);
  if (rnd() < 0.2) sp += pick(chinese).slice(0, int(1, 8));
}
sp += '<|im_start|>user\nHello!<|im_end|>\n<|im_start|>assistant\n<s>[INST] hi [/INST] ok </s>';
writeFileSync(`${out}/specials.txt`, sp);

// invalid UTF-8 of the kinds where both replacement rules give one U+FFFD per bad byte
const bad = [[0x80], [0xBF], [0xFF], [0xFE], [0xF8], [0xC0], [0xC1], [0xC3], [0xE4], [0xF0], [0xF4], [0x9F, 0x98]];
const parts = [];
for (let i = 0; i < 600; i++) {
  parts.push(Buffer.from(piece().slice(0, int(1, 30)), 'utf8'));
  const b = pick(bad);
  parts.push(Buffer.from(b));
  // a lead byte must not be followed by a continuation byte
  parts.push(Buffer.from(pick(['a', ' ', 'Z', '1', '.', '\n', '你']), 'utf8'));
}
const inv = Buffer.concat(parts);
writeFileSync(`${out}/invalid.bin`, inv);
writeFileSync(`${out}/invalid_replaced.txt`, new TextDecoder('utf-8').decode(inv));

const long = 'a'.repeat(20000) + ' ' + '7'.repeat(5000) + ' ' + '😀'.repeat(2000) + ' '.repeat(3000) + 'x' +
  '\n'.repeat(500) + 'abc'.repeat(4000) + '中文'.repeat(3000) + '!'.repeat(3000);
writeFileSync(`${out}/long.txt`, long);
console.log(`corpus: ${Buffer.byteLength(text)} bytes, specials: ${Buffer.byteLength(sp)}, invalid: ${inv.length}, long: ${Buffer.byteLength(long)}`);
