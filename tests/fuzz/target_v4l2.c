/* One V4L2 driver buffer (vision/v4l2_convert.c). The first 8 bytes stand
 * for what the driver reported -- width, height (1..1023 each), pixel
 * format, bytesperline (a 16-bit value, 0 meaning "packed", optionally scaled
 * up or pushed next to SIZE_MAX/2 so that products wrap), quantization
 * -- and the rest is the buffer as it was filled. A driver can misreport,
 * so none of those may make the conversion read past the buffer. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tests/fuzz/targets.h"
#include "vision/v4l2.h"

int fer_fuzz_v4l2(const uint8_t *data, size_t n)
{
    if (n < 8) return 0;
    fer_v4l2_format_info f = {0};
    f.width = (data[0] | data[1] << 8) & 1023;
    f.height = (data[2] | data[3] << 8) & 1023;
    f.format = data[4] % 3 == 0 ? FER_V4L2_YUYV : data[4] % 3 == 1 ? FER_V4L2_MJPEG : FER_V4L2_AUTO;
    f.bytesperline = (size_t)(data[5] | data[6] << 8);
    if (data[7] & 0x80) f.bytesperline *= 4099; /* a wildly wrong driver value */
    if (data[7] & 0x40) f.bytesperline = SIZE_MAX / 2 + 1 + f.bytesperline; /* wraps when multiplied */
    f.range = data[7] & 1 ? FER_RANGE_FULL : FER_RANGE_LIMITED;
    /* An exact-size heap copy, so reading one byte past it is caught. */
    size_t len = n - 8;
    uint8_t *buf = malloc(len ? len : 1);
    if (!buf) return 0;
    memcpy(buf, data + 8, len);
    fer_image grey = {0}, rgb = {0};
    int rc = 0;
    for (int colour = 0; colour < 2 && !rc; colour++) {
        nn_error err = {0};
        nn_status st = fer_v4l2_convert(buf, len, &f, "fuzz-cam", &grey, colour ? &rgb : NULL, &err);
        if (st != NN_OK) {
            if (err.code != st || !err.msg[0])
                rc = fer_fuzz_violation("v4l2", "status %d without a message", st);
        } else if (grey.channels != 1 || (colour && rgb.channels != 3) ||
                   (colour && (rgb.width != grey.width || rgb.height != grey.height)) ||
                   (f.format == FER_V4L2_YUYV && (grey.width != f.width || grey.height != f.height))) {
            rc = fer_fuzz_violation("v4l2", "converted to the wrong shape");
        }
    }
    fer_image_free(&grey);
    fer_image_free(&rgb);
    free(buf);
    return rc;
}
