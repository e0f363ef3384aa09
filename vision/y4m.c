/* y4m.c: YUV4MPEG2 reader -- header parsing, FRAME lines, plane data. */
#include "vision/y4m.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct fer_y4m_reader {
    FILE *fp;
    int owns_fp;
    char name[256];
    fer_y4m_info info;
    uint8_t *frame;     /* info.frame_bytes of plane data */
    long frames;
    long long offset;   /* bytes consumed so far, for messages */
    char params[FER_Y4M_MAX_LINE];
};

typedef struct { const char *name; int xshift, yshift, planes; } chroma_layout;

static const chroma_layout LAYOUTS[] = {
    {"420jpeg", 1, 1, 3}, {"420paldv", 1, 1, 3}, {"420mpeg2", 1, 1, 3},
    {"420", 1, 1, 3},     {"422", 1, 0, 3},      {"411", 2, 0, 3},
    {"444", 0, 0, 3},     {"444alpha", 0, 0, 4}, {"mono", 0, 0, 1},
};

typedef enum { LINE_OK, LINE_EOF_AT_START, LINE_TRUNCATED, LINE_TOO_LONG, LINE_IO } line_result;

/* Reads one '\n'-terminated line (newline dropped, NUL-terminated). */
static line_result read_line(fer_y4m_reader *r, char *line, size_t cap, size_t *len)
{
    size_t n = 0;
    for (;;) {
        int c = getc(r->fp);
        if (c == EOF) {
            line[n] = '\0';
            *len = n;
            if (ferror(r->fp)) return LINE_IO;
            return n == 0 ? LINE_EOF_AT_START : LINE_TRUNCATED;
        }
        r->offset++;
        if (c == '\n') break;
        if (n + 1 >= cap) {
            line[n] = '\0';
            *len = n;
            return LINE_TOO_LONG;
        }
        line[n++] = (char)c;
    }
    line[n] = '\0';
    *len = n;
    return LINE_OK;
}

/* Strict decimal: digits only, value in lo..hi. */
static int parse_int(const char *s, long lo, long hi, long *out)
{
    if (!*s) return 0;
    long v = 0;
    for (; *s; s++) {
        if (*s < '0' || *s > '9') return 0;
        v = v * 10 + (*s - '0');
        if (v > hi) return 0;
    }
    if (v < lo) return 0;
    *out = v;
    return 1;
}

static nn_status parse_chroma(fer_y4m_reader *r, const char *val, nn_error *err)
{
    for (size_t i = 0; i < sizeof LAYOUTS / sizeof LAYOUTS[0]; i++) {
        if (strcmp(val, LAYOUTS[i].name) == 0) {
            snprintf(r->info.chroma, sizeof r->info.chroma, "%s", val);
            r->info.chroma_xshift = LAYOUTS[i].xshift;
            r->info.chroma_yshift = LAYOUTS[i].yshift;
            r->info.planes = LAYOUTS[i].planes;
            return NN_OK;
        }
    }
    /* ffmpeg's deep layouts: 420p10, 444p16, mono16, mono9, ... */
    const char *deep = strncmp(val, "mono", 4) == 0 ? val + 4 : strchr(val, 'p');
    if (deep && *deep == 'p') deep++;
    if (deep && *deep >= '0' && *deep <= '9')
        return nn_fail(err, NN_ERR_UNSUPPORTED,
                       "%s: y4m colour space C%s has more than 8 bits per sample; "
                       "convert with ffmpeg -pix_fmt yuv420p", r->name, val);
    return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: unknown y4m colour space C%s", r->name, val);
}

