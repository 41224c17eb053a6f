/* main.c: the frugal binary: dispatches to subcommands. */
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"

/* weak: a subcommand whose file is not part of this build reports so */
#pragma weak cmd_run
#pragma weak cmd_logits
#pragma weak cmd_synth
#pragma weak cmd_bench
#pragma weak cmd_info
#pragma weak cmd_tokenize
#pragma weak cmd_template
#pragma weak cmd_chat
#pragma weak cmd_serve
#pragma weak cmd_quantize

typedef struct {
    const char *name;
    int (*fn)(int, char **);
    const char *help;
} command;

static const command commands[] = {
    {"run", cmd_run, "generate text from a prompt"},
    {"chat", cmd_chat, "interactive chat using the model's chat template"},
    {"serve", cmd_serve, "OpenAI-compatible HTTP server"},
    {"bench", cmd_bench, "measure prompt processing and generation speed"},
    {"logits", cmd_logits, "write the logits of every position (float32, row-major)"},
    {"tokenize", cmd_tokenize, "print the token ids of a text"},
    {"template", cmd_template, "render a chat template for a list of messages"},
    {"info", cmd_info, "print a GGUF file's metadata and tensors"},
    {"quantize", cmd_quantize, "convert a GGUF model to another tensor type"},
    {"synth", cmd_synth, "write a random-weight test model (GGUF)"},
};

static void usage(FILE *f) {
    fprintf(f, "usage: frugal COMMAND [options]   (frugal COMMAND --help for details)\n\n"
               "commands:\n");
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++)
        if (commands[i].fn) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].help);
    fprintf(f, "\nenvironment: FRUGAL_CPU=generic|avx2|avx512 caps the SIMD kernels used;\n"
               "             FRUGAL_PREFAULT=0|1 maps a model's pages at load: never / always\n"
               "             (default: when the file fits in half of the available memory).\n");
}

int main(int argc, char **argv) {
    if (argc < 2 || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
        !strcmp(argv[1], "help")) {
        usage(argc < 2 ? stderr : stdout);
        return argc < 2 ? 2 : 0;
    }
    for (size_t i = 0; i < sizeof commands / sizeof *commands; i++) {
        if (!strcmp(argv[1], commands[i].name)) {
            if (!commands[i].fn) {
                fprintf(stderr, "frugal: '%s' is not available in this build\n", argv[1]);
                return 2;
            }
            return commands[i].fn(argc - 1, argv + 1);
        }
    }
    fprintf(stderr, "frugal: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
