#include "export/predict.h"

#include <stdlib.h>

#include "data/batch.h"

void fer_mirror_images(float *img, int n, int h, int w)
{
    for (int i = 0; i < n; i++)
        for (int y = 0; y < h; y++) {
            float *row = img + ((size_t)i * h + y) * w;
            for (int x = 0; x < w / 2; x++) {
                float t = row[x];
                row[x] = row[w - 1 - x];
                row[w - 1 - x] = t;
            }
        }
}

nn_status fer_predict_rows(nn_model *net, const fer_standardizer *norm, const fer_dataset *ds,
                           const uint32_t *idx, uint32_t n, int tta, float *probs, nn_error *err)
{
    if (!net || !norm || !ds || (n && (!idx || !probs)))
        return nn_fail(err, NN_ERR_ARG, "predict: NULL argument");
    if (ds->h != net->arch.in_h || ds->w != net->arch.in_w || net->arch.in_c != 1)
        return nn_fail(err, NN_ERR_SHAPE, "images are %dx%d, the model expects %dx%dx%d", ds->h,
                       ds->w, net->arch.in_h, net->arch.in_w, net->arch.in_c);
    const int B = nn_graph_max_batch(net->graph), K = net->n_classes;
    const size_t px = (size_t)ds->h * ds->w;
    float *images = malloc((size_t)B * px * sizeof *images);
    float *mirrored = tta ? malloc((size_t)B * K * sizeof *mirrored) : NULL;
    if (!images || (tta && !mirrored)) {
        free(images);
        free(mirrored);
        return nn_fail(err, NN_ERR_NOMEM, "predict: out of memory");
    }
    nn_status st = NN_OK;
    for (uint32_t i0 = 0; i0 < n && !st; i0 += (uint32_t)B) {
        int nb = (int)(n - i0 < (uint32_t)B ? n - i0 : (uint32_t)B);
        float *out = probs + (size_t)i0 * K;
        st = fer_batch_fill(ds, idx + i0, nb, norm, NULL, NULL, images, NULL, err);
        if (!st) st = nn_model_predict(net, images, nb, out, err);
        if (!st && tta) {
            fer_mirror_images(images, nb, ds->h, ds->w);
            st = nn_model_predict(net, images, nb, mirrored, err);
            for (size_t j = 0; !st && j < (size_t)nb * K; j++) out[j] = 0.5f * (out[j] + mirrored[j]);
        }
    }
    free(images);
    free(mirrored);
    return st;
}
