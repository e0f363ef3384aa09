/* v4l2.c: V4L2 capture device -- open, negotiate, mmap streaming, read.
 * Follows the capture example of the V4L2 API documentation
 * (Documentation/userspace-api/media/v4l/capture.c.rst). */
#include "vision/v4l2.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/videodev2.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/select.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_BUFFERS 16
#define MAX_BAD_FRAMES 5

struct fer_v4l2 {
    int fd;
    char name[128];
    int streaming;
    int timeout_ms;
    unsigned nbuf;
    struct { void *start; size_t length; } buf[MAX_BUFFERS];
    fer_v4l2_format_info fmt;
};

static int xioctl(int fd, unsigned long req, void *arg)
{
    int r;
    do r = ioctl(fd, req, arg);
    while (r == -1 && errno == EINTR);
    return r;
}

/* A failed ioctl as a message that says what to do about it. */
static nn_status ioctl_fail(const fer_v4l2 *c, const char *what, nn_error *err)
{
    int e = errno;
    if (e == EBUSY)
        return nn_fail(err, NN_ERR_IO, "%s: camera busy (%s): another program is using it; "
                       "close it and retry", c->name, what);
    if (e == ENOTTY || e == EINVAL)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: %s not supported by this device: %s",
                       c->name, what, strerror(e));
    if (e == ENODEV)
        return nn_fail(err, NN_ERR_IO, "%s: camera unplugged (%s)", c->name, what);
    return nn_fail(err, NN_ERR_IO, "%s: %s failed: %s", c->name, what, strerror(e));
}

static nn_status open_device(fer_v4l2 *c, const char *dev, nn_error *err)
{
    c->fd = open(dev, O_RDWR | O_NONBLOCK | O_CLOEXEC);
    if (c->fd >= 0) {
        struct stat sb;
        if (fstat(c->fd, &sb) == 0 && !S_ISCHR(sb.st_mode))
            return nn_fail(err, NN_ERR_ARG, "%s: not a device node, so not a camera", dev);
        return NN_OK;
    }
    int e = errno;
    if (e == ENOENT)
        return nn_fail(err, NN_ERR_IO, "%s: no such device: no camera is connected there "
                       "(ls /dev/video* lists the cameras)", dev);
    if (e == EACCES || e == EPERM)
        return nn_fail(err, NN_ERR_IO, "%s: permission denied: add your user to the 'video' "
                       "group (sudo usermod -aG video $USER, then log in again)", dev);
    if (e == EBUSY)
        return nn_fail(err, NN_ERR_IO, "%s: camera busy: another program is using it", dev);
    return nn_fail(err, NN_ERR_IO, "%s: cannot open: %s", dev, strerror(e));
}

static nn_status check_caps(fer_v4l2 *c, nn_error *err)
{
    struct v4l2_capability cap;
    memset(&cap, 0, sizeof cap);
    if (xioctl(c->fd, VIDIOC_QUERYCAP, &cap) == -1) {
        if (errno == ENOTTY || errno == EINVAL)
            return nn_fail(err, NN_ERR_ARG, "%s: not a V4L2 video device", c->name);
        return ioctl_fail(c, "VIDIOC_QUERYCAP", err);
    }
    uint32_t caps = (cap.capabilities & V4L2_CAP_DEVICE_CAPS) ? cap.device_caps : cap.capabilities;
    if (!(caps & V4L2_CAP_VIDEO_CAPTURE))
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s (%s): not a video capture node (webcams "
                       "often add a metadata node; try the neighbouring /dev/videoN)",
                       c->name, (const char *)cap.card);
    if (!(caps & V4L2_CAP_STREAMING))
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s (%s): no streaming I/O", c->name,
                       (const char *)cap.card);
    return NN_OK;
}

/* Picks YUYV or MJPEG among what the device lists (a few drivers call
 * their motion JPEG "JPEG"; it is the same stream). */
