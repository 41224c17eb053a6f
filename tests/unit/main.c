/* main.c: the unit-test runner. `frugal-tests [SUITE ...]` runs all suites or the named
 * ones and prints one line per case plus "unit: N passed, N failed, N skipped". */
#include "t.h"

#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SUITE(name) void suite_##name(void) __attribute__((weak));
#include "suites.h"
#undef SUITE

int t_failed_now, t_skipped_now;
const char *t_suite = "";
static int n_pass, n_fail, n_skip;

void t_fail(const char *file, int line, const char *fmt, ...) {
    va_list ap;
    if (!t_failed_now) printf("FAIL ");
    else printf("     ");
    printf("(%s:%d) ", file, line);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    t_failed_now = 1;
}

void t_skip(const char *fmt, ...) {
    va_list ap;
    printf("SKIP %s: ", t_suite);
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    printf("\n");
    t_skipped_now = 1;
}

void t_run_case(const char *name, void (*fn)(void)) {
    t_failed_now = 0;
    t_skipped_now = 0;
    fflush(stdout);
    fn();
    if (t_failed_now) {
        printf("FAIL %s.%s\n", t_suite, name);
        n_fail++;
    } else if (t_skipped_now) {
        n_skip++;
    } else {
        printf("PASS %s.%s\n", t_suite, name);
        n_pass++;
    }
    fflush(stdout);
}

const char *t_shared_dir(void) {
    static char buf[4096];
    const char *env = getenv("FRUGAL_SHARED");
    const char *cands[] = {env, "../shared", "../../shared"};
    for (size_t i = 0; i < sizeof cands / sizeof *cands; i++) {
        struct stat st;
        if (cands[i] && stat(cands[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            snprintf(buf, sizeof buf, "%s", cands[i]);
            return buf;
        }
    }
    return NULL;
}

const char *t_tmp_dir(void) {
    static char buf[256];
    if (!buf[0]) {
        snprintf(buf, sizeof buf, "/tmp/frugal-tests-%d", (int)getpid());
        mkdir(buf, 0700);
    }
    return buf;
}

int main(int argc, char **argv) {
    setvbuf(stdout, NULL, _IOLBF, 0);
#define SUITE(name)                                                                            \
    do {                                                                                       \
        int want = argc < 2;                                                                   \
        for (int i = 1; i < argc; i++)                                                         \
            if (!strcmp(argv[i], #name)) want = 1;                                             \
        if (want && suite_##name) {                                                            \
            t_suite = #name;                                                                   \
            suite_##name();                                                                    \
        }                                                                                      \
    } while (0);
#include "suites.h"
#undef SUITE
    printf("unit: %d passed, %d failed, %d skipped\n", n_pass, n_fail, n_skip);
    return n_fail ? 1 : 0;
}
