#define _GNU_SOURCE  /* O_DIRECT */
#include "CPlatform.h"
#include <fcntl.h>
#include <stdlib.h>  /* defines __GLIBC__ on glibc systems */
#if defined(__GLIBC__)
#include <malloc.h>
#endif

void kam_tune_malloc(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 256 * 1024);
#endif
}

void kam_tune_malloc_for_queries(void) {
#if defined(__GLIBC__)
    mallopt(M_MMAP_THRESHOLD, 32 * 1024 * 1024);  /* glibc's largest: HEAP_MAX_SIZE / 2 */
#endif
}

int kam_open_for_writing(const char *path, int mode, int *direct) {
#if defined(O_DIRECT)
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_DIRECT, mode);
    if (fd >= 0) {
        *direct = 1;
        return fd;
    }
#endif
    *direct = 0;
    return open(path, O_WRONLY | O_CREAT | O_TRUNC, mode);
}

int kam_stop_direct(int fd) {
#if defined(O_DIRECT)
    int flags = fcntl(fd, F_GETFL);
    if (flags < 0) return -1;
    return fcntl(fd, F_SETFL, flags & ~O_DIRECT);
#else
    (void)fd;
    return 0;
#endif
}
