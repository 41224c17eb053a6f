/* tok_gen.h: the generator's built-in training text (tok_gen_corpus.c). */
#ifndef FR_TOK_GEN_H
#define FR_TOK_GEN_H

#include <stddef.h>

extern const char tok_gen_corpus[];
extern const size_t tok_gen_corpus_len;

#endif
