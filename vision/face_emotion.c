#include "vision/face_emotion.h"

#include <stdlib.h>
#include <string.h>

struct fer_face_analyzer {
    fer_model_file model;
    haar_cascade *cascade;
    haar_workspace *ws;
    fer_face_opts opts;
    uint8_t crops[FER_MAX_FACES * FER_FACE_SIDE * FER_FACE_SIDE];
    float *scratch;
    float probs[FER_MAX_FACES * FER_MAX_CLASSES];
};

fer_face_opts fer_face_opts_default(void)
{
    return (fer_face_opts){.haar = haar_params_default(), .resize = FER_RESIZE_AREA, .threads = 1};
}

void fer_face_analyzer_free(fer_face_analyzer *a)
{
    if (!a) return;
    fer_model_file_free(&a->model);
    haar_workspace_free(a->ws);
    haar_cascade_free(a->cascade);
    free(a->scratch);
    free(a);
}

fer_face_analyzer *fer_face_analyzer_new(const char *model_path, const fer_face_opts *opts,
                                         nn_error *err)
{
    fer_face_analyzer *a = calloc(1, sizeof *a);
    if (!a) {
        nn_fail(err, NN_ERR_NOMEM, "out of memory");
        return NULL;
    }
    a->opts = opts ? *opts : fer_face_opts_default();
    if (a->opts.threads < 1) a->opts.threads = 1;
    if (fer_model_load(model_path, FER_MAX_FACES, NN_NO_GRADS, &a->model, err)) goto fail;
    if (a->model.norm.h != FER_FACE_SIDE || a->model.norm.w != FER_FACE_SIDE) {
        nn_fail(err, NN_ERR_UNSUPPORTED, "%s: the face pipeline feeds %dx%d crops, the model wants %dx%d",
                model_path, FER_FACE_SIDE, FER_FACE_SIDE, a->model.norm.h, a->model.norm.w);
        goto fail;
    }
    if (nn_graph_set_threads(a->model.net->graph, a->opts.threads, err)) goto fail;
    const char *cascade = a->opts.cascade_path ? a->opts.cascade_path : HAAR_DEFAULT_CASCADE;
    if (!(a->cascade = haar_cascade_load(cascade, err))) goto fail;
    if (!(a->ws = haar_workspace_new(a->cascade, err))) goto fail;
    if (!(a->scratch = malloc(fer_model_scratch_floats(&a->model, FER_MAX_FACES) * sizeof(float)))) {
        nn_fail(err, NN_ERR_NOMEM, "out of memory");
        goto fail;
    }
    return a;
fail:
    fer_face_analyzer_free(a);
    return NULL;
}

const fer_model_file *fer_face_analyzer_model(const fer_face_analyzer *a) { return &a->model; }

nn_status fer_face_analyze(fer_face_analyzer *a, const fer_image *grey, fer_face *faces,
                           int max_faces, int *n_faces, nn_error *err)
{
    *n_faces = 0;
    if (!a || !grey || !faces || grey->channels != 1)
        return nn_fail(err, NN_ERR_ARG, "face analysis needs an analyzer and a grey frame");
    if (max_faces > FER_MAX_FACES) max_faces = FER_MAX_FACES;
    haar_rect rects[FER_MAX_FACES];
    int n = 0;
    nn_status st = haar_detect(a->cascade, a->ws, grey->data, grey->width, grey->height,
                               (int)grey->stride, &a->opts.haar, rects, max_faces, &n, err);
    if (st || n == 0) return st;
    const size_t px = FER_FACE_SIDE * FER_FACE_SIDE;
    for (int i = 0; i < n; i++) {
        fer_box box = {rects[i].x, rects[i].y, rects[i].w, rects[i].h};
        if ((st = fer_face_crop(grey, box, FER_FACE_SIDE, FER_FACE_SIDE, a->opts.resize,
                                a->crops + i * px, err)))
            return st;
    }
    if ((st = fer_model_classify_u8(&a->model, a->crops, n, a->scratch, a->probs, err))) return st;
    const int K = a->model.n_classes;
    for (int i = 0; i < n; i++) {
        fer_face *f = &faces[i];
        memset(f, 0, sizeof *f);
        f->box = (fer_box){rects[i].x, rects[i].y, rects[i].w, rects[i].h};
        f->neighbors = rects[i].neighbors;
        memcpy(f->probs, a->probs + (size_t)i * K, (size_t)K * sizeof(float));
        for (int k = 1; k < K; k++)
            if (f->probs[k] > f->probs[f->top]) f->top = k;
    }
    *n_faces = n;
    return NN_OK;
}
