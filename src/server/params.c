/* params.c: a completion request's JSON (chat or text) -> validated parameters and prompt
 * tokens. Every field is type- and range-checked; a failure is a 400 (404 for an unknown
 * model) naming the parameter, in the OpenAI error shape. Chat messages are normalised
 * (text content parts joined) and rendered with the model's chat template; the prompt is
 * tokenized as `frugal run` does (special tokens added and parsed). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "server/server.h"

#define IRE "invalid_request_error"

static const char *type_name(const json_t *v) {
    switch (json_typeof(v)) {
    case JSON_OBJECT:
        return "an object";
    case JSON_ARRAY:
        return "an array";
    case JSON_STRING:
        return "a string";
    case JSON_INTEGER:
        return "an integer";
    case JSON_REAL:
        return "a number";
    case JSON_TRUE:
    case JSON_FALSE:
        return "a boolean";
    default:
        return "null";
    }
}

static int bad_type(srv_error *e, const char *k, const char *want, const json_t *v) {
    return srv_err(e, 400, IRE, "invalid_type", k,
                   "Invalid type for '%s': expected %s, but got %s instead.", k, want,
                   type_name(v));
}

/* absent or null: *present = false and out untouched */
static int get_num(const json_t *o, const char *k, double lo, double hi, double *out,
                   srv_error *e) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_number(v)) return bad_type(e, k, "a number", v);
    double x = json_number_value(v);
    if (!(x >= lo && x <= hi))
        return srv_err(e, 400, IRE, "invalid_value", k,
                       "Invalid value for '%s': %g is not in [%g, %g].", k, x, lo, hi);
    *out = x;
    return 0;
}

static int get_int(const json_t *o, const char *k, int64_t lo, int64_t hi, int64_t *out,
                   bool *present, srv_error *e) {
    json_t *v = json_object_get(o, k);
    if (present) *present = false;
    if (!v || json_is_null(v)) return 0;
    if (!json_is_integer(v)) return bad_type(e, k, "an integer", v);
    int64_t x = json_integer_value(v);
    if (x < lo)
        return srv_err(e, 400, IRE, "integer_below_min_value", k,
                       "Invalid '%s': integer below minimum value. Expected a value >= %lld, but "
                       "got %lld instead.",
                       k, (long long)lo, (long long)x);
    if (x > hi)
        return srv_err(e, 400, IRE, "integer_above_max_value", k,
                       "Invalid '%s': integer above maximum value. Expected a value <= %lld, but "
                       "got %lld instead.",
                       k, (long long)hi, (long long)x);
    *out = x;
    if (present) *present = true;
    return 0;
}

static int get_bool(const json_t *o, const char *k, bool *out, srv_error *e) {
    json_t *v = json_object_get(o, k);
    if (!v || json_is_null(v)) return 0;
    if (!json_is_boolean(v)) return bad_type(e, k, "a boolean", v);
    *out = json_is_true(v);
    return 0;
}

static int parse_stop(const json_t *o, srv_params *p, srv_error *e) {
    json_t *v = json_object_get(o, "stop");
    if (!v || json_is_null(v)) return 0;
    if (!json_is_string(v) && !json_is_array(v))
        return bad_type(e, "stop", "a string or an array of strings", v);
    size_t n = json_is_array(v) ? json_array_size(v) : 1;
    if (n > SRV_MAX_STOP)
        return srv_err(e, 400, IRE, "invalid_value", "stop",
                       "Invalid 'stop': at most %d sequences, got %zu.", SRV_MAX_STOP, n);
    for (size_t i = 0; i < n; i++) {
        json_t *s = json_is_array(v) ? json_array_get(v, i) : v;
        if (!json_is_string(s)) return bad_type(e, "stop", "a string or an array of strings", s);
        size_t len = json_string_length(s);
        if (len > SRV_MAX_STOP_LEN)
            return srv_err(e, 400, IRE, "invalid_value", "stop",
                           "Invalid 'stop': a sequence is %zu bytes, at most %d.", len,
                           SRV_MAX_STOP_LEN);
        if (len == 0 || memchr(json_string_value(s), 0, len)) continue;
        memcpy(p->stop[p->n_stop], json_string_value(s), len);
        p->stop[p->n_stop++][len] = 0;
    }
    return 0;
}

