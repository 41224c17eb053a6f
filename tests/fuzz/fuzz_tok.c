/* fuzz_tok.c: libFuzzer target for the tokenizers: arbitrary bytes (prompts are untrusted)
 * are encoded by a byte-level BPE and a SentencePiece vocabulary, with and without special
 * token parsing, then every id is decoded whole and through the streaming detokenizer. For
 * valid UTF-8 without NUL the byte-level round trip must reproduce the input exactly (like
 * llama.cpp, invalid bytes become U+FFFD, so those inputs are lossy by design). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gguf/gguf.h"
#include "tok/tok.h"

static tok_vocab *make_vocab(const char *model, const char *pre, uint32_t n) {
    tok_vocab_spec spec;
    fr_err err;
    if (tok_vocab_generate(&spec, model, pre, n, &err)) abort();
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    gguf_writer *w = gguf_writer_create(3);
    tok_vocab_spec_write(&spec, w);
    if (gguf_writer_write_header(w, fp, &err) || gguf_writer_finish(w, fp, &err)) abort();
    gguf_writer_free(w);
    fclose(fp);
    tok_vocab_spec_free(&spec);
    gguf_file *g;
    tok_vocab *v;
    if (gguf_open_mem(&g, buf, len, &err) || tok_load(&v, g, &err)) abort();
    gguf_close(g);
    free(buf); /* the vocab copies what it needs */
    return v;
}

static int valid_utf8(const unsigned char *s, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned c = s[i];
        size_t k = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
        if (!k || i + k > n || c == 0 || c == 0xc0 || c == 0xc1 || c > 0xf4) return 0;
        for (size_t j = 1; j < k; j++)
            if ((s[i + j] & 0xc0) != 0x80) return 0;
        if (k == 3 && ((c == 0xe0 && s[i + 1] < 0xa0) || (c == 0xed && s[i + 1] >= 0xa0))) return 0;
        if (k == 4 && ((c == 0xf0 && s[i + 1] < 0x90) || (c == 0xf4 && s[i + 1] >= 0x90))) return 0;
        i += k;
    }
    return 1;
}

static void run(const tok_vocab *v, const char *text, size_t len, int byte_level) {
    for (int ps = 0; ps < 2; ps++) {
        int32_t *ids = NULL;
        size_t n = 0;
        fr_err err;
        if (tok_encode(v, text, len, false, ps, &ids, &n, &err)) continue;
        char piece[512], out[1024];
        size_t total = 0;
        char *back = malloc(len * 4 + 64);
        tok_stream st = {.render_special = ps != 0};
        for (size_t i = 0; i < n; i++) {
            if (ids[i] < 0 || ids[i] >= tok_n_vocab(v)) abort();
            tok_piece(v, ids[i], true, piece, sizeof piece);
            size_t k = tok_stream_push(&st, v, ids[i], out, sizeof out);
            if (k > sizeof out) k = sizeof out;
            if (total + k <= len * 4 + 64) memcpy(back + total, out, k);
            total += k;
        }
        size_t k = tok_stream_flush(&st, out, sizeof out);
        if (k > sizeof out) k = sizeof out;
        if (total + k <= len * 4 + 64) memcpy(back + total, out, k);
        total += k;
        /* byte-level BPE without special parsing is lossless */
        if (byte_level && !ps && valid_utf8((const unsigned char *)text, len) &&
            (total != len || memcmp(back, text, len)))
            abort();
        free(back);
        free(ids);
    }
}

int LLVMFuzzerTestOneInput(const unsigned char *data, size_t size) {
    static tok_vocab *bpe, *spm;
    if (!bpe) {
        bpe = make_vocab("gpt2", "qwen2", 800);
        spm = make_vocab("llama", NULL, 600);
    }
    if (size > 4096) return 0;
    run(bpe, (const char *)data, size, 1);
    run(spm, (const char *)data, size, 0);
    return 0;
}
