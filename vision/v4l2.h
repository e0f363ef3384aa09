/* v4l2.h: frames from a Video4Linux2 webcam (/dev/videoN).
 *
 * Memory-mapped streaming: a few driver buffers are mapped once, queued,
 * and each read waits (select() with a timeout) for the next filled one,
 * converts it, and hands the buffer straight back to the driver. Pixel
 * formats: YUYV (packed 4:2:2, every UVC webcam has it) and MJPEG (decoded
 * with libjpeg; needed for 720p and up at full frame rate on USB 2).
 *
 * What the camera delivers is what the driver agreed to: the requested
 * size and rate are asked for with VIDIOC_S_FMT / VIDIOC_S_PARM and the
 * driver picks the nearest it supports; fer_v4l2_get_format tells what was
 * granted. Grey and colour follow the camera's stated quantization (limited
 * range unless the driver says full; see vision/image_yuv.h); MJPEG colour
 * is libjpeg's RGB and grey is its cvtColor luma, as OpenCV would give.
 *
 * Errors name the device and say what to do: a missing device
 * (NN_ERR_IO, "no such device"), no permission (NN_ERR_IO, "add your user
 * to the 'video' group"), a camera in use by another program (NN_ERR_IO,
 * "busy"), a node that is not a capture device, no supported pixel
 * format (NN_ERR_UNSUPPORTED, listing what the camera offers), a frame that
 * does not arrive within the timeout (NN_ERR_IO), a signal during the wait
 * (NN_ERR_INTERRUPTED, so a program can check its Ctrl-C flag).
 *
 * Threading: a camera handle belongs to one thread at a time; fer-chat
 * opens it and then reads it only from its capture thread.
 */
#ifndef FER_VISION_V4L2_H
#define FER_VISION_V4L2_H

#include <stddef.h>
#include <stdint.h>
#include "nn/error.h"
#include "vision/image.h"
#include "vision/image_yuv.h"

typedef enum {
    FER_V4L2_AUTO = 0, /* YUYV up to 640x480, MJPEG above (USB 2 bandwidth) */
    FER_V4L2_YUYV,
    FER_V4L2_MJPEG,
} fer_v4l2_format;

typedef struct {
    int width, height;      /* requested size; 0 = 640x480 */
    int fps;                /* requested frame rate; 0 = the driver's default */
    fer_v4l2_format format; /* preferred pixel format */
    int buffers;            /* driver buffers to map; 0 = 4 (2..16) */
    int timeout_ms;         /* longest wait for one frame; 0 = 3000 */
} fer_v4l2_opts;

/* What the driver granted. */
typedef struct {
    int width, height;
    fer_v4l2_format format;
    size_t bytesperline;
    int fps_num, fps_den;   /* frames per second as num/den; 0/0 if unknown */
    fer_yuv_range range;
} fer_v4l2_format_info;

typedef struct fer_v4l2 fer_v4l2;

/* Opens the device, negotiates format and rate, maps and queues the
 * buffers and starts streaming. opts may be NULL (all defaults). */
nn_status fer_v4l2_open(fer_v4l2 **out, const char *device, const fer_v4l2_opts *opts,
                        nn_error *err);

const fer_v4l2_format_info *fer_v4l2_get_format(const fer_v4l2 *cam);

/* Waits for the next frame and converts it: grey (required) and rgb (may
 * be NULL). A frame the driver flags as broken, or an MJPEG frame that does
 * not decode, is skipped (up to 5 in a row, then the error is returned). */
nn_status fer_v4l2_read(fer_v4l2 *cam, fer_image *grey, fer_image *rgb, nn_error *err);

/* Stops streaming, unmaps and closes. NULL is fine. */
void fer_v4l2_close(fer_v4l2 *cam);

/* The conversion behind fer_v4l2_read, a pure function so that it can be
 * tested without a camera: `bytes` is one buffer as the driver filled it
 * (`n` bytes used) in format f with the granted size and bytesperline;
 * `name` is for messages. Errors: NN_ERR_FORMAT (buffer too short, MJPEG
 * that does not decode), NN_ERR_ARG, NN_ERR_NOMEM. */
nn_status fer_v4l2_convert(const uint8_t *bytes, size_t n, const fer_v4l2_format_info *f,
                           const char *name, fer_image *grey, fer_image *rgb, nn_error *err);

#endif
