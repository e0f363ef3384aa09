/* winograd.h: 3x3 stride-1 convolution by Winograd's minimal filtering
 * F(m x m, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016), with m = 2 or m = 4.
 *
 * Each m x m output tile comes from an (m+2) x (m+2) input tile:
 * Y = A^T [(G g G^T) . (B^T d B)] A. Summed over channels, the elementwise
 * products become (m+2)^2 independent GEMMs (tiles x C) x (C x F): per output,
 * F(2x2) multiplies 16/4 = 4 times and F(4x4) 36/16 = 2.25 times instead of 9
 * (im2col + GEMM). The transforms only add and scale by small constants, so
 * the result differs from direct convolution by float rounding alone (about
 * 1e-6 relative for F(2x2), a few times more for F(4x4), whose constants are
 * 4, 5 and 1/24), and channels-last data lets them run over channel vectors.
 * m is chosen per layer: F(4x4) unless its tiles, padded to multiples of 4,
 * need as many multiplies as F(2x2)'s (the 5x5 output of the paper's last
 * convolution, for one).
 *
 * Internal to nn/op_conv2d.c; shapes are its conv_dims.
 */
#ifndef NN_WINOGRAD_H
#define NN_WINOGRAD_H

#include <stddef.h>

typedef struct {
    int H, W, C, F, OH, OW, pad_top, pad_left;
    int m;     /* output tile side, 2 or 4 */
    int max_m; /* the largest m allowed (adjoint dims choose within it) */
} nn_winograd_dims;

/* (m+2)^2 for the largest m: transformed kernels hold this many C x F matrices. */
#define NN_WINOGRAD_MAX_POINTS 36

/* The dims of a convolution, with the cheaper m <= max_m (2 or 4) for its
 * output size. */
nn_winograd_dims nn_winograd_make_dims(int H, int W, int C, int F, int OH, int OW, int pad_top,
                                       int pad_left, int max_m);

/* Output tiles processed per block (a thread's unit of work): 96 for m = 2,
 * 48 for m = 4, so a block's transformed inputs and outputs stay in L2. */
size_t nn_winograd_block_tiles(const nn_winograd_dims *d);

/* Floats of per-thread workspace for these dims. */
size_t nn_winograd_workspace(const nn_winograd_dims *d);

/* U ((m+2)^2, C, F) = G g G^T for the (3,3,C,F) kernel g. */
void nn_winograd_kernel_transform(const nn_winograd_dims *d, const float *g, float *u);

/* Number of m x m output tiles per image. */
size_t nn_winograd_tiles(const nn_winograd_dims *d);

/* U ((m'+2)^2, F, C), m' the adjoint dims' tile side, for the input
 * gradient of the convolution g (3,3,C,F):
 * dx = conv(dy, g'), g'[ky][kx][f][c] = g[2-ky][2-kx][c][f], a 3x3
 * convolution of dy (F channels) padded by 2 - pad on each side.
 * tmp holds 9*C*F floats. */
void nn_winograd_kernel_transform_adjoint(const nn_winograd_dims *d, const float *g, float *tmp,
                                          float *u);

/* The dims of that input-gradient convolution (channels swapped, padding
 * 2 - pad, output the forward input's size, m <= max_m chosen for that size). */
nn_winograd_dims nn_winograd_adjoint_dims(const nn_winograd_dims *d);

/* Tiles [t0, t1) of the batch (tile t = image t / tiles, tile t % tiles):
 * y = conv(x, g) + bias (bias may be NULL), then ReLU when relu; or, with
 * accumulate, y += conv(x, g). u from the kernel transform;
 * ws = nn_winograd_workspace floats. */
void nn_winograd_forward_tiles(const nn_winograd_dims *d, const float *x, const float *u,
                               const float *bias, int relu, int accumulate, size_t t0, size_t t1,
                               float *ws, float *y);

#endif
