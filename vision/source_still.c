/* source_still.c: a PNG or JPEG file as a frame source (one frame, or the
 * same frame again and again). The file is decoded once at open. Grey is
 * cvtColor's luma of the decoded colour picture -- what OpenCV gives for
 * imread() followed by cvtColor(BGR2GRAY) -- so a photo and a camera frame
 * of it are treated alike. */
#include "vision/source_impl.h"

#include <stdlib.h>

#include "vision/image_io.h"

typedef struct {
    fer_image grey, rgb;
    int repeat;
    int done;
} still;

static nn_status still_read(void *impl, fer_frame *f, int want_rgb, int *end, nn_error *err)
{
    still *s = impl;
    if (s->done) {
        *end = 1;
        return NN_OK;
    }
    if (!s->repeat) s->done = 1;
    nn_status st = fer_image_copy(&f->grey, &s->grey, err);
    if (!st && want_rgb) st = fer_image_copy(&f->rgb, &s->rgb, err);
    return st;
}

static void still_close(void *impl)
{
    still *s = impl;
    if (!s) return;
    fer_image_free(&s->grey);
    fer_image_free(&s->rgb);
    free(s);
}

nn_status fer_source_open_still(const char *path, const fer_source_opts *o,
                                fer_source_backend *be, void **impl,
                                fer_source_info *info, nn_error *err)
{
    still *s = calloc(1, sizeof *s);
    if (!s) return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", path);
    s->repeat = o->still_repeat;
    fer_image pic = {0};
    nn_status st = fer_image_read(path, 0, &pic, err);
    if (!st) {
        if (pic.channels == 3) {
            st = fer_image_to_grey(&s->grey, &pic, err);
            s->rgb = pic; /* take ownership */
            pic = (fer_image){0};
        } else {
            if (o->want_rgb) st = fer_image_to_rgb(&s->rgb, &pic, err);
            s->grey = pic;
            pic = (fer_image){0};
        }
    }
    fer_image_free(&pic);
    if (st) {
        still_close(s);
        return st;
    }
    info->width = s->grey.width;
    info->height = s->grey.height;
    info->fps = 0;
    be->read = still_read;
    be->close = still_close;
    *impl = s;
    return NN_OK;
}
