#include "CBytes.h"
#include <string.h>

/* The loop is written with the compiler's vector types rather than one architecture's
   intrinsics: a compare gives 0 or -1 per byte, subtracting it counts, and the byte
   counters are summed into the totals before any of them can wrap (every 255 blocks). */
typedef uint8_t v32 __attribute__((vector_size(32)));

static size_t sum_bytes(v32 v) {
    uint8_t b[32];
    memcpy(b, &v, 32);
    size_t s = 0;
    for (int k = 0; k < 32; k++) s += b[k];
    return s;
}

kam_byte_counts kam_count_bytes(const uint8_t *p, size_t n) {
    kam_byte_counts out = {0, 0, 0};
    const v32 quote = (v32){0} + (uint8_t)'"';
    const v32 newline = (v32){0} + (uint8_t)'\n';
    v32 high = {0};
    size_t i = 0;
    while (i + 32 <= n) {
        v32 q = {0}, l = {0};
        size_t blocks = (n - i) / 32;
        if (blocks > 255) blocks = 255;
        for (size_t b = 0; b < blocks; b++, i += 32) {
            v32 w;
            memcpy(&w, p + i, 32);
            q -= (v32)(w == quote);
            l -= (v32)(w == newline);
            high |= w;
        }
        out.quotes += sum_bytes(q);
        out.newlines += sum_bytes(l);
    }
    uint8_t h[32];
    memcpy(h, &high, 32);
    int any = 0;
    for (int k = 0; k < 32; k++) any |= h[k] & 0x80;
    for (; i < n; i++) {
        out.quotes += p[i] == '"';
        out.newlines += p[i] == '\n';
        any |= p[i] & 0x80;
    }
    out.non_ascii = any != 0;
    return out;
}
