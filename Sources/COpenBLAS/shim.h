// The C surface CommerceML uses: OpenBLAS's CBLAS (with openblas_set_num_threads) and the few LAPACK routines we
// call, by their Fortran entry points in libopenblas itself. No LAPACKE: Debian's liblapacke links the reference
// libblas.so.3 and liblapack.so.3 (of whichever BLAS the alternatives name), which would map a second BLAS
// interface into every process, with its own thread setting. Only the LinearAlgebra module imports this.
#ifndef COMMERCEML_COPENBLAS_SHIM_H
#define COMMERCEML_COPENBLAS_SHIM_H
#include <cblas.h>
#include <stddef.h>

// LAPACK (column-major, arguments by reference). The trailing size_t arguments are the hidden lengths of the
// character arguments that gfortran's calling convention passes; OpenBLAS's own C implementations of potrf,
// potri and potrs ignore them.
void spotrf_(const char *uplo, const blasint *n, float *a, const blasint *lda, blasint *info, size_t uplo_len);
void dpotrf_(const char *uplo, const blasint *n, double *a, const blasint *lda, blasint *info, size_t uplo_len);
void spotri_(const char *uplo, const blasint *n, float *a, const blasint *lda, blasint *info, size_t uplo_len);
void dpotri_(const char *uplo, const blasint *n, double *a, const blasint *lda, blasint *info, size_t uplo_len);
void dsyevd_(const char *jobz, const char *uplo, const blasint *n, double *a, const blasint *lda, double *w,
             double *work, const blasint *lwork, blasint *iwork, const blasint *liwork, blasint *info,
             size_t jobz_len, size_t uplo_len);

// OpenBLAS's pool of work buffers (driver/others/memory.c): a buffer taken and given back stays mapped for the next
// call, on any thread. OpenBLAS retries forever when it cannot map a new one, so a process under an address-space
// limit takes, while there is room, one per thread that may call BLAS at once.
void *blas_memory_alloc(int procpos);
void blas_memory_free(void *buffer);
#endif
