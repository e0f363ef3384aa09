/* The per-face emotion pipeline and fer-detect on real photographs:
 * Haar detection + crop + standardise + classify. Needs the committed model
 * (results/model.bin) and ../shared/data/faces (skipped without them). */
#include <cjson/cJSON.h>
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "vision/face_emotion.h"
#include "vision/image_io.h"

#define MODEL "results/model.bin"

static const char *faces_dir(void)
{
    static const char *dirs[] = {"../shared/data/faces", "/work/shared/data/faces"};
    for (size_t i = 0; i < 2; i++)
        if (access(dirs[i], R_OK) == 0) return dirs[i];
    return NULL;
}

static void load_grey(const char *name, fer_image *grey)
{
    const char *dir = faces_dir();
    if (!dir || access(MODEL, R_OK) != 0) cr_skip_test("no face photos or no %s", MODEL);
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    nn_error err = {0};
    cr_assert_eq(fer_image_read(path, 1, grey, &err), NN_OK, "%s", err.msg);
}

static double iou(fer_box a, fer_box b)
{
    int x0 = a.x > b.x ? a.x : b.x, y0 = a.y > b.y ? a.y : b.y;
    int x1 = a.x + a.w < b.x + b.w ? a.x + a.w : b.x + b.w;
    int y1 = a.y + a.h < b.y + b.h ? a.y + a.h : b.y + b.h;
    double inter = (x1 > x0 && y1 > y0) ? (double)(x1 - x0) * (y1 - y0) : 0;
    return inter / ((double)a.w * a.h + (double)b.w * b.h - inter);
}

Test(face_emotion, astronaut_one_face_with_a_distribution)
{
    fer_image grey = {0};
    load_grey("astronaut.png", &grey);
    nn_error err = {0};
    fer_face_analyzer *a = fer_face_analyzer_new(MODEL, NULL, &err);
    cr_assert_not_null(a, "%s", err.msg);
    fer_face faces[FER_MAX_FACES];
    int n = -1;
    cr_assert_eq(fer_face_analyze(a, &grey, faces, FER_MAX_FACES, &n, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(n, 1);
    /* OpenCV finds it near (176, 68, 96, 96) at scale 1.32, neighbours 5. */
    fer_box want = {176, 68, 96, 96};
    cr_assert_geq(iou(faces[0].box, want), 0.8, "box %d,%d,%d,%d", faces[0].box.x, faces[0].box.y,
                  faces[0].box.w, faces[0].box.h);
    double sum = 0;
    for (int k = 0; k < 7; k++) {
        cr_assert(faces[0].probs[k] >= 0 && faces[0].probs[k] <= 1);
        sum += faces[0].probs[k];
        cr_assert_leq(faces[0].probs[k], faces[0].probs[faces[0].top]);
    }
    cr_assert_float_eq(sum, 1.0, 1e-4);
    /* The same frame again gives the same answer (no state leaks between frames). */
    fer_face again[FER_MAX_FACES];
    cr_assert_eq(fer_face_analyze(a, &grey, again, FER_MAX_FACES, &n, &err), NN_OK);
    cr_assert_eq(memcmp(again, faces, sizeof(fer_face)), 0);
    fer_face_analyzer_free(a);
    fer_image_free(&grey);
}

Test(face_emotion, cameraman_no_face_and_bad_inputs)
{
    fer_image grey = {0};
    load_grey("camera.png", &grey);
    nn_error err = {0};
    fer_face_analyzer *a = fer_face_analyzer_new(MODEL, NULL, &err);
    cr_assert_not_null(a, "%s", err.msg);
    fer_face faces[4];
    int n = -1;
    cr_assert_eq(fer_face_analyze(a, &grey, faces, 4, &n, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(n, 0);
    fer_face_analyzer_free(a);
    fer_image_free(&grey);

    cr_assert_null(fer_face_analyzer_new("/nonexistent/model.bin", NULL, &err));
    cr_assert(strstr(err.msg, "/nonexistent/model.bin"), "%s", err.msg);
    fer_face_opts o = fer_face_opts_default();
    o.cascade_path = "/nonexistent/cascade.xml";
    cr_assert_null(fer_face_analyzer_new(MODEL, &o, &err));
    cr_assert(strstr(err.msg, "cascade.xml"), "%s", err.msg);
}

Test(face_emotion, fer_detect_prints_json_per_face)
{
    const char *dir = faces_dir();
    /* $FER_BIN_DIR: the sanitized build's programs under make sanitize */
    const char *bd = getenv("FER_BIN_DIR");
    char bin[512];
    snprintf(bin, sizeof bin, "%s/fer-detect", bd && *bd ? bd : "bin");
    if (!dir || access(MODEL, R_OK) != 0 || access(bin, X_OK) != 0)
        cr_skip_test("needs %s, %s and the face photos", bin, MODEL);
    char cmd[1024];
    snprintf(cmd, sizeof cmd,
             "%s --scale 1.1 --neighbors 3 --annotate /tmp/fer-detect-test-%d.png "
             "%s/messi5.jpg 2>/dev/null", bin, (int)getpid(), dir);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char line[4096];
    int faces = 0;
    while (fgets(line, sizeof line, p)) {
        cJSON *o = cJSON_Parse(line);
        cr_assert_not_null(o, "not JSON: %s", line);
        cr_assert(cJSON_IsNumber(cJSON_GetObjectItem(o, "frame")));
        cJSON *box = cJSON_GetObjectItem(o, "box");
        cr_assert(cJSON_IsArray(box) && cJSON_GetArraySize(box) == 4, "%s", line);
        const char *emotion = cJSON_GetStringValue(cJSON_GetObjectItem(o, "emotion"));
        cJSON *probs = cJSON_GetObjectItem(o, "probs");
        cr_assert(emotion && cJSON_GetObjectItem(probs, emotion), "%s", line);
        cr_assert_eq(cJSON_GetArraySize(probs), 7);
        cJSON_Delete(o);
        faces++;
    }
    cr_assert_eq(pclose(p), 0);
    cr_assert_eq(faces, 2, "messi5.jpg at scale 1.1, neighbours 3: OpenCV finds 2 faces");
    snprintf(cmd, sizeof cmd, "/tmp/fer-detect-test-%d.png", (int)getpid());
    FILE *png = fopen(cmd, "rb");
    cr_assert_not_null(png, "no annotated image");
    unsigned char sig[8];
    cr_assert_eq(fread(sig, 1, 8, png), 8);
    fclose(png);
    cr_assert_eq(memcmp(sig, "\x89PNG\r\n\x1a\n", 8), 0);
    unlink(cmd);
    snprintf(cmd, sizeof cmd, "%s /nonexistent.png 2>/dev/null", bin);
    cr_assert_neq(system(cmd), 0);
}
