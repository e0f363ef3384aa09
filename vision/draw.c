#include "vision/draw.h"

#include <gd.h>
#include <gdfontg.h>
#include <gdfonts.h>
#include <gdfontt.h>
#include <string.h>

fer_colour fer_draw_class_colour(int k)
{
    static const fer_colour palette[7] = {
        {230, 25, 25},   /* angry: red */
        {60, 180, 75},   /* disgust: green */
        {145, 30, 180},  /* fear: purple */
        {255, 225, 25},  /* happy: yellow */
        {0, 130, 200},   /* sad: blue */
        {245, 130, 48},  /* surprise: orange */
        {200, 200, 200}, /* neutral: light grey */
    };
    return palette[((k % 7) + 7) % 7];
}

static gdFontPtr pick_font(int height)
{
    if (height < 120) return gdFontGetTiny();
    if (height < 300) return gdFontGetSmall();
    return gdFontGetGiant();
}

static void draw_one(gdImagePtr g, const fer_annotation *a, gdFontPtr font, int auto_t)
{
    fer_box b = a->box;
    if (b.w <= 0 || b.h <= 0) return;
    int col = gdTrueColor(a->colour.r, a->colour.g, a->colour.b);
    int t = a->thickness > 0 ? a->thickness : auto_t;
    /* Nested 1-px rectangles give square corners at any thickness. */
    for (int i = 0; i < t && 2 * i < b.w && 2 * i < b.h; i++)
        gdImageRectangle(g, b.x + i, b.y + i, b.x + b.w - 1 - i, b.y + b.h - 1 - i, col);
    if (!a->label || !a->label[0]) return;

    int pad = 2;
    int tw = (int)strlen(a->label) * font->w + 2 * pad, th = font->h + 2 * pad;
    /* above the box, or inside its top when there is no room above */
    int ty = b.y - th >= 0 ? b.y - th : b.y > 0 ? b.y : 0;
    if (ty + th > gdImageSY(g)) ty = gdImageSY(g) - th;
    int tx = b.x;
    if (tx + tw > gdImageSX(g)) tx = gdImageSX(g) - tw; /* keep the text in frame */
    if (tx < 0) tx = 0;
    gdImageFilledRectangle(g, tx, ty, tx + tw - 1, ty + th - 1, col);
    /* BT.601 luma of the strip decides the ink. */
    int luma = (299 * a->colour.r + 587 * a->colour.g + 114 * a->colour.b) / 1000;
    int ink = luma > 140 ? gdTrueColor(0, 0, 0) : gdTrueColor(255, 255, 255);
    gdImageString(g, font, tx + pad, ty + pad, (unsigned char *)a->label, ink);
}

nn_status fer_draw_annotations(fer_image *rgb, const fer_annotation *a, int n, nn_error *err)
{
    if (!rgb || !rgb->data || (n > 0 && !a))
        return nn_fail(err, NN_ERR_ARG, "draw: NULL frame or annotations");
    if (rgb->channels != 3)
        return nn_fail(err, NN_ERR_ARG, "draw: frame has %d channels, want RGB (3)",
                       rgb->channels);
    if (n <= 0) return NN_OK;
    int W = rgb->width, H = rgb->height;
    gdImagePtr g = gdImageCreateTrueColor(W, H);
    if (!g) return nn_fail(err, NN_ERR_NOMEM, "draw: cannot create a %dx%d gd image", W, H);
    gdImageAlphaBlending(g, 0); /* plain overwrite; our colours are opaque */
    for (int y = 0; y < H; y++) {
        const uint8_t *p = fer_image_row(rgb, y);
        int *row = g->tpixels[y];
        for (int x = 0; x < W; x++, p += 3) row[x] = gdTrueColor(p[0], p[1], p[2]);
    }
    int short_side = W < H ? W : H;
    int auto_t = short_side / 240 > 2 ? short_side / 240 : 2;
    gdFontPtr font = pick_font(H);
    for (int i = 0; i < n; i++) draw_one(g, &a[i], font, auto_t);
    for (int y = 0; y < H; y++) {
        uint8_t *p = fer_image_row(rgb, y);
        const int *row = g->tpixels[y];
        for (int x = 0; x < W; x++, p += 3) {
            p[0] = (uint8_t)gdTrueColorGetRed(row[x]);
            p[1] = (uint8_t)gdTrueColorGetGreen(row[x]);
            p[2] = (uint8_t)gdTrueColorGetBlue(row[x]);
        }
    }
    gdImageDestroy(g);
    return NN_OK;
}
