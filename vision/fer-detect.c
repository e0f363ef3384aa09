/* fer-detect: faces and their emotions in images, videos or a camera, one
 * JSON line per face per frame. */
#include <cjson/cJSON.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "vision/draw.h"
#include "vision/face_emotion.h"
#include "vision/image_io.h"
#include "vision/source.h"

#define DEFAULT_MODEL "results/model.bin"

static volatile sig_atomic_t stop_requested;
static void on_sigint(int sig)
{
    (void)sig;
    stop_requested = 1;
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: fer-detect [options] SOURCE\n"
            "\n"
            "Finds faces (OpenCV Haar cascade, in C) and classifies each one's emotion.\n"
            "Prints one JSON line per face per frame: frame index, time, box, the class\n"
            "probabilities and the top emotion.\n"
            "\n"
            "SOURCE: an image (.png, .jpg), a YUV4MPEG2 video (.y4m), - for y4m on standard\n"
            "        input (ffmpeg -i clip.mp4 -f yuv4mpegpipe - | fer-detect -), or a camera:\n"
            "        camera, camera:N or /dev/videoN\n"
            "\n"
            "  -m, --model PATH      model file (default " DEFAULT_MODEL ")\n"
            "      --cascade PATH    Haar cascade XML (default: OpenCV's frontal face, from\n"
            "                        Debian's opencv-data)\n"
            "      --scale F         detector scale factor (default 1.32, the paper's)\n"
            "      --neighbors N     minimum neighbours (default 5)\n"
            "      --min-size N      smallest face in pixels (default 0: no limit)\n"
            "      --linear          resize crops bilinearly like the paper's tester, instead\n"
            "                        of area averaging (how FER2013 faces were made)\n"
            "      --frames N        stop after N frames (default: end of stream; Ctrl-C\n"
            "                        stops a camera)\n"
            "      --annotate OUT    write the frame with boxes and labels as PNG; with a\n"
            "                        %%d in OUT (e.g. out-%%04d.png), one file per frame\n"
            "  -j, --threads N       threads for the network (default 1)\n"
            "  -h, --help            this text\n");
}

static int annotate_frame(const char *pattern, const fer_frame *fr, const fer_face *faces, int n,
                          const fer_model_file *mf, nn_error *err)
{
    fer_image rgb = {0};
    nn_status st = fr->rgb.data ? fer_image_copy(&rgb, &fr->rgb, err)
                                : fer_image_to_rgb(&rgb, &fr->grey, err);
    if (st) return st;
    fer_annotation ann[FER_MAX_FACES];
    char labels[FER_MAX_FACES][64];
    for (int i = 0; i < n; i++) {
        snprintf(labels[i], sizeof labels[i], "%s %.2f", mf->class_names[faces[i].top],
                 faces[i].probs[faces[i].top]);
        ann[i] = (fer_annotation){faces[i].box, labels[i], fer_draw_class_colour(faces[i].top), 0};
    }
    if (!(st = fer_draw_annotations(&rgb, ann, n, err))) {
        char path[4096];
        if (strstr(pattern, "%")) snprintf(path, sizeof path, pattern, (int)fr->index);
        else snprintf(path, sizeof path, "%s", pattern);
        st = fer_image_write_png(path, &rgb, err);
    }
    fer_image_free(&rgb);
    return st;
}

static void print_face(long frame, double t, int i, const fer_face *f, const fer_model_file *mf)
{
    cJSON *o = cJSON_CreateObject();
    cJSON *box = cJSON_CreateIntArray((const int[]){f->box.x, f->box.y, f->box.w, f->box.h}, 4);
    cJSON *probs = cJSON_CreateObject();
    if (!o || !box || !probs) {
        fprintf(stderr, "fer-detect: out of memory\n");
        exit(1);
    }
    cJSON_AddNumberToObject(o, "frame", (double)frame);
    cJSON_AddNumberToObject(o, "t", t);
    cJSON_AddNumberToObject(o, "face", i);
    cJSON_AddItemToObject(o, "box", box);
    cJSON_AddNumberToObject(o, "neighbors", f->neighbors);
    cJSON_AddStringToObject(o, "emotion", mf->class_names[f->top]);
    cJSON_AddNumberToObject(o, "score", (double)((int)(f->probs[f->top] * 1e4 + 0.5)) / 1e4);
    for (int k = 0; k < mf->n_classes; k++)
        cJSON_AddNumberToObject(probs, mf->class_names[k], (double)((int)(f->probs[k] * 1e4 + 0.5)) / 1e4);
    cJSON_AddItemToObject(o, "probs", probs);
    char *s = cJSON_PrintUnformatted(o);
    if (!s) {
        fprintf(stderr, "fer-detect: out of memory\n");
        exit(1);
    }
    puts(s);
    cJSON_free(s);
    cJSON_Delete(o);
}

