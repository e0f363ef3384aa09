/* test_vision_haar_fixture.h: reading tests/fixtures/haar/ (written by
 * scripts/opencv_haar_reference.py) for the Haar tests and benchmark.
 *
 * Header-only (static functions) because tests/ and bench/ files are each
 * their own program and nothing under tests/ is a library. Loads the grey
 * PGMs, rebuilds the composed frames from their recipe (checking each
 * image's CRC-32 against the fixture), and lists the OpenCV cases.
 */
#ifndef TESTS_HAAR_FIXTURE_H
#define TESTS_HAAR_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "vision/haar.h"
#include "vision/haar_resize.h"

#define HFX_DIR "tests/fixtures/haar"
#define HFX_CASCADES "/usr/share/opencv4/haarcascades"

enum { HFX_MAX_IMAGES = 16, HFX_MAX_CASES = 64, HFX_MAX_CASCADES = 16, HFX_MAX_CHECKS = 64 };

/* cv2.resize(pattern(sw, sh, seed, smooth), (dw, dh), INTER_LINEAR_EXACT) */
typedef struct {
    int sw, sh, seed, smooth, dw, dh;
    uint32_t crc;
} hfx_resize;

/* cv2.integral3(pattern(w, h, seed, 0)) as little-endian uint32 */
typedef struct {
    int w, h, seed;
    uint32_t crc_sum, crc_sq, crc_tilted;
} hfx_integral;

typedef struct {
    char name[64];
    int w, h;
    uint8_t *px;
    int composed;       /* a frame rebuilt from its recipe */
    uint32_t want_crc;  /* its CRC-32 in the fixture */
} hfx_image;

typedef struct {
    char image[64], cascade[128];
    haar_params p;
    int nfaces, nraw;
    haar_rect *faces, *raw;
} hfx_case;

typedef struct {
    char name[128];
    long bytes;
    uint32_t crc;
} hfx_cascade;

typedef struct {
    hfx_image images[HFX_MAX_IMAGES];
    int nimages;
    hfx_case cases[HFX_MAX_CASES];
    int ncases;
    hfx_cascade cascades[HFX_MAX_CASCADES];
    int ncascades;
    hfx_resize resizes[HFX_MAX_CHECKS];
    int nresizes;
    hfx_integral integrals[HFX_MAX_CHECKS];
    int nintegrals;
    char err[512];
} hfx;

static inline uint32_t hfx_crc(const uint8_t *p, size_t n)
{
    return (uint32_t)crc32(crc32(0L, Z_NULL, 0), p, (uInt)n);
}

/* The script's hash32(): a per-index hash. */
static inline uint32_t hfx_hash(uint32_t i, int seed)
{
    uint32_t x = i * 2654435761u + (uint32_t)seed * 97531u;
    x ^= x >> 15;
    x *= 2246822519u;
    x ^= x >> 13;
    return x;
}

/* The script's noise(): hashed per-pixel offsets in [-amp, amp]. */
static inline int hfx_noise(uint32_t i, int amp, int seed)
{
    return (int)(hfx_hash(i, seed) % (uint32_t)(2 * amp + 1)) - amp;
}

/* The script's pattern(): w x h bytes into px. */
static inline void hfx_pattern(uint8_t *px, int w, int h, int seed, int smooth)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint32_t i = (uint32_t)(y * w + x), v = hfx_hash(i, seed);
            px[i] = (uint8_t)(smooth ? (uint32_t)(x * 3 + y * 2) + (v & 15) : v);
        }
}

/* CRC-32 of n uint32 values laid out little-endian, as numpy's "<u4". */
static inline uint32_t hfx_crc_u32(const uint32_t *v, size_t n)
{
    uLong crc = crc32(0L, Z_NULL, 0);
    for (size_t i = 0; i < n; i++) {
        uint8_t b[4] = { (uint8_t)v[i], (uint8_t)(v[i] >> 8), (uint8_t)(v[i] >> 16), (uint8_t)(v[i] >> 24) };
        crc = crc32(crc, b, 4);
    }
    return (uint32_t)crc;
}

static inline int hfx_read_pgm(const char *path, hfx_image *im, char *err, size_t errlen)
{
    FILE *f = fopen(path, "rb");
    if (!f) return snprintf(err, errlen, "%s: cannot open", path), -1;
    int w, h, maxv;
    if (fscanf(f, "P5 %d %d %d", &w, &h, &maxv) != 3 || maxv != 255 || w <= 0 || h <= 0 ||
        fgetc(f) == EOF) {
        fclose(f);
        return snprintf(err, errlen, "%s: not an 8-bit P5 PGM", path), -1;
    }
    im->px = malloc((size_t)w * h);
    if (!im->px || fread(im->px, 1, (size_t)w * h, f) != (size_t)w * h) {
        fclose(f);
        return snprintf(err, errlen, "%s: short read", path), -1;
    }
    fclose(f);
    im->w = w;
    im->h = h;
    return 0;
}

