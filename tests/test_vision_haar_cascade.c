/* test_vision_haar_cascade.c: loading OpenCV cascade XML (vision/haar_cascade.h).
 *
 * Every new-format cascade Debian's opencv-data ships must load with the
 * right shape; malformed files must fail with the file, the line where it
 * applies, and what is wrong.
 */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vision/haar_cascade.h"

#define DIR "/usr/share/opencv4/haarcascades/"

static haar_cascade *load_ok(const char *path)
{
    nn_error err = { 0 };
    haar_cascade *c = haar_cascade_load(path, &err);
    cr_assert_not_null(c, "%s: %s", path, err.msg);
    return c;
}

Test(haar_cascade, frontalface_default_shape)
{
    haar_cascade *c = load_ok(DIR "haarcascade_frontalface_default.xml");
    cr_expect_eq(c->win_w, 24);
    cr_expect_eq(c->win_h, 24);
    cr_expect_eq(c->nstages, 25);
    cr_expect_eq(c->ntrees, 2913);
    cr_expect_eq(c->nnodes, 2913);
    cr_expect_eq(c->nleaves, 2 * 2913);
    cr_expect_eq(c->nfeatures, 2913);
    cr_expect_eq(c->max_nodes, 1);
    cr_expect_eq(c->has_tilted, 0);
    int two = 0, three = 0;
    for (int i = 0; i < c->nfeatures; i++) {
        two += c->features[i].nrects == 2;
        three += c->features[i].nrects == 3;
    }
    cr_expect_eq(two, 2356);
    cr_expect_eq(three, 557);
    /* First stage, first stump and feature, as in the file. */
    cr_expect_eq(c->stages[0].ntrees, 9);
    cr_expect_eq(c->stages[0].threshold, (float)-5.0425500869750977e+00 - 1e-5f);
    cr_expect_eq(c->nodes[0].feature, 0);
    cr_expect_eq(c->nodes[0].left, 0);
    cr_expect_eq(c->nodes[0].right, -1);
    cr_expect_eq(c->nodes[0].threshold, (float)-3.1511999666690826e-02);
    cr_expect_eq(c->leaves[0], (float)2.0875380039215088e+00);
    cr_expect_eq(c->leaves[1], (float)-2.2172100543975830e+00);
    const haar_feature *f = &c->features[0];
    cr_expect(f->r[0].x == 6 && f->r[0].y == 4 && f->r[0].w == 12 && f->r[0].h == 9 && f->r[0].weight == -1.f);
    cr_expect(f->r[1].x == 6 && f->r[1].y == 7 && f->r[1].w == 12 && f->r[1].h == 3 && f->r[1].weight == 3.f);
    haar_cascade_free(c);
}

Test(haar_cascade, trees_and_tilted_features)
{
    haar_cascade *c = load_ok(DIR "haarcascade_eye_tree_eyeglasses.xml");
    cr_expect_eq(c->win_w, 20);
    cr_expect_eq(c->nstages, 30);
    cr_expect_eq(c->ntrees, 851);
    cr_expect_eq(c->nnodes, 3 * 851);
    cr_expect_eq(c->nleaves, 4 * 851);
    cr_expect_eq(c->max_nodes, 3);
    cr_expect_eq(c->has_tilted, 1);
    /* "2 1 0 thr  0 -1 1 thr  -2 -3 2 thr": root goes to node 2 or 1. */
    cr_expect_eq(c->nodes[0].left, 2);
    cr_expect_eq(c->nodes[0].right, 1);
    cr_expect_eq(c->nodes[2].left, -2);
    cr_expect_eq(c->nodes[2].right, -3);
    int tilted = 0;
    for (int i = 0; i < c->nfeatures; i++) tilted += c->features[i].tilted;
    cr_expect_eq(tilted, 577);
    haar_cascade_free(c);

    c = load_ok(DIR "haarcascade_frontalcatface.xml");   /* no type_id, shared features */
    cr_expect_eq(c->ntrees, 1275);
    cr_expect_eq(c->nfeatures, 1056);
    haar_cascade_free(c);
    c = load_ok(DIR "haarcascade_frontalface_alt2.xml");
    cr_expect_eq(c->max_nodes, 2);
    haar_cascade_free(c);
    c = load_ok(DIR "haarcascade_russian_plate_number.xml");
    cr_expect(c->win_w == 60 && c->win_h == 20 && c->has_tilted);
    haar_cascade_free(c);
}

