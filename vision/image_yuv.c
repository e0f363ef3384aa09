#include "vision/image_yuv.h"

#include "vision/image.h"

/* BT.601 coefficients times 2^16. Limited range: Y' scale 255/219, chroma
 * scale 255/224 folded into the matrix; full range: the JFIF matrix. */
typedef struct { int y, rv, gu, gv, bu, yoff; } yuv_coef;

static const yuv_coef LIMITED = {76309, 104597, 25675, 53279, 132201, 16};
static const yuv_coef FULL = {65536, 91881, 22554, 46802, 116130, 0};

static inline uint8_t clamp8(int v)
{
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

/* (v + 0.5) >> 16 on a possibly negative v; gcc's >> is arithmetic. */
static inline int fix(int v) { return (v + 32768) >> 16; }

static inline void yuv_px(const yuv_coef *c, int y, int u, int v, uint8_t *rgb)
{
    int ys = c->y * (y - c->yoff);
    u -= 128;
    v -= 128;
    rgb[0] = clamp8(fix(ys + c->rv * v));
    rgb[1] = clamp8(fix(ys - c->gu * u - c->gv * v));
    rgb[2] = clamp8(fix(ys + c->bu * u));
}

void fer_luma_to_grey_row(const uint8_t *y, uint8_t *grey, int n, fer_yuv_range r)
{
    if (r == FER_RANGE_FULL) {
        for (int i = 0; i < n; i++) grey[i] = y[i];
        return;
    }
    for (int i = 0; i < n; i++) grey[i] = clamp8(fix(LIMITED.y * (y[i] - 16)));
}

void fer_yuv_to_rgb_row(const uint8_t *y, const uint8_t *u, const uint8_t *v,
                        int xshift, int n, fer_yuv_range r, uint8_t *rgb)
{
    const yuv_coef *c = r == FER_RANGE_FULL ? &FULL : &LIMITED;
    for (int x = 0; x < n; x++, rgb += 3) {
        int cu = u && v ? u[x >> xshift] : 128, cv = u && v ? v[x >> xshift] : 128;
        yuv_px(c, y[x], cu, cv, rgb);
    }
}

void fer_yuyv_to_grey_row(const uint8_t *p, int n, fer_yuv_range r, uint8_t *grey)
{
    const int range_full = r == FER_RANGE_FULL;
    for (int x = 0; x < n; x++) {
        int yv = p[2 * x]; /* Y0 at byte 0 of a pair, Y1 at byte 2 */
        grey[x] = range_full ? (uint8_t)yv : clamp8(fix(LIMITED.y * (yv - 16)));
    }
}

void fer_yuyv_to_rgb_row(const uint8_t *p, int n, fer_yuv_range r, uint8_t *rgb)
{
    const yuv_coef *c = r == FER_RANGE_FULL ? &FULL : &LIMITED;
    for (int x = 0; x < n; x++, rgb += 3) {
        const uint8_t *pair = p + 4 * (x >> 1);
        yuv_px(c, p[2 * x], pair[1], pair[3], rgb);
    }
}

void fer_rgb_to_ycbcr(const uint8_t rgb[3], uint8_t *y, uint8_t *cb, uint8_t *cr)
{
    int R = rgb[0], G = rgb[1], B = rgb[2];
    fer_rgb_to_grey_row(rgb, y, 1);
    /* JFIF: Cb = 128 - 0.168736 R - 0.331264 G + 0.5 B,
     *       Cr = 128 + 0.5 R - 0.418688 G - 0.081312 B (times 2^16). */
    *cb = clamp8(128 + fix(-11058 * R - 21710 * G + 32768 * B));
    *cr = clamp8(128 + fix(32768 * R - 27439 * G - 5329 * B));
}
