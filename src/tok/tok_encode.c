/* tok_encode.c: tok_encode, llama_tokenize's pipeline: special-token partitioning, then
 * per raw fragment either SentencePiece (space prefix after a special token or at the
 * start, ' ' escaped to U+2581) or byte-level BPE (llama.cpp's lenient UTF-8 decode,
 * pre-tokenizer split, BPE per word), with BOS/EOS as the vocab asks. */
#include <stdlib.h>
#include <string.h>

#include "tok/tok_internal.h"

static int encode_spm_frag(const tok_vocab *v, const char *t, size_t n, bool prefix, tok_ids *out,
                           tok_scratch *s) {
    size_t spaces = prefix ? 1 : 0;
    for (size_t i = 0; i < n; i++) spaces += t[i] == ' ';
    size_t len = n + (prefix ? 1 : 0) + spaces * 2;
    char *buf = tok_scratch_get(s, 7, len + 1);
    if (!buf) return FR_ENOMEM;
    size_t o = 0;
    if (prefix) {
        memcpy(buf, "\xe2\x96\x81", 3);
        o = 3;
    }
    for (size_t i = 0; i < n; i++) {
        if (t[i] == ' ') {
            memcpy(buf + o, "\xe2\x96\x81", 3);
            o += 3;
        } else
            buf[o++] = t[i];
    }
    tok_spm_text(v, buf, o, out, s);
    return out->oom ? FR_ENOMEM : 0;
}

static int encode_bpe_frag(const tok_vocab *v, const char *t, size_t n, tok_ids *out,
                           tok_scratch *s, fr_err *err) {
    uint32_t *cpts = malloc((n ? n : 1) * sizeof *cpts);
    if (!cpts) return fr_fail(err, FR_ENOMEM, "out of memory (%zu bytes of text)", n);
    size_t nc = tok_utf8_decode(cpts, t, n);
    uint32_t *lens = NULL;
    size_t n_lens = 0;
    int rc = tok_pre_split(v->pre, cpts, nc, &lens, &n_lens, err);
    if (rc < 0) {
        free(cpts);
        return rc;
    }
    size_t pos = 0;
    for (size_t i = 0; i < n_lens && !out->oom; i++) {
        size_t wl = lens[i];
        char *buf = tok_scratch_get(s, 7, wl * 4 + 4); /* the word as canonical UTF-8 */
        if (!buf) {
            out->oom = true;
            break;
        }
        size_t o = 0;
        for (size_t k = 0; k < wl; k++) o += tok_utf8_put(buf + o, cpts[pos + k]);
        tok_bpe_word(v, buf, o, out, s);
        pos += wl;
    }
    free(lens);
    free(cpts);
    return out->oom ? fr_fail(err, FR_ENOMEM, "out of memory while tokenizing") : 0;
}

int tok_encode(const tok_vocab *v, const char *text, size_t len, bool add_special,
               bool parse_special, int32_t **ids, size_t *n_ids, fr_err *err) {
    *ids = NULL;
    *n_ids = 0;
    tok_frag *fr = NULL;
    size_t nfr = 0;
    int rc = tok_partition(v, text, len, parse_special, &fr, &nfr, err);
    if (rc < 0) return rc;
    tok_ids out = {0};
    tok_scratch s;
    memset(&s, 0, sizeof s);
    if (add_special && v->add_bos && v->bos >= 0) tok_ids_push(&out, v->bos);
    bool prev_special = true; /* SPM: the text starts as if after a special token */
    for (size_t i = 0; i < nfr && rc == 0; i++) {
        if (fr[i].id >= 0) {
            tok_ids_push(&out, fr[i].id);
            prev_special = true;
            continue;
        }
        if (v->model == TOK_MODEL_SPM) {
            rc = encode_spm_frag(v, text + fr[i].off, fr[i].len,
                                 v->add_space_prefix && prev_special, &out, &s);
            if (rc < 0) fr_fail(err, rc, "out of memory while tokenizing");
            prev_special = false;
        } else {
            rc = encode_bpe_frag(v, text + fr[i].off, fr[i].len, &out, &s, err);
        }
    }
    if (rc == 0 && add_special && v->add_eos && v->eos >= 0) tok_ids_push(&out, v->eos);
    free(fr);
    tok_scratch_free(&s);
    if (rc == 0 && out.oom) rc = fr_fail(err, FR_ENOMEM, "out of memory while tokenizing");
    if (rc < 0) {
        free(out.v);
        return rc;
    }
    if (!out.v) out.v = malloc(sizeof *out.v); /* never NULL on success */
    if (!out.v) return fr_fail(err, FR_ENOMEM, "out of memory");
    *ids = out.v;
    *n_ids = out.n;
    return 0;
}
