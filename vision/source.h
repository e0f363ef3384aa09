/* source.h: one interface over every place frames come from -- a webcam, a
 * still image, a y4m video file, or y4m on standard input -- so the
 * detector front-end and fer-chat never care which.
 *
 * Spec strings accepted by fer_source_open:
 *   "camera", "camera:N"   V4L2 camera /dev/video0, /dev/videoN
 *   "/dev/videoN"          that V4L2 device (any character device is
 *                          treated as a camera)
 *   "-"                    a YUV4MPEG2 stream on standard input, e.g.
 *                          ffmpeg -i clip.mp4 -f yuv4mpegpipe - | fer-...
 *   any other path         a file, recognised by its first bytes (not its
 *                          name): "YUV4MPEG2" -> video; PNG or JPEG
 *                          signature -> still image.
 * A still yields its one frame once, then end of stream; with
 * opts.still_repeat it yields the same frame forever (a "camera" that
 * always sees the same photo -- handy for demos and tests).
 *
 * Frames: grey is always filled (full-range luma, as vision/image_yuv.h
 * explains); rgb is filled when opts.want_rgb is set, for drawing boxes
 * and labels. The images are owned by the fer_frame, which the caller
 * keeps and reuses across reads (buffers are reallocated only when the
 * size changes) and releases with fer_frame_free.
 *
 * Pacing: a camera delivers frames at its own rate. Files are read as fast
 * as asked, unless opts.realtime is set: then each frame is held back
 * until its presentation time (frame index / frame rate since the first
 * read), so a video file or a repeated photo behaves like a live camera.
 *
 * Threading -- fer-chat reads frames on a capture thread:
 *   - A fer_source is not thread-safe. Open it on any thread, then read it
 *     from exactly one thread at a time (typically: open on the main
 *     thread, start the capture thread, read only there); close it after
 *     that thread has stopped reading (join it first). Never close a
 *     source while a read is in progress on another thread.
 *   - fer_source_read blocks: a camera until the next frame, at most
 *     opts.camera.timeout_ms; a pipe until the producer writes; a realtime
 *     file until the frame is due. A capture thread that must stop soon
 *     should check a flag between reads; camera reads come back within the
 *     timeout, and a signal makes a camera read return NN_ERR_INTERRUPTED.
 *   - Different sources are independent and may be used on different
 *     threads at once. Library state is per source; nothing is global.
 *   - A fer_frame is plain data: a capture thread can hand a frame to a
 *     consumer by swapping structs under the consumer's mutex
 *     (double buffering: `fer_frame t = shared; shared = mine; mine = t;`),
 *     no copying and no allocation per frame.
 */
#ifndef FER_VISION_SOURCE_H
#define FER_VISION_SOURCE_H

#include "nn/error.h"
#include "vision/image.h"
#include "vision/v4l2.h"

typedef enum { FER_SOURCE_CAMERA, FER_SOURCE_STILL, FER_SOURCE_Y4M } fer_source_kind;

typedef struct {
    int want_rgb;          /* also produce RGB frames */
    int still_repeat;      /* still image: 0 = one frame then end; 1 = forever */
    int realtime;          /* pace files to their frame rate (see above) */
    double still_fps;      /* rate of a repeated still (and of a y4m without F
                              tag) for t and pacing; 0 = 10 */
    fer_v4l2_opts camera;  /* size, rate, format, buffers, timeout of a camera */
} fer_source_opts;

typedef struct {
    fer_source_kind kind;
    int width, height;     /* frame size */
    double fps;            /* frames per second; 0 when the stream does not say */
    char name[256];        /* the path or device, "stdin" for "-" */
} fer_source_info;

typedef struct {
    fer_image grey;        /* always filled by a successful read */
    fer_image rgb;         /* filled when opts.want_rgb, else left empty */
    long index;            /* 0 for the first frame */
    double t;              /* seconds since the stream began: media time
                              (index / fps) for files, capture clock
                              (CLOCK_MONOTONIC since open) for cameras */
    int end;               /* set by fer_source_read at end of stream */
} fer_frame;

typedef struct fer_source fer_source;

/* Opens the frame source named by spec (see above). o may be NULL (grey
 * only, still once, no pacing, camera defaults). Returns NULL on failure
 * with err filled (e.g. "clip.y4m: cannot open: No such file or
 * directory", "/dev/video0: no such device: ..."). */
fer_source *fer_source_open(const char *spec, const fer_source_opts *o, nn_error *err);

/* What the source delivers. */
const fer_source_info *fer_source_get_info(const fer_source *src);

/* Reads the next frame into *frame (a zeroed or previously used frame).
 * Returns NN_OK with frame->end == 0 and a frame, NN_OK with
 * frame->end == 1 at the end of the stream (images untouched), or an error
 * (truncated video, camera gone, ...). Typical loop:
 *   fer_frame f = {0};
 *   while (!(st = fer_source_read(src, &f, &err)) && !f.end) { ... }
 *   fer_frame_free(&f);
 * After an error or the end, further reads repeat that outcome. */
nn_status fer_source_read(fer_source *src, fer_frame *frame, nn_error *err);

/* Releases the source (closes the camera or file; stdin stays open). NULL
 * is fine. */
void fer_source_close(fer_source *src);

/* Releases a frame's images and zeroes it. */
void fer_frame_free(fer_frame *frame);

#endif