static nn_status choose_format(fer_v4l2 *c, fer_v4l2_format want, int w, int h,
                               uint32_t *pixfmt, nn_error *err)
{
    int has_yuyv = 0, has_mjpeg = 0, has_jpeg = 0;
    char offered[256] = "";
    struct v4l2_fmtdesc d;
    for (unsigned i = 0;; i++) {
        memset(&d, 0, sizeof d);
        d.index = i;
        d.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(c->fd, VIDIOC_ENUM_FMT, &d) == -1) break;
        has_yuyv |= d.pixelformat == V4L2_PIX_FMT_YUYV;
        has_mjpeg |= d.pixelformat == V4L2_PIX_FMT_MJPEG;
        has_jpeg |= d.pixelformat == V4L2_PIX_FMT_JPEG;
        size_t len = strlen(offered);
        snprintf(offered + len, sizeof offered - len, "%s%.4s", len ? " " : "",
                 (const char *)&d.pixelformat);
    }
    int any_jpeg = has_mjpeg || has_jpeg;
    if (want == FER_V4L2_AUTO)
        want = (w * h <= 640 * 480 && has_yuyv) || !any_jpeg ? FER_V4L2_YUYV : FER_V4L2_MJPEG;
    if (want == FER_V4L2_YUYV && has_yuyv) *pixfmt = V4L2_PIX_FMT_YUYV;
    else if (want == FER_V4L2_MJPEG && any_jpeg)
        *pixfmt = has_mjpeg ? V4L2_PIX_FMT_MJPEG : V4L2_PIX_FMT_JPEG;
    else
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: camera offers [%s], none of which is the "
                       "%s this reader needs", c->name, offered[0] ? offered : "nothing",
                       want == FER_V4L2_MJPEG ? "MJPEG" : "YUYV");
    c->fmt.format = want;
    return NN_OK;
}

static nn_status negotiate(fer_v4l2 *c, const fer_v4l2_opts *o, nn_error *err)
{
    int w = o->width > 0 ? o->width : 640, h = o->height > 0 ? o->height : 480;
    uint32_t pixfmt = 0;
    nn_status st = choose_format(c, o->format, w, h, &pixfmt, err);
    if (st) return st;
    struct v4l2_format f;
    memset(&f, 0, sizeof f);
    f.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    f.fmt.pix.width = (uint32_t)w;
    f.fmt.pix.height = (uint32_t)h;
    f.fmt.pix.pixelformat = pixfmt;
    f.fmt.pix.field = V4L2_FIELD_ANY;
    if (xioctl(c->fd, VIDIOC_S_FMT, &f) == -1) return ioctl_fail(c, "VIDIOC_S_FMT", err);
    if (f.fmt.pix.pixelformat != pixfmt)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: driver replaced the pixel format by %.4s",
                       c->name, (const char *)&f.fmt.pix.pixelformat);
    if (f.fmt.pix.width == 0 || f.fmt.pix.height == 0 ||
        f.fmt.pix.width > FER_IMAGE_MAX_SIDE || f.fmt.pix.height > FER_IMAGE_MAX_SIDE)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: driver granted size %ux%u", c->name,
                       f.fmt.pix.width, f.fmt.pix.height);
    c->fmt.width = (int)f.fmt.pix.width;
    c->fmt.height = (int)f.fmt.pix.height;
    c->fmt.bytesperline = f.fmt.pix.bytesperline;
    /* V4L2 default quantization: full for the JPEG colourspace, else limited. */
    c->fmt.range = f.fmt.pix.quantization == V4L2_QUANTIZATION_FULL_RANGE ||
                   (f.fmt.pix.quantization == V4L2_QUANTIZATION_DEFAULT &&
                    f.fmt.pix.colorspace == V4L2_COLORSPACE_JPEG)
                       ? FER_RANGE_FULL : FER_RANGE_LIMITED;

    struct v4l2_streamparm p;
    memset(&p, 0, sizeof p);
    p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(c->fd, VIDIOC_G_PARM, &p) == 0 &&
        (p.parm.capture.capability & V4L2_CAP_TIMEPERFRAME) && o->fps > 0) {
        p.parm.capture.timeperframe.numerator = 1;
        p.parm.capture.timeperframe.denominator = (uint32_t)o->fps;
        /* A refused rate is not fatal: the camera streams at its own rate,
         * which G_PARM reports below. A busy camera is. */
        if (xioctl(c->fd, VIDIOC_S_PARM, &p) == -1 && errno == EBUSY)
            return ioctl_fail(c, "VIDIOC_S_PARM", err);
        p.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        if (xioctl(c->fd, VIDIOC_G_PARM, &p) == -1) memset(&p, 0, sizeof p);
    }
    if (p.parm.capture.timeperframe.numerator && p.parm.capture.timeperframe.denominator) {
        c->fmt.fps_num = (int)p.parm.capture.timeperframe.denominator;
        c->fmt.fps_den = (int)p.parm.capture.timeperframe.numerator;
    }
    return NN_OK;
}