static int parse_bias(const json_t *o, int32_t n_vocab, srv_params *p, srv_error *e) {
    json_t *v = json_object_get(o, "logit_bias");
    if (!v || json_is_null(v)) return 0;
    if (!json_is_object(v)) return bad_type(e, "logit_bias", "an object", v);
    if (json_object_size(v) > SRV_MAX_BIAS)
        return srv_err(e, 400, IRE, "invalid_value", "logit_bias",
                       "Invalid 'logit_bias': at most %d entries.", SRV_MAX_BIAS);
    const char *k;
    json_t *x;
    json_object_foreach(v, k, x) {
        char *end;
        long id = strtol(k, &end, 10);
        if (!*k || *end || id < 0 || id >= n_vocab)
            return srv_err(e, 400, IRE, "invalid_value", "logit_bias",
                           "Invalid 'logit_bias': key '%.40s' is not a token id in [0, %d).", k,
                           n_vocab);
        if (!json_is_number(x)) return bad_type(e, "logit_bias", "numbers as values", x);
        double b = json_number_value(x);
        if (!(b >= -100 && b <= 100))
            return srv_err(e, 400, IRE, "invalid_value", "logit_bias",
                           "Invalid 'logit_bias': %g is not in [-100, 100].", b);
        p->bias_id[p->n_bias] = (int32_t)id;
        p->bias[p->n_bias++] = (float)b;
    }
    return 0;
}

/* fields we cannot honour: an error rather than a silently different result */
static int unsupported(const json_t *o, srv_kind kind, srv_error *e) {
    json_t *v;
    if ((v = json_object_get(o, "n")) && !json_is_null(v)) {
        if (!json_is_integer(v)) return bad_type(e, "n", "an integer", v);
        if (json_integer_value(v) != 1)
            return srv_err(e, 400, IRE, "unsupported_value", "n",
                           "Only n = 1 is supported, got %lld.", (long long)json_integer_value(v));
    }
    if ((v = json_object_get(o, "response_format")) && !json_is_null(v)) {
        if (!json_is_object(v)) return bad_type(e, "response_format", "an object", v);
        json_t *t = json_object_get(v, "type");
        if (!json_is_string(t) || strcmp(json_string_value(t), "text"))
            return srv_err(e, 400, IRE, "unsupported_value", "response_format",
                           "Only response_format {\"type\": \"text\"} is supported.");
    }
    if (kind == SRV_TEXT) {
        if ((v = json_object_get(o, "echo")) && json_is_true(v))
            return srv_err(e, 400, IRE, "unsupported_value", "echo", "echo is not supported.");
        if ((v = json_object_get(o, "best_of")) && !json_is_null(v) &&
            !(json_is_integer(v) && json_integer_value(v) == 1))
            return srv_err(e, 400, IRE, "unsupported_value", "best_of",
                           "Only best_of = 1 is supported.");
        if ((v = json_object_get(o, "suffix")) && !json_is_null(v) &&
            !(json_is_string(v) && !json_string_length(v)))
            return srv_err(e, 400, IRE, "unsupported_value", "suffix", "suffix is not supported.");
    }
    return 0;
}

/* ---- prompts ---- */