static nn_status parse_header(fer_y4m_reader *r, nn_error *err)
{
    char line[FER_Y4M_MAX_LINE];
    size_t len;
    switch (read_line(r, line, sizeof line, &len)) {
    case LINE_OK: break;
    case LINE_EOF_AT_START:
        return nn_fail(err, NN_ERR_FORMAT, "%s: empty stream, expected a YUV4MPEG2 header",
                       r->name);
    case LINE_IO:
        return nn_fail(err, NN_ERR_IO, "%s: read error: %s", r->name, strerror(errno));
    case LINE_TRUNCATED:
    case LINE_TOO_LONG:
        if (strncmp(line, "YUV4MPEG2", len < 9 ? len : 9) != 0)
            return nn_fail(err, NN_ERR_FORMAT, "%s: not a YUV4MPEG2 stream", r->name);
        return nn_fail(err, NN_ERR_FORMAT, "%s: y4m header %s", r->name,
                       len + 1 >= sizeof line ? "longer than 4096 bytes"
                                              : "cut short (no newline)");
    }
    if (strncmp(line, "YUV4MPEG2", 9) != 0 || (line[9] != ' ' && line[9] != '\0'))
        return nn_fail(err, NN_ERR_FORMAT, "%s: not a YUV4MPEG2 stream (header starts \"%.16s\")",
                       r->name, line);
    fer_y4m_info *in = &r->info;
    nn_status st = parse_chroma(r, "420jpeg", err);
    if (st) return st;
    in->range = FER_RANGE_LIMITED;
    long w = 0, h = 0;
    char *save = NULL;
    for (char *tok = strtok_r(line + 9, " ", &save); tok; tok = strtok_r(NULL, " ", &save)) {
        const char *val = tok + 1;
        switch (tok[0]) {
        case 'W':
            if (!parse_int(val, 1, FER_IMAGE_MAX_SIDE, &w))
                return nn_fail(err, NN_ERR_FORMAT, "%s: y4m header: bad width \"%s\" "
                               "(want 1..%d)", r->name, tok, FER_IMAGE_MAX_SIDE);
            break;
        case 'H':
            if (!parse_int(val, 1, FER_IMAGE_MAX_SIDE, &h))
                return nn_fail(err, NN_ERR_FORMAT, "%s: y4m header: bad height \"%s\" "
                               "(want 1..%d)", r->name, tok, FER_IMAGE_MAX_SIDE);
            break;
        case 'F': {
            char num[32];
            const char *colon = strchr(val, ':');
            long n, d;
            if (!colon || (size_t)(colon - val) >= sizeof num) goto bad_rate;
            memcpy(num, val, (size_t)(colon - val));
            num[colon - val] = '\0';
            if (!parse_int(num, 0, 1L << 30, &n) || !parse_int(colon + 1, 0, 1L << 30, &d) ||
                (d == 0 && n != 0))
                goto bad_rate;
            in->fps_num = (int)n;
            in->fps_den = (int)d;
            break;
        bad_rate:
            return nn_fail(err, NN_ERR_FORMAT, "%s: y4m header: bad frame rate \"%s\" "
                           "(want F<num>:<den>)", r->name, tok);
        }
        case 'C':
            if ((st = parse_chroma(r, val, err))) return st;
            break;
        case 'X':
            if (strcmp(val, "COLORRANGE=FULL") == 0) in->range = FER_RANGE_FULL;
            else if (strcmp(val, "COLORRANGE=LIMITED") == 0) in->range = FER_RANGE_LIMITED;
            break;
        default: /* I (interlacing), A (aspect), unknown tags: not needed */
            break;
        }
    }
    if (!w || !h)
        return nn_fail(err, NN_ERR_FORMAT, "%s: y4m header lacks the %s tag", r->name,
                       !w ? "W (width)" : "H (height)");
    in->width = (int)w;
    in->height = (int)h;
    size_t luma = (size_t)w * (size_t)h;
    size_t cw = ((size_t)w + (1u << in->chroma_xshift) - 1) >> in->chroma_xshift;
    size_t ch = ((size_t)h + (1u << in->chroma_yshift) - 1) >> in->chroma_yshift;
    in->frame_bytes = luma + (in->planes >= 3 ? 2 * cw * ch : 0) + (in->planes == 4 ? luma : 0);
    return NN_OK;
}

nn_status fer_y4m_open_file(fer_y4m_reader **out, FILE *fp, const char *name, nn_error *err)
{
    if (!out || !fp) return nn_fail(err, NN_ERR_ARG, "fer_y4m_open_file: NULL argument");
    *out = NULL;
    fer_y4m_reader *r = calloc(1, sizeof *r);
    if (!r) return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", name ? name : "y4m");
    r->fp = fp;
    snprintf(r->name, sizeof r->name, "%s", name ? name : "y4m stream");
    nn_status st = parse_header(r, err);
    if (!st && !(r->frame = malloc(r->info.frame_bytes)))
        st = nn_fail(err, NN_ERR_NOMEM, "%s: out of memory for a %dx%d frame", r->name,
                     r->info.width, r->info.height);
    if (st) {
        free(r);
        return st;
    }
    *out = r;
    return NN_OK;
}

nn_status fer_y4m_open(fer_y4m_reader **out, const char *path, nn_error *err)
{
    if (!out || !path) return nn_fail(err, NN_ERR_ARG, "fer_y4m_open: NULL argument");
    *out = NULL;
    int is_stdin = strcmp(path, "-") == 0;
    FILE *fp = is_stdin ? stdin : fopen(path, "rb");
    if (!fp) return nn_fail(err, NN_ERR_IO, "%s: cannot open: %s", path, strerror(errno));
    nn_status st = fer_y4m_open_file(out, fp, is_stdin ? "stdin" : path, err);
    if (st) {
        if (!is_stdin) fclose(fp);
        return st;
    }
    (*out)->owns_fp = !is_stdin;
    return NN_OK;
}

