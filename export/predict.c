#include "export/predict.h"

#include <stdlib.h>
#include <string.h>

#include "data/augment.h"
#include "data/batch.h"

int fer_tta_parse(const char *name)
{
    if (!name || !strcmp(name, "mirror")) return FER_TTA_MIRROR;
    if (!strcmp(name, "shifts")) return FER_TTA_SHIFTS;
    if (!strcmp(name, "none")) return FER_TTA_NONE;
    return -1;
}

int fer_tta_views(fer_tta tta)
{
    switch (tta) {
    case FER_TTA_NONE: return 1;
    case FER_TTA_MIRROR: return 2;
    case FER_TTA_SHIFTS: return 10;
    }
    return 0;
}

const char *fer_tta_name(fer_tta tta)
{
    switch (tta) {
    case FER_TTA_NONE: return "none";
    case FER_TTA_MIRROR: return "mirror";
    case FER_TTA_SHIFTS: return "mirror+shifts";
    }
    return "?";
}

/* View v of a mode: views 0 and 1 are the image and its mirror, then
 * mirror or not (v odd) with shifts right, left, down, up. */
static fer_augment_params tta_view(int v)
{
    static const float dx[5] = {0, 1, -1, 0, 0}, dy[5] = {0, 0, 0, 1, -1};
    return (fer_augment_params){.flip = v % 2,
                                .shift_x = FER_TTA_SHIFT_PX * dx[v / 2],
                                .shift_y = FER_TTA_SHIFT_PX * dy[v / 2]};
}

nn_status fer_predict_rows(nn_model *net, const fer_standardizer *norm, const fer_dataset *ds,
                           const uint32_t *idx, uint32_t n, fer_tta tta, float *probs, nn_error *err)
{
    if (!net || !norm || !ds || (n && (!idx || !probs)))
        return nn_fail(err, NN_ERR_ARG, "predict: NULL argument");
    const int views = fer_tta_views(tta);
    if (!views) return nn_fail(err, NN_ERR_ARG, "predict: unknown test-time augmentation %d", (int)tta);
    if (ds->h != net->arch.in_h || ds->w != net->arch.in_w || net->arch.in_c != 1)
        return nn_fail(err, NN_ERR_SHAPE, "images are %dx%d, the model expects %dx%dx%d", ds->h,
                       ds->w, net->arch.in_h, net->arch.in_w, net->arch.in_c);
    if (norm->h != ds->h || norm->w != ds->w)
        return nn_fail(err, NN_ERR_SHAPE, "standardiser is %dx%d, images are %dx%d", norm->h,
                       norm->w, ds->h, ds->w);
    const int B = nn_graph_max_batch(net->graph), K = net->n_classes;
    const size_t px = (size_t)ds->h * ds->w;
    float *images = malloc((size_t)B * px * sizeof *images);
    float *view_probs = views > 1 ? malloc((size_t)B * K * sizeof *view_probs) : NULL;
    if (!images || (views > 1 && !view_probs)) {
        free(images);
        free(view_probs);
        return nn_fail(err, NN_ERR_NOMEM, "predict: out of memory");
    }
    nn_status st = NN_OK;
    for (uint32_t i0 = 0; i0 < n && !st; i0 += (uint32_t)B) {
        int nb = (int)(n - i0 < (uint32_t)B ? n - i0 : (uint32_t)B);
        float *out = probs + (size_t)i0 * K;
        st = fer_batch_fill(ds, idx + i0, nb, norm, NULL, NULL, images, NULL, err);
        if (!st) st = nn_model_predict(net, images, nb, out, err);
        for (int v = 1; v < views && !st; v++) {
            const fer_augment_params view = tta_view(v);
            for (int i = 0; i < nb; i++) { /* move the raw image, then standardise */
                float *img = images + (size_t)i * px;
                fer_augment_u8(fer_dataset_image(ds, (int)idx[i0 + i]), ds->h, ds->w, &view, img);
                fer_standardize_f32(norm, img);
            }
            st = nn_model_predict(net, images, nb, view_probs, err);
            for (size_t j = 0; !st && j < (size_t)nb * K; j++) out[j] += view_probs[j];
        }
        if (views > 1)
            for (size_t j = 0; j < (size_t)nb * K; j++) out[j] /= (float)views;
    }
    free(images);
    free(view_probs);
    return st;
}
