/* image_yuv.h: Y'CbCr <-> RGB pixel conversions for video frames (y4m
 * planes, V4L2 YUYV), one row at a time. Pure functions, no state.
 *
 * Matrix: ITU-R BT.601 (what SD video, webcams, JPEG and OpenCV's
 * YUV->BGR conversions use). Range:
 *   - limited ("TV", "MPEG"): Y' 16..235, Cb/Cr 16..240 -- ffmpeg's yuv420p
 *     from almost every video file, and V4L2's default for YUV formats;
 *   - full ("PC", "JPEG"): Y', Cb, Cr all 0..255 -- JFIF, yuvj420p.
 * Grey from video is the *full-range* luma: limited Y' is expanded by
 * 255/219. That is what OpenCV hands a detector when it decodes a video to
 * BGR and then calls cvtColor(BGR2GRAY) (the paper's pipeline), up to
 * rounding, and what FER2013's 0..255 faces look like. Chroma is taken from
 * the co-sited sample (no interpolation): good enough for annotation, and
 * the detector and classifier never see chroma.
 *
 * Fixed point: 16 fractional bits, round half up, results clamped to 0..255.
 */
#ifndef FER_VISION_IMAGE_YUV_H
#define FER_VISION_IMAGE_YUV_H

#include <stdint.h>

typedef enum { FER_RANGE_LIMITED = 0, FER_RANGE_FULL = 1 } fer_yuv_range;

/* n luma samples -> n full-range grey pixels (a copy when range is full). */
void fer_luma_to_grey_row(const uint8_t *y, uint8_t *grey, int n, fer_yuv_range r);

/* One row of planar Y'CbCr -> n R,G,B pixels. Pixel x takes chroma sample
 * x >> xshift of u and v (xshift 0 for 4:4:4, 1 for 4:2:x, 2 for 4:1:1).
 * u == NULL or v == NULL means no chroma (grey picture). */
void fer_yuv_to_rgb_row(const uint8_t *y, const uint8_t *u, const uint8_t *v,
                        int xshift, int n, fer_yuv_range r, uint8_t *rgb);

/* Packed 4:2:2 YUYV (V4L2_PIX_FMT_YUYV: Y0 Cb Y1 Cr per pixel pair) row of
 * n pixels -> grey / RGB. The row holds ((n + 1) / 2) * 4 bytes. */
void fer_yuyv_to_grey_row(const uint8_t *yuyv, int n, fer_yuv_range r, uint8_t *grey);
void fer_yuyv_to_rgb_row(const uint8_t *yuyv, int n, fer_yuv_range r, uint8_t *rgb);

/* R,G,B -> full-range (JFIF) Y'CbCr. *y is exactly the grey of
 * fer_rgb_to_grey_row, so a grey frame written to video and read back is
 * unchanged. */
void fer_rgb_to_ycbcr(const uint8_t rgb[3], uint8_t *y, uint8_t *cb, uint8_t *cr);

#endif
