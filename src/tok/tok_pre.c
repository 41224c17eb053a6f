/* tok_pre.c: the byte-level BPE pre-tokenizer: one entry per tokenizer.ggml.pre value with
 * llama.cpp's regex lists, and the splitter that applies them in sequence.
 *
 * The regexes are run the way llama.cpp's unicode_regex_split runs them, so that word
 * boundaries match exactly:
 *  - the four common patterns (gpt2, llama3, qwen2, qwen35 style) and a few others use
 *    hand-written splitters (tok_pre_custom.c), as llama.cpp does;
 *  - a pattern using \p{..} runs over a "collapsed" text with one byte per codepoint
 *    (ASCII kept, non-ASCII replaced by a category byte: 0xD1 number, 0xD2 letter, 0xD3
 *    punctuation, 0xD4 mark, 0xD5 symbol, 0x0B whitespace, 0xD0 other) with the \p{..}
 *    classes rewritten to those bytes plus their ASCII members;
 *  - any other pattern runs over the codepoints, with non-ASCII whitespace replaced by
 *    0x0B and \s, \d meaning ASCII only (std::wregex in the C locale).
 * PCRE2 (JIT when available) does the matching; DOLLAR_ENDONLY gives ECMAScript's '$'. */
#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

#define NMAX_STEPS 8

