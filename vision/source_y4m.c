/* source_y4m.c: a YUV4MPEG2 file or standard input as a frame source. */
#include "vision/source_impl.h"

#include "vision/y4m.h"

static nn_status y4m_read(void *impl, fer_frame *f, int want_rgb, int *end, nn_error *err)
{
    return fer_y4m_read(impl, &f->grey, want_rgb ? &f->rgb : NULL, end, err);
}

static void y4m_close(void *impl) { fer_y4m_close(impl); }

nn_status fer_source_open_y4m(const char *path, const fer_source_opts *o,
                              fer_source_backend *be, void **impl,
                              fer_source_info *info, nn_error *err)
{
    (void)o;
    fer_y4m_reader *r;
    nn_status st = fer_y4m_open(&r, path, err);
    if (st) return st;
    const fer_y4m_info *in = fer_y4m_get_info(r);
    info->width = in->width;
    info->height = in->height;
    info->fps = in->fps_den > 0 ? (double)in->fps_num / in->fps_den : 0;
    be->read = y4m_read;
    be->close = y4m_close;
    *impl = r;
    return NN_OK;
}