static inline hfx_image *hfx_find(hfx *fx, const char *name)
{
    for (int i = 0; i < fx->nimages; i++)
        if (strcmp(fx->images[i].name, name) == 0) return &fx->images[i];
    return NULL;
}

/* Pastes src's (sx,sy,sw,sh) crop resized to size x size at (dx,dy). */
static inline int hfx_paste(hfx_image *dst, const hfx_image *src, int sx, int sy, int sw, int sh,
                     int dx, int dy, int size, int mirror)
{
    if (sx < 0 || sy < 0 || sx + sw > src->w || sy + sh > src->h || dx < 0 || dy < 0 ||
        dx + size > dst->w || dy + size > dst->h)
        return -1;
    uint8_t *face = malloc((size_t)size * size);
    void *scratch = malloc(haar_resize_scratch_size(size, size));
    if (!face || !scratch) return free(face), free(scratch), -1;
    haar_resize(src->px + (size_t)sy * src->w + sx, sw, sh, src->w, face, size, size, size, scratch);
    for (int y = 0; y < size; y++)
        for (int x = 0; x < size; x++)
            dst->px[(size_t)(dy + y) * dst->w + dx + x] =
                face[(size_t)y * size + (mirror ? size - 1 - x : x)];
    free(face);
    free(scratch);
    return 0;
}

static inline haar_rect *hfx_rects(char **save, int *n)
{
    char *tok = strtok_r(NULL, " \n", save);
    *n = tok ? atoi(tok) : -1;
    if (*n < 0) return NULL;
    haar_rect *r = calloc((size_t)(*n ? *n : 1), sizeof *r);
    for (int i = 0; r && i < *n; i++) {
        int v[4];
        for (int k = 0; k < 4; k++) {
            tok = strtok_r(NULL, " \n", save);
            if (!tok) return free(r), *n = -1, NULL;
            v[k] = atoi(tok);
        }
        r[i] = (haar_rect){ v[0], v[1], v[2], v[3], 0 };
    }
    return r;
}

static inline void hfx_free(hfx *fx)
{
    for (int i = 0; i < fx->nimages; i++) free(fx->images[i].px);
    for (int i = 0; i < fx->ncases; i++) {
        free(fx->cases[i].faces);
        free(fx->cases[i].raw);
    }
    memset(fx, 0, sizeof *fx);
}

