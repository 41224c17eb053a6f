/* fuzz_jinja.c: libFuzzer target for the Jinja interpreter: the input is a template, parsed
 * and rendered against a fixed conversation (messages with a system prompt, tool calls,
 * reasoning, tools) under tight limits. Any crash, leak, sanitizer report or a failure
 * without a message is a bug. Seeds: tests/fuzz/corpus/jinja, dictionary: jinja.dict. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jinja/jinja.h"

static const char k_vars[] =
    "{\"messages\": ["
    "{\"role\": \"system\", \"content\": \"You are helpful.\"},"
    "{\"role\": \"user\", \"content\": \"Hi \\u4f60\\u597d \\ud83d\\ude00\"},"
    "{\"role\": \"assistant\", \"content\": \"<think>\\nhm\\n</think>\\n\\nHello\", "
    "\"reasoning_content\": \"hm\","
    " \"tool_calls\": [{\"id\": \"c1\", \"type\": \"function\", \"function\": {\"name\": \"f\", "
    "\"arguments\": {\"a\": 1, \"b\": [true, null, 2.5]}}}]},"
    "{\"role\": \"tool\", \"tool_call_id\": \"c1\", \"content\": \"{\\\"r\\\": 1}\"},"
    "{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"part\"}, {\"type\": "
    "\"image\"}]}],"
    "\"tools\": [{\"type\": \"function\", \"function\": {\"name\": \"f\", \"description\": \"d\","
    " \"parameters\": {\"type\": \"object\", \"properties\": {\"a\": {\"type\": \"integer\"}}, "
    "\"required\": [\"a\"]}}}],"
    "\"add_generation_prompt\": true, \"enable_thinking\": false, \"bos_token\": \"<s>\", "
    "\"eos_token\": \"</s>\"}";

static json_t *g_vars;

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    if (!g_vars) g_vars = json_loads(k_vars, 0, NULL);
    if (size > 1 << 16) return 0;
    jinja_template *t;
    fr_err err;
    err.msg[0] = 0;
    if (jinja_template_parse(&t, (const char *)data, size, &err)) {
        if (!err.msg[0]) abort(); /* every failure explains itself */
        return 0;
    }
    jinja_limits lim;
    jinja_limits_default(&lim);
    lim.max_steps = 20000;
    lim.max_output = 1 << 20;
    lim.max_memory = 32 << 20;
    lim.max_depth = 300;
    lim.now = 0;
    char *out = NULL;
    size_t n = 0;
    err.msg[0] = 0;
    int rc = jinja_template_render(&out, &n, t, g_vars, &lim, &err);
    if (rc && !err.msg[0]) abort();
    if (!rc && (!out || out[n] != 0)) abort();
    free(out);
    jinja_template_free(t);
    return 0;
}
