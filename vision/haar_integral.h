/* haar_integral.h: integral images of an 8-bit grey image, as cv::integral
 * computes them for the Haar evaluator.
 *
 * For a w x h image I, each output is (h+1) x (w+1) with row stride `stride`
 * elements (stride >= w+1), first row and column zero:
 *   sum(X, Y)    = sum of I(x, y) for x < X, y < Y
 *   sqsum(X, Y)  = sum of I(x, y)^2 over the same pixels
 *   tilted(X, Y) = sum of I(x, y) for y < Y and |x - X + 1| <= Y - 1 - y
 *                  (the 45-degree triangle whose apex is pixel (X-1, Y-1);
 *                  OpenCV's "tilted" integral, integral3 in Python)
 * Values are uint32 and wrap modulo 2^32 on images whose total exceeds it
 * (above ~16.8 Mpixel for sum): differences of four corners, which is all a
 * rectangle sum needs, stay exact as long as the rectangle's own sum fits,
 * the same arithmetic as OpenCV's CV_32S integrals.
 *
 * Rectangle sums (in the detector's words: p = row-major index of (X, Y)):
 *   upright rect (x, y, w, h):  S[p(x,y)] - S[p(x+w,y)] - S[p(x,y+h)] + S[p(x+w,y+h)]
 *   tilted rect (x, y, w, h):   T[p(x,y)] - T[p(x-h,y+h)] - T[p(x+w,y+w)] + T[p(x+w-h,y+w+h)]
 */
#ifndef VISION_HAAR_INTEGRAL_H
#define VISION_HAAR_INTEGRAL_H

#include <stddef.h>
#include <stdint.h>

/* Fills sum and sqsum (each (h+1)*stride elements; sqsum may be NULL) from
 * img (w x h, row stride istride bytes). w, h >= 1. */
void haar_integral(const uint8_t *img, int w, int h, int istride,
                   uint32_t *sum, uint32_t *sqsum, int stride);

/* Scratch elements (uint32) haar_integral_tilted needs for a w x h image. */
size_t haar_integral_tilted_scratch(int w, int h);

/* Fills tilted ((h+1)*stride elements) from img; scratch holds
 * haar_integral_tilted_scratch(w, h) uint32s. O((w + h) * h) time. */
void haar_integral_tilted(const uint8_t *img, int w, int h, int istride,
                          uint32_t *tilted, int stride, uint32_t *scratch);

#endif
