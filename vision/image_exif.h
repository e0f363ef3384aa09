/* image_exif.h: the EXIF orientation tag of a photo, and turning the decoded
 * pixels upright. Cameras store pixels as the sensor saw them and record how
 * the phone was held in tag 0x0112; a face lying on its side is not found by
 * an upright-face detector, so the JPEG reader applies the tag.
 */
#ifndef FER_VISION_IMAGE_EXIF_H
#define FER_VISION_IMAGE_EXIF_H

#include <stddef.h>
#include <stdint.h>
#include "nn/error.h"
#include "vision/image.h"

/* The orientation (1..8, EXIF 2.32 section 4.6.4) in an APP1 marker payload
 * ("Exif\0\0" followed by a TIFF header, either byte order). Returns 1
 * (upright) when the payload is not EXIF, has no orientation tag, or is
 * malformed: a broken tag never fails a read. */
int fer_exif_orientation(const uint8_t *app1, size_t n);

/* Rewrites im so that it shows what orientation `o` describes upright:
 * 2 mirror left-right, 3 rotate 180, 4 mirror top-bottom, 5 transpose,
 * 6 rotate 90 clockwise, 7 transverse, 8 rotate 90 counter-clockwise;
 * 5..8 swap width and height. 1 or any other value leaves im as it is.
 * Needs one temporary image; NN_ERR_NOMEM leaves im unchanged. */
nn_status fer_image_orient(fer_image *im, int o, nn_error *err);

#endif
