#ifndef KAM_CPLATFORM_H
#define KAM_CPLATFORM_H

/// Fixes glibc's mmap threshold so large arrays freed while loading data go back to the
/// system at once (the default threshold grows after the first large free, and later
/// large arrays then stay in the heap).
void kam_tune_malloc(void);

#endif