static nn_status start_streaming(fer_v4l2 *c, int nbuf, nn_error *err)
{
    struct v4l2_requestbuffers rb;
    memset(&rb, 0, sizeof rb);
    rb.count = (uint32_t)nbuf;
    rb.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    rb.memory = V4L2_MEMORY_MMAP;
    if (xioctl(c->fd, VIDIOC_REQBUFS, &rb) == -1) return ioctl_fail(c, "VIDIOC_REQBUFS", err);
    if (rb.count < 2)
        return nn_fail(err, NN_ERR_NOMEM, "%s: driver granted %u buffers, need 2", c->name,
                       rb.count);
    c->nbuf = rb.count < MAX_BUFFERS ? rb.count : MAX_BUFFERS;
    for (unsigned i = 0; i < c->nbuf; i++) {
        struct v4l2_buffer b;
        memset(&b, 0, sizeof b);
        b.type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b.memory = V4L2_MEMORY_MMAP;
        b.index = i;
        if (xioctl(c->fd, VIDIOC_QUERYBUF, &b) == -1) return ioctl_fail(c, "VIDIOC_QUERYBUF", err);
        void *p = mmap(NULL, b.length, PROT_READ | PROT_WRITE, MAP_SHARED, c->fd, b.m.offset);
        if (p == MAP_FAILED)
            return nn_fail(err, NN_ERR_IO, "%s: mmap of buffer %u: %s", c->name, i,
                           strerror(errno));
        c->buf[i].start = p;
        c->buf[i].length = b.length;
        if (xioctl(c->fd, VIDIOC_QBUF, &b) == -1) return ioctl_fail(c, "VIDIOC_QBUF", err);
    }
    enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
    if (xioctl(c->fd, VIDIOC_STREAMON, &type) == -1) return ioctl_fail(c, "VIDIOC_STREAMON", err);
    c->streaming = 1;
    return NN_OK;
}

nn_status fer_v4l2_open(fer_v4l2 **out, const char *device, const fer_v4l2_opts *opts,
                        nn_error *err)
{
    if (!out || !device) return nn_fail(err, NN_ERR_ARG, "fer_v4l2_open: NULL argument");
    *out = NULL;
    fer_v4l2_opts o = opts ? *opts : (fer_v4l2_opts){0};
    if (o.buffers == 0) o.buffers = 4;
    if (o.buffers < 2 || o.buffers > MAX_BUFFERS || o.width < 0 || o.height < 0 || o.fps < 0 ||
        o.timeout_ms < 0)
        return nn_fail(err, NN_ERR_ARG, "%s: bad capture options (buffers %d: want 2..%d; "
                       "sizes, rate and timeout must not be negative)", device, o.buffers,
                       MAX_BUFFERS);
    fer_v4l2 *c = calloc(1, sizeof *c);
    if (!c) return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", device);
    c->fd = -1;
    snprintf(c->name, sizeof c->name, "%s", device);
    c->timeout_ms = o.timeout_ms ? o.timeout_ms : 3000;
    nn_status st = open_device(c, device, err);
    if (!st) st = check_caps(c, err);
    if (!st) st = negotiate(c, &o, err);
    if (!st) st = start_streaming(c, o.buffers, err);
    if (st) {
        fer_v4l2_close(c);
        return st;
    }
    *out = c;
    return NN_OK;
}

