// The C surface CommerceML uses: OpenBLAS's CBLAS (with openblas_set_num_threads) and LAPACKE.
// Only the LinearAlgebra module imports this; it has no stable API of its own.
#ifndef COMMERCEML_COPENBLAS_SHIM_H
#define COMMERCEML_COPENBLAS_SHIM_H
#include <cblas.h>
#include <lapacke.h>
#endif
