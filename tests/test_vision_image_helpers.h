/* Shared helpers for the vision image/source tests: a private temporary
 * directory per test and small file writers. Header-only, static. */
#ifndef TEST_VISION_IMAGE_HELPERS_H
#define TEST_VISION_IMAGE_HELPERS_H

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jpeglib.h>

#include "tests/support.h"

/* Creates a fresh directory under /tmp and returns its path (static). */
static inline const char *tmp_dir(void)
{
    static char dir[64];
    snprintf(dir, sizeof dir, "/tmp/fer_vision_test_XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    return dir;
}

/* dir/name in a static buffer (one of 4 rotating slots). */
static inline const char *tmp_path(const char *dir, const char *name)
{
    static char buf[4][256];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof buf[k], "%s/%s", dir, name);
    return buf[k];
}

static inline void rm_tree(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d) return;
    struct dirent *e;
    char p[512];
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(dir);
}

static inline void write_bytes(const char *path, const void *data, size_t n)
{
    FILE *fp = fopen(path, "wb");
    cr_assert_not_null(fp, "cannot create %s", path);
    cr_assert_eq(fwrite(data, 1, n, fp), n);
    cr_assert_eq(fclose(fp), 0);
}

/* Encodes w x h pixels of `comps` components (1 grey, 3 RGB, 4 CMYK) as a
 * baseline JPEG at quality q with libjpeg's standard Huffman tables; an
 * optional APP1 payload follows the header. Caller frees the result. */
static inline uint8_t *jpeg_encode(const uint8_t *px, int w, int h, int comps, int q,
                                   const uint8_t *app1, size_t app1_len, size_t *n)
{
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long len = 0;
    jpeg_mem_dest(&c, &out, &len);
    c.image_width = (JDIMENSION)w;
    c.image_height = (JDIMENSION)h;
    c.input_components = comps;
    c.in_color_space = comps == 1 ? JCS_GRAYSCALE : comps == 3 ? JCS_RGB : JCS_CMYK;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, q, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (app1) jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)app1_len);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(px + (size_t)c.next_scanline * w * comps);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    *n = len;
    return out;
}

#endif