Test(haar_cascade, every_packaged_new_format_cascade_loads)
{
    static const char *names[] = {
        "eye", "eye_tree_eyeglasses", "frontalcatface", "frontalcatface_extended",
        "frontalface_alt", "frontalface_alt2", "frontalface_alt_tree", "frontalface_default",
        "fullbody", "lefteye_2splits", "lowerbody", "profileface", "righteye_2splits",
        "russian_plate_number", "smile", "upperbody",
    };
    for (size_t i = 0; i < sizeof names / sizeof *names; i++) {
        char path[256];
        snprintf(path, sizeof path, DIR "haarcascade_%s.xml", names[i]);
        haar_cascade *c = load_ok(path);
        cr_expect_gt(c->nstages, 10, "%s", path);
        cr_expect_eq(c->nleaves, c->nnodes + c->ntrees, "%s", path);
        haar_cascade_free(c);
    }
}

Test(haar_cascade, old_format_and_lbp_are_refused_clearly)
{
    nn_error err = { 0 };
    const char *old = DIR "haarcascade_licence_plate_rus_16stages.xml";
    cr_expect_null(haar_cascade_load(old, &err));
    cr_expect_eq(err.code, NN_ERR_UNSUPPORTED);
    cr_expect(strstr(err.msg, old) && strstr(err.msg, "old-format"), "%s", err.msg);
    const char *lbp = "/usr/share/opencv4/lbpcascades/lbpcascade_frontalface.xml";
    cr_expect_null(haar_cascade_load(lbp, &err));
    cr_expect_eq(err.code, NN_ERR_UNSUPPORTED);
    cr_expect(strstr(err.msg, lbp) && strstr(err.msg, "LBP"), "%s", err.msg);
}

Test(haar_cascade, missing_file_and_bad_arguments)
{
    nn_error err = { 0 };
    cr_expect_null(haar_cascade_load("/nonexistent/cascade.xml", &err));
    cr_expect_eq(err.code, NN_ERR_IO);
    cr_expect(strstr(err.msg, "/nonexistent/cascade.xml") && strstr(err.msg, "No such file"), "%s", err.msg);
    cr_expect_null(haar_cascade_load("/tmp", &err));
    cr_expect_eq(err.code, NN_ERR_IO, "%s", err.msg);
    cr_expect_null(haar_cascade_load(NULL, &err));
    cr_expect_eq(err.code, NN_ERR_ARG);
    cr_expect_null(haar_cascade_load("/nonexistent", NULL));   /* NULL err is allowed */
    haar_cascade_free(NULL);
}

/* A small valid cascade: a stump stage and a stage with one 3-node tree
 * using a tilted feature. Line numbers matter to the tests below. */