static json_t *normalise_messages(const json_t *msgs, srv_error *e) {
    char key[64];
    if (!msgs) {
        srv_err(e, 400, IRE, "missing_required_parameter", "messages",
                "Missing required parameter: 'messages'.");
        return NULL;
    }
    if (!json_is_array(msgs)) {
        bad_type(e, "messages", "an array", msgs);
        return NULL;
    }
    if (json_array_size(msgs) == 0) {
        srv_err(e, 400, IRE, "empty_array", "messages",
                "Invalid 'messages': empty array. Expected an array with minimum length 1, but got "
                "an empty array instead.");
        return NULL;
    }
    json_t *out = json_array();
    size_t i;
    json_t *m;
    json_array_foreach(msgs, i, m) {
        snprintf(key, sizeof key, "messages[%zu]", i);
        if (!json_is_object(m)) {
            bad_type(e, key, "an object", m);
            goto fail;
        }
        json_t *role = json_object_get(m, "role"), *content = json_object_get(m, "content");
        snprintf(key, sizeof key, "messages[%zu].role", i);
        if (!role) {
            srv_err(e, 400, IRE, "missing_required_parameter", key,
                    "Missing required parameter: '%s'.", key);
            goto fail;
        }
        if (!json_is_string(role)) {
            bad_type(e, key, "a string", role);
            goto fail;
        }
        json_t *nm = json_object();
        json_array_append_new(out, nm);
        json_object_set(nm, "role", role);
        snprintf(key, sizeof key, "messages[%zu].content", i);
        if (json_is_string(content)) {
            json_object_set(nm, "content", content);
        } else if (json_is_array(content)) {
            char *txt = NULL;
            size_t len = 0, cap = 0, j;
            json_t *part;
            json_array_foreach(content, j, part) {
                json_t *t = json_is_object(part) ? json_object_get(part, "type") : NULL;
                json_t *x = json_is_object(part) ? json_object_get(part, "text") : NULL;
                if (!json_is_string(t) || strcmp(json_string_value(t), "text") ||
                    !json_is_string(x)) {
                    free(txt);
                    srv_err(e, 400, IRE, "invalid_value", key,
                            "Invalid '%s[%zu]': only {\"type\": \"text\", \"text\": string} parts "
                            "are supported.",
                            key, j);
                    goto fail;
                }
                srv_buf_append(&txt, &len, &cap, json_string_value(x), json_string_length(x));
            }
            json_object_set_new(nm, "content", json_stringn(txt ? txt : "", len));
            free(txt);
        } else if (!content || json_is_null(content)) {
            if (strcmp(json_string_value(role), "assistant")) {
                srv_err(e, 400, IRE, "missing_required_parameter", key,
                        "Missing required parameter: '%s'.", key);
                goto fail;
            }
            json_object_set_new(nm, "content", json_null());
        } else {
            bad_type(e, key, "a string or an array of content parts", content);
            goto fail;
        }
        static const char *pass[] = {"name", "tool_calls", "tool_call_id", "reasoning_content"};
        for (size_t k = 0; k < sizeof pass / sizeof *pass; k++) {
            json_t *x = json_object_get(m, pass[k]);
            if (x) json_object_set(nm, pass[k], x);
        }
    }
    return out;
fail:
    json_decref(out);
    return NULL;
}

static int chat_prompt(srv_t *s, const json_t *o, char **text, size_t *len, srv_error *e) {
    json_t *msgs = normalise_messages(json_object_get(o, "messages"), e);
    if (!msgs) return -1;
    json_t *extra = json_object();
    json_t *tools = json_object_get(o, "tools");
    if (tools && !json_is_null(tools)) {
        if (!json_is_array(tools)) {
            json_decref(msgs), json_decref(extra);
            return bad_type(e, "tools", "an array", tools);
        }
        json_object_set(extra, "tools", tools);
    }
    json_t *kw = json_object_get(o, "chat_template_kwargs");
    if (kw && !json_is_null(kw)) {
        if (!json_is_object(kw)) {
            json_decref(msgs), json_decref(extra);
            return bad_type(e, "chat_template_kwargs", "an object", kw);
        }
        json_object_update(extra, kw);
    }
    fr_err err;
    int rc = chat_render(text, len, s->chat, msgs, true, extra, &err);
    json_decref(msgs);
    json_decref(extra);
    if (rc) {
        bool user =
            rc == FR_EINVAL || rc == FR_ERANGE; /* raise_exception, limits: the messages' fault */
        return srv_err(e, user ? 400 : 500, user ? IRE : "server_error", "chat_template_error",
                       "messages", "The chat template cannot render these messages: %s", err.msg);
    }
    return 0;
}

