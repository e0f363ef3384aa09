/* source.c: spec parsing, backend dispatch, frame numbering and pacing. */
#include "vision/source_impl.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "vision/image_io.h"

struct fer_source {
    fer_source_backend be;
    void *impl;
    fer_source_info info;
    fer_source_opts opts;
    long next;                /* index of the next frame */
    struct timespec t0;       /* open time (camera) or first read (pacing) */
    int paced_started;
    nn_status sticky;         /* error that ended the stream, repeated */
    nn_error sticky_err;
    int ended;
};

static double now_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)(t.tv_sec - t0->tv_sec) + (t.tv_nsec - t0->tv_nsec) * 1e-9;
}

/* "camera" -> /dev/video0, "camera:N" -> /dev/videoN; 0 if spec is not one. */
static int camera_alias(const char *spec, char *dev, size_t cap)
{
    if (strcmp(spec, "camera") == 0) {
        snprintf(dev, cap, "/dev/video0");
        return 1;
    }
    if (strncmp(spec, "camera:", 7) != 0) return 0;
    const char *n = spec + 7;
    if (!*n || strlen(n) > 4 || strspn(n, "0123456789") != strlen(n)) return -1;
    snprintf(dev, cap, "/dev/video%s", n);
    return 1;
}

/* Decides the backend of a file from its first bytes. */
static nn_status sniff_file(const char *path, fer_source_kind *kind, nn_error *err)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) return nn_fail(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    uint8_t head[16];
    size_t n = fread(head, 1, sizeof head, fp);
    int bad = ferror(fp);
    fclose(fp);
    if (bad) return nn_fail(err, NN_ERR_IO, "%s: read error", path);
    if (n >= 9 && memcmp(head, "YUV4MPEG2", 9) == 0) {
        *kind = FER_SOURCE_Y4M;
        return NN_OK;
    }
    if (fer_image_sniff(head, n) != FER_IMG_UNKNOWN) {
        *kind = FER_SOURCE_STILL;
        return NN_OK;
    }
    return nn_fail(err, NN_ERR_FORMAT, "%s: %s; a frame source is a PNG or JPEG image, a "
                   "YUV4MPEG2 video (ffmpeg -i in.mp4 -f yuv4mpegpipe out.y4m), \"-\" for "
                   "y4m on stdin, or a camera (/dev/videoN, camera, camera:N)", path,
                   n == 0 ? "empty file" : "not an image or y4m video");
}

fer_source *fer_source_open(const char *spec, const fer_source_opts *o, nn_error *err)
{
    if (!spec || !*spec) {
        nn_fail(err, NN_ERR_ARG, "frame source: empty spec");
        return NULL;
    }
    fer_source *s = calloc(1, sizeof *s);
    if (!s) {
        nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", spec);
        return NULL;
    }
    if (o) s->opts = *o;
    if (s->opts.still_fps <= 0) s->opts.still_fps = 10;
    char dev[64];
    const char *target = spec;
    nn_status st = NN_OK;
    int alias = camera_alias(spec, dev, sizeof dev);
    struct stat sb;
    if (alias < 0) {
        st = nn_fail(err, NN_ERR_ARG, "%s: bad camera spec (want camera or camera:N)", spec);
    } else if (alias > 0 || strncmp(spec, "/dev/video", 10) == 0 ||
               (stat(spec, &sb) == 0 && S_ISCHR(sb.st_mode))) {
        if (alias > 0) target = dev;
        s->info.kind = FER_SOURCE_CAMERA;
    } else if (strcmp(spec, "-") == 0) {
        s->info.kind = FER_SOURCE_Y4M;
    } else {
        st = sniff_file(spec, &s->info.kind, err);
    }
    snprintf(s->info.name, sizeof s->info.name, "%s", strcmp(spec, "-") ? target : "stdin");
    if (!st) {
        switch (s->info.kind) {
        case FER_SOURCE_CAMERA:
            st = fer_source_open_camera(target, &s->opts, &s->be, &s->impl, &s->info, err);
            break;
        case FER_SOURCE_STILL:
            st = fer_source_open_still(target, &s->opts, &s->be, &s->impl, &s->info, err);
            break;
        case FER_SOURCE_Y4M:
            st = fer_source_open_y4m(target, &s->opts, &s->be, &s->impl, &s->info, err);
            break;
        }
    }
    if (st) {
        free(s);
        return NULL;
    }
    clock_gettime(CLOCK_MONOTONIC, &s->t0);
    return s;
}

const fer_source_info *fer_source_get_info(const fer_source *s) { return &s->info; }

/* Sleeps until frame `index` is due at `fps`, counting from the first read. */
static void pace(fer_source *s, long index, double fps)
{
    if (!s->paced_started) {
        clock_gettime(CLOCK_MONOTONIC, &s->t0);
        s->paced_started = 1;
        return;
    }
    double wait = index / fps - now_since(&s->t0);
    if (wait <= 0) return;
    struct timespec ts = {(time_t)wait, (long)((wait - (double)(time_t)wait) * 1e9)};
    while (nanosleep(&ts, &ts) == -1 && errno == EINTR) {
    }
}

nn_status fer_source_read(fer_source *s, fer_frame *f, nn_error *err)
{
    if (!s || !f) return nn_fail(err, NN_ERR_ARG, "fer_source_read: NULL argument");
    if (s->sticky) {
        if (err) *err = s->sticky_err;
        return s->sticky;
    }
    if (s->ended) {
        f->end = 1;
        return NN_OK;
    }
    int end = 0;
    nn_status st = s->be.read(s->impl, f, s->opts.want_rgb, &end, err);
    if (st) {
        /* An interrupted camera wait is not the end of the stream. */
        if (st != NN_ERR_INTERRUPTED) {
            s->sticky = st;
            if (err) s->sticky_err = *err;
            else nn_fail(&s->sticky_err, st, "%s: %s", s->info.name, nn_status_name(st));
        }
        return st;
    }
    if (end) {
        s->ended = 1;
        f->end = 1;
        return NN_OK;
    }
    if (!s->opts.want_rgb) fer_image_free(&f->rgb);
    f->end = 0;
    f->index = s->next++;
    if (s->info.kind == FER_SOURCE_CAMERA) {
        f->t = now_since(&s->t0);
    } else {
        double fps = s->info.fps > 0 ? s->info.fps : s->opts.still_fps;
        f->t = f->index / fps;
        if (s->opts.realtime) pace(s, f->index, fps);
    }
    return NN_OK;
}

void fer_source_close(fer_source *s)
{
    if (!s) return;
    if (s->be.close) s->be.close(s->impl);
    free(s);
}

void fer_frame_free(fer_frame *f)
{
    if (!f) return;
    fer_image_free(&f->grey);
    fer_image_free(&f->rgb);
    memset(f, 0, sizeof *f);
}
