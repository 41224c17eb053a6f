/* t.h: the unit-test harness. Each test file defines `void suite_NAME(void)` that calls
 * T_CASE(fn) for each case; the one list of suites is tests/unit/suites.h. Every case
 * prints "PASS suite.case" or "FAIL suite.case: message" (or "SKIP ... : why"), which the
 * top-level runner (tests/run.sh) counts. */
#ifndef FR_T_H
#define FR_T_H

#include <math.h>
#include <stdio.h>

extern int t_failed_now;       /* the current case has failed */
extern const char *t_suite;    /* current suite name */
extern int t_skipped_now;

void t_run_case(const char *name, void (*fn)(void));
void t_fail(const char *file, int line, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
void t_skip(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Path of the shared test data folder (../shared next to the checkout) or NULL. */
const char *t_shared_dir(void);
/* A scratch directory for this run (created once). */
const char *t_tmp_dir(void);

#define T_CASE(fn) t_run_case(#fn, fn)
#define T_CHECK(cond, ...)                                                                     \
    do {                                                                                       \
        if (!(cond)) { t_fail(__FILE__, __LINE__, __VA_ARGS__); return; }                      \
    } while (0)
/* keeps going after a failure (use inside loops when every mismatch should be listed) */
#define T_EXPECT(cond, ...)                                                                    \
    do {                                                                                       \
        if (!(cond)) t_fail(__FILE__, __LINE__, __VA_ARGS__);                                  \
    } while (0)
#define T_NEAR(a, b, tol)                                                                      \
    T_CHECK(fabs((double)(a) - (double)(b)) <= (tol), "%s = %g, %s = %g, |diff| > %g", #a,   \
            (double)(a), #b, (double)(b), (double)(tol))

#endif