static int text_prompt(srv_t *s, const json_t *o, srv_req *r, char **text, size_t *len,
                       srv_error *e) {
    json_t *v = json_object_get(o, "prompt");
    if (!v)
        return srv_err(e, 400, IRE, "missing_required_parameter", "prompt",
                       "Missing required parameter: 'prompt'.");
    if (json_is_array(v) && json_array_size(v) == 1 &&
        (json_is_string(json_array_get(v, 0)) || json_is_array(json_array_get(v, 0))))
        v = json_array_get(v, 0); /* one prompt in a list */
    if (json_is_string(v)) {
        *len = json_string_length(v);
        *text = fr_xmalloc(*len + 1);
        memcpy(*text, json_string_value(v), *len + 1);
        return 0;
    }
    if (!json_is_array(v)) return bad_type(e, "prompt", "a string or an array of token ids", v);
    size_t n = json_array_size(v), i;
    json_t *x;
    json_array_foreach(v, i, x) if (!json_is_integer(x)) return json_is_string(x) ||
            json_is_array(x)
        ? srv_err(e, 400, IRE, "unsupported_value", "prompt",
                  "Only one prompt per request is supported.")
        : bad_type(e, "prompt", "a string or an array of token ids", x);
    r->prompt = fr_xmalloc(sizeof(int32_t) * (n ? n : 1));
    json_array_foreach(v, i, x) {
        json_int_t id = json_integer_value(x);
        if (id < 0 || id >= (json_int_t)s->m->hp.n_vocab)
            return srv_err(e, 400, IRE, "invalid_value", "prompt",
                           "Invalid 'prompt': token id %lld is not in [0, %u).", (long long)id,
                           s->m->hp.n_vocab);
        r->prompt[i] = (int32_t)id;
    }
    r->n_prompt = (int32_t)n;
    return 0;
}

static uint64_t random_seed(srv_t *s) {
    uint64_t x;
    if (getrandom(&x, sizeof x, GRND_NONBLOCK) != (ssize_t)sizeof x)
        x = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull ^ atomic_fetch_add(&s->n_ids, 1);
    return x;
}

