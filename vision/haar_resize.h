/* haar_resize.h: 8-bit grey bilinear resize, bit-exact with OpenCV's
 * cv::resize(..., INTER_LINEAR_EXACT), the resize detectMultiScale (4.x)
 * uses to build its image pyramid.
 *
 * OpenCV's rule (modules/imgproc/src/resize.cpp, resize_bitExact with
 * interpolationLinear): for destination index d along an axis of source
 * size S and destination size D, with scale = S / D,
 *     f = scale * (d + 0.5) - 0.5,  i = floor(f)
 *     i < 0          -> copy source index 0          (left/top border)
 *     i >= S - 1     -> copy source index S - 1      (right/bottom border)
 *     otherwise      -> weights (256 - c, c), c = round_half_even((f - i) * 256)
 * The horizontal pass keeps 8 fractional bits (uint16), the vertical pass
 * multiplies by 8-bit weights and rounds: (h0*c0 + h1*c1 + 32768) >> 16;
 * border rows round (h + 128) >> 8. Equal sizes are a plain copy.
 *
 * No allocation: the caller provides scratch of haar_resize_scratch_size()
 * bytes (the detector keeps it in its workspace).
 */
#ifndef VISION_HAAR_RESIZE_H
#define VISION_HAAR_RESIZE_H

#include <stddef.h>
#include <stdint.h>

/* Bytes of scratch haar_resize needs for a dst_w x dst_h destination
 * (tables and two line buffers); 16-byte aligned pieces inside. */
size_t haar_resize_scratch_size(int dst_w, int dst_h);

/* Resizes src (sw x sh, row stride sstride bytes) into dst (dw x dh,
 * stride dstride). All sizes must be >= 1; scratch must hold
 * haar_resize_scratch_size(dw, dh) bytes, suitably aligned for int
 * (malloc'd memory is). src and dst must not overlap. */
void haar_resize(const uint8_t *src, int sw, int sh, int sstride,
                 uint8_t *dst, int dw, int dh, int dstride, void *scratch);

#endif
