// Small C helpers the Swift standard library lacks: cache prefetch and an unchecked grid cell for the fraud
// stream's hot path, the CSV reader's sixteen-byte scan,
// and the registry of temporary files removed when a signal stops the process.
#ifndef COMMERCEML_CPLATFORM_H
#define COMMERCEML_CPLATFORM_H

#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include <math.h>
#include <stdint.h>
#if defined(__SSE2__)
#include <emmintrin.h>
#endif

/// Asks the CPU to start loading the cache line at `p` for reading; never faults.
static inline void cml_prefetch(const void *p) { __builtin_prefetch(p, 0, 3); }

/// Asks the CPU to start loading the cache line at `p` for writing; never faults.
static inline void cml_prefetch_write(const void *p) { __builtin_prefetch(p, 1, 3); }

/// The grid cell of `position`: its whole part, clamped to `0...last` (a whole number; not-a-number gives 0),
/// without branches or the range checks of Swift's conversion (the clamp keeps it in range).
static inline long cml_grid_cell(double position, double last) {
  double x = position > 0 ? position : 0;
  x = x < last ? x : last;
  return (long)x;
}

/// The CSV bytes of interest among the 16 at `p`: bit i of the low half is set when byte i is `delimiter`, bit i of
/// the high half when it is a line feed, a carriage return or a double quote. SSE2 on x86-64 (a load, four
/// compares, two masks); a loop elsewhere.
static inline uint32_t cml_csv_masks16(const unsigned char *p, unsigned char delimiter) {
#if defined(__SSE2__)
  __m128i v = _mm_loadu_si128((const __m128i *)p);
  uint32_t d = (uint32_t)_mm_movemask_epi8(_mm_cmpeq_epi8(v, _mm_set1_epi8((char)delimiter)));
  __m128i s = _mm_or_si128(
      _mm_or_si128(_mm_cmpeq_epi8(v, _mm_set1_epi8('\n')), _mm_cmpeq_epi8(v, _mm_set1_epi8('\r'))),
      _mm_cmpeq_epi8(v, _mm_set1_epi8('"')));
  return d | ((uint32_t)_mm_movemask_epi8(s) << 16);
#else
  uint32_t m = 0;
  for (int i = 0; i < 16; i++) {
    unsigned char c = p[i];
    if (c == delimiter) m |= 1u << i;
    if (c == '\n' || c == '\r' || c == '"') m |= 1u << (16 + i);
  }
  return m;
#endif
}

/// `y[i] = Σ_k a[i·n + k] · x[k]` for `rows` rows of `n` floats (row-major `a`): AVX2 with FMA where the processor
/// has it, SSE2 otherwise (x86-64), each summing in a fixed order (the same inputs give the same `y` every time).
void cml_row_dots(const float *a, const float *x, float *y, long rows, long n);

/// Whether `cml_row_dots` runs its AVX2 version on this processor (1) or not (0).
int cml_row_dots_uses_avx2(void);

/// `cml_row_dots`'s version for processors without AVX2 (SSE2 on x86-64), whatever this processor has: the tests
/// compare both versions with a reference.
void cml_row_dots_baseline(const float *a, const float *x, float *y, long rows, long n);

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

/// Installs a SIGABRT handler for an allocation the system refused: when the abort comes with `errno` ENOMEM (the
/// Swift runtime aborts so after "failed to allocate N bytes", as does a C library out of memory), it removes the
/// registered temporary files, prints `tool: error: out of memory: ...` with the address-space limit if there is
/// one and `remedy`, and exits with 71 (the system refused a resource) instead of a crash report. Any other abort
/// goes on to the handler installed before (the runtime's backtrace). Both strings are copied.
void cml_install_out_of_memory_handler(const char *tool, const char *remedy);

#endif
