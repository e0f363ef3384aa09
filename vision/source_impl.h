/* source_impl.h: what a frame-source backend provides to source.c.
 * Private to vision/source*.c; users include vision/source.h. */
#ifndef FER_VISION_SOURCE_IMPL_H
#define FER_VISION_SOURCE_IMPL_H

#include "vision/source.h"

typedef struct {
    /* Fills grey (and rgb when want_rgb) with the next frame, or sets
     * *end. Index, time and pacing are handled by source.c. */
    nn_status (*read)(void *impl, fer_frame *f, int want_rgb, int *end, nn_error *err);
    void (*close)(void *impl);
} fer_source_backend;

/* Each opener fills *be, *impl and the size/fps fields of *info. */
nn_status fer_source_open_still(const char *path, const fer_source_opts *o,
                                fer_source_backend *be, void **impl,
                                fer_source_info *info, nn_error *err);
nn_status fer_source_open_y4m(const char *path, const fer_source_opts *o,
                              fer_source_backend *be, void **impl,
                              fer_source_info *info, nn_error *err);
nn_status fer_source_open_camera(const char *device, const fer_source_opts *o,
                                 fer_source_backend *be, void **impl,
                                 fer_source_info *info, nn_error *err);

#endif
