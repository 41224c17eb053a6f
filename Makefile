# frugal build. `make` builds build/frugal, build/libfrugal.a and build/frugal-tests.
# `make asan` builds the same under ASan+UBSan in build-asan/. `make fuzz` builds the
# libFuzzer targets with clang in build-fuzz/. No -march=native: SIMD kernels live in
# files named *_avx2.c / *_avx512.c that get their own flags and are chosen at run time.

CC      ?= cc
O       ?= build
OPT     ?= -O2
PKGS    := libpcre2-8 jansson libmicrohttpd libedit
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Werror -Wno-unused-parameter \
           -fno-strict-aliasing -pthread -Iinclude -Isrc $(PKG_CFLAGS) $(EXTRA_CFLAGS)
LDLIBS  += $(PKG_LIBS) -lm -pthread

AVX2_FLAGS   := -mavx2 -mfma -mf16c
AVX512_FLAGS := -mavx2 -mfma -mf16c -mavx512f -mavx512bw -mavx512vl -mavx512dq -mavx512vnni -mavx512bf16

LIB_SRC  := $(sort $(shell find src -name '*.c' -not -path 'src/cli/*'))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/unit/*.c))
FUZZ_SRC := $(sort $(wildcard tests/fuzz/fuzz_*.c))

LIB_OBJ  := $(LIB_SRC:%.c=$(O)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(O)/%.o)
TEST_OBJ := $(TEST_SRC:%.c=$(O)/%.o)
DEPS     := $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d) $(TEST_OBJ:.o=.d)

.PHONY: all asan fuzz clean format
all: $(O)/frugal $(O)/frugal-tests

$(O)/libfrugal.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(O)/frugal: $(CLI_OBJ) $(O)/libfrugal.a
	$(CC) $(CFLAGS) -o $@ $(CLI_OBJ) $(O)/libfrugal.a $(LDFLAGS) $(LDLIBS)

$(O)/frugal-tests: $(TEST_OBJ) $(O)/libfrugal.a
	$(CC) $(CFLAGS) -o $@ $(TEST_OBJ) $(O)/libfrugal.a $(LDFLAGS) $(LDLIBS)

$(O)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2_FLAGS) -MMD -MP -c -o $@ $<

$(O)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX512_FLAGS) -MMD -MP -c -o $@ $<

$(O)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c -o $@ $<

asan:
	$(MAKE) O=build-asan OPT=-O1 EXTRA_CFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fsanitize=address,undefined" all

# libFuzzer targets: each tests/fuzz/fuzz_X.c links against the library built with clang.
fuzz:
	$(MAKE) CC=clang O=build-fuzz OPT=-O1 EXTRA_CFLAGS="-fsanitize=fuzzer-no-link,address,undefined" \
	        LDFLAGS="-fsanitize=address,undefined" build-fuzz/libfrugal.a
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang $$f -> build-fuzz/$$n"; \
	  clang -std=c11 -D_GNU_SOURCE -O1 -g -Iinclude -Isrc -fsanitize=fuzzer,address,undefined \
	    -o build-fuzz/$$n $$f build-fuzz/libfrugal.a $(PKG_LIBS) -lm -pthread || exit 1; done

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-asan build-fuzz

-include $(DEPS)
