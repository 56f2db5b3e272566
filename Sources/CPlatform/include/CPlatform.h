// Small C helpers the Swift standard library lacks, for the fraud stream's hot path.
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

#endif
