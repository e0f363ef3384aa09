/* image_io.h: still images in and out -- PNG (libpng) and JPEG (libjpeg).
 *
 * Reading detects the format from the first bytes (PNG signature
 * 89 50 4E 47 0D 0A 1A 0A, JPEG SOI FF D8 FF), never from the extension.
 * What comes out is always 8-bit, 1 or 3 channels:
 *   - PNG grey and grey+alpha -> grey; RGB, RGBA and palette -> RGB;
 *     16-bit samples are scaled to 8 bits (v * 255 / 65535, rounded);
 *     1/2/4-bit grey is expanded to 0..255; interlaced files are fine.
 *   - JPEG grey -> grey; YCbCr/RGB -> RGB. CMYK JPEGs are NN_ERR_UNSUPPORTED.
 *     The EXIF orientation tag, when present, is applied, so a phone photo
 *     comes out upright (as OpenCV's imread does).
 *   - Alpha is dropped, not blended (as OpenCV's imread(IMREAD_COLOR)).
 * `channels` asks for a layout: 0 = as stored (above), 1 = grey, 3 = RGB.
 * Grey from a colour PNG uses fer_rgb_to_grey_row (OpenCV's cvtColor
 * weights); grey from a colour JPEG is libjpeg's own luma output, which is
 * what OpenCV's imread(IMREAD_GRAYSCALE) returns for JPEGs.
 *
 * Errors never crash and name the file: NN_ERR_IO (cannot open or read,
 * with errno text), NN_ERR_FORMAT (not a PNG/JPEG, truncated, corrupt: the
 * message carries libpng's/libjpeg's reason), NN_ERR_UNSUPPORTED,
 * NN_ERR_NOMEM. A JPEG whose data ends early or whose entropy-coded data is
 * damaged is an error here, although libjpeg alone would only warn and pad
 * the picture with grey (a JPEG lacking only its final EOI marker is
 * whole, and is accepted). On any error `im` keeps a valid (possibly
 * reallocated) buffer and must still be freed by the caller.
 *
 * All functions are reentrant: no state is kept between calls.
 */
#ifndef FER_VISION_IMAGE_IO_H
#define FER_VISION_IMAGE_IO_H

#include <stddef.h>
#include <stdint.h>
#include "nn/error.h"
#include "vision/image.h"

/* Files larger than this are refused before being read (NN_ERR_FORMAT). */
#define FER_IMAGE_MAX_FILE_BYTES ((size_t)256 << 20)

/* Which decoder the leading bytes of a file call for. */
typedef enum { FER_IMG_UNKNOWN = 0, FER_IMG_PNG, FER_IMG_JPEG } fer_image_format;

/* Sniffs the format from the first n bytes (8 are enough). */
fer_image_format fer_image_sniff(const uint8_t *bytes, size_t n);

/* Reads the PNG or JPEG file at path into im (zeroed or valid image; its
 * buffer is reused when big enough). */
nn_status fer_image_read(const char *path, int channels, fer_image *im, nn_error *err);

/* Same, from n bytes in memory; `name` is used in error messages only
 * (e.g. "/dev/video0 frame 12"). */
nn_status fer_image_decode(const uint8_t *bytes, size_t n, const char *name,
                           int channels, fer_image *im, nn_error *err);

/* The per-format decoders behind fer_image_decode; same contract. */
nn_status fer_png_decode(const uint8_t *bytes, size_t n, const char *name,
                         int channels, fer_image *im, nn_error *err);
nn_status fer_jpeg_decode(const uint8_t *bytes, size_t n, const char *name,
                          int channels, fer_image *im, nn_error *err);

/* Writes im (grey or RGB) as an 8-bit PNG at path, atomically (readers
 * never see a half-written file; see nn/atomic_file.h). */
nn_status fer_image_write_png(const char *path, const fer_image *im, nn_error *err);

#endif
