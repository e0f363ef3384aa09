/* blas.h: the one place the toolkit calls BLAS (OpenBLAS). Row-major only.
 * Keeping every call here lets a profile or a port touch one file. */
#ifndef NN_BLAS_H
#define NN_BLAS_H

/* C (M,N) = alpha * op(A) op(B) + beta * C, op(X) = X or X^T (trans_x != 0).
 * op(A) is (M,K), op(B) is (K,N); lda/ldb/ldc are row strides of the stored
 * matrices. With beta == 0, C need not be initialised. */
void nn_gemm(int trans_a, int trans_b, int M, int N, int K, float alpha, const float *A,
             int lda, const float *B, int ldb, float beta, float *C, int ldc);

/* y (N) = alpha * A^T x + beta * y for A stored (M,N) row-major, x (M):
 * column sums when x is a vector of ones (bias gradients). */
void nn_gemv_t(int M, int N, float alpha, const float *A, int lda, const float *x,
               float beta, float *y);

/* Threads BLAS may use (process-wide in OpenBLAS; set per graph before use). */
void nn_blas_set_threads(int threads);

#endif
