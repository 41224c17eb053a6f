/* cmd_tokenize.c: `frugal tokenize -m MODEL (--text TEXT | --file FILE) [--no-special]
 * [--parse-special] [--pieces]`: prints the token ids of a text on one line, separated by
 * spaces (or "id<TAB>piece" per line with --pieces). Works on any GGUF with tokenizer
 * metadata, vocab-only files included. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli/cli.h"
#include "gguf/gguf.h"
#include "tok/tok.h"

static void tokenize_usage(FILE *f) {
    fprintf(
        f,
        "usage: frugal tokenize -m MODEL (--text TEXT | --file FILE) [--no-special]\n"
        "                       [--parse-special] [--pieces]\n\n"
        "Prints the token ids of TEXT (or of the bytes of FILE; '-' reads stdin) as\n"
        "MODEL's tokenizer produces them, exactly as llama.cpp's llama_tokenize does.\n\n"
        "  -m, --model MODEL   GGUF file with tokenizer.ggml.* metadata (vocab-only is fine)\n"
        "  --text TEXT         the text to tokenize\n"
        "  --file FILE         read the text from FILE (raw bytes, '-' for stdin)\n"
        "  --no-special        do not add the BOS/EOS tokens the model asks for\n"
        "  --parse-special     recognise control tokens written in the text (e.g. <|im_end|>)\n"
        "  --pieces            print one 'id<TAB>piece' line per token; non-printable bytes\n"
        "                      are shown as \\n, \\t, \\r, \\\\ or \\xHH\n"
        "  --detokenize        the input holds token ids (space separated); print the text they\n"
        "                      decode to (llama_detokenize; with --parse-special control\n"
        "                      tokens are rendered), raw bytes, no newline added\n"
        "  --time              report the tokenization time and rate on stderr\n"
        "  --info              print the tokenizer's facts (model, pre, sizes, BOS/EOS) instead\n\n"
        "test utility: frugal tokenize --gen-vocab MODEL[:PRE]:N --out FILE.gguf\n"
        "  writes a vocab-only GGUF with frugal's generated vocabulary (MODEL gpt2 or\n"
        "  llama, PRE a tokenizer.ggml.pre for gpt2, N tokens); llama.cpp can load it.\n");
}

static int fail(const char *fmt, const char *a) {
    fprintf(stderr, "frugal: ");
    fprintf(stderr, fmt, a);
    fprintf(stderr, "\n");
    return 1;
}

static char *slurp(FILE *f, size_t *n) {
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    if (!b) return NULL;
    for (;;) {
        if (len == cap) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
        size_t r = fread(b + len, 1, cap - len, f);
        len += r;
        if (r == 0) break;
    }
    if (ferror(f)) {
        free(b);
        return NULL;
    }
    *n = len;
    return b;
}

/* one piece, escaped: printable ASCII and complete UTF-8 sequences as they are */
static void print_escaped(const unsigned char *p, size_t n) {
    for (size_t i = 0; i < n;) {
        unsigned char c = p[i];
        if (c == '\n') {
            fputs("\\n", stdout);
            i++;
            continue;
        }
        if (c == '\t') {
            fputs("\\t", stdout);
            i++;
            continue;
        }
        if (c == '\r') {
            fputs("\\r", stdout);
            i++;
            continue;
        }
        if (c == '\\') {
            fputs("\\\\", stdout);
            i++;
            continue;
        }
        if (c >= 0x20 && c < 0x7F) {
            putchar(c);
            i++;
            continue;
        }
        size_t l = c >= 0xF0 && c <= 0xF4   ? 4
                   : c >= 0xE0 && c <= 0xEF ? 3
                   : c >= 0xC2 && c <= 0xDF ? 2
                                            : 0;
        bool ok = l > 0 && i + l <= n;
        for (size_t k = 1; ok && k < l; k++) ok = (p[i + k] & 0xC0) == 0x80;
        if (ok) {
            fwrite(p + i, 1, l, stdout);
            i += l;
        } else {
            printf("\\x%02X", c);
            i++;
        }
    }
}

