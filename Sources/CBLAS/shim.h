// OpenBLAS's CBLAS interface (sgemm and friends) and its thread control.
#include <cblas.h>
