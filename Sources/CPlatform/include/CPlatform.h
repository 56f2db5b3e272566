// Small C helpers the Swift standard library lacks: cache prefetch, sincos and an unchecked grid cell for the
// fraud stream's hot path,
// and the registry of temporary files removed when a signal stops the process.
#ifndef COMMERCEML_CPLATFORM_H
#define COMMERCEML_CPLATFORM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>

/// Asks the CPU to start loading the cache line at `p` for reading; never faults.
static inline void cml_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Asks the CPU to start loading the cache line at `p` for writing; never faults.
static inline void cml_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// Sine and cosine of `x` in one call (glibc's sincos: the same values as sin and cos).
static inline void cml_sincos(double x, double *s, double *c) {
#if defined(__GLIBC__)
  sincos(x, s, c);
#else
  *s = sin(x);
  *c = cos(x);
#endif
}

/// The grid cell of `position`: its whole part, clamped to `0...last` (not-a-number gives 0), without branches
/// or the range checks of Swift's conversion (the clamp keeps it in range).
static inline long cml_grid_cell(double position, long last) {
  double x = position > 0 ? position : 0;
  double top = (double)last;
  x = x < top ? x : top;
  return (long)x;
}

/// Remembers `path` as a temporary file to remove if the process is stopped by SIGINT, SIGTERM or SIGHUP before
/// it is unregistered (the path is copied). Returns a slot for `cml_temporary_unregister`, or -1 when every slot
/// is taken (that file is then not cleaned up on a signal).
int cml_temporary_register(const char *path);

/// Forgets the temporary file of `slot` (renamed into place or removed by its owner).
void cml_temporary_unregister(int slot);

/// Removes every registered temporary file now; async-signal-safe.
void cml_remove_temporaries(void);

/// Flushes standard output; returns 0, or the error number of a failed write (now or earlier).
int cml_flush_standard_output(void);

/// Installs handlers for SIGINT, SIGTERM and SIGHUP that remove every registered temporary file and then end the
/// process by the same signal, with its default action (so the exit status still says which signal).
void cml_install_cleanup_handlers(void);

#endif
