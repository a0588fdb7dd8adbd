#ifndef KAM_CPLATFORM_H
#define KAM_CPLATFORM_H

/// Fixes glibc's mmap threshold so large arrays freed while loading data go back to the
/// system at once (the default threshold grows after the first large free, and later
/// large arrays then stay in the heap).
void kam_tune_malloc(void);

/// After the data is loaded: arrays up to 32 MiB come from the heap and go back to it, so
/// the many short-lived arrays of a query reuse memory already in the process instead of
/// each faulting in fresh pages from the system (a third of an analytics stage's time on
/// a virtual machine whose fresh memory is slow to come by).
void kam_tune_malloc_for_queries(void);

/// Opens (creating or truncating) a file for writing past the page cache where the system
/// allows it (O_DIRECT on Linux): a large file written once and read later does not make
/// the kernel find and fill fresh page-cache memory for every byte as it is written. Sets
/// `*direct` to whether it did; falls back to an ordinary open. Returns the descriptor or -1.
int kam_open_for_writing(const char *path, int mode, int *direct);

/// Turns off direct writing on a descriptor `kam_open_for_writing` opened (a file system
/// that turned down an aligned write); 0 when done.
int kam_stop_direct(int fd);

#endif
