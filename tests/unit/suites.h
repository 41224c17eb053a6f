/* suites.h: the one list of unit-test suites, in run order. */
SUITE(core)
SUITE(gguf)
SUITE(quant)
SUITE(pool)
SUITE(model)
SUITE(sample)
SUITE(tok)
SUITE(jinja)
