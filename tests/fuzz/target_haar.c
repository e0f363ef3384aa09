/* Haar cascade XML (vision/haar_cascade.c). A cascade the loader accepts
 * must be safe to run: the detector is run on a small image, which reads
 * every rectangle, node and leaf the cascade names (ASan catches any index
 * the loader should have refused). */
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/targets.h"
#include "vision/haar.h"
#include "vision/haar_cascade.h"

int fer_fuzz_haar(const uint8_t *data, size_t n)
{
    char path[64];
    int fd = fer_fuzz_memfile(data, n, path);
    if (fd < 0) return -1;
    nn_error err = {0};
    haar_cascade *c = haar_cascade_load(path, &err);
    fer_fuzz_memfile_close(fd);
    if (!c) {
        if (err.code == NN_OK || !err.msg[0])
            return fer_fuzz_violation("haar", "NULL cascade without an error");
        return 0;
    }
    int rc = 0;
    if (c->win_w < 1 || c->win_h < 1 || c->nstages < 1 || c->nfeatures < 1)
        rc = fer_fuzz_violation("haar", "accepted an empty cascade");
    for (int s = 0; !rc && s < c->nstages; s++) {
        const haar_stage *st = &c->stages[s];
        if (st->ntrees < 1 || st->first_tree < 0 || st->first_tree + st->ntrees > c->ntrees)
            rc = fer_fuzz_violation("haar", "stage %d trees out of range", s);
    }
    if (!rc) {
        /* An image a little larger than the window, with texture, scanned
         * at every scale that fits. */
        int w = c->win_w + 7, h = c->win_h + 5;
        uint8_t *img = malloc((size_t)w * h);
        haar_workspace *ws = haar_workspace_new(c, &err);
        if (img && ws) {
            for (int i = 0; i < w * h; i++) img[i] = (uint8_t)(i * 37 + (i / w) * 11);
            haar_params p = haar_params_default();
            p.scale_factor = 1.1;
            p.min_neighbors = 0;
            haar_rect out[16];
            int nout = 0;
            nn_status st = haar_detect(c, ws, img, w, h, w, &p, out, 16, &nout, &err);
            if (st == NN_OK && (nout < 0 || nout > 16))
                rc = fer_fuzz_violation("haar", "%d detections", nout);
            for (int i = 0; !rc && st == NN_OK && i < nout; i++)
                if (out[i].w <= 0 || out[i].h <= 0)
                    rc = fer_fuzz_violation("haar", "empty detection");
        }
        haar_workspace_free(ws);
        free(img);
    }
    haar_cascade_free(c);
    return rc;
}