static const char *TEMPLATE =
    "<?xml version=\"1.0\"?>\n"                                                    /* 1 */
    "<opencv_storage>\n"                                                           /* 2 */
    "<cascade type_id=\"opencv-cascade-classifier\">\n"                            /* 3 */
    "  <stageType>BOOST</stageType>\n"                                             /* 4 */
    "  <featureType>HAAR</featureType>\n"                                          /* 5 */
    "  <height>4</height>\n"                                                       /* 6 */
    "  <width>4</width>\n"                                                         /* 7 */
    "  <stageParams><maxWeakCount>1</maxWeakCount></stageParams>\n"                /* 8 */
    "  <featureParams><maxCatCount>0</maxCatCount></featureParams>\n"              /* 9 */
    "  <stageNum>2</stageNum>\n"                                                   /* 10 */
    "  <stages>\n"                                                                 /* 11 */
    "    <_>\n"                                                                    /* 12 */
    "      <maxWeakCount>1</maxWeakCount>\n"                                       /* 13 */
    "      <stageThreshold>-0.5</stageThreshold>\n"                                /* 14 */
    "      <weakClassifiers>\n"                                                    /* 15 */
    "        <_>\n"                                                                /* 16 */
    "          <internalNodes>0 -1 0 0.1</internalNodes>\n"                        /* 17 */
    "          <leafValues>-1. 1.</leafValues></_></weakClassifiers></_>\n"        /* 18 */
    "    <_>\n"                                                                    /* 19 */
    "      <maxWeakCount>1</maxWeakCount>\n"                                       /* 20 */
    "      <stageThreshold>0.5</stageThreshold>\n"                                 /* 21 */
    "      <weakClassifiers>\n"                                                    /* 22 */
    "        <_>\n"                                                                /* 23 */
    "          <internalNodes>1 2 1 0.0 0 -1 0 0.2 -2 -3 1 -0.2</internalNodes>\n" /* 24 */
    "          <leafValues>0.1 0.9 -0.3 0.7</leafValues></_></weakClassifiers></_>\n" /* 25 */
    "  </stages>\n"                                                                /* 26 */
    "  <features>\n"                                                               /* 27 */
    "    <_><rects><_>0 0 4 4 -1.</_><_>0 0 2 4 2.</_></rects><tilted>0</tilted></_>\n" /* 28 */
    "    <_><rects><_>2 0 2 2 -1.</_><_>2 0 1 1 2.</_></rects><tilted>1</tilted></_>\n" /* 29 */
    "  </features>\n"                                                              /* 30 */
    "</cascade>\n"                                                                 /* 31 */
    "</opencv_storage>\n";

/* Writes text to a new temporary .xml file; returns its path (static). */
static const char *write_tmp(const char *text)
{
    static char path[64];
    snprintf(path, sizeof path, "/tmp/haar_cascade_testXXXXXX.xml");
    int fd = mkstemps(path, 4);
    cr_assert_geq(fd, 0);
    size_t n = strlen(text);
    cr_assert_eq(write(fd, text, n), (ssize_t)n);
    close(fd);
    return path;
}

/* TEMPLATE with the first occurrence of `from` replaced by `to`. */
static char *mutate(const char *from, const char *to)
{
    const char *at = strstr(TEMPLATE, from);
    cr_assert_not_null(at, "template lacks \"%s\"", from);
    size_t pre = (size_t)(at - TEMPLATE), lf = strlen(from), lt = strlen(to);
    char *s = malloc(strlen(TEMPLATE) - lf + lt + 1);
    memcpy(s, TEMPLATE, pre);
    memcpy(s + pre, to, lt);
    strcpy(s + pre + lt, at + lf);
    return s;
}

/* Loads text and expects failure with code, a message naming the file and
 * (line > 0) "path:line:", and containing `what`. */
static void expect_fail(const char *text, nn_status code, int line, const char *what)
{
    const char *path = write_tmp(text);
    nn_error err = { 0 };
    haar_cascade *c = haar_cascade_load(path, &err);
    unlink(path);
    cr_expect_null(c, "loaded despite: %s", what);
    haar_cascade_free(c);
    cr_expect_eq(err.code, code, "%s: code %d (%s)", what, err.code, err.msg);
    char want[128];
    if (line > 0) snprintf(want, sizeof want, "%s:%d: ", path, line);
    else snprintf(want, sizeof want, "%s", path);
    cr_expect(strncmp(err.msg, want, strlen(want)) == 0, "message \"%s\" should start \"%s\"", err.msg, want);
    cr_expect(strstr(err.msg, what) != NULL, "message \"%s\" should say \"%s\"", err.msg, what);
}

static void expect_mutation_fails(const char *from, const char *to, nn_status code, int line,
                                  const char *what)
{
    char *s = mutate(from, to);
    expect_fail(s, code, line, what);
    free(s);
}

Test(haar_cascade, template_is_valid)
{
    const char *path = write_tmp(TEMPLATE);
    haar_cascade *c = load_ok(path);
    unlink(path);
    cr_expect_eq(c->nstages, 2);
    cr_expect_eq(c->ntrees, 2);
    cr_expect_eq(c->nnodes, 4);
    cr_expect_eq(c->nleaves, 6);
    cr_expect_eq(c->max_nodes, 3);
    cr_expect_eq(c->has_tilted, 1);
    cr_expect_eq(c->trees[1].first_node, 1);
    cr_expect_eq(c->trees[1].first_leaf, 2);
    cr_expect_eq(c->stages[1].threshold, 0.5f - 1e-5f);
    cr_expect_eq(c->leaves[5], 0.7f);
    haar_cascade_free(c);
}

