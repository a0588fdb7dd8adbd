#ifndef KAM_CBYTES_H
#define KAM_CBYTES_H

#include <stddef.h>
#include <stdint.h>

/// What one pass over a range of a CSV file's bytes finds: how many '"' and '\n' bytes it
/// holds, and whether any byte is outside ASCII (only then does the range need UTF-8
/// validation).
typedef struct {
    size_t quotes;
    size_t newlines;
    int non_ascii;
} kam_byte_counts;

/// Counts quotes and newlines in p[0..<n] and notes any byte >= 0x80, 32 bytes at a time
/// (portable vector code: SSE2, AVX2 or NEON, as the compiler targets).
kam_byte_counts kam_count_bytes(const uint8_t *p, size_t n);

#endif
