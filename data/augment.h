/* augment.h: training-time augmentation, as in the paper's Keras code
 * (ImageDataGenerator with horizontal_flip=True and a rotation_range):
 * a random left-right mirror (probability 1/2) and a random rotation by an
 * angle uniform in [-max_deg, max_deg] about the image centre, resampled
 * with bilinear interpolation. Beyond the paper, and off by default: a
 * random zoom (Keras's zoom_range) and a random shift (width_shift_range /
 * height_shift_range, here in pixels).
 *
 * Augmentation works on raw grey levels (0..255, as floats); standardise
 * afterwards (data/batch.h does both in that order).
 *
 * Border: a rotated image needs values from outside the original square.
 * They are taken from the nearest edge pixel (replicate, Keras's default
 * fill_mode "nearest"). Filling with black instead would paint dark corners
 * that never occur in real crops: after standardisation they would be the
 * most extreme inputs of the image, and the network could learn "dark corner
 * = rotated" instead of the face. Replicated edges keep the corner statistics
 * close to the image's own.
 *
 * Randomness: the parameters of an image are drawn by fer_augment_draw from
 * an explicit nn_rng, in a fixed order (flip, then angle; a disabled part
 * draws nothing), so a seed reproduces a run, and a run without zoom or
 * shift draws exactly what it drew before they existed. Applying them is a pure
 * function, safe to run on many images in parallel.
 *
 * Conventions: images are h x w, row-major, x = column (rightwards),
 * y = row (downwards). A positive angle turns the content counter-clockwise
 * as seen on screen. The image is mirrored first, then turned, then scaled
 * about its centre, then moved; a positive shift moves the content right
 * (x) or down (y).
 */
#ifndef FER_AUGMENT_H
#define FER_AUGMENT_H

#include <stdint.h>
#include "nn/error.h"
#include "nn/rng.h"

#define FER_AUGMENT_DEFAULT_DEG 10.0f
#define FER_AUGMENT_MAX_DEG 180.0f
#define FER_AUGMENT_MAX_THREADS 256
#define FER_AUGMENT_MAX_SHIFT 16.0f
#define FER_AUGMENT_MAX_ZOOM 0.5f

typedef struct {
    int flip;      /* nonzero: mirror left-right with probability 1/2 */
    float max_deg; /* rotation angle uniform in [-max_deg, max_deg] degrees;
                      0 = no rotation */
    int threads;   /* OpenMP threads fer_batch_fill may use to transform a
                      batch; 0 or 1 = the calling thread only. Serial by
                      default: a rotation costs ~15 us per 48x48 image (0.4 s
                      per FER2013 epoch), and idle OpenMP workers spinning
                      beside a multi-threaded BLAS, or on a busy machine,
                      cost more than they save. */
    float max_shift; /* shift uniform in [-max_shift, max_shift] pixels along
                        each axis; 0 = none */
    float max_zoom;  /* content scaled by 1 + z, z uniform in
                        [-max_zoom, max_zoom]; 0 = none */
} fer_augment_opts;

/* Flip on, max_deg = FER_AUGMENT_DEFAULT_DEG (10 degrees), no zoom, no
 * shift, serial: the paper's recipe. */
fer_augment_opts fer_augment_defaults(void);

/* NN_ERR_ARG unless 0 <= max_deg <= FER_AUGMENT_MAX_DEG,
 * 0 <= max_shift <= FER_AUGMENT_MAX_SHIFT, 0 <= max_zoom <= FER_AUGMENT_MAX_ZOOM
 * (all finite) and 0 <= threads <= FER_AUGMENT_MAX_THREADS. */
nn_status fer_augment_check(const fer_augment_opts *opts, nn_error *err);

/* The transform of one image. */
typedef struct {
    int flip;        /* mirror left-right first */
    float angle_deg; /* then turn counter-clockwise by this angle */
    float zoom;      /* then scale the content by 1 + zoom about the centre */
    float shift_x, shift_y; /* then move it by this many pixels */
} fer_augment_params;

/* Draws one image's parameters from rng: one nn_rng_u32 if opts->flip, then
 * one nn_rng_range if opts->max_deg > 0, one if opts->max_zoom > 0, two
 * (x, then y) if opts->max_shift > 0. opts must pass fer_augment_check. */
void fer_augment_draw(const fer_augment_opts *opts, nn_rng *rng, fer_augment_params *out);

/* dst = transform(src), h x w grey levels in floats. src and dst must not
 * overlap. With angle, zoom and shift 0 the result is an exact copy (or exact
 * mirror); so is a whole-pixel shift, up to the replicated border. */
void fer_augment_u8(const uint8_t *src, int h, int w, const fer_augment_params *p, float *dst);
void fer_augment_f32(const float *src, int h, int w, const fer_augment_params *p, float *dst);

/* Bilinear sample of img at (x, y) (x along a row, y down the columns, pixel
 * centres at integers), with coordinates outside [0, w-1] x [0, h-1] clamped
 * to the edge (replicate border). */
float fer_bilinear(const float *img, int h, int w, float x, float y);

#endif