Test(haar_cascade, malformed_xml)
{
    expect_fail("", NN_ERR_FORMAT, 0, "malformed XML");
    expect_fail("hello, world\n", NN_ERR_FORMAT, 1, "malformed XML");
    char *cut = strdup(TEMPLATE);
    cut[strstr(cut, "<features>") - cut] = '\0';   /* truncated before line 27 */
    expect_fail(cut, NN_ERR_FORMAT, 0, "malformed XML");
    free(cut);
    expect_mutation_fails("</stageType>", "</stagetype>", NN_ERR_FORMAT, 4, "malformed XML");
}

Test(haar_cascade, wrong_root_and_missing_nodes)
{
    char *s = mutate("<opencv_storage>", "<storage>");
    char *t = strstr(s, "</opencv_storage>");
    memcpy(t, "</storage>\n       ", 18);   /* same length, keeps it well formed */
    expect_fail(s, NN_ERR_FORMAT, 2, "root element is <storage>");
    free(s);
    expect_fail("<?xml version=\"1.0\"?>\n<opencv_storage>\n</opencv_storage>\n", NN_ERR_FORMAT, 2,
                "holds no cascade");
    expect_mutation_fails("<stageType>BOOST</stageType>", "", NN_ERR_FORMAT, 3, "has no <stageType>");
    expect_mutation_fails("<height>4</height>", "", NN_ERR_FORMAT, 3, "has no <height>");
    expect_mutation_fails("<featureParams><maxCatCount>0</maxCatCount></featureParams>", "",
                          NN_ERR_FORMAT, 3, "has no <featureParams>");
    char *u = mutate("<stages>", "<stagez>");
    char *v = strstr(u, "</stages>");
    memcpy(v, "</stagez>", 9);
    expect_fail(u, NN_ERR_FORMAT, 3, "has no <stages>");
    free(u);
    expect_mutation_fails("<features>", "<feature_list>", NN_ERR_FORMAT, 0, "malformed XML");
    expect_mutation_fails("<stageThreshold>-0.5</stageThreshold>", "", NN_ERR_FORMAT, 12,
                          "has no <stageThreshold>");
    expect_mutation_fails("<leafValues>-1. 1.</leafValues>", "", NN_ERR_FORMAT, 16,
                          "has no <leafValues>");
    expect_mutation_fails("<rects><_>0 0 4 4 -1.</_><_>0 0 2 4 2.</_></rects>", "", NN_ERR_FORMAT, 28,
                          "has no <rects>");
}

