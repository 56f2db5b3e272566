// Row dot products, `y[i] = Σ_k a[i·n + k] · x[k]`, for scoring every item against one user (the serving path's
// inner loop). Two versions on x86-64: AVX2 with FMA, four rows at a time against `x` held in registers, chosen once
// per process when the processor and the operating system support it (cpuid and xgetbv, no library); and SSE2,
// the architecture's baseline, four rows at a time. A plain loop elsewhere. Each version sums in a fixed order, so a
// process gives the same scores for the same inputs every time (whatever thread or request asks).
#include "CPlatform.h"

#include <stdatomic.h>

#if defined(__x86_64__) || defined(__i386__)
#include <cpuid.h>
#include <immintrin.h>

// The sum of a vector's four lanes.
static inline float cml_sse_sum(__m128 q) {
  q = _mm_add_ps(q, _mm_movehl_ps(q, q));
  q = _mm_add_ss(q, _mm_shuffle_ps(q, q, 1));
  return _mm_cvtss_f32(q);
}

__attribute__((target("avx2,fma"))) static inline float cml_tail_dot(
    const float *a, const float *x, long from, long n) {
  float s = 0;
  for (long k = from; k < n; k++) s = fmaf(a[k], x[k], s);
  return s;
}

__attribute__((target("avx2,fma"))) static void cml_row_dots_avx2(
    const float *a, const float *x, float *y, long rows, long n) {
  const long vn = n & ~7L;
  long i = 0;
  for (; i + 4 <= rows; i += 4) {
    const float *r0 = a + i * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
    __m256 s0 = _mm256_setzero_ps(), s1 = _mm256_setzero_ps(), s2 = _mm256_setzero_ps(), s3 = _mm256_setzero_ps();
    for (long k = 0; k < vn; k += 8) {
      __m256 xv = _mm256_loadu_ps(x + k);
      s0 = _mm256_fmadd_ps(_mm256_loadu_ps(r0 + k), xv, s0);
      s1 = _mm256_fmadd_ps(_mm256_loadu_ps(r1 + k), xv, s1);
      s2 = _mm256_fmadd_ps(_mm256_loadu_ps(r2 + k), xv, s2);
      s3 = _mm256_fmadd_ps(_mm256_loadu_ps(r3 + k), xv, s3);
    }
    // The four sums at once: pairwise within lanes, then the two halves.
    __m256 h = _mm256_hadd_ps(_mm256_hadd_ps(s0, s1), _mm256_hadd_ps(s2, s3));
    __m128 sums = _mm_add_ps(_mm256_castps256_ps128(h), _mm256_extractf128_ps(h, 1));
    float out[4];
    _mm_storeu_ps(out, sums);
    y[i] = out[0] + cml_tail_dot(r0, x, vn, n);
    y[i + 1] = out[1] + cml_tail_dot(r1, x, vn, n);
    y[i + 2] = out[2] + cml_tail_dot(r2, x, vn, n);
    y[i + 3] = out[3] + cml_tail_dot(r3, x, vn, n);
  }
  for (; i < rows; i++) {
    const float *r = a + i * n;
    __m256 s = _mm256_setzero_ps();
    for (long k = 0; k < vn; k += 8) s = _mm256_fmadd_ps(_mm256_loadu_ps(r + k), _mm256_loadu_ps(x + k), s);
    y[i] = cml_sse_sum(_mm_add_ps(_mm256_castps256_ps128(s), _mm256_extractf128_ps(s, 1))) + cml_tail_dot(r, x, vn, n);
  }
}