int srv_parse_completion(srv_t *s, srv_kind kind, const json_t *o, srv_req *r, srv_error *e) {
    if (!json_is_object(o))
        return srv_err(e, 400, IRE, "invalid_type", NULL,
                       "The request body must be a JSON object.");
    json_t *model = json_object_get(o, "model");
    if (model && !json_is_null(model)) {
        if (!json_is_string(model)) return bad_type(e, "model", "a string", model);
        const char *name = json_string_value(model);
        const char *base = strrchr(s->cfg.model_path, '/');
        base = base ? base + 1 : s->cfg.model_path;
        if (strcmp(name, s->cfg.model_id) && strcmp(name, base) && strcmp(name, s->cfg.model_path))
            return srv_err(e, 404, IRE, "model_not_found", "model",
                           "The model '%.200s' does not exist; this server serves '%s'.", name,
                           s->cfg.model_id);
    }
    if (unsupported(o, kind, e)) return -1;
    srv_params *p = &r->p;
    memset(p, 0, sizeof *p);
    double t = 1.0, tp = 1.0, mp = 0.0, pres = 0, freq = 0;
    int64_t tk = 0, seed = 0, mt = 0, mct = 0, tl = 0;
    bool has_seed, has_mt, has_mct, has_tl;
    if (get_num(o, "temperature", 0, 2, &t, e) || get_num(o, "top_p", 0, 1, &tp, e) ||
        get_num(o, "min_p", 0, 1, &mp, e) || get_int(o, "top_k", 0, INT32_MAX, &tk, NULL, e) ||
        get_num(o, "presence_penalty", -2, 2, &pres, e) ||
        get_num(o, "frequency_penalty", -2, 2, &freq, e) ||
        get_int(o, "seed", INT64_MIN, INT64_MAX, &seed, &has_seed, e) ||
        get_int(o, "max_tokens", 1, s->cfg.n_ctx_seq, &mt, &has_mt, e) ||
        get_bool(o, "stream", &p->stream, e) || get_bool(o, "ignore_eos", &p->ignore_eos, e) ||
        parse_stop(o, p, e) || parse_bias(o, (int32_t)s->m->hp.n_vocab, p, e))
        return -1;
    if (kind == SRV_CHAT) {
        if (get_int(o, "max_completion_tokens", 1, s->cfg.n_ctx_seq, &mct, &has_mct, e) ||
            get_bool(o, "logprobs", &p->logprobs, e) ||
            get_int(o, "top_logprobs", 0, SRV_MAX_TOP, &tl, &has_tl, e))
            return -1;
        if (has_mct) mt = mct, has_mt = true;
        if (has_tl && tl > 0 && !p->logprobs)
            return srv_err(e, 400, IRE, "invalid_value", "top_logprobs",
                           "Invalid 'top_logprobs': 'logprobs' must be set to true when "
                           "'top_logprobs' is used.");
        p->top_logprobs = (int)tl;
    } else {
        bool has_lp;
        if (get_int(o, "logprobs", 0, SRV_MAX_TOP, &tl, &has_lp, e)) return -1;
        p->logprobs = has_lp;
        p->top_logprobs = (int)tl;
    }
    json_t *so = json_object_get(o, "stream_options");
    if (so && !json_is_null(so)) {
        if (!json_is_object(so)) return bad_type(e, "stream_options", "an object", so);
        if (!p->stream)
            return srv_err(
                e, 400, IRE, "invalid_value", "stream_options",
                "The 'stream_options' parameter is only allowed when 'stream' is enabled.");
        if (get_bool(so, "include_usage", &p->include_usage, e)) return -1;
    }
    p->temp = (float)t, p->top_p = (float)tp, p->min_p = (float)mp, p->top_k = (int32_t)tk;
    p->presence = (float)pres, p->frequency = (float)freq;
    p->seed = has_seed ? (uint64_t)seed : random_seed(s);

    /* the prompt */
    char *text = NULL;
    size_t len = 0;
    if (kind == SRV_CHAT ? chat_prompt(s, o, &text, &len, e)
                         : text_prompt(s, o, r, &text, &len, e)) {
        free(text);
        return -1;
    }
    if (text) {
        fr_err err;
        size_t n = 0;
        int rc = tok_encode(s->vocab, text, len, true, true, &r->prompt, &n, &err);
        free(text);
        if (rc)
            return srv_err(e, 400, IRE, "invalid_value", kind == SRV_CHAT ? "messages" : "prompt",
                           "cannot tokenize the prompt: %s", err.msg);
        if (n > INT32_MAX) n = INT32_MAX;
        r->n_prompt = (int32_t)n;
    }
    const char *what = kind == SRV_CHAT ? "messages" : "prompt";
    if (r->n_prompt == 0)
        return srv_err(e, 400, IRE, "invalid_value", what, "The prompt is empty.");
    if (r->n_prompt >= s->cfg.n_ctx_seq)
        return srv_err(e, 400, IRE, "context_length_exceeded", what,
                       "This model's maximum context length is %d tokens. However, your %s "
                       "resulted in %d tokens "
                       "(no room for a completion). Please reduce the length of the %s.",
                       s->cfg.n_ctx_seq, what, r->n_prompt, what);
    int32_t room = s->cfg.n_ctx_seq - r->n_prompt;
    p->max_tokens = has_mt && mt < room ? (int32_t)mt : room;
    return 0;
}