Test(haar_cascade, bad_values)
{
    expect_mutation_fails("<stageType>BOOST", "<stageType>GAB", NN_ERR_FORMAT, 4, "expected BOOST");
    expect_mutation_fails("<featureType>HAAR", "<featureType>LBP", NN_ERR_UNSUPPORTED, 5, "LBP");
    expect_mutation_fails("<featureType>HAAR", "<featureType>SIFT", NN_ERR_FORMAT, 5, "expected HAAR");
    expect_mutation_fails("<width>4</width>", "<width>0</width>", NN_ERR_FORMAT, 7, "<width>");
    expect_mutation_fails("<width>4</width>", "<width>4.5</width>", NN_ERR_FORMAT, 7, "<width>");
    expect_mutation_fails("<width>4</width>", "<width>4 4</width>", NN_ERR_FORMAT, 7, "one number");
    expect_mutation_fails("<maxCatCount>0", "<maxCatCount>256", NN_ERR_FORMAT, 9, "maxCatCount");
    expect_mutation_fails("<stageNum>2", "<stageNum>3", NN_ERR_FORMAT, 10, "<stageNum> says 3");
    expect_mutation_fails("-0.5</stageThreshold>", "-0.5x</stageThreshold>", NN_ERR_FORMAT, 14,
                          "bad number \"-0.5x\"");
    expect_mutation_fails("-0.5</stageThreshold>", "nan</stageThreshold>", NN_ERR_FORMAT, 14, "bad number");
    expect_mutation_fails("-0.5</stageThreshold>", "1e999</stageThreshold>", NN_ERR_FORMAT, 14, "bad number");
    expect_mutation_fails("0 -1 0 0.1<", "0 -1 0<", NN_ERR_FORMAT, 17, "groups of 4");
    expect_mutation_fails("0 -1 0 0.1<", "0 -1 zero 0.1<", NN_ERR_FORMAT, 17, "bad number \"zero\"");
    expect_mutation_fails("0 -1 0 0.1<", "0 -1 0.5 0.1<", NN_ERR_FORMAT, 17, "must be integers");
    expect_mutation_fails("-1. 1.</leafValues>", "-1.</leafValues>", NN_ERR_FORMAT, 18, "needs 2 <leafValues>");
    expect_mutation_fails("0 -1 0 0.1<", "0 -1 7 0.1<", NN_ERR_FORMAT, 0, "uses feature 7");
    expect_mutation_fails("0 -1 0 0.1<", "0 -1 -1 0.1<", NN_ERR_FORMAT, 17, "negative featureIdx");
    expect_mutation_fails("<weakClassifiers>\n        <_>\n          <internalNodes>0 -1 0 0.1</internalNodes>\n"
                          "          <leafValues>-1. 1.</leafValues></_></weakClassifiers>",
                          "<weakClassifiers></weakClassifiers>", NN_ERR_FORMAT, 15, "no weak classifiers");
}

Test(haar_cascade, broken_trees)
{
    /* Links past the tree, to a leaf that does not exist, or backwards
     * (which could loop forever). */
    expect_mutation_fails("1 2 1 0.0 0 -1", "1 3 1 0.0 0 -1", NN_ERR_FORMAT, 24, "outside its tree");
    expect_mutation_fails("-2 -3 1 -0.2", "-2 -4 1 -0.2", NN_ERR_FORMAT, 24, "outside its tree");
    expect_mutation_fails("0 -1 0 0.2", "0 1 0 0.2", NN_ERR_FORMAT, 24, "outside its tree");
    expect_mutation_fails("0 -1 0 0.2", "0 0 0 0.2 -2 -3 1 -0.2 0 0 0 0", NN_ERR_FORMAT, 25,
                          "needs 6 <leafValues>");
}

Test(haar_cascade, bad_rects)
{
    expect_mutation_fails("0 0 4 4 -1.", "0 0 5 4 -1.", NN_ERR_FORMAT, 28, "does not fit the 4x4 window");
    expect_mutation_fails("0 0 4 4 -1.", "-1 0 4 4 -1.", NN_ERR_FORMAT, 28, "does not fit");
    expect_mutation_fails("0 0 4 4 -1.", "0 0 0 4 -1.", NN_ERR_FORMAT, 28, "does not fit");
    expect_mutation_fails("0 0 4 4 -1.", "0 0 4 4", NN_ERR_FORMAT, 28, "x y w h weight");
    expect_mutation_fails("0 0 4 4 -1.", "0 0 4.5 4 -1.", NN_ERR_FORMAT, 28, "not an integer");
    expect_mutation_fails("<_>0 0 2 4 2.</_>", "<_>0 0 2 4 2.</_><_>0 0 1 1 1.</_><_>1 1 1 1 1.</_>",
                          NN_ERR_FORMAT, 28, "more than 3 rects");
    expect_mutation_fails("<rects><_>0 0 4 4 -1.</_><_>0 0 2 4 2.</_></rects>", "<rects></rects>",
                          NN_ERR_FORMAT, 28, "no rects");
    /* Tilted: left corner x - h must stay in the window, and y + w + h. */
    expect_mutation_fails("2 0 2 2 -1.", "1 0 2 2 -1.", NN_ERR_FORMAT, 29, "tilted rect 1 0 2 2");
    expect_mutation_fails("2 0 2 2 -1.", "2 1 2 2 -1.", NN_ERR_FORMAT, 29, "does not fit");
    expect_mutation_fails("<tilted>1</tilted>", "<tilted>2</tilted>", NN_ERR_FORMAT, 29, "0 or 1");
}
