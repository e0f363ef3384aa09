/* augment.c: random flip, rotation, zoom and shift (contract in augment.h). */
#include "data/augment.h"

#include <math.h>

fer_augment_opts fer_augment_defaults(void)
{
    return (fer_augment_opts){.flip = 1, .max_deg = FER_AUGMENT_DEFAULT_DEG, .threads = 1};
}

nn_status fer_augment_check(const fer_augment_opts *opts, nn_error *err)
{
    if (!opts) return nn_fail(err, NN_ERR_ARG, "augmentation options: NULL");
    if (!(opts->max_deg >= 0.0f && opts->max_deg <= FER_AUGMENT_MAX_DEG))
        return nn_fail(err, NN_ERR_ARG, "augmentation: rotation %g degrees is not in 0..%g", (double)opts->max_deg,
                       (double)FER_AUGMENT_MAX_DEG);
    if (!(opts->max_shift >= 0.0f && opts->max_shift <= FER_AUGMENT_MAX_SHIFT))
        return nn_fail(err, NN_ERR_ARG, "augmentation: shift %g pixels is not in 0..%g",
                       (double)opts->max_shift, (double)FER_AUGMENT_MAX_SHIFT);
    if (!(opts->max_zoom >= 0.0f && opts->max_zoom <= FER_AUGMENT_MAX_ZOOM))
        return nn_fail(err, NN_ERR_ARG, "augmentation: zoom %g is not in 0..%g",
                       (double)opts->max_zoom, (double)FER_AUGMENT_MAX_ZOOM);
    if (opts->threads < 0 || opts->threads > FER_AUGMENT_MAX_THREADS)
        return nn_fail(err, NN_ERR_ARG, "augmentation: %d threads is not in 0..%d", opts->threads,
                       FER_AUGMENT_MAX_THREADS);
    return NN_OK;
}

void fer_augment_draw(const fer_augment_opts *opts, nn_rng *rng, fer_augment_params *out)
{
    out->flip = opts->flip ? (int)(nn_rng_u32(rng) >> 31) : 0;
    out->angle_deg = opts->max_deg > 0.0f ? nn_rng_range(rng, -opts->max_deg, opts->max_deg) : 0.0f;
    out->zoom = opts->max_zoom > 0.0f ? nn_rng_range(rng, -opts->max_zoom, opts->max_zoom) : 0.0f;
    out->shift_x = out->shift_y = 0.0f;
    if (opts->max_shift > 0.0f) {
        out->shift_x = nn_rng_range(rng, -opts->max_shift, opts->max_shift);
        out->shift_y = nn_rng_range(rng, -opts->max_shift, opts->max_shift);
    }
}

static inline float clampf(float v, float hi)
{
    return v < 0.0f ? 0.0f : v > hi ? hi : v;
}

/* The source is bytes (s8) or floats (s32), the other pointer NULL. Both
 * callers pass a constant NULL, so the compiler makes one branch-free copy
 * of the functions below per pixel type. */
static inline float pixel(const uint8_t *s8, const float *s32, size_t i)
{
    return s8 ? (float)s8[i] : s32[i];
}

/* Bilinear lookup with the coordinates clamped to the image: the same as
 * sampling the image extended by replicating its edge pixels. */
static inline float bilinear(const uint8_t *s8, const float *s32, int h, int w, float x, float y)
{
    x = clampf(x, (float)(w - 1));
    y = clampf(y, (float)(h - 1));
    int x0 = (int)x, y0 = (int)y;
    int x1 = x0 + 1 < w ? x0 + 1 : x0, y1 = y0 + 1 < h ? y0 + 1 : y0;
    float fx = x - (float)x0, fy = y - (float)y0;
    size_t r0 = (size_t)y0 * (size_t)w, r1 = (size_t)y1 * (size_t)w;
    float a = pixel(s8, s32, r0 + x0), b = pixel(s8, s32, r0 + x1);
    float c = pixel(s8, s32, r1 + x0), d = pixel(s8, s32, r1 + x1);
    float top = a + fx * (b - a), bottom = c + fx * (d - c);
    return top + fy * (bottom - top);
}

float fer_bilinear(const float *img, int h, int w, float x, float y)
{
    return bilinear(NULL, img, h, w, x, y);
}

/* Output pixel (x, y) takes the source at the inverse of
 * out = shift(zoom(rotate(mirror(src)))), all about the centre. */
static inline void warp(const uint8_t *s8, const float *s32, int h, int w, const fer_augment_params *p,
                        float *dst)
{
    if (p->angle_deg == 0.0f && p->zoom == 0.0f && p->shift_x == 0.0f && p->shift_y == 0.0f) {
        /* exact copy or mirror, no resampling */
        for (int y = 0; y < h; y++) {
            size_t row = (size_t)y * (size_t)w;
            for (int x = 0; x < w; x++)
                dst[row + x] = pixel(s8, s32, row + (size_t)(p->flip ? w - 1 - x : x));
        }
        return;
    }
    double rad = (double)p->angle_deg * (3.14159265358979323846 / 180.0);
    float cs = (float)cos(rad), sn = (float)sin(rad);
    float cx = 0.5f * (float)(w - 1), cy = 0.5f * (float)(h - 1);
    const float inv_scale = 1.0f / (1.0f + p->zoom);
    for (int y = 0; y < h; y++) {
        float dy = ((float)y - cy - p->shift_y) * inv_scale;
        float *out = dst + (size_t)y * (size_t)w;
        for (int x = 0; x < w; x++) {
            float dx = ((float)x - cx - p->shift_x) * inv_scale;
            float sx = cx + dx * cs - dy * sn;
            float sy = cy + dx * sn + dy * cs;
            if (p->flip) sx = (float)(w - 1) - sx;
            out[x] = bilinear(s8, s32, h, w, sx, sy);
        }
    }
}

void fer_augment_u8(const uint8_t *src, int h, int w, const fer_augment_params *p, float *dst)
{
    warp(src, NULL, h, w, p, dst);
}

void fer_augment_f32(const float *src, int h, int w, const fer_augment_params *p, float *dst)
{
    warp(NULL, src, h, w, p, dst);
}