/* Loads the whole fixture; returns 0, or -1 with fx->err set. */
static inline int hfx_load(hfx *fx)
{
    memset(fx, 0, sizeof *fx);
    const char *path = HFX_DIR "/opencv_reference.txt";
    FILE *f = fopen(path, "r");
    if (!f) return snprintf(fx->err, sizeof fx->err, "%s: cannot open", path), -1;
    static char line[65536];
    int lineno = 0;
    hfx_case *cur = NULL;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        char *save, *kw = strtok_r(line, " \n", &save);
        if (!kw || kw[0] == '#') continue;
        char a[128], b[128];
        int ok = 1;
        if (strcmp(kw, "image") == 0) {
            unsigned crc;
            char *rest = strtok_r(NULL, "\n", &save);
            if (fx->nimages == HFX_MAX_IMAGES || !rest || sscanf(rest, "%63s %127s %x", a, b, &crc) != 3) {
                ok = 0;
            } else {
                hfx_image *im = &fx->images[fx->nimages];
                char p[300];
                snprintf(im->name, sizeof im->name, "%s", a);
                snprintf(p, sizeof p, HFX_DIR "/%s", b);
                if (hfx_read_pgm(p, im, fx->err, sizeof fx->err)) return fclose(f), -1;
                fx->nimages++;
                if (hfx_crc(im->px, (size_t)im->w * im->h) != crc)
                    return fclose(f), snprintf(fx->err, sizeof fx->err, "%s: CRC differs from the fixture", p), -1;
            }
        } else if (strcmp(kw, "frame") == 0) {
            int w, h, amp, seed;
            unsigned crc;
            char *rest = strtok_r(NULL, "\n", &save);
            hfx_image *bg;
            if (fx->nimages == HFX_MAX_IMAGES || !rest ||
                sscanf(rest, "%63s %d %d %127s %d %d %x", a, &w, &h, b, &amp, &seed, &crc) != 7 ||
                !(bg = hfx_find(fx, b))) {
                ok = 0;
            } else {
                hfx_image *im = &fx->images[fx->nimages++];
                snprintf(im->name, sizeof im->name, "%s", a);
                im->w = w;
                im->h = h;
                im->px = malloc((size_t)w * h);
                void *scratch = malloc(haar_resize_scratch_size(w, h));
                if (!im->px || !scratch) return free(scratch), fclose(f), snprintf(fx->err, sizeof fx->err, "out of memory"), -1;
                haar_resize(bg->px, bg->w, bg->h, bg->w, im->px, w, h, w, scratch);
                free(scratch);
                for (int i = 0; i < w * h; i++) {
                    int v = im->px[i] + hfx_noise((uint32_t)i, amp, seed);
                    im->px[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                }
                /* Pastes follow; the CRC is checked once the file is read. */
                im->composed = 1;
                im->want_crc = crc;
            }
        } else if (strcmp(kw, "paste") == 0) {
            int v[8];
            char *rest = strtok_r(NULL, "\n", &save);
            hfx_image *dst, *src;
            if (!rest || sscanf(rest, "%63s %127s %d %d %d %d %d %d %d %d", a, b, &v[0], &v[1], &v[2],
                                &v[3], &v[4], &v[5], &v[6], &v[7]) != 10 ||
                !(dst = hfx_find(fx, a)) || !(src = hfx_find(fx, b)) ||
                hfx_paste(dst, src, v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]))
                ok = 0;
        } else if (strcmp(kw, "cascade") == 0) {
            char *rest = strtok_r(NULL, "\n", &save);
            hfx_cascade *c = &fx->cascades[fx->ncascades];
            unsigned crc;
            if (fx->ncascades == HFX_MAX_CASCADES || !rest ||
                sscanf(rest, "%127s %ld %x", c->name, &c->bytes, &crc) != 3)
                ok = 0;
            else {
                c->crc = crc;
                fx->ncascades++;
            }
        } else if (strcmp(kw, "resize") == 0) {
            char *rest = strtok_r(NULL, "\n", &save);
            hfx_resize *r = &fx->resizes[fx->nresizes];
            unsigned crc;
            if (fx->nresizes == HFX_MAX_CHECKS || !rest ||
                sscanf(rest, "%d %d %d %d %d %d %x", &r->sw, &r->sh, &r->seed, &r->smooth, &r->dw,
                       &r->dh, &crc) != 7)
                ok = 0;
            else {
                r->crc = crc;
                fx->nresizes++;
            }
        } else if (strcmp(kw, "integral") == 0) {
            char *rest = strtok_r(NULL, "\n", &save);
            hfx_integral *r = &fx->integrals[fx->nintegrals];
            unsigned a1, a2, a3;
            if (fx->nintegrals == HFX_MAX_CHECKS || !rest ||
                sscanf(rest, "%d %d %d %x %x %x", &r->w, &r->h, &r->seed, &a1, &a2, &a3) != 6)
                ok = 0;
            else {
                r->crc_sum = a1;
                r->crc_sq = a2;
                r->crc_tilted = a3;
                fx->nintegrals++;
            }
        } else if (strcmp(kw, "case") == 0) {
            char *rest = strtok_r(NULL, "\n", &save);
            if (fx->ncases == HFX_MAX_CASES || !rest) {
                ok = 0;
            } else {
                cur = &fx->cases[fx->ncases++];
                haar_params *p = &cur->p;
                if (sscanf(rest, "%63s %127s %lf %d %d %d %d %d", cur->image, cur->cascade,
                           &p->scale_factor, &p->min_neighbors, &p->min_w, &p->min_h, &p->max_w,
                           &p->max_h) != 8 || !hfx_find(fx, cur->image))
                    ok = 0;
            }
        } else if (strcmp(kw, "faces") == 0 && cur) {
            cur->faces = hfx_rects(&save, &cur->nfaces);
            ok = cur->faces != NULL;
        } else if (strcmp(kw, "raw") == 0 && cur) {
            cur->raw = hfx_rects(&save, &cur->nraw);
            ok = cur->raw != NULL;
        } else {
            ok = 0;
        }
        if (!ok) {
            fclose(f);
            return snprintf(fx->err, sizeof fx->err, "%s:%d: bad line", path, lineno), -1;
        }
    }
    fclose(f);
    /* Every composed frame must equal the one OpenCV saw. */
    for (int i = 0; i < fx->nimages; i++) {
        hfx_image *im = &fx->images[i];
        if (im->composed && hfx_crc(im->px, (size_t)im->w * im->h) != im->want_crc)
            return snprintf(fx->err, sizeof fx->err, "frame %s: rebuilt frame's CRC differs from the fixture", im->name), -1;
    }
    return 0;
}

#endif
