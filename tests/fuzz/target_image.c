/* Still images (vision/image_png.c, image_jpeg.c, image_exif.c) through
 * fer_image_decode, in the three layouts a caller can ask for. Whatever
 * happens, the image stays valid and freeable (the header's promise), and
 * a decoded image has the layout asked for. */
#include <string.h>

#include "tests/fuzz/targets.h"
#include "vision/image_io.h"

int fer_fuzz_image(const uint8_t *data, size_t n)
{
    static const int layouts[3] = {0, 1, 3};
    fer_image im = {0}; /* reused across decodes, as a frame loop would */
    int rc = 0;
    for (int k = 0; k < 3 && !rc; k++) {
        nn_error err = {0};
        nn_status st = fer_image_decode(data, n, "fuzz", layouts[k], &im, &err);
        if (st != NN_OK) {
            if (err.code != st || !err.msg[0])
                rc = fer_fuzz_violation("image", "status %d without a message", st);
            continue;
        }
        int want = layouts[k];
        if (im.width < 1 || im.height < 1 || im.width > FER_IMAGE_MAX_SIDE ||
            im.height > FER_IMAGE_MAX_SIDE || (im.channels != 1 && im.channels != 3) ||
            (want && im.channels != want) || im.stride < (size_t)im.width * im.channels ||
            im.capacity < im.stride * (size_t)im.height)
            rc = fer_fuzz_violation("image", "channels=%d: decoded %dx%dx%d stride %zu cap %zu",
                                    want, im.width, im.height, im.channels, im.stride,
                                    im.capacity);
        else {
            volatile unsigned sum = 0; /* every pixel must be addressable */
            for (int y = 0; y < im.height; y++) {
                const uint8_t *row = fer_image_row(&im, y);
                for (size_t x = 0; x < (size_t)im.width * im.channels; x++) sum += row[x];
            }
            (void)sum;
        }
    }
    fer_image_free(&im);
    return rc;
}