/* --gen-vocab MODEL[:PRE]:N --out FILE */
static int gen_vocab(const char *spec, const char *out) {
    char model[32] = "", pre[64] = "";
    const char *c1 = strchr(spec, ':'), *c2 = c1 ? strchr(c1 + 1, ':') : NULL;
    if (!c1 || (size_t)(c1 - spec) >= sizeof model)
        return fail("tokenize: bad --gen-vocab '%s' (MODEL[:PRE]:N)", spec);
    memcpy(model, spec, (size_t)(c1 - spec));
    const char *num = c1 + 1;
    if (c2) {
        if ((size_t)(c2 - c1 - 1) >= sizeof pre)
            return fail("tokenize: bad --gen-vocab '%s'", spec);
        memcpy(pre, c1 + 1, (size_t)(c2 - c1 - 1));
        num = c2 + 1;
    }
    char *end;
    unsigned long n = strtoul(num, &end, 10);
    if (*end || !*num) return fail("tokenize: bad token count in --gen-vocab '%s'", spec);
    tok_vocab_spec vs;
    fr_err err = {{0}};
    if (tok_vocab_generate(&vs, model, pre[0] ? pre : NULL, (uint32_t)n, &err) < 0)
        return fail("%s", err.msg);
    gguf_writer *w = gguf_writer_create(3);
    /* a minimal llama architecture so that llama.cpp accepts the file as vocab-only */
    gguf_w_str(w, "general.architecture", "llama");
    gguf_w_str(w, "general.name", "frugal-generated-vocab");
    gguf_w_u32(w, "llama.context_length", 4096);
    gguf_w_u32(w, "llama.embedding_length", 64);
    gguf_w_u32(w, "llama.block_count", 1);
    gguf_w_u32(w, "llama.feed_forward_length", 128);
    gguf_w_u32(w, "llama.attention.head_count", 1);
    gguf_w_u32(w, "llama.attention.head_count_kv", 1);
    gguf_w_u32(w, "llama.rope.dimension_count", 64);
    gguf_w_f32(w, "llama.attention.layer_norm_rms_epsilon", 1e-5f);
    gguf_w_u32(w, "llama.vocab_size", vs.n_vocab);
    tok_vocab_spec_write(&vs, w);
    FILE *f = fopen(out, "wb");
    int rc = f ? 0 : 1;
    if (!f)
        fail("cannot create '%s'", out);
    else if (gguf_writer_write_header(w, f, &err) < 0 || gguf_writer_finish(w, f, &err) < 0)
        rc = fail("%s", err.msg);
    if (f && fclose(f) != 0 && rc == 0) rc = fail("cannot write '%s'", out);
    gguf_writer_free(w);
    tok_vocab_spec_free(&vs);
    return rc;
}

