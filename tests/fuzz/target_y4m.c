/* YUV4MPEG2 streams (vision/y4m.c) from a memory stream, as from a pipe:
 * header, then frames until the end, an error or 8 frames; grey and colour. */
#include <stdio.h>

#include "tests/fuzz/targets.h"
#include "vision/y4m.h"

int fer_fuzz_y4m(const uint8_t *data, size_t n)
{
    if (n == 0) return 0; /* fmemopen refuses a zero-size buffer */
    FILE *fp = fmemopen((void *)data, n, "rb");
    if (!fp) return 0;
    fer_y4m_reader *r = NULL;
    nn_error err = {0};
    int rc = 0;
    nn_status st = fer_y4m_open_file(&r, fp, "fuzz.y4m", &err);
    if (st != NN_OK) {
        if (err.code != st || !err.msg[0] || r)
            rc = fer_fuzz_violation("y4m", "open: status %d, message '%s'", st, err.msg);
        fclose(fp);
        return rc;
    }
    const fer_y4m_info *in = fer_y4m_get_info(r);
    if (in->width < 1 || in->height < 1 || in->width > FER_IMAGE_MAX_SIDE ||
        in->height > FER_IMAGE_MAX_SIDE || in->frame_bytes < (size_t)in->width * in->height)
        rc = fer_fuzz_violation("y4m", "header %dx%d, %zu bytes a frame", in->width, in->height,
                                in->frame_bytes);
    fer_image grey = {0}, rgb = {0};
    for (int f = 0; f < 8 && !rc; f++) {
        int eof = 0;
        st = fer_y4m_read(r, &grey, f % 2 ? NULL : &rgb, &eof, &err);
        if (st != NN_OK) {
            if (err.code != st || !err.msg[0])
                rc = fer_fuzz_violation("y4m", "read: status %d without a message", st);
            break;
        }
        if (eof) break;
        if (grey.width != in->width || grey.height != in->height || grey.channels != 1 ||
            (f % 2 == 0 && (rgb.width != in->width || rgb.channels != 3)))
            rc = fer_fuzz_violation("y4m", "frame %d has the wrong shape", f);
        if (fer_y4m_frames_read(r) != f + 1)
            rc = fer_fuzz_violation("y4m", "frame count %ld after %d frames",
                                    fer_y4m_frames_read(r), f + 1);
    }
    fer_image_free(&grey);
    fer_image_free(&rgb);
    fer_y4m_close(r);
    fclose(fp);
    return rc;
}
