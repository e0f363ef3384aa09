/* haar.h: Viola-Jones face (object) detection with OpenCV Haar cascades,
 * reproducing cv::CascadeClassifier::detectMultiScale (OpenCV 4.x) on grey
 * images.
 *
 * Typical kiosk use: load the cascade once, make one workspace per thread,
 * then call haar_detect on every frame; after the first frame of a given
 * size (or after haar_workspace_prepare) detection allocates nothing.
 *
 *   nn_error err;
 *   haar_cascade *c = haar_cascade_load(HAAR_DEFAULT_CASCADE, &err);
 *   haar_workspace *ws = haar_workspace_new(c, &err);
 *   haar_params p = haar_params_default();
 *   haar_rect faces[16]; int n;
 *   haar_detect(c, ws, grey, 640, 480, 640, &p, faces, 16, &n, &err);
 *
 * What detection does, step by step as OpenCV does it (cascadedetect.cpp):
 *  1. Scales 1, f, f^2, ... (f = scale_factor, accumulated in double, kept
 *     as float) while round(win * scale) fits the image; scales whose window
 *     is below min size are skipped, the first above max size ends the list.
 *     If min/max leave no scale, the one whose window is nearest min size
 *     (L2 over width and height) is used, so min == max picks one scale.
 *  2. Per scale the image is resized to round(W/s) x round(H/s) with
 *     bit-exact bilinear interpolation (vision/haar_resize.h) and its sum,
 *     squared-sum and (for tilted features) tilted integrals are built.
 *  3. Windows are scanned with step 2 when s < 2, else 1. Each is variance
 *     normalised over its inner (w-2) x (h-2) rectangle: with area A, sum s
 *     and sum of squares q, nf = A*q - s^2; a window with nf <= 0 or
 *     A/sqrt(nf) >= 0.1 (grey-level standard deviation below ~10) is
 *     rejected. Feature values are multiplied by 1/sqrt(nf) (a float).
 *  4. Each stage sums its trees' leaves (in double); the window fails at the
 *     first stage whose sum is below its threshold. A window that fails the
 *     first stage also skips the next x position.
 *  5. A passing window at (x, y) gives the hit
 *     (round(x*s), round(y*s), round(win_w*s), round(win_h*s)).
 *  6. Hits are grouped as cv::groupRectangles(hits, min_neighbors, 0.2):
 *     two hits are neighbours when every edge differs by at most
 *     0.2 * (min of widths + min of heights) / 2; clusters (connected
 *     components) are averaged; clusters of <= min_neighbors hits are
 *     dropped, and so is a cluster lying inside a bigger one (within 0.2 of
 *     its size) that has more than max(3, own count) hits. min_neighbors 0
 *     returns the raw hits ungrouped.
 *  7. Results are clipped to the image.
 * The arithmetic follows OpenCV's too (float features, double stage sums,
 * float scales), so the raw window hits are OpenCV's, not an approximation:
 * tests/test_vision_haar.c checks them hit for hit against cv2 on photos
 * and 640x480 frames, for stump, tree and tilted-feature cascades. Speed
 * (bench/bench_haar.c): on one core about 5x faster than OpenCV's own
 * detectMultiScale on the same frames (scripts/bench_haar_opencv.py).
 */
#ifndef VISION_HAAR_H
#define VISION_HAAR_H

#include <stdint.h>

#include "nn/error.h"
#include "vision/haar_cascade.h"

/* Debian's opencv-data location of the paper's detector. */
#define HAAR_DEFAULT_CASCADE "/usr/share/opencv4/haarcascades/haarcascade_frontalface_default.xml"

typedef struct {
    int x, y, w, h;
    int neighbors;      /* hits merged into this detection (1 when ungrouped) */
} haar_rect;

typedef struct {
    double scale_factor;    /* > 1; step between scales (default 1.32, the paper's) */
    int min_neighbors;      /* >= 0; a detection needs more hits than this (default 5) */
    int min_w, min_h;       /* smallest window considered; 0 = no limit */
    int max_w, max_h;       /* largest window; 0 (either) = image size */
} haar_params;

/* scale_factor 1.32, min_neighbors 5, no size limits. */
haar_params haar_params_default(void);

typedef struct haar_workspace haar_workspace;

/* A detection workspace for cascade c (which must outlive it): buffers for
 * the image pyramid, integrals, the cascade's rectangle offsets for the
 * current frame width, and the hit list. Not thread-safe: one per thread;
 * the cascade itself may be shared. Returns NULL with err set on failure. */
haar_workspace *haar_workspace_new(const haar_cascade *c, nn_error *err);

/* Frees the workspace; NULL is a no-op. */
void haar_workspace_free(haar_workspace *ws);

/* Sizes the workspace for w x h frames now, so that even the first
 * haar_detect on such frames allocates nothing (the hit list may still grow
 * on an unusually busy frame, keeping its size afterwards). Optional. */
nn_status haar_workspace_prepare(haar_workspace *ws, int w, int h, nn_error *err);

/* Detects objects in the grey image gray (w x h, row stride >= w bytes).
 * Writes up to max_out detections to out, largest first (ties: top to
 * bottom, left to right), and their number to *n_out; detections beyond
 * max_out (the smallest) are dropped. ws must have been made for c.
 * Images smaller than the cascade window give no detections.
 * Returns NN_OK, NN_ERR_ARG (NULL pointers, sizes, bad params, workspace of
 * another cascade) or NN_ERR_NOMEM. */
nn_status haar_detect(const haar_cascade *c, haar_workspace *ws,
                      const uint8_t *gray, int w, int h, int stride,
                      const haar_params *p, haar_rect *out, int max_out, int *n_out,
                      nn_error *err);

#endif
