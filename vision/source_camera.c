/* source_camera.c: a V4L2 webcam as a frame source. */
#include "vision/source_impl.h"

#include "vision/v4l2.h"

static nn_status cam_read(void *impl, fer_frame *f, int want_rgb, int *end, nn_error *err)
{
    *end = 0; /* a camera has no end; unplugging it is an error */
    return fer_v4l2_read(impl, &f->grey, want_rgb ? &f->rgb : NULL, err);
}

static void cam_close(void *impl) { fer_v4l2_close(impl); }

nn_status fer_source_open_camera(const char *device, const fer_source_opts *o,
                                 fer_source_backend *be, void **impl,
                                 fer_source_info *info, nn_error *err)
{
    fer_v4l2 *cam;
    nn_status st = fer_v4l2_open(&cam, device, &o->camera, err);
    if (st) return st;
    const fer_v4l2_format_info *fi = fer_v4l2_get_format(cam);
    info->width = fi->width;
    info->height = fi->height;
    info->fps = fi->fps_den > 0 ? (double)fi->fps_num / fi->fps_den : 0;
    be->read = cam_read;
    be->close = cam_close;
    *impl = cam;
    return NN_OK;
}
