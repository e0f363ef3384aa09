/* draw.h: annotate an RGB frame with face boxes and labels ("happy 0.83").
 *
 * Drawing and the bitmap fonts come from libgd (Debian libgd-dev,
 * pkg-config gdlib), a long-kept library, rather than hand-drawn glyphs.
 * The frame is copied into a gd true-colour image, drawn on, and copied
 * back, once per call whatever the number of faces. Write the result with
 * fer_image_write_png (vision/image_io.h).
 *
 * Layout: each box is an outline `thickness` pixels wide drawn inside the
 * box; its label sits on a filled strip of the box's colour just above the
 * box (inside its top edge when the box touches the top of the frame), in
 * black or white, whichever reads better on that colour. The font grows
 * with the frame: gd's Tiny (5x8) under 120 rows, Small (6x13) under 300,
 * Giant (9x15 bold) above. Parts outside the frame are clipped.
 *
 * Reentrant; the frame must not be used by another thread during the call.
 */
#ifndef FER_VISION_DRAW_H
#define FER_VISION_DRAW_H

#include <stdint.h>
#include "nn/error.h"
#include "vision/image.h"

typedef struct { uint8_t r, g, b; } fer_colour;

typedef struct {
    fer_box box;
    const char *label;  /* NULL or "" for a box without a label; ASCII */
    fer_colour colour;
    int thickness;      /* outline width in pixels; <= 0 picks one from the frame size */
} fer_annotation;

/* Draws n annotations on the RGB frame, in order (later ones on top).
 * Errors: NN_ERR_ARG (frame not 3-channel, NULL with n > 0), NN_ERR_NOMEM. */
nn_status fer_draw_annotations(fer_image *rgb, const fer_annotation *a, int n, nn_error *err);

/* A distinct, readable colour for emotion class k (0..6 in FER2013 order:
 * angry, disgust, fear, happy, sad, surprise, neutral); other k cycle. */
fer_colour fer_draw_class_colour(int k);

#endif
