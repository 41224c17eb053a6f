/* text.c: UTF-8 repair for JSON output and stop-sequence matching over generated text. */
#include <string.h>

#include "server/server.h"

void srv_buf_append(char **buf, size_t *len, size_t *cap, const char *src, size_t n) {
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 64;
        while (c < *len + n + 1) c *= 2;
        *buf = fr_xrealloc(*buf, c);
        *cap = c;
    }
    memcpy(*buf + *len, src, n);
    *len += n;
    (*buf)[*len] = 0;
}

void srv_utf8_append(char **buf, size_t *len, size_t *cap, const char *src, size_t n) {
    static const char repl[3] = {(char)0xEF, (char)0xBF, (char)0xBD};
    const unsigned char *s = (const unsigned char *)src;
    size_t i = 0, run = 0; /* run: start of the current stretch of valid bytes */
    while (i < n) {
        unsigned b = s[i];
        if (b < 0x80) {
            i++;
            continue;
        }
        int need;
        unsigned lo = 0x80, hi = 0xBF;
        if (b >= 0xC2 && b <= 0xDF)
            need = 1;
        else if (b == 0xE0)
            need = 2, lo = 0xA0;
        else if (b == 0xED)
            need = 2, hi = 0x9F;
        else if (b >= 0xE1 && b <= 0xEF)
            need = 2;
        else if (b == 0xF0)
            need = 3, lo = 0x90;
        else if (b >= 0xF1 && b <= 0xF3)
            need = 3;
        else if (b == 0xF4)
            need = 3, hi = 0x8F;
        else
            need = 0;
        size_t j = i + 1;
        int ok = need > 0;
        for (int k = 0; ok && k < need; k++, j++) {
            if (j >= n || s[j] < (k ? 0x80u : lo) || s[j] > (k ? 0xBFu : hi)) ok = 0;
            if (!ok) break;
        }
        if (ok) {
            i = j;
            continue;
        }
        /* invalid: flush the valid run, one U+FFFD for the maximal subpart s[i..j) */
        srv_buf_append(buf, len, cap, src + run, i - run);
        srv_buf_append(buf, len, cap, repl, 3);
        i = need > 0 ? j : i + 1;
        if (i > n) i = n;
        run = i;
    }
    srv_buf_append(buf, len, cap, src + run, n - run);
}

size_t srv_stop_find(const char *text, size_t len, size_t from, const srv_params *p, size_t *hold) {
    size_t best = (size_t)-1, h = 0;
    for (int i = 0; i < p->n_stop; i++) {
        const char *st = p->stop[i];
        size_t sl = strlen(st);
        if (!sl) continue;
        size_t start = from > sl - 1 ? from - (sl - 1) : 0;
        if (len >= sl && start <= len - sl) {
            const char *f = memmem(text + start, len - start, st, sl);
            if (f && (size_t)(f - text) < best) best = (size_t)(f - text);
        }
        size_t k = sl - 1 < len ? sl - 1 : len;
        for (; k > h; k--)
            if (!memcmp(text + len - k, st, k)) {
                h = k;
                break;
            }
    }
    *hold = best == (size_t)-1 ? h : 0;
    return best;
}