int main(int argc, char **argv)
{
    const char *model = DEFAULT_MODEL, *annotate = NULL;
    fer_face_opts fo = fer_face_opts_default();
    long max_frames = -1;
    enum { OPT_CASCADE = 256, OPT_SCALE, OPT_NEIGHBORS, OPT_MIN_SIZE, OPT_LINEAR, OPT_FRAMES,
           OPT_ANNOTATE };
    static const struct option longopts[] = {
        {"model", required_argument, 0, 'm'},         {"cascade", required_argument, 0, OPT_CASCADE},
        {"scale", required_argument, 0, OPT_SCALE},   {"neighbors", required_argument, 0, OPT_NEIGHBORS},
        {"min-size", required_argument, 0, OPT_MIN_SIZE}, {"linear", no_argument, 0, OPT_LINEAR},
        {"frames", required_argument, 0, OPT_FRAMES}, {"annotate", required_argument, 0, OPT_ANNOTATE},
        {"threads", required_argument, 0, 'j'},       {"help", no_argument, 0, 'h'},
        {0, 0, 0, 0}};
    int c;
    char *end;
    while ((c = getopt_long(argc, argv, "m:j:h", longopts, NULL)) != -1) {
        switch (c) {
        case 'm': model = optarg; break;
        case OPT_CASCADE: fo.cascade_path = optarg; break;
        case OPT_SCALE:
            fo.haar.scale_factor = strtod(optarg, &end);
            if (*end || !(fo.haar.scale_factor > 1.0)) {
                fprintf(stderr, "fer-detect: --scale must be a number > 1\n");
                return 2;
            }
            break;
        case OPT_NEIGHBORS:
            fo.haar.min_neighbors = (int)strtol(optarg, &end, 10);
            if (*end || fo.haar.min_neighbors < 0) {
                fprintf(stderr, "fer-detect: --neighbors must be an integer >= 0\n");
                return 2;
            }
            break;
        case OPT_MIN_SIZE:
            fo.haar.min_w = fo.haar.min_h = (int)strtol(optarg, &end, 10);
            if (*end || fo.haar.min_w < 0) {
                fprintf(stderr, "fer-detect: --min-size must be an integer >= 0\n");
                return 2;
            }
            break;
        case OPT_LINEAR: fo.resize = FER_RESIZE_LINEAR; break;
        case OPT_FRAMES:
            max_frames = strtol(optarg, &end, 10);
            if (*end || max_frames < 1) {
                fprintf(stderr, "fer-detect: --frames must be a positive integer\n");
                return 2;
            }
            break;
        case OPT_ANNOTATE: annotate = optarg; break;
        case 'j':
            fo.threads = (int)strtol(optarg, &end, 10);
            if (*end || fo.threads < 1) {
                fprintf(stderr, "fer-detect: --threads must be a positive integer\n");
                return 2;
            }
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind != argc - 1) {
        usage(stderr);
        return 2;
    }
    const char *spec = argv[optind];
    nn_error err = {0};
    fer_face_analyzer *fa = fer_face_analyzer_new(model, &fo, &err);
    if (!fa) {
        fprintf(stderr, "fer-detect: %s\n", err.msg);
        if (err.code == NN_ERR_IO && !strcmp(model, DEFAULT_MODEL))
            fprintf(stderr, "fer-detect: run from the repository root, or train one with "
                            "fer-train and pass --model\n");
        return 1;
    }
    const fer_model_file *mf = fer_face_analyzer_model(fa);
    fer_source_opts so = {.want_rgb = annotate != NULL};
    fer_source *src = fer_source_open(spec, &so, &err);
    if (!src) {
        fprintf(stderr, "fer-detect: %s\n", err.msg);
        fer_face_analyzer_free(fa);
        return 1;
    }
    struct sigaction sa = {0};
    sa.sa_handler = on_sigint;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);

    fer_frame fr = {0};
    fer_face faces[FER_MAX_FACES];
    long frames = 0, total_faces = 0;
    int rc = 0;
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    while (!stop_requested && (max_frames < 0 || frames < max_frames)) {
        nn_status st = fer_source_read(src, &fr, &err);
        if (st == NN_ERR_INTERRUPTED && stop_requested) break;
        if (st) {
            fprintf(stderr, "fer-detect: %s\n", err.msg);
            rc = 1;
            break;
        }
        if (fr.end) break;
        int n = 0;
        if (fer_face_analyze(fa, &fr.grey, faces, FER_MAX_FACES, &n, &err)) {
            fprintf(stderr, "fer-detect: frame %ld: %s\n", fr.index, err.msg);
            rc = 1;
            break;
        }
        for (int i = 0; i < n; i++) print_face(fr.index, fr.t, i, &faces[i], mf);
        fflush(stdout);
        if (annotate && annotate_frame(annotate, &fr, faces, n, mf, &err)) {
            fprintf(stderr, "fer-detect: %s\n", err.msg);
            rc = 1;
            break;
        }
        frames++;
        total_faces += n;
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    double secs = (t1.tv_sec - t0.tv_sec) + (t1.tv_nsec - t0.tv_nsec) * 1e-9;
    fprintf(stderr, "fer-detect: %ld frame%s, %ld face%s, %.1f frames/s\n", frames,
            frames == 1 ? "" : "s", total_faces, total_faces == 1 ? "" : "s",
            secs > 0 ? frames / secs : 0.0);
    fer_frame_free(&fr);
    fer_source_close(src);
    fer_face_analyzer_free(fa);
    return rc;
}