void cml_row_dots_baseline(const float *a, const float *x, float *y, long rows, long n) {
  const long vn = n & ~3L;
  long i = 0;
  for (; i + 4 <= rows; i += 4) {
    const float *r0 = a + i * n, *r1 = r0 + n, *r2 = r1 + n, *r3 = r2 + n;
    __m128 s0 = _mm_setzero_ps(), s1 = _mm_setzero_ps(), s2 = _mm_setzero_ps(), s3 = _mm_setzero_ps();
    for (long k = 0; k < vn; k += 4) {
      __m128 xv = _mm_loadu_ps(x + k);
      s0 = _mm_add_ps(s0, _mm_mul_ps(_mm_loadu_ps(r0 + k), xv));
      s1 = _mm_add_ps(s1, _mm_mul_ps(_mm_loadu_ps(r1 + k), xv));
      s2 = _mm_add_ps(s2, _mm_mul_ps(_mm_loadu_ps(r2 + k), xv));
      s3 = _mm_add_ps(s3, _mm_mul_ps(_mm_loadu_ps(r3 + k), xv));
    }
    float t0 = 0, t1 = 0, t2 = 0, t3 = 0;
    for (long k = vn; k < n; k++) {
      t0 += r0[k] * x[k];
      t1 += r1[k] * x[k];
      t2 += r2[k] * x[k];
      t3 += r3[k] * x[k];
    }
    y[i] = cml_sse_sum(s0) + t0;
    y[i + 1] = cml_sse_sum(s1) + t1;
    y[i + 2] = cml_sse_sum(s2) + t2;
    y[i + 3] = cml_sse_sum(s3) + t3;
  }
  for (; i < rows; i++) {
    const float *r = a + i * n;
    __m128 s = _mm_setzero_ps();
    for (long k = 0; k < vn; k += 4) s = _mm_add_ps(s, _mm_mul_ps(_mm_loadu_ps(r + k), _mm_loadu_ps(x + k)));
    float t = 0;
    for (long k = vn; k < n; k++) t += r[k] * x[k];
    y[i] = cml_sse_sum(s) + t;
  }
}

/// Whether the processor has AVX2 and FMA and the operating system saves the YMM registers.
static int cml_cpu_has_avx2_fma(void) {
  unsigned int eax, ebx, ecx, edx;
  if (!__get_cpuid(1, &eax, &ebx, &ecx, &edx)) return 0;
  const unsigned int fma = 1u << 12, osxsave = 1u << 27, avx = 1u << 28;
  if ((ecx & (fma | osxsave | avx)) != (fma | osxsave | avx)) return 0;
  unsigned int xcr0_lo, xcr0_hi;
  __asm__ volatile("xgetbv" : "=a"(xcr0_lo), "=d"(xcr0_hi) : "c"(0));
  if ((xcr0_lo & 0x6) != 0x6) return 0;  // XMM and YMM state
  if (!__get_cpuid_count(7, 0, &eax, &ebx, &ecx, &edx)) return 0;
  return (ebx & (1u << 5)) != 0;  // AVX2
}

/// 0: not chosen yet; 1: SSE2; 2: AVX2 with FMA.
static _Atomic int cml_row_dots_kind = 0;

static int cml_row_dots_choice(void) {
  int kind = atomic_load_explicit(&cml_row_dots_kind, memory_order_relaxed);
  if (kind == 0) {
    kind = cml_cpu_has_avx2_fma() ? 2 : 1;
    atomic_store_explicit(&cml_row_dots_kind, kind, memory_order_relaxed);
  }
  return kind;
}

void cml_row_dots(const float *a, const float *x, float *y, long rows, long n) {
  if (cml_row_dots_choice() == 2) {
    cml_row_dots_avx2(a, x, y, rows, n);
  } else {
    cml_row_dots_baseline(a, x, y, rows, n);
  }
}

int cml_row_dots_uses_avx2(void) { return cml_row_dots_choice() == 2; }

#else

void cml_row_dots(const float *a, const float *x, float *y, long rows, long n) {
  for (long i = 0; i < rows; i++) {
    const float *r = a + i * n;
    float s = 0;
    for (long k = 0; k < n; k++) s += r[k] * x[k];
    y[i] = s;
  }
}

int cml_row_dots_uses_avx2(void) { return 0; }

void cml_row_dots_baseline(const float *a, const float *x, float *y, long rows, long n) {
  cml_row_dots(a, x, y, rows, n);
}

#endif
