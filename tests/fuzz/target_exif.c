/* EXIF orientation (vision/image_exif.c): an APP1 payload straight from a
 * JPEG file, and the rotation it selects applied to a small image. */
#include "tests/fuzz/targets.h"
#include "vision/image_exif.h"

int fer_fuzz_exif(const uint8_t *data, size_t n)
{
    int o = fer_exif_orientation(data, n);
    if (o < 1 || o > 8) return fer_fuzz_violation("exif", "orientation %d", o);
    fer_image im = {0};
    nn_error err = {0};
    int rc = 0;
    if (fer_image_reserve(&im, 5, 3, 3, &err) == NN_OK) {
        for (size_t i = 0; i < im.stride * 3; i++) im.data[i] = (uint8_t)i;
        if (fer_image_orient(&im, o, &err) == NN_OK) {
            int w = o >= 5 ? 3 : 5, h = o >= 5 ? 5 : 3;
            if (im.width != w || im.height != h || im.channels != 3)
                rc = fer_fuzz_violation("exif", "orientation %d gave %dx%d", o, im.width, im.height);
        }
    }
    fer_image_free(&im);
    return rc;
}
