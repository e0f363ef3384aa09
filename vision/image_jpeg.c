/* image_jpeg.c: JPEG decoding from memory with libjpeg(-turbo).
 *
 * libjpeg's default error handler prints and calls exit(); ours formats the
 * message into a context and longjmps back, so a bad file is an nn_error.
 * libjpeg only *warns* when the data ends early or the entropy-coded data
 * is damaged, and then pads the picture with grey; those warnings are
 * promoted to errors here, because a half-grey face is worse than no face.
 * Harmless warnings (e.g. extraneous bytes before a marker, common in
 * webcam MJPEG) are ignored.
 *
 * Motion-JPEG frames from webcams usually omit the Huffman tables (DHT);
 * libjpeg-turbo substitutes the standard tables of JPEG Annex K.3, so such
 * frames decode here without extra work. */
#include "vision/image_io.h"

#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jpeglib.h>
#include <jerror.h>

#include "vision/image_exif.h"

typedef struct {
    struct jpeg_error_mgr mgr; /* first, so a j_common_ptr->err casts to us */
    jmp_buf jmp;
    char msg[JMSG_LENGTH_MAX];
} jpeg_ctx;

static void on_error_exit(j_common_ptr cinfo)
{
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    c->mgr.format_message(cinfo, c->msg);
    longjmp(c->jmp, 1);
}

static void on_message(j_common_ptr cinfo, int level)
{
    jpeg_ctx *c = (jpeg_ctx *)cinfo->err;
    if (level >= 0) return; /* trace output */
    switch (c->mgr.msg_code) {
    case JWRN_JPEG_EOF:      /* data ends before the image does: truncated */
    case JWRN_HIT_MARKER:    /* a marker inside entropy-coded data */
    case JWRN_HUFF_BAD_CODE: /* corrupt entropy-coded data */
    case JWRN_MUST_RESYNC:
        c->mgr.format_message(cinfo, c->msg);
        longjmp(c->jmp, 1);
    default:
        break;
    }
    c->mgr.num_warnings++;
}

/* The orientation from the first EXIF APP1 marker saved by the decoder. */
static int find_orientation(j_decompress_ptr d)
{
    for (jpeg_saved_marker_ptr m = d->marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length >= 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0)
            return fer_exif_orientation(m->data, m->data_length);
    return 1;
}

static nn_status decode(const uint8_t *bytes, size_t n, const char *name,
                       int channels, fer_image *im, nn_error *err)
{
    struct jpeg_decompress_struct d;
    jpeg_ctx ctx;
    memset(&d, 0, sizeof d);
    d.err = jpeg_std_error(&ctx.mgr);
    ctx.mgr.error_exit = on_error_exit;
    ctx.mgr.emit_message = on_message;
    ctx.msg[0] = '\0';
    if (setjmp(ctx.jmp)) {
        jpeg_destroy_decompress(&d);
        return nn_fail(err, NN_ERR_FORMAT, "%s: JPEG: %s", name, ctx.msg);
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, bytes, (unsigned long)n);
    jpeg_save_markers(&d, JPEG_APP0 + 1, 0xffff);
    jpeg_read_header(&d, TRUE);

    nn_status st = NN_OK;
    if (d.num_components != 1 && d.num_components != 3) {
        st = nn_fail(err, NN_ERR_UNSUPPORTED, "%s: JPEG with %d colour components "
                     "(CMYK?); only grey and YCbCr/RGB are supported",
                     name, d.num_components);
    } else if (d.image_width > FER_IMAGE_MAX_SIDE || d.image_height > FER_IMAGE_MAX_SIDE) {
        st = nn_fail(err, NN_ERR_FORMAT, "%s: JPEG size %ux%u exceeds %d", name,
                     d.image_width, d.image_height, FER_IMAGE_MAX_SIDE);
    }
    if (st) {
        jpeg_destroy_decompress(&d);
        return st;
    }
    int out_ch = channels ? channels : d.num_components;
    d.out_color_space = out_ch == 1 ? JCS_GRAYSCALE : JCS_RGB;
    int orientation = find_orientation(&d);
    jpeg_start_decompress(&d);
    nn_error e2;
    nn_error_clear(&e2);
    if (fer_image_reserve(im, (int)d.output_width, (int)d.output_height, out_ch, &e2) ||
        d.output_components != out_ch) {
        jpeg_destroy_decompress(&d);
        if (e2.code == NN_OK) return nn_fail(err, NN_ERR_FORMAT, "%s: JPEG: bad output", name);
        return nn_fail(err, e2.code, "%s: JPEG: %s", name, e2.msg);
    }
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = fer_image_row(im, (int)d.output_scanline);
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    if (orientation != 1 && (st = fer_image_orient(im, orientation, err)))
        return nn_error_prefix(err, "%s", name);
    return NN_OK;
}

nn_status fer_jpeg_decode(const uint8_t *bytes, size_t n, const char *name,
                          int channels, fer_image *im, nn_error *err)
{
    if (n >= 2 && bytes[n - 2] == 0xff && bytes[n - 1] == 0xd9)
        return decode(bytes, n, name, channels, im, err);
    /* No EOI marker at the end (some cameras drop it, some files are cut).
     * libjpeg's Huffman decoder reads ahead, so without a marker to stop
     * at it reports "premature end" even for a whole picture. With an EOI
     * appended, a whole picture decodes silently while a cut one still
     * runs out of bits mid-scan and fails (JWRN_HIT_MARKER). */
    uint8_t *copy = malloc(n + 2);
    if (!copy) return nn_fail(err, NN_ERR_NOMEM, "%s: JPEG: out of memory", name);
    memcpy(copy, bytes, n);
    copy[n] = 0xff;
    copy[n + 1] = 0xd9;
    nn_status st = decode(copy, n + 2, name, channels, im, err);
    free(copy);
    return st;
}
