/* chat.h: a model's chat template: tokenizer.chat_template parsed once, with the variables
 * llama.cpp and transformers pass to it (bos_token, eos_token), rendered for an
 * OpenAI-style messages array. Used by `frugal chat`, `frugal template` and the server. */
#ifndef FR_CHAT_H
#define FR_CHAT_H

#include <jansson.h>
#include <stdbool.h>
#include <stdint.h>

#include "core/err.h"
#include "gguf/gguf.h"

typedef struct chat_template chat_template;

/* Reads tokenizer.chat_template from g (FR_EFORMAT naming the file when absent). */
int chat_template_load(chat_template **out, const gguf_file *g, fr_err *err);
/* From template source text (bos/eos empty unless given). */
int chat_template_from_text(chat_template **out, const char *src, size_t len, const char *bos,
                            const char *eos, fr_err *err);
void chat_template_free(chat_template *t);
/* Fixes the clock strftime_now() reads (seconds since the epoch; -1: the real clock). */
void chat_template_set_now(chat_template *t, int64_t now);
/* Renders messages (a JSON array) with add_generation_prompt; extra (an object or NULL)
 * adds or overrides variables (tools, enable_thinking, ...). *out is malloc'd. */
int chat_render(char **out, size_t *out_len, const chat_template *t, const json_t *messages,
                bool add_generation_prompt, const json_t *extra, fr_err *err);

#endif