const fer_y4m_info *fer_y4m_get_info(const fer_y4m_reader *r) { return &r->info; }
const char *fer_y4m_frame_params(const fer_y4m_reader *r) { return r->params; }
long fer_y4m_frames_read(const fer_y4m_reader *r) { return r->frames; }

/* Reads "FRAME[ params]\n"; *eof when the input ends right before it. */
static nn_status read_frame_header(fer_y4m_reader *r, int *eof, nn_error *err)
{
    char *line = r->params;
    size_t len;
    long long at = r->offset;
    switch (read_line(r, line, sizeof r->params, &len)) {
    case LINE_OK: break;
    case LINE_EOF_AT_START:
        line[0] = '\0';
        *eof = 1;
        return NN_OK;
    case LINE_IO:
        return nn_fail(err, NN_ERR_IO, "%s: frame %ld: read error: %s", r->name, r->frames,
                       strerror(errno));
    case LINE_TRUNCATED:
        return nn_fail(err, NN_ERR_FORMAT, "%s: frame %ld: stream ends inside the FRAME "
                       "header at byte %lld (truncated)", r->name, r->frames, at);
    case LINE_TOO_LONG:
        return nn_fail(err, NN_ERR_FORMAT, "%s: frame %ld: FRAME header at byte %lld "
                       "longer than %d bytes", r->name, r->frames, at, FER_Y4M_MAX_LINE);
    }
    if (strncmp(line, "FRAME", 5) != 0 || (line[5] != ' ' && line[5] != '\0'))
        return nn_fail(err, NN_ERR_FORMAT, "%s: frame %ld: expected \"FRAME\" at byte %lld, "
                       "found \"%.16s\"", r->name, r->frames, at, line);
    /* Keep only the parameters (I, X, ... tags); none are needed here. */
    size_t skip = line[5] == ' ' ? 6 : 5;
    memmove(line, line + skip, len - skip + 1);
    *eof = 0;
    return NN_OK;
}

static void convert(const fer_y4m_reader *r, fer_image *grey, fer_image *rgb)
{
    const fer_y4m_info *in = &r->info;
    int w = in->width, h = in->height;
    const uint8_t *Y = r->frame;
    size_t cw = ((size_t)w + (1u << in->chroma_xshift) - 1) >> in->chroma_xshift;
    size_t ch = ((size_t)h + (1u << in->chroma_yshift) - 1) >> in->chroma_yshift;
    const uint8_t *U = in->planes >= 3 ? Y + (size_t)w * h : NULL;
    const uint8_t *V = U ? U + cw * ch : NULL;
    for (int y = 0; y < h; y++)
        fer_luma_to_grey_row(Y + (size_t)y * w, fer_image_row(grey, y), w, in->range);
    if (!rgb) return;
    for (int y = 0; y < h; y++) {
        size_t crow = (size_t)(y >> in->chroma_yshift) * cw;
        fer_yuv_to_rgb_row(Y + (size_t)y * w, U ? U + crow : NULL, V ? V + crow : NULL,
                           in->chroma_xshift, w, in->range, fer_image_row(rgb, y));
    }
}

nn_status fer_y4m_read(fer_y4m_reader *r, fer_image *grey, fer_image *rgb, int *eof,
                       nn_error *err)
{
    if (!r || !grey || !eof) return nn_fail(err, NN_ERR_ARG, "fer_y4m_read: NULL argument");
    if (grey == rgb) return nn_fail(err, NN_ERR_ARG, "fer_y4m_read: grey and rgb are one image");
    *eof = 0;
    nn_status st = read_frame_header(r, eof, err);
    if (st || *eof) return st;
    size_t got = fread(r->frame, 1, r->info.frame_bytes, r->fp);
    r->offset += (long long)got;
    if (got != r->info.frame_bytes) {
        if (ferror(r->fp))
            return nn_fail(err, NN_ERR_IO, "%s: frame %ld: read error: %s", r->name,
                           r->frames, strerror(errno));
        return nn_fail(err, NN_ERR_FORMAT, "%s: frame %ld truncated: stream ends after %zu "
                       "of its %zu bytes (byte %lld)", r->name, r->frames, got,
                       r->info.frame_bytes, r->offset);
    }
    if ((st = fer_image_reserve(grey, r->info.width, r->info.height, 1, err)) ||
        (rgb && (st = fer_image_reserve(rgb, r->info.width, r->info.height, 3, err))))
        return st;
    convert(r, grey, rgb);
    r->frames++;
    return NN_OK;
}

void fer_y4m_close(fer_y4m_reader *r)
{
    if (!r) return;
    if (r->owns_fp) fclose(r->fp);
    free(r->frame);
    free(r);
}
