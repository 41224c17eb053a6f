/* cmd_info.c: `frugal info FILE`: prints a GGUF file's version, alignment, every key/value
 * (arrays summarised by element type, count and first elements) and every tensor (name,
 * type, shape, offset, bytes). */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "gguf/gguf.h"

/* name from the file, with control bytes shown as '?' (no terminal escapes) */
static char *printable(char *buf, size_t cap, gguf_str s) {
    gguf_str_copy(buf, cap, s);
    for (char *p = buf; *p; p++)
        if ((unsigned char)*p < 0x20 || *p == 0x7f) *p = '?';
    if (s.len >= cap && cap > 4) memcpy(buf + cap - 4, "...", 4);
    return buf;
}

static void info_usage(FILE *f) {
    fprintf(f, "usage: frugal info [--help] FILE.gguf\n\n"
               "Prints the GGUF header of FILE: version, alignment, every key/value (arrays\n"
               "shown as [type x count: first elements]) and every tensor (name, type, shape\n"
               "ne[0..n), data offset within the data section, bytes).\n");
}

int cmd_info(int argc, char **argv) {
    const char *path = NULL;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
            info_usage(stdout);
            return 0;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "frugal: info: unknown option '%s'\n", argv[i]);
            info_usage(stderr);
            return 2;
        }
        if (path) {
            fprintf(stderr, "frugal: info: one FILE expected, got '%s' and '%s'\n", path, argv[i]);
            return 2;
        }
        path = argv[i];
    }
    if (!path) {
        info_usage(stderr);
        return 2;
    }
    gguf_file *f;
    fr_err err;
    if (gguf_open(&f, path, &err)) {
        fprintf(stderr, "frugal: %s\n", err.msg);
        return 1;
    }
    char buf[1024], name[256];
    uint64_t total = 0;
    printf("file: %s\nversion: %" PRIu32 "\nalignment: %" PRIu64 "\ndata offset: %" PRIu64
           "\nsize: %zu\n",
           path, f->version, f->alignment, f->data_offset, f->size);
    printf("\nmetadata: %" PRIu64 " keys\n", f->n_kv);
    for (uint64_t i = 0; i < f->n_kv; i++) {
        const gguf_kv *kv = &f->kv[i];
        printable(name, sizeof name, kv->key);
        printf("  %-40s %-4s = %s\n", name, gguf_vtype_name(kv->val.type),
               gguf_value_format(buf, sizeof buf, &kv->val, 8));
    }
    printf("\ntensors: %" PRIu64 "\n", f->n_tensors);
    for (uint64_t i = 0; i < f->n_tensors; i++) {
        const gguf_tensor *t = &f->tensors[i];
        const char *tname;
        char shape[128];
        size_t o = 0;
        gguf_type_info(t->type, &tname, NULL, NULL);
        for (uint32_t d = 0; d < t->n_dims; d++)
            o += (size_t)snprintf(shape + o, sizeof shape - o, "%s%" PRId64, d ? ", " : "",
                                  t->ne[d]);
        printable(name, sizeof name, t->name);
        printf("  %5" PRIu64 " %-40s %-7s [%s]  offset %" PRIu64 "  %zu bytes\n", i, name, tname,
               shape, t->offset, t->nbytes);
        total += t->nbytes;
    }
    printf("\ntensor data: %" PRIu64 " bytes (%.2f MiB)\n", total, (double)total / (1 << 20));
    gguf_close(f);
    return 0;
}
