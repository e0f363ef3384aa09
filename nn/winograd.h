/* winograd.h: 3x3 stride-1 convolution by Winograd's minimal filtering
 * F(2x2, 3x3) (Lavin & Gray, "Fast Algorithms for Convolutional Neural
 * Networks", 2016), the forward pass used at inference.
 *
 * Each 2x2 output tile comes from a 4x4 input tile: Y = A^T [(G g G^T) . (B^T d B)] A.
 * Summed over channels, the elementwise products become 16 independent GEMMs
 * (tiles x C) x (C x F), with 16 multiplies per 4 outputs instead of 36:
 * 2.25x fewer than im2col + GEMM. The transforms only add and halve, so the
 * result differs from direct convolution by float rounding alone (about
 * 1e-6 relative), and channels-last data lets them run over channel vectors.
 *
 * Internal to nn/op_conv2d.c; shapes are its conv_dims.
 */
#ifndef NN_WINOGRAD_H
#define NN_WINOGRAD_H

#include <stddef.h>

typedef struct {
    int H, W, C, F, OH, OW, pad_top, pad_left;
} nn_winograd_dims;

/* Output tiles processed per block (a thread's unit of work). */
#define NN_WINOGRAD_TILES 96

/* Floats of per-thread workspace for these dims. */
size_t nn_winograd_workspace(const nn_winograd_dims *d);

/* U (16, C, F) = G g G^T for the (3,3,C,F) kernel g. */
void nn_winograd_kernel_transform(const nn_winograd_dims *d, const float *g, float *u);

/* Number of 2x2 output tiles per image. */
size_t nn_winograd_tiles(const nn_winograd_dims *d);

/* U (16, F, C) for the input gradient of the convolution g (3,3,C,F):
 * dx = conv(dy, g'), g'[ky][kx][f][c] = g[2-ky][2-kx][c][f], a 3x3
 * convolution of dy (F channels) padded by 2 - pad on each side.
 * tmp holds 9*C*F floats. */
void nn_winograd_kernel_transform_adjoint(const nn_winograd_dims *d, const float *g, float *tmp,
                                          float *u);

/* The dims of that input-gradient convolution (channels swapped, padding
 * 2 - pad, output the forward input's size). */
nn_winograd_dims nn_winograd_adjoint_dims(const nn_winograd_dims *d);

/* Tiles [t0, t1) of the batch (tile t = image t / tiles, tile t % tiles):
 * y = conv(x, g) + bias (bias may be NULL), then ReLU when relu; or, with
 * accumulate, y += conv(x, g). u from the kernel transform;
 * ws = nn_winograd_workspace floats. */
void nn_winograd_forward_tiles(const nn_winograd_dims *d, const float *x, const float *u,
                               const float *bias, int relu, int accumulate, size_t t0, size_t t1,
                               float *ws, float *y);

#endif
