/* face_crop.h: cut a detected face out of a grey frame and scale it to the
 * classifier's input (48x48 uint8, FER2013's format).
 *
 * Why area averaging: FER2013's faces were made by cropping faces from
 * photos and *downscaling* them to 48x48, and a detector box on a webcam
 * frame is usually 100-400 px wide, so the crop is nearly always shrunk.
 * Averaging every source pixel under each output pixel (OpenCV's
 * INTER_AREA) keeps the full picture and does not alias; plain bilinear
 * sampling (cv2.resize's default, used by the paper's webcam script) reads
 * only the 2x2 pixels nearest each sample and, at a 4x shrink, ignores
 * three quarters of the face, adding noise and jagged edges the model never
 * saw in training. When the box is smaller than the output (a distant
 * face), there is nothing to average and bilinear interpolation is used.
 *
 * FER_RESIZE_AREA    down: box average (cv2.INTER_AREA, within +/-1);
 *                    up: bilinear (cv2.INTER_LINEAR, within +/-1).
 *                    Decided per axis.
 * FER_RESIZE_LINEAR  bilinear both ways: reproduces cv2.resize(face,
 *                    (48, 48)) as in the paper's webcam tester.
 *
 * Pure functions, reentrant; the only allocation is a small scratch buffer.
 */
#ifndef FER_VISION_FACE_CROP_H
#define FER_VISION_FACE_CROP_H

#include <stddef.h>
#include <stdint.h>
#include "nn/error.h"
#include "vision/image.h"

/* FER2013's face size. */
#define FER_FACE_SIDE 48

typedef enum { FER_RESIZE_AREA = 0, FER_RESIZE_LINEAR } fer_resize_mode;

/* Resizes the sw x sh grey picture at src (rows `stride` bytes apart) to
 * dw x dh bytes at dst (rows packed, dw bytes apart).
 * Errors: NN_ERR_ARG (NULL, non-positive sizes), NN_ERR_NOMEM. */
nn_status fer_resize_grey(const uint8_t *src, size_t stride, int sw, int sh, uint8_t *dst,
                          int dw, int dh, fer_resize_mode mode, nn_error *err);

/* Crops `box` from the grey image, after clamping it to the image, and
 * resizes it to out_w x out_h bytes at out (out_w * out_h, row-major; use
 * FER_FACE_SIDE for both to feed the classifier). The values are raw
 * 0..255 grey; standardising them is the caller's job.
 * Errors: NN_ERR_ARG (grey not 1-channel, box entirely outside the image,
 * bad sizes), NN_ERR_NOMEM. */
nn_status fer_face_crop(const fer_image *grey, fer_box box, int out_w, int out_h,
                        fer_resize_mode mode, uint8_t *out, nn_error *err);

#endif
