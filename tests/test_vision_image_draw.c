/* Annotation: boxes and labels drawn with libgd. */
#include <criterion/criterion.h>
#include <string.h>

#include "tests/test_vision_image_helpers.h"
#include "vision/draw.h"
#include "vision/image_io.h"

static int is(const fer_image *im, int x, int y, fer_colour c)
{
    const uint8_t *p = fer_image_row(im, y) + 3 * x;
    return p[0] == c.r && p[1] == c.g && p[2] == c.b;
}

Test(vision_draw, box_outline_thickness_and_label_strip)
{
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&im, 200, 150, 3, &err), NN_OK);
    memset(im.data, 0, im.stride * 150);
    fer_colour red = {230, 25, 25};
    fer_annotation a = {{50, 60, 80, 70}, "happy 0.83", red, 3};
    cr_assert_eq(fer_draw_annotations(&im, &a, 1, &err), NN_OK, "%s", err.msg);
    /* outline: insets 0..2 coloured, inset 3 and the inside untouched */
    for (int i = 0; i < 3; i++) {
        cr_assert(is(&im, 50 + i, 100, red), "left edge inset %d", i);
        cr_assert(is(&im, 129 - i, 100, red), "right edge inset %d", i);
        cr_assert(is(&im, 90, 129 - i, red), "bottom edge inset %d", i);
    }
    fer_colour black = {0, 0, 0};
    cr_assert(is(&im, 53, 100, black) && is(&im, 90, 100, black));
    cr_assert(is(&im, 49, 100, black) && is(&im, 130, 100, black), "nothing outside the box");
    /* label strip just above the box; red is dark, so the ink is white */
    int strip = 0, ink = 0;
    fer_colour white = {255, 255, 255};
    for (int y = 30; y < 60; y++)
        for (int x = 50; x < 200; x++) {
            strip += is(&im, x, y, red);
            ink += is(&im, x, y, white);
        }
    cr_assert_gt(strip, 100, "label background drawn");
    cr_assert_gt(ink, 20, "label text drawn (%d ink pixels)", ink);
    cr_assert(is(&im, 50, 59, red), "strip touches the box");
    fer_image_free(&im);
}

Test(vision_draw, clipping_top_edge_and_errors)
{
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_reserve(&im, 64, 48, 3, &err), NN_OK);
    memset(im.data, 128, im.stride * 48);
    fer_colour yellow = fer_draw_class_colour(3);
    fer_annotation a[3] = {
        {{-20, -10, 50, 40}, "surprise 0.99", yellow, 0}, /* off the top-left */
        {{40, 30, 100, 100}, "x", fer_draw_class_colour(0), 2},    /* off the bottom-right */
        {{5, 5, 0, 10}, "empty", yellow, 0},              /* nothing to draw */
    };
    cr_assert_eq(fer_draw_annotations(&im, a, 3, &err), NN_OK, "%s", err.msg);
    /* the label of a box touching the top goes inside it, from row 0 */
    cr_assert(is(&im, 0, 0, yellow), "label strip at the frame's top-left");
    int dark_ink = 0;
    for (int y = 0; y < 12; y++)
        for (int x = 0; x < 64; x++) dark_ink += is(&im, x, y, (fer_colour){0, 0, 0});
    cr_assert_gt(dark_ink, 5, "black ink on yellow");

    fer_image grey = {0};
    cr_assert_eq(fer_image_reserve(&grey, 8, 8, 1, &err), NN_OK);
    cr_assert_eq(fer_draw_annotations(&grey, a, 1, &err), NN_ERR_ARG);
    cr_assert_eq(fer_draw_annotations(&im, NULL, 1, &err), NN_ERR_ARG);
    cr_assert_eq(fer_draw_annotations(&im, NULL, 0, &err), NN_OK);

    /* seven distinct class colours */
    for (int i = 0; i < 7; i++)
        for (int j = i + 1; j < 7; j++) {
            fer_colour p = fer_draw_class_colour(i), q = fer_draw_class_colour(j);
            cr_assert(p.r != q.r || p.g != q.g || p.b != q.b);
        }

    /* annotated frames go to PNG unchanged */
    const char *dir = tmp_dir();
    fer_image back = {0};
    cr_assert_eq(fer_image_write_png(tmp_path(dir, "ann.png"), &im, &err), NN_OK);
    cr_assert_eq(fer_image_read(tmp_path(dir, "ann.png"), 0, &back, &err), NN_OK);
    cr_assert_arr_eq(back.data, im.data, 64 * 48 * 3);
    rm_tree(dir);
    fer_image_free(&im);
    fer_image_free(&grey);
    fer_image_free(&back);
}
