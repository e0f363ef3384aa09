#include "vision/image_exif.h"

#include <string.h>

static unsigned rd16(const uint8_t *p, int be)
{
    return be ? (unsigned)p[0] << 8 | p[1] : (unsigned)p[1] << 8 | p[0];
}

static uint32_t rd32(const uint8_t *p, int be)
{
    return be ? (uint32_t)rd16(p, 1) << 16 | rd16(p + 2, 1)
              : (uint32_t)rd16(p + 2, 0) << 16 | rd16(p, 0);
}

int fer_exif_orientation(const uint8_t *app1, size_t n)
{
    if (!app1 || n < 6 + 8 || memcmp(app1, "Exif\0\0", 6) != 0) return 1;
    const uint8_t *t = app1 + 6; /* TIFF header; offsets count from here */
    size_t tn = n - 6;
    int be;
    if (memcmp(t, "II*\0", 4) == 0) be = 0;
    else if (memcmp(t, "MM\0*", 4) == 0) be = 1;
    else return 1;
    uint32_t ifd = rd32(t + 4, be);
    if (ifd > tn || tn - ifd < 2) return 1;
    unsigned count = rd16(t + ifd, be);
    for (unsigned i = 0; i < count; i++) {
        size_t e = (size_t)ifd + 2 + 12 * (size_t)i;
        if (e + 12 > tn) return 1;
        /* tag 0x0112, type SHORT (3), one value stored in the entry itself */
        if (rd16(t + e, be) == 0x0112 && rd16(t + e + 2, be) == 3) {
            unsigned o = rd16(t + e + 8, be);
            return o >= 1 && o <= 8 ? (int)o : 1;
        }
    }
    return 1;
}

nn_status fer_image_orient(fer_image *im, int o, nn_error *err)
{
    if (!im || !im->data) return nn_fail(err, NN_ERR_ARG, "fer_image_orient: empty image");
    if (o < 2 || o > 8) return NN_OK;
    int W = im->width, H = im->height, c = im->channels;
    int swap = o >= 5;
    fer_image out = {0};
    nn_status st = fer_image_reserve(&out, swap ? H : W, swap ? W : H, c, err);
    if (st) return st;
    for (int y = 0; y < out.height; y++) {
        uint8_t *d = fer_image_row(&out, y);
        for (int x = 0; x < out.width; x++, d += c) {
            int sx, sy;
            switch (o) {
            case 2: sx = W - 1 - x; sy = y; break;
            case 3: sx = W - 1 - x; sy = H - 1 - y; break;
            case 4: sx = x; sy = H - 1 - y; break;
            case 5: sx = y; sy = x; break;
            case 6: sx = y; sy = H - 1 - x; break;
            case 7: sx = W - 1 - y; sy = H - 1 - x; break;
            default: sx = W - 1 - y; sy = x; break; /* 8 */
            }
            memcpy(d, fer_image_row(im, sy) + (size_t)sx * c, (size_t)c);
        }
    }
    fer_image_free(im);
    *im = out;
    return NN_OK;
}
