/* face_emotion.h: what the paper's real-time tester did per frame, in C:
 * find faces with the Haar cascade, crop each box to the model's input size
 * (area averaging, vision/face_crop.h), standardise with the statistics
 * stored in the model file (never a bare /255), and classify.
 *
 *   fer_face_analyzer *a = fer_face_analyzer_new("model.bin", NULL, &err);
 *   fer_face faces[8]; int n;
 *   fer_face_analyze(a, &frame.grey, faces, 8, &n, &err);   faces largest first
 *
 * An analyzer owns its model, cascade and buffers and is used by one thread
 * at a time; after the first frame of a size it allocates nothing per frame.
 */
#ifndef VISION_FACE_EMOTION_H
#define VISION_FACE_EMOTION_H

#include "export/model_file.h"
#include "vision/face_crop.h"
#include "vision/haar.h"
#include "vision/image.h"

#define FER_MAX_FACES 32

typedef struct {
    fer_box box;           /* in frame pixels */
    int neighbors;         /* detector support (hits merged into the box) */
    float probs[FER_MAX_CLASSES];
    int top;               /* argmax of probs */
} fer_face;

typedef struct {
    const char *cascade_path; /* NULL: HAAR_DEFAULT_CASCADE */
    haar_params haar;         /* scale 1.32, neighbours 5 (the paper's) by default */
    fer_resize_mode resize;   /* AREA (default) or LINEAR (cv2.resize's default, as the paper's tester) */
    int threads;              /* for the network; default 1 (a kiosk has other work) */
} fer_face_opts;

fer_face_opts fer_face_opts_default(void);

typedef struct fer_face_analyzer fer_face_analyzer;

/* Loads the model and the cascade. opts may be NULL (defaults). */
fer_face_analyzer *fer_face_analyzer_new(const char *model_path, const fer_face_opts *opts,
                                         nn_error *err);
void fer_face_analyzer_free(fer_face_analyzer *a);

/* The loaded model (class names, input size). */
const fer_model_file *fer_face_analyzer_model(const fer_face_analyzer *a);

/* Faces in a grey frame with their emotion probabilities, largest first; at
 * most max_faces (<= FER_MAX_FACES) are kept. */
nn_status fer_face_analyze(fer_face_analyzer *a, const fer_image *grey, fer_face *faces,
                           int max_faces, int *n_faces, nn_error *err);

#endif