int cmd_tokenize(int argc, char **argv) {
    const char *gen = NULL, *gen_out = NULL;
    const char *model = NULL, *text = NULL, *file = NULL;
    bool add_special = true, parse_special = false, pieces = false, info = false, timing = false,
         detok = false;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            tokenize_usage(stdout);
            return 0;
        } else if (!strcmp(a, "-m") || !strcmp(a, "--model") || !strcmp(a, "--text") ||
                   !strcmp(a, "--file")) {
            if (i + 1 >= argc) return fail("tokenize: option '%s' needs a value", a);
            const char **dst = a[2] == 't' ? &text : a[2] == 'f' ? &file : &model;
            *dst = argv[++i];
        } else if (!strcmp(a, "--gen-vocab") || !strcmp(a, "--out")) {
            if (i + 1 >= argc) return fail("tokenize: option '%s' needs a value", a);
            *(a[2] == 'g' ? &gen : &gen_out) = argv[++i];
        } else if (!strncmp(a, "--model=", 8)) {
            model = a + 8;
        } else if (!strncmp(a, "--text=", 7)) {
            text = a + 7;
        } else if (!strncmp(a, "--file=", 7)) {
            file = a + 7;
        } else if (!strcmp(a, "--no-special")) {
            add_special = false;
        } else if (!strcmp(a, "--parse-special")) {
            parse_special = true;
        } else if (!strcmp(a, "--pieces")) {
            pieces = true;
        } else if (!strcmp(a, "--detokenize")) {
            detok = true;
        } else if (!strcmp(a, "--time")) {
            timing = true;
        } else if (!strcmp(a, "--info")) {
            info = true;
        } else {
            fprintf(stderr, "frugal: tokenize: unknown argument '%s'\n", a);
            tokenize_usage(stderr);
            return 1;
        }
    }
    if (gen || gen_out) {
        if (!gen || !gen_out) return fail("tokenize: %s", "--gen-vocab and --out go together");
        return gen_vocab(gen, gen_out);
    }
    if (!model) return fail("tokenize: %s", "-m MODEL is required (see frugal tokenize --help)");
    if (!info && !text == !file)
        return fail("tokenize: %s", "give exactly one of --text TEXT or --file FILE");

    char *buf = NULL;
    size_t len = 0;
    if (info) {
        text = NULL;
        file = NULL;
    } else if (file) {
        FILE *f = strcmp(file, "-") ? fopen(file, "rb") : stdin;
        if (!f) return fail("cannot open '%s'", file);
        buf = slurp(f, &len);
        if (f != stdin) fclose(f);
        if (!buf) return fail("cannot read '%s'", file);
    } else {
        len = strlen(text);
    }
    gguf_file *g = NULL;
    tok_vocab *v = NULL;
    fr_err err = {{0}};
    if (gguf_open(&g, model, &err) < 0 || tok_load(&v, g, &err) < 0) {
        gguf_close(g);
        free(buf);
        return fail("%s", err.msg);
    }
    gguf_close(g);
    if (info) {
        printf("model=%s pre=%s n_vocab=%d bos=%d eos=%d add_bos=%d\n", tok_model_name(v),
               tok_pre_name(v), tok_n_vocab(v), tok_bos(v), tok_eos(v), tok_add_bos(v) ? 1 : 0);
        tok_free(v);
        return 0;
    }
    int32_t *ids = NULL;
    size_t n = 0;
    if (detok) {
        const char *p = file ? buf : text, *end = p + len;
        size_t cap = 0;
        int rc = 0;
        while (p < end && rc == 0) {
            while (p < end && (*p == ' ' || *p == '\n' || *p == '\t' || *p == '\r' || *p == ','))
                p++;
            if (p >= end) break;
            char *e;
            long x = strtol(p, &e, 10);
            if (e == p || x < 0 || x >= tok_n_vocab(v)) {
                rc = fail("tokenize: --detokenize: bad token id near '%.20s'", p);
                break;
            }
            if (n == cap) {
                cap = cap ? cap * 2 : 1024;
                int32_t *ni = realloc(ids, cap * sizeof *ids);
                if (!ni) {
                    rc = fail("%s", "out of memory");
                    break;
                }
                ids = ni;
            }
            ids[n++] = (int32_t)x;
            p = e;
        }
        char *out = NULL;
        size_t ol = 0;
        if (rc == 0 && tok_detokenize(v, ids, n, false, parse_special, &out, &ol, &err) < 0)
            rc = fail("%s", err.msg);
        if (rc == 0) fwrite(out, 1, ol, stdout);
        free(out);
        free(ids);
        free(buf);
        tok_free(v);
        if (rc == 0 && fflush(stdout) != 0) rc = fail("%s", "cannot write the output");
        return rc;
    }
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    if (tok_encode(v, file ? buf : text, len, add_special, parse_special, &ids, &n, &err) < 0) {
        tok_free(v);
        free(buf);
        return fail("%s", err.msg);
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (timing) {
        double s = (double)(t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
        fprintf(stderr, "tokenize: %zu bytes -> %zu tokens in %.1f ms (%.2f MB/s)\n", len, n,
                s * 1e3, s > 0 ? (double)len / s / 1e6 : 0.0);
    }
    if (pieces) {
        char stackp[512];
        for (size_t i = 0; i < n; i++) {
            size_t pn = tok_piece(v, ids[i], true, stackp, sizeof stackp);
            char *p = stackp;
            if (pn > sizeof stackp) {
                p = malloc(pn);
                if (!p) break;
                tok_piece(v, ids[i], true, p, pn);
            }
            printf("%d\t", ids[i]);
            print_escaped((const unsigned char *)p, pn);
            putchar('\n');
            if (p != stackp) free(p);
        }
    } else {
        for (size_t i = 0; i < n; i++) printf(i ? " %d" : "%d", ids[i]);
        putchar('\n');
    }
    free(ids);
    free(buf);
    tok_free(v);
    if (fflush(stdout) != 0) return fail("%s", "cannot write the output");
    return 0;
}
