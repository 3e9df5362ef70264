// OpenBLAS's CBLAS interface (sgemm and friends) and its thread control.
#include <cblas.h>

// LAPACK's divide-and-conquer SVD, which libopenblas exports with the Fortran calling convention (column-major,
// arguments by reference, the hidden length of the character argument last). numpy.linalg.svd calls the same routine.
#include <stddef.h>
void dgesdd_(const char *jobz, const int *m, const int *n, double *a, const int *lda, double *s, double *u,
             const int *ldu, double *vt, const int *ldvt, double *work, const int *lwork, int *iwork, int *info,
             size_t jobz_len);