const fer_v4l2_format_info *fer_v4l2_get_format(const fer_v4l2 *c) { return &c->fmt; }

/* Waits for a filled buffer and dequeues it into *b. */
static nn_status dequeue(fer_v4l2 *c, struct v4l2_buffer *b, nn_error *err)
{
    for (;;) {
        fd_set fds;
        FD_ZERO(&fds);
        FD_SET(c->fd, &fds);
        struct timeval tv = {c->timeout_ms / 1000, (c->timeout_ms % 1000) * 1000};
        int r = select(c->fd + 1, &fds, NULL, NULL, &tv);
        if (r == -1 && errno == EINTR)
            return nn_fail(err, NN_ERR_INTERRUPTED, "%s: interrupted while waiting for a frame",
                           c->name);
        if (r == -1) return nn_fail(err, NN_ERR_IO, "%s: select: %s", c->name, strerror(errno));
        if (r == 0)
            return nn_fail(err, NN_ERR_IO, "%s: no frame within %d ms (camera stalled or "
                           "covered by another program?)", c->name, c->timeout_ms);
        memset(b, 0, sizeof *b);
        b->type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        b->memory = V4L2_MEMORY_MMAP;
        if (xioctl(c->fd, VIDIOC_DQBUF, b) == 0) return NN_OK;
        if (errno != EAGAIN) return ioctl_fail(c, "VIDIOC_DQBUF", err);
    }
}

nn_status fer_v4l2_read(fer_v4l2 *c, fer_image *grey, fer_image *rgb, nn_error *err)
{
    if (!c || !grey) return nn_fail(err, NN_ERR_ARG, "fer_v4l2_read: NULL argument");
    nn_status st = NN_OK;
    for (int bad = 0; bad < MAX_BAD_FRAMES; bad++) {
        struct v4l2_buffer b;
        if ((st = dequeue(c, &b, err))) return st;
        if (b.index >= c->nbuf)
            return nn_fail(err, NN_ERR_IO, "%s: driver returned buffer %u of %u", c->name,
                           b.index, c->nbuf);
        if (b.flags & V4L2_BUF_FLAG_ERROR) {
            st = nn_fail(err, NN_ERR_IO, "%s: driver flagged the frame as corrupt", c->name);
        } else {
            size_t used = b.bytesused ? b.bytesused : c->buf[b.index].length;
            if (used > c->buf[b.index].length) used = c->buf[b.index].length;
            st = fer_v4l2_convert(c->buf[b.index].start, used, &c->fmt, c->name, grey, rgb, err);
        }
        if (xioctl(c->fd, VIDIOC_QBUF, &b) == -1) return ioctl_fail(c, "VIDIOC_QBUF", err);
        if (st != NN_ERR_FORMAT && st != NN_ERR_IO) return st; /* OK, or not the frame's fault */
    }
    return nn_error_prefix(err, "%d bad frames in a row", MAX_BAD_FRAMES);
}

void fer_v4l2_close(fer_v4l2 *c)
{
    if (!c) return;
    if (c->streaming) {
        enum v4l2_buf_type type = V4L2_BUF_TYPE_VIDEO_CAPTURE;
        xioctl(c->fd, VIDIOC_STREAMOFF, &type);
    }
    for (unsigned i = 0; i < c->nbuf; i++)
        if (c->buf[i].start) munmap(c->buf[i].start, c->buf[i].length);
    if (c->fd >= 0) close(c->fd);
    free(c);
}