#define P_GPT2 "'s|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)"
#define P_CONTR "(?:'[sS]|'[tT]|'[rR][eE]|'[vV][eE]|'[mM]|'[lL][lL]|'[dD])"
#define P_LLAMA3                                                                                   \
    P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "                                         \
            "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define P_QWEN2                                                                                    \
    P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "                                              \
            "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define P_QWEN35                                                                                   \
    P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?[\\p{L}\\p{M}]+|\\p{N}| "                                      \
            "?[^\\s\\p{L}\\p{M}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define P_KIMI "\\p{Han}+"
#define P_AFMOE_DIGITS "\\p{AFMoE_digits}"
#define P_NEWLINES "[^\\n]+|[\\n]+"
#define P_AYA_DIGITS "\\d{1,3}(?=(?:\\d{3})*\\b)"
#define P_BLOOM                                                                                    \
    " ?[^(\\s|.,!?\xe2\x80\xa6\xe3\x80\x82\xef\xbc\x8c\xe3\x80\x81\xe0\xa5\xa4\xdb\x94\xd8\x8c)]+"
#define P_DS3                                                                                      \
    "[!\"#$%&'()*+,\\-./"                                                                          \
    ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "               \
    "?[\\p{P}\\p{S}]+[\r\n]*|\\s*[\r\n]+|\\s+(?!\\S)|\\s+"
#define P_CJK_DS3 "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+"
#define P_CJK_DS "[\xe4\xb8\x80-\xe9\xbe\xa5\xe0\xa0\x80-\xe4\xb8\x80\xea\xb0\x80-\xed\x9f\xbf]+"
#define P_UPLO_LETTERS(M) "[^\\r\\n\\p{L}\\p{N}]?((?=[" M "])([^a-z]))*((?=[" M "])([^A-Z]))+"
#define P_LOUP_LETTERS(M) "[^\\r\\n\\p{L}\\p{N}]?((?=[" M "])([^a-z]))+((?=[" M "])([^A-Z]))*"
#define P_CONTR_OPT P_CONTR "?"
#define P_TAIL_SLASH "| ?[^\\s\\p{L}\\p{N}]+[\\r\\n/]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"
#define P_GPT4O                                                                                    \
    P_UPLO_LETTERS("\\p{L}")                                                                       \
    P_CONTR_OPT "|" P_LOUP_LETTERS("\\p{L}") P_CONTR_OPT "|\\p{N}{1,3}" P_TAIL_SLASH
#define P_GRANITE97                                                                                \
    P_UPLO_LETTERS("\\p{L}\\p{M}")                                                                 \
    P_CONTR_OPT "|" P_LOUP_LETTERS("\\p{L}\\p{M}") P_CONTR_OPT "|\\p{N}{1,3}" P_TAIL_SLASH
#define P_TEKKEN P_UPLO_LETTERS("\\p{L}") "|" P_LOUP_LETTERS("\\p{L}") "|\\p{N}" P_TAIL_SLASH
#define P_ULM                                                                                      \
    "[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]*[\\p{Ll}\\p{Lm}\\p{Lo}\\p{M}]"     \
    "+" P_CONTR_OPT "|[^\\r\\n\\p{L}\\p{N}]?[\\p{Lu}\\p{Lt}\\p{Lm}\\p{Lo}\\p{M}]+[\\p{Ll}\\p{Lm}"  \
                    "\\p{Lo}\\p{M}]*" P_CONTR_OPT

/* deepseek-llm's letter class, verbatim from llama.cpp (UTF-8) */
#define P_DS_LETTERS                                                                               \
    "\\s?[A-Za-z\xc2\xb5\xc3\x80-\xc3\x96\xc3\x98-\xc3\xb6\xc3\xb8-\xc6\xba\xc6\xbc-"              \
    "\xc6\xbf\xc7\x84-\xca\x93\xca\x95-\xca\xaf\xcd\xb0-\xcd\xb3\xcd\xb6\xcd\xb7\xcd\xbb-"         \
    "\xcd\xbd\xcd\xbf\xce\x86\xce\x88-\xce\x8a\xce\x8c\xce\x8e-\xce\xa1\xce\xa3-\xcf\xb5\xcf\xb7-" \
    "\xd2\x81\xd2\x8a-\xd4\xaf\xd4\xb1-\xd5\x96\xe1\x82\xa0-\xe1\x83\x85\xe1\x8e\xa0-"             \
    "\xe1\x8f\xb5\xe1\x8f\xb8-\xe1\x8f\xbd\xe1\xb2\x90-\xe1\xb2\xba\xe1\xb2\xbd-"                  \
    "\xe1\xb2\xbf\xe1\xb4\x80-\xe1\xb4\xab\xe1\xb5\xab-\xe1\xb5\xb7\xe1\xb5\xb9-"                  \
    "\xe1\xb6\x9a\xe1\xb8\x80-\xe1\xbc\x95\xe1\xbc\x98-\xe1\xbc\x9d\xe1\xbc\xa0-"                  \
    "\xe1\xbd\x85\xe1\xbd\x88-\xe1\xbd\x8d\xe1\xbd\x90-"                                           \
    "\xe1\xbd\x97\xe1\xbd\x99\xe1\xbd\x9b\xe1\xbd\x9d\xe1\xbd\x9f-\xe1\xbd\xbd\xe1\xbe\x80-"       \
    "\xe1\xbe\xb4\xe1\xbe\xb6-\xe1\xbe\xbc\xe1\xbe\xbe\xe1\xbf\x82-\xe1\xbf\x84\xe1\xbf\x86-"      \
    "\xe1\xbf\x8c\xe1\xbf\x90-\xe1\xbf\x93\xe1\xbf\x96-\xe1\xbf\x9b\xe1\xbf\xa0-"                  \
    "\xe1\xbf\xac\xe1\xbf\xb2-\xe1\xbf\xb4\xe1\xbf\xb6-"                                           \
    "\xe1\xbf\xbc\xe2\x84\x82\xe2\x84\x87\xe2\x84\x8a-\xe2\x84\x93\xe2\x84\x95\xe2\x84\x99-"       \
    "\xe2\x84\x9d\xe2\x84\xa4\xe2\x84\xa6\xe2\x84\xa8\xe2\x84\xaa-\xe2\x84\xad\xe2\x84\xaf-"       \
    "\xe2\x84\xb4\xe2\x84\xb9\xe2\x84\xbc-\xe2\x84\xbf\xe2\x85\x85-"                               \
    "\xe2\x85\x89\xe2\x85\x8e\xe2\x86\x83\xe2\x86\x84\xe2\xb0\x80-\xe2\xb1\xbb\xe2\xb1\xbe-"       \
    "\xe2\xb3\xa4\xe2\xb3\xab-\xe2\xb3\xae\xe2\xb3\xb2\xe2\xb3\xb3\xea\x99\x80-"                   \
    "\xea\x99\xad\xea\x9a\x80-\xea\x9a\x9b\xea\x9c\xa2-\xea\x9d\xaf\xea\x9d\xb1-"                  \
    "\xea\x9e\x87\xea\x9e\x8b-\xea\x9e\x8e\xea\xad\xb0-\xea\xae\xbf\xef\xac\x80-"                  \
    "\xef\xac\x86\xef\xac\x93-\xef\xac\x97\xef\xbc\xa1-\xef\xbc\xba\xef\xbd\x81-"                  \
    "\xef\xbd\x9a\xf0\x90\x90\x80-\xf0\x90\x91\x8f\xf0\x90\x92\xb0-"                               \
    "\xf0\x90\x93\x93\xf0\x90\x93\x98-\xf0\x90\x93\xbb\xf0\x90\xb2\x80-"                           \
    "\xf0\x90\xb2\xb2\xf0\x90\xb3\x80-\xf0\x90\xb3\xb2\xf0\x91\xa2\xa0-"                           \
    "\xf0\x91\xa3\x9f\xf0\x9e\xa4\x80-\xf0\x9e\xa5\x83]+"
#define P_DS_PUNCT                                                                                 \
    "\\s?[!-/"                                                                                     \
    ":-~\xef\xbc\x81-\xef\xbc\x8f\xef\xbc\x9a-\xef\xbd\x9e\xe2\x80\x98-\xe2\x80\x9f\xe3\x80\x80-"  \
    "\xe3\x80\x82]+"
#define P_AFMOE_CJK                                                                                \
    "[\xe4\xb8\x80-\xe9\xbf\xbf\xe3\x90\x80-\xe4\xb6\xbf\xef\xa4\x80-\xef\xab\xbf\xe3\x81\x80-"    \
    "\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf\xef\xbd\xa5-\xef\xbe\x9f\xe2\xbc\x80-"                  \
    "\xe2\xbf\x9f\xe0\xb8\x80-\xe0\xb9\xbf\xe0\xba\x80-\xe0\xbb\xbf\xe1\x9e\x80-"                  \
    "\xe1\x9f\xbf\xe1\x80\x80-\xe1\x82\x9f\xea\xa9\xa0-\xea\xa9\xbf\xea\xa7\xa0-"                  \
    "\xea\xa7\xbf\xea\xb0\x80-\xed\x9e\xaf\xe1\x84\x80-\xe1\x87\xbf]+"

typedef struct pre_def {
    const char *names; /* '|'-separated aliases; the first is canonical */
    bool clean_spaces, ignore_merges;
    int add_bos;
    bool no_bos;
    const char *pats[NMAX_STEPS]; /* NULL-terminated */
} pre_def;

static const pre_def k_pres[] = {
    {"default",
     true,
     false,
     -1,
     false,
     {"[\\p{P}\\$\\+<=>\\^~\\|]+", P_GPT2, "\\p{N}+", "[0-9][0-9][0-9]"}},
    {"llama3|llama-v3|llama-bpe|falcon3|falcon-h1|pixtral|midm-2.0|lfm2|jina-v5-nano",
     true,
     true,
     1,
     false,
     {P_LLAMA3}},
    {"dbrx|smaug-bpe", true, false, -1, false, {P_LLAMA3}},
    {"jais-2",
     true,
     false,
     -1,
     false,
     {P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| "
              "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s{512}(?!\\S)|\\s{256}(?!\\S)|\\s{128}"
              "(?!\\S)|\\s{64}(?!\\S)|\\s{32}(?!\\S)|\\s{16}(?!\\S)|\\s{8}(?!\\S)|\\s{4}(?!\\S)|"
              "\\s{1,2}(?!\\S)|\\s{1}"}},
    {"deepseek-llm",
     false,
     false,
     -1,
     false,
     {"[\r\n]", P_DS_LETTERS, P_DS_PUNCT, "\\s+$", P_CJK_DS, "\\p{N}+"}},
    {"deepseek-coder",
     false,
     false,
     -1,
     false,
     {"[\r\n]", "\\s?\\p{L}+", "\\s?\\p{P}+", P_CJK_DS, "\\p{N}"}},
    {"deepseek-v3|hunyuan-dense|hy_v4|joyai-llm",
     false,
     false,
     -1,
     false,
     {"\\p{N}{1,3}", P_CJK_DS3, P_DS3}},
    {"spark2_5",
     false,
     false,
     -1,
     false,
     {"\\p{N}{1,3}", P_CJK_DS3,
      "[!\"#$%&'()*+,\\-./"
      ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\r\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
      "?[\\p{P}\\p{S}]+|[\r\n]|\\s+(?!\\S)|\\s+",
      "\\p{N}"}},
    {"youtu",
     false,
     true,
     -1,
     false,
     {"[\xea\xb0\x80-\xed\x9e\xa3\xe3\x84\xb1-\xe3\x86\x8e]+|["
      "\xef\xbc\x81\xe2\x80\xa6\xe2\x80\x9c\xe2\x80\x9d\xe2\x80\x98\xe2\x80\x99\xe2\x80\x94\xef\xbc"
      "\x9a\xef\xbc\x9b\xef\xbc\x8c\xe3\x80\x81-\xe3\x80\xbf\xef\xb8\xb0-\xef\xb9\x8f]+|["
      "\xe3\x84\x85-\xe3\x84\xaf]+|"
      "[\xe4\xb8\x80-\xe9\xbe\xa5\xe3\x81\x80-\xe3\x82\x9f\xe3\x82\xa0-\xe3\x83\xbf]+",
      P_ULM "|\\p{N}" P_TAIL_SLASH}},
    {"falcon", true, false, -1, false, {"[\\p{P}\\$\\+<=>\\^~\\|`]+", P_GPT2, "[0-9][0-9][0-9]"}},
    {"mpt", true, false, -1, false, {P_GPT2}},
    {"starcoder", true, false, -1, false, {"\\p{N}", P_GPT2}},
    {"gpt-2|phi-2|jina-es|jina-de|gigachat|jina-v2-es|jina-v2-de|a.x-4.0|mellum|modern-bert|"
     "exaone4|jina-v1-en|jina-v2-code|roberta-bpe|olmo|jais",
     true,
     false,
     -1,
     false,
     {P_GPT2}},
    {"trillion|granite-docling", false, false, -1, false, {P_GPT2}},
    {"refact|codeshell|exaone|minerva-7b|mellum2", true, false, -1, false, {"\\p{N}", P_GPT2}},
    {"command-r|smollm", false, false, -1, false, {"\\p{N}", P_GPT2}},
    {"qwen2|deepseek-r1-qwen|kormo|f2llmv2|hunyuan|solar-open", false, false, -1, false, {P_QWEN2}},
    {"megrez|stablelm2", true, false, -1, false, {P_QWEN2}},
    {"qwen35", false, false, -1, false, {P_QWEN35}},
    {"poro-chat", false, false, -1, false, {P_BLOOM}},
    {"bloom|gpt3-finnish", true, false, -1, false, {P_BLOOM}},
    {"glm4|chatglm-bpe", true, false, -1, true, {P_LLAMA3}},
    {"viking", false, false, -1, false, {P_BLOOM, "\\p{N}"}},
    {"tekken", false, true, 1, false, {P_TEKKEN}},
    {"chameleon",
     false,
     false,
     1,
     false,
     {"<sentinel:[0-9]+>", "(IMGIMG)((A|B|C|D|E|F|G|H|I){1,4})Z", "([\\t\\n]|    |  )", "\\p{N}",
      "[\\p{P}!-/:-@\\[-`{-~]", P_GPT2}},
    {"gpt-4o|llama4|kanana2|talkie|minimax-m2", false, false, -1, false, {P_GPT4O}},
    {"granite-embed-multi-97m", false, true, -1, false, {P_GRANITE97}},
    {"tiny_aya|cohere2moe",
     false,
     false,
     -1,
     false,
     {P_AYA_DIGITS, P_ULM "|\\p{N}{1,3}" P_TAIL_SLASH}},
    {"bailingmoe|bailingmoe2|llada-moe",
     false,
     false,
     -1,
     false,
     {"'(?:[sSdDmMtT]|[lL][lL]|[vV][eE]|[rR][eE])|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
    {"seed-coder",
     false,
     false,
     -1,
     false,
     {P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1}| "
              "?[^\\s\\p{L}\\p{N}\\r\\n]+|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"kimi-k2", false, false, -1, false, {P_KIMI}},
    {"ufakzeka",
     false,
     false,
     -1,
     false,
     {"[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}| "
      "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"grok-2", false, false, -1, false, {P_QWEN2}},
    {"afmoe",
     false,
     false,
     -1,
     false,
     {P_AFMOE_DIGITS, P_AFMOE_CJK,
      "[!\"#$%&'()*+,\\-./"
      ":;<=>?@\\[\\\\\\]^_`{|}~][A-Za-z]+|[^\\r\\n\\p{L}\\p{P}\\p{S}]?[\\p{L}\\p{M}]+| "
      "?[\\p{P}\\p{S}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
    {"laguna", false, false, -1, false, {P_NEWLINES, P_QWEN2}},
    {"exaone-moe",
     true,
     false,
     -1,
     false,
     {P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?(?:\\p{L}\\p{M}*(?: \\p{L}\\p{M}*)*)+|\\p{N}| "
              "?[^\\s\\p{L}\\p{N}]+[\\r\\n/]?|\\s*[\\r\\n]|\\s+(?!\\S)|\\s+"}},
    {"minicpm5",
     true,
     true,
     -1,
     false,
     {"\\p{N}{1,3}", P_CONTR "|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}+| "
                             "?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"}},
};

typedef struct pre_step {
    int custom;     /* TOK_CUSTOM_* or 0 */
    bool collapsed; /* regex over the collapsed text (else over codepoints) */
    pcre2_code *re;
} pre_step;

struct tok_pre {
    tok_pre_info info;
    char canon[48];
    int n_steps;
    pre_step step[NMAX_STEPS];
    bool need_collapse;
};

static const char *const k_ucat[] = {"\\p{N}",  "\\p{L}",  "\\p{P}",  "\\p{M}",  "\\p{S}",
                                     "\\p{Lu}", "\\p{Ll}", "\\p{Lt}", "\\p{Lm}", "\\p{Lo}"};
/* collapsed byte + ASCII members for each category name above */
static const char k_ucat_byte[] = {(char)0xD1, (char)0xD2, (char)0xD3, (char)0xD4, (char)0xD5,
                                   (char)0xD2, (char)0xD2, (char)0xD2, (char)0xD2, (char)0xD2};
static const char *const k_ucat_ascii[] = {"0-9",
                                           "A-Za-z",
                                           "!-#%-*,-/:-;?-@\\[-\\]_\\{\\}",
                                           "",
                                           "\\$\\+<->^`\\|\\~",
                                           "A-Za-z",
                                           "A-Za-z",
                                           "A-Za-z",
                                           "A-Za-z",
                                           "A-Za-z"};

static int ucat_index(const char *s, size_t avail) {
    for (size_t k = 0; k < sizeof k_ucat / sizeof *k_ucat; k++) {
        size_t l = strlen(k_ucat[k]);
        if (l <= avail && !memcmp(s, k_ucat[k], l)) return (int)k;
    }
    return -1;
}

static bool uses_ucat(const char *pat) {
    for (size_t k = 0; k < sizeof k_ucat / sizeof *k_ucat; k++)
        if (strstr(pat, k_ucat[k])) return true;
    return false;
}

/* llama.cpp's rewrite of a \p{..} regex for the collapsed text */
static char *collapse_regex(const char *re) {
    size_t n = strlen(re);
    char *out = fr_xmalloc(n * 8 + 16);
    size_t o = 0;
    bool inside = false;
    for (size_t i = 0; i < n; i++) {
        if (re[i] == '[' && (i == 0 || re[i - 1] != '\\')) {
            out[o++] = '[';
            inside = true;
            continue;
        }
        if (inside && re[i] == ']' && re[i - 1] != '\\') {
            out[o++] = ']';
            inside = false;
            continue;
        }
        if (re[i] == '\\' && i + 3 < n && re[i + 1] == 'p' && re[i + 2] == '{') {
            const char *close = strchr(re + i + 3, '}');
            if (close && (size_t)(close - re) <= i + 10) {
                size_t plen = (size_t)(close - re) - i + 1;
                int k = ucat_index(re + i, plen);
                if (k >= 0 && strlen(k_ucat[k]) == plen) {
                    if (!inside) out[o++] = '[';
                    out[o++] = k_ucat_byte[k];
                    size_t al = strlen(k_ucat_ascii[k]);
                    memcpy(out + o, k_ucat_ascii[k], al);
                    o += al;
                    if (!inside) out[o++] = ']';
                    i += plen - 1;
                    continue;
                }
            }
        }
        out[o++] = re[i];
    }
    out[o] = 0;
    return out;
}

static int custom_kind(const char *pat) {
    if (!strcmp(pat, P_GPT2)) return TOK_CUSTOM_GPT2;
    if (!strcmp(pat, P_LLAMA3)) return TOK_CUSTOM_LLAMA3;
    if (!strcmp(pat, P_QWEN2)) return TOK_CUSTOM_QWEN2;
    if (!strcmp(pat, P_QWEN35)) return TOK_CUSTOM_QWEN35;
    if (!strcmp(pat, P_KIMI)) return TOK_CUSTOM_KIMI_K2;
    if (!strcmp(pat, P_AFMOE_DIGITS) || !strcmp(pat, P_AYA_DIGITS)) return TOK_CUSTOM_DIGITS3;
    if (!strcmp(pat, P_NEWLINES)) return TOK_CUSTOM_NEWLINES;
    return 0;
}

static bool name_in(const char *names, const char *name) {
    size_t nl = strlen(name);
    for (const char *p = names; *p;) {
        const char *bar = strchr(p, '|');
        size_t l = bar ? (size_t)(bar - p) : strlen(p);
        if (l == nl && !memcmp(p, name, l)) return true;
        if (!bar) break;
        p = bar + 1;
    }
    return false;
}

const char *tok_pre_names(void) {
    static char buf[2048];
    if (!buf[0]) {
        size_t o = 0;
        for (size_t i = 0; i < sizeof k_pres / sizeof *k_pres; i++) {
            for (const char *p = k_pres[i].names; *p && o + 3 < sizeof buf; p++) {
                if (*p == '|') {
                    buf[o++] = ',';
                    buf[o++] = ' ';
                } else
                    buf[o++] = *p;
            }
            if (i + 1 < sizeof k_pres / sizeof *k_pres && o + 3 < sizeof buf) {
                buf[o++] = ',';
                buf[o++] = ' ';
            }
        }
        buf[o] = 0;
    }
    return buf;
}

int tok_pre_create(tok_pre **out, const char *name, fr_err *err) {
    *out = NULL;
    if (!name || !*name) name = "default";
    const pre_def *d = NULL;
    for (size_t i = 0; i < sizeof k_pres / sizeof *k_pres && !d; i++)
        if (name_in(k_pres[i].names, name)) d = &k_pres[i];
    if (!d) {
        if (!strcmp(name, "gemma4") || !strcmp(name, "sarvam-moe") || !strcmp(name, "whitespace") ||
            !strcmp(name, "superbpe") || !strcmp(name, "jina-v1-en") ||
            !strcmp(name, "granite-embed-multi-311m"))
            return fr_fail(err, FR_EUNSUP, "tokenizer.ggml.pre '%s' is not supported by frugal",
                           name);
        return fr_fail(err, FR_EUNSUP, "unknown pre-tokenizer type (tokenizer.ggml.pre): '%s'",
                       name);
    }
    tok_pre *p = fr_xcalloc(1, sizeof *p);
    size_t cl = strcspn(d->names, "|");
    memcpy(p->canon, d->names, cl < sizeof p->canon - 1 ? cl : sizeof p->canon - 1);
    p->info.name = p->canon;
    p->info.clean_spaces = d->clean_spaces;
    p->info.ignore_merges = d->ignore_merges;
    p->info.add_bos = d->add_bos;
    p->info.no_bos = d->no_bos;
    for (int i = 0; i < NMAX_STEPS && d->pats[i]; i++) {
        pre_step *s = &p->step[p->n_steps++];
        const char *pat = d->pats[i];
        if ((s->custom = custom_kind(pat))) continue;
        int ec;
        PCRE2_SIZE eo;
        if (uses_ucat(pat)) {
            char *c = collapse_regex(pat);
            s->collapsed = true;
            p->need_collapse = true;
            s->re = pcre2_compile((PCRE2_SPTR)c, PCRE2_ZERO_TERMINATED, PCRE2_DOLLAR_ENDONLY, &ec,
                                  &eo, NULL);
            free(c);
        } else {
            s->re = pcre2_compile((PCRE2_SPTR)pat, PCRE2_ZERO_TERMINATED,
                                  PCRE2_UTF | PCRE2_DOLLAR_ENDONLY, &ec, &eo, NULL);
        }
        if (!s->re) {
            PCRE2_UCHAR msg[256];
            pcre2_get_error_message(ec, msg, sizeof msg);
            tok_pre_free(p);
            return fr_fail(err, FR_EUNSUP,
                           "pre-tokenizer '%s': regex %d does not compile at %zu: %s", name, i,
                           (size_t)eo, (const char *)msg);
        }
        pcre2_jit_compile(s->re, PCRE2_JIT_COMPLETE); /* falls back to the interpreter */
    }
    *out = p;
    return 0;
}

void tok_pre_free(tok_pre *p) {
    if (!p) return;
    for (int i = 0; i < p->n_steps; i++) pcre2_code_free(p->step[i].re);
    free(p);
}

const tok_pre_info *tok_pre_get_info(const tok_pre *p) {
    return &p->info;
}

void tok_lens_push(tok_lens *l, uint32_t x) {
    if (l->n == l->cap) {
        l->cap = l->cap ? l->cap * 2 : 256;
        l->v = fr_xrealloc(l->v, l->cap * sizeof *l->v);
    }
    l->v[l->n++] = x;
}

typedef struct match_state {
    pcre2_match_data *md;
    pcre2_match_context *mctx;
    pcre2_jit_stack *stack;
} match_state;

/* one regex step over every segment */
static int regex_step(const pre_step *s, match_state *ms, const char *subj_all,
                      const uint32_t *byte_of, const tok_lens *seg, tok_lens *out, fr_err *err) {
    size_t cpos = 0; /* codepoint index of the segment start */
    for (size_t si = 0; si < seg->n; si++) {
        uint32_t slen = seg->v[si];
        size_t b0 = s->collapsed ? cpos : byte_of[cpos];
        size_t b1 = s->collapsed ? cpos + slen : byte_of[cpos + slen];
        const PCRE2_SPTR subj = (PCRE2_SPTR)(subj_all + b0);
        size_t blen = b1 - b0, pos = 0;
        uint32_t start_idx = 0; /* codepoints of this segment already emitted */
        size_t cp_at_pos = 0;   /* codepoint index (in segment) of byte offset pos */
        while (pos <= blen) {
            int rc = pcre2_match(s->re, subj, blen, pos, s->collapsed ? 0 : PCRE2_NO_UTF_CHECK,
                                 ms->md, ms->mctx);
            if (rc == PCRE2_ERROR_JIT_STACKLIMIT && !ms->stack) {
                ms->stack = pcre2_jit_stack_create(64 * 1024, 256 * 1024 * 1024, NULL);
                if (!ms->mctx) ms->mctx = pcre2_match_context_create(NULL);
                if (!ms->stack || !ms->mctx)
                    return fr_fail(err, FR_ENOMEM, "pre-tokenizer: out of memory");
                pcre2_jit_stack_assign(ms->mctx, NULL, ms->stack);
                continue;
            }
            if (rc == PCRE2_ERROR_NOMATCH) break;
            if (rc < 0) {
                PCRE2_UCHAR msg[256];
                pcre2_get_error_message(rc, msg, sizeof msg);
                return fr_fail(err, FR_ERANGE, "pre-tokenizer regex failed: %s", (const char *)msg);
            }
            PCRE2_SIZE *ov = pcre2_get_ovector_pointer(ms->md);
            size_t ms_b = ov[0], me_b = ov[1];
            /* byte offsets -> codepoint indices within the segment */
            size_t c_s, c_e;
            if (s->collapsed) {
                c_s = ms_b;
                c_e = me_b;
            } else {
                size_t c = cp_at_pos, b = pos;
                while (b < ms_b) {
                    b = byte_of[cpos + ++c] - b0;
                }
                c_s = c;
                while (b < me_b) {
                    b = byte_of[cpos + ++c] - b0;
                }
                c_e = c;
                cp_at_pos = c;
            }
            if (c_s > start_idx) tok_lens_push(out, (uint32_t)(c_s - start_idx));
            if (c_e > c_s) tok_lens_push(out, (uint32_t)(c_e - c_s));
            start_idx = (uint32_t)c_e;
            if (me_b == ms_b) { /* empty match: step over one codepoint */
                if (me_b >= blen) break;
                if (s->collapsed)
                    pos = me_b + 1;
                else {
                    pos = byte_of[cpos + c_e + 1] - b0;
                    cp_at_pos = c_e + 1;
                }
            } else {
                pos = me_b;
            }
        }
        if (start_idx < slen) tok_lens_push(out, slen - start_idx);
        cpos += slen;
    }
    return 0;
}

int tok_pre_split(const tok_pre *p, const uint32_t *cpts, size_t n, uint32_t **lens, size_t *n_lens,
                  fr_err *err) {
    tok_lens a = {0}, b = {0};
    free(*lens);
    *lens = NULL;
    *n_lens = 0;
    if (n == 0) return 0;
    if (n > UINT32_MAX / 8)
        return fr_fail(err, FR_ERANGE, "text too long for the pre-tokenizer (%zu codepoints)", n);
    tok_lens_push(&a, (uint32_t)n);
    char *collapsed = NULL, *wide = NULL;
    uint32_t *byte_of = NULL;
    match_state ms = {0};
    int rc = 0;
    const uint8_t *cat = tok_cpt_table();
    if (!cat) return fr_fail(err, FR_ENOMEM, "out of memory (unicode table)");
    for (int i = 0; i < p->n_steps && rc == 0; i++) {
        const pre_step *s = &p->step[i];
        b.n = 0;
        if (s->custom) {
            tok_split_custom(s->custom, cpts, a.v, a.n, &b);
            if (b.n == 0) { /* llama.cpp falls back to the regex when nothing came out */
                continue;
            }
        } else {
            if (!ms.md) {
                ms.md = pcre2_match_data_create(32, NULL);
                if (!ms.md) {
                    rc = fr_fail(err, FR_ENOMEM, "out of memory");
                    break;
                }
            }
            if (s->collapsed && !collapsed) {
                collapsed = malloc(n);
                if (!collapsed) {
                    rc = fr_fail(err, FR_ENOMEM, "out of memory");
                    break;
                }
                for (size_t k = 0; k < n; k++) {
                    uint32_t c = cpts[k];
                    if (c < 128) {
                        collapsed[k] = (char)c;
                        continue;
                    }
                    uint8_t f = tok_cpt_flags(cat, c);
                    char x;
                    if (tok_cpt_is_ws(c))
                        x = 0x0B;
                    else if (f == TOK_CF_NUMBER)
                        x = (char)0xD1;
                    else if (f == TOK_CF_LETTER)
                        x = (char)0xD2;
                    else if (f == TOK_CF_PUNCT)
                        x = (char)0xD3;
                    else if (f == TOK_CF_MARK)
                        x = (char)0xD4;
                    else if (f == TOK_CF_SYMBOL)
                        x = (char)0xD5;
                    else
                        x = (char)0xD0;
                    collapsed[k] = x;
                }
            }
            if (!s->collapsed && !wide) {
                wide = malloc(n * 4);
                byte_of = malloc((n + 1) * sizeof *byte_of);
                if (!wide || !byte_of) {
                    rc = fr_fail(err, FR_ENOMEM, "out of memory");
                    break;
                }
                size_t o = 0;
                for (size_t k = 0; k < n; k++) {
                    uint32_t c = cpts[k];
                    byte_of[k] = (uint32_t)o;
                    if (c > 0x7F && tok_cpt_is_ws(c))
                        c = 0x0B;
                    else if ((c >= 0xD800 && c < 0xE000) || c >= TOK_MAX_CPT)
                        c = 0xE000;
                    o += tok_utf8_put(wide + o, c);
                }
                byte_of[n] = (uint32_t)o;
            }
            rc = regex_step(s, &ms, s->collapsed ? collapsed : wide, byte_of, &a, &b, err);
        }
        tok_lens t = a;
        a = b;
        b = t;
    }
    free(collapsed);
    free(wide);
    free(byte_of);
    free(b.v);
    pcre2_match_data_free(ms.md);
    pcre2_match_context_free(ms.mctx);
    pcre2_jit_stack_free(ms.stack);
    if (rc < 0) {
        free(a.v);
        return rc;
    }
    *lens = a.v;
    *n_lens = a.n;
    return 0;
}
