/* y4m.h: YUV4MPEG2 video streams, read and written.
 *
 * Y4M is a header line, then for every frame a "FRAME" line and the raw
 * planes (Y', then Cb, then Cr, 8 bits per sample). Any video becomes one
 * with `ffmpeg -i clip.mp4 -pix_fmt yuv420p -f yuv4mpegpipe -`, so this is
 * how the toolkit reads video files without linking a codec library.
 *
 * Stream header: "YUV4MPEG2" then space-separated tags, each a letter and
 * a value: W width, H height (both required), F rate "n:d", I interlacing,
 * A pixel aspect (both ignored), C chroma layout, X extension. Accepted C:
 * 420jpeg, 420paldv, 420mpeg2, 420 (chroma (W+1)/2 x (H+1)/2), 422
 * ((W+1)/2 x H), 411 ((W+3)/4 x H), 444 and 444alpha (W x H; the alpha
 * plane is read and dropped), mono (Y' only). No C tag means 420jpeg, as the
 * format specifies. Samples deeper than 8 bits (420p10, mono16, ...) are
 * NN_ERR_UNSUPPORTED: ask ffmpeg for -pix_fmt yuv420p.
 * Range: "XCOLORRANGE=FULL" (ffmpeg's tag for yuvj/full-range video) means
 * full range; otherwise the video is taken as limited range (BT.601 studio
 * swing), which is what ffmpeg writes for yuv420p and what the format
 * assumed before the tag existed. See vision/image_yuv.h for how grey and
 * RGB are made from Y'CbCr.
 *
 * Errors name the stream ("clip.y4m", or "stdin"), the frame number (from
 * 0) and the byte offset: a bad header, a FRAME line that is not one, and a
 * frame cut short are NN_ERR_FORMAT; clean end of stream (end of input
 * exactly where a FRAME line would begin) is not an error.
 *
 * A reader or writer is used by one thread at a time (the frame source
 * layer hands it to a capture thread); separate readers are independent.
 */
#ifndef FER_VISION_Y4M_H
#define FER_VISION_Y4M_H

#include <stdio.h>
#include "nn/error.h"
#include "vision/image.h"
#include "vision/image_yuv.h"

/* Longest header or FRAME line accepted, newline included. */
#define FER_Y4M_MAX_LINE 4096

typedef struct {
    int width, height;
    int fps_num, fps_den;  /* F tag; 0:0 when absent */
    char chroma[16];       /* C tag as written, "420jpeg" when absent */
    int planes;            /* 1 (mono), 3, or 4 (444alpha) */
    int chroma_xshift;     /* chroma width  = ceil(width  / 2^xshift) */
    int chroma_yshift;     /* chroma height = ceil(height / 2^yshift) */
    fer_yuv_range range;
    size_t frame_bytes;    /* bytes of plane data per frame */
} fer_y4m_info;

typedef struct fer_y4m_reader fer_y4m_reader;

/* Opens path ("-" = standard input) and parses the stream header.
 * On success *out is a reader to release with fer_y4m_close. */
nn_status fer_y4m_open(fer_y4m_reader **out, const char *path, nn_error *err);

/* Same over an already open stream (a pipe, stdin, a memory FILE). The
 * caller keeps ownership of fp and closes it after fer_y4m_close. `name`
 * (copied) appears in error messages. */
nn_status fer_y4m_open_file(fer_y4m_reader **out, FILE *fp, const char *name,
                            nn_error *err);

/* The stream header, valid until fer_y4m_close. */
const fer_y4m_info *fer_y4m_get_info(const fer_y4m_reader *r);

/* Reads the next frame. grey (required) receives the full-range luma;
 * rgb, when not NULL, receives the frame in colour. Both are (re)shaped as
 * needed and their buffers reused between calls. Returns NN_OK and sets
 * *eof = 1 (images untouched) at a clean end of stream, NN_OK and *eof = 0
 * with a frame, or an error (the reader is then unusable except to close). */
nn_status fer_y4m_read(fer_y4m_reader *r, fer_image *grey, fer_image *rgb, int *eof,
                       nn_error *err);

/* The parameters written after "FRAME" on the last frame read (e.g.
 * "Ip XFOO=1"), "" when none. Valid until the next read or close. */
const char *fer_y4m_frame_params(const fer_y4m_reader *r);

/* Frames read so far. */
long fer_y4m_frames_read(const fer_y4m_reader *r);

/* Releases the reader; closes the file only if fer_y4m_open opened it. */
void fer_y4m_close(fer_y4m_reader *r);

/* ---- writing ---------------------------------------------------------- */

typedef struct fer_y4m_writer fer_y4m_writer;

/* Which chroma layout a writer produces. */
typedef enum { FER_Y4M_W420 = 0, FER_Y4M_W444, FER_Y4M_WMONO } fer_y4m_layout;

/* Creates path and writes the stream header for width x height frames at
 * fps_num/fps_den frames per second. The file appears at path only when
 * fer_y4m_writer_close succeeds (nn/atomic_file.h); "-" writes to stdout
 * directly. Frames are written full range and the header says so
 * ("XCOLORRANGE=FULL"), so grey frames read back unchanged. */
nn_status fer_y4m_writer_open(fer_y4m_writer **out, const char *path, int width,
                              int height, int fps_num, int fps_den,
                              fer_y4m_layout layout, nn_error *err);

/* Same over an open stream the caller owns (and closes after). */
nn_status fer_y4m_writer_open_file(fer_y4m_writer **out, FILE *fp, const char *name,
                                   int width, int height, int fps_num, int fps_den,
                                   fer_y4m_layout layout, nn_error *err);

/* Writes one frame from a grey or RGB image of the writer's size. RGB is
 * converted to JFIF Y'CbCr (Y' = fer_rgb_to_grey_row); 4:2:0 chroma is the
 * rounded mean of each 2x2 block. `params`, if not NULL or "", is written
 * after "FRAME " (e.g. "Ip"). */
nn_status fer_y4m_write(fer_y4m_writer *w, const fer_image *im, const char *params,
                        nn_error *err);

/* Flushes and, for a path, commits the file. Always releases w, also on
 * error. Returns the first write error seen, if any. */
nn_status fer_y4m_writer_close(fer_y4m_writer *w, nn_error *err);

/* Drops a writer without committing (the path keeps its old contents). */
void fer_y4m_writer_abort(fer_y4m_writer *w);

#endif
