/* What fuzzing (make fuzz) and the bad-input review found, one test per
 * finding, with the input that showed it (docs/bad-inputs.md lists them).
 * The raw inputs are also kept in tests/fuzz/<target>/regressions/ and
 * replayed by test_fuzz_replay; these tests state the expected behaviour
 * in words. */
#include <criterion/criterion.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include "chat/llm_client.h"
#include "data/fer_dataset.h"
#include "export/model_file.h"
#include "nn/model.h"
#include "vision/image_io.h"
#include "vision/v4l2.h"
#include "tests/support.h"

/* A palette PNG with a tRNS chunk (transparency, common in icons and
 * converted GIFs) was refused: libpng expands it to RGBA and the decoder
 * asked for a 4-channel image. Alpha is now dropped as for RGBA PNGs. */
Test(fuzz_findings, png_palette_with_transparency_decodes)
{
    size_t n;
    uint8_t *png = test_read_file("tests/fuzz/image/seeds/palette_trns.png", &n);
    fer_image im = {0};
    nn_error err;
    cr_assert_eq(fer_image_decode(png, n, "palette_trns.png", 0, &im, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(im.width, 5);
    cr_expect_eq(im.height, 3);
    cr_assert_eq(im.channels, 3);
    /* 2-bit indices 0,1,2,3,1 into the palette 0 1 2 | 3 4 5 | 6 7 8 | 9 10 11 */
    static const uint8_t row0[15] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 3, 4, 5};
    cr_expect_eq(memcmp(fer_image_row(&im, 0), row0, 15), 0, "palette colours, not composited");
    cr_assert_eq(fer_image_decode(png, n, "palette_trns.png", 1, &im, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(im.channels, 1);
    fer_image_free(&im);
    free(png);
}

/* fer_model_parse promises a zeroed output on failure; a file whose
 * section table ran past its end (with a valid CRC) left out->kind set. */
Test(fuzz_findings, failed_model_parse_leaves_output_zeroed)
{
    size_t n;
    uint8_t *m = test_read_file("tests/fuzz/model/seeds/truncated.bin", &n);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), m, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) m[n - 4 + i] = (uint8_t)(crc >> (8 * i));
    fer_model_file mf;
    memset(&mf, 0xAB, sizeof mf);
    nn_error err;
    cr_assert_eq(fer_model_parse(m, n, "truncated.bin", 1, NN_NO_GRADS, &mf, &err), NN_ERR_FORMAT);
    static const fer_model_file zero;
    cr_expect_eq(memcmp(&mf, &zero, sizeof mf), 0, "output not zeroed after: %s", err.msg);
    free(m);
}

/* Parses a model file with its CRC recomputed, as the fuzz target does (a
 * mutated file keeps its checksum only by chance). */
static nn_status parse_file(const char *path, nn_error *err)
{
    size_t n;
    uint8_t *m = test_read_file(path, &n);
    cr_assert_geq(n, 28);
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), m, (uInt)(n - 4));
    for (int i = 0; i < 4; i++) m[n - 4 + i] = (uint8_t)(crc >> (8 * i));
    fer_model_file mf;
    nn_status st = fer_model_parse(m, n, path, 1, NN_NO_GRADS, &mf, err);
    fer_model_file_free(&mf);
    free(m);
    return st;
}

/* A class name with a NUL byte inside was accepted and came out shorter
 * than stored (possibly empty). */
Test(fuzz_findings, class_name_with_nul_is_refused)
{
    nn_error err;
    cr_assert_eq(parse_file("tests/fuzz/model/regressions/class_name_with_nul.bin", &err),
                 NN_ERR_FORMAT);
    cr_expect_not_null(strstr(err.msg, "class name"), "%s", err.msg);
}

/* A file marked as a model (not a checkpoint) carrying optimiser and
 * training state loaded as a model with has_optimizer set. */
Test(fuzz_findings, model_kind_with_optimiser_state_is_refused)
{
    nn_error err;
    cr_assert_eq(parse_file("tests/fuzz/model/regressions/model_kind_with_adam.bin", &err),
                 NN_ERR_FORMAT);
    cr_expect_not_null(strstr(err.msg, "not a checkpoint"), "%s", err.msg);
}

/* input(8192,8192,1) conv(64,3) flatten: 4.3e9 values per example, which
 * the int shape of flatten wrapped (to a negative size here; to a small
 * positive one, and a heap overflow, for other sizes). */
Test(fuzz_findings, flatten_larger_than_int_is_refused)
{
    nn_error err;
    cr_assert_eq(parse_file("tests/fuzz/model/regressions/flatten_int_overflow.bin", &err),
                 NN_ERR_SHAPE, "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "flatten"), "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "4292870400"), "%s", err.msg);
}

/* nn_arch_format printed dropout rates with %g (6 digits), so a rate like
 * 0.216777216 came back as another float: a model file's description did
 * not rebuild the network it was saved from. */
Test(fuzz_findings, dropout_rate_survives_format_and_parse)
{
    const float rates[] = {0.5f, 0.2f, 0.25f, 0.216777216f, 1e-7f, 0.99999994f, 0.1f};
    for (size_t i = 0; i < sizeof rates / sizeof rates[0]; i++) {
        nn_arch a = {0}, b;
        a.in_h = a.in_w = a.in_c = 1;
        a.n_layers = 3;
        a.layers[0].kind = NN_LAYER_DROPOUT;
        a.layers[0].rate = rates[i];
        a.layers[1].kind = NN_LAYER_FLATTEN;
        a.layers[2].kind = NN_LAYER_DENSE;
        a.layers[2].units = 7;
        char text[256];
        nn_arch_format(&a, text, sizeof text);
        nn_error err;
        cr_assert_eq(nn_arch_parse(text, &b, &err), NN_OK, "%s: %s", text, err.msg);
        cr_expect_eq(b.layers[0].rate, rates[i], "'%s' reads back as %.9g", text, b.layers[0].rate);
    }
    /* and the usual rates keep their short canonical form (recipes of
     * existing checkpoints compare these strings) */
    nn_arch a;
    nn_error err;
    cr_assert_eq(nn_arch_parse(NN_ARCH_FER_DCNN, &a, &err), NN_OK);
    char text[1024];
    nn_arch_format(&a, text, sizeof text);
    cr_expect_str_eq(text, NN_ARCH_FER_DCNN);
}

/* "usage": {"completion_tokens": 7.7e76} was converted to long: undefined
 * behaviour (UBSan: float-cast-overflow). Such counts are now unknown. */
Test(fuzz_findings, absurd_token_counts_are_unknown)
{
    size_t n;
    char *in = test_read_file("tests/fuzz/llm_reply/regressions/usage_tokens_1e76.bin", &n);
    char *reply = NULL;
    chat_llm_stats st;
    nn_error err;
    /* the first byte selects status 200, application/json, not streamed */
    nn_status rc = chat_llm_parse_response(200, "application/json", 0, in + 1, n - 1, 0, &reply,
                                           &st, NULL, &err);
    cr_assert_eq(rc, NN_OK, "%s", err.msg);
    cr_expect(st.prompt_tokens == -1 || st.completion_tokens == -1);
    free(reply);
    free(in);
}

/* A YUYV buffer whose driver-reported bytesperline is near SIZE_MAX/2:
 * bytesperline * (height - 1) wrapped to a small number, the size check
 * passed and the conversion read 2^63 bytes past the buffer (SEGV). */
Test(fuzz_findings, yuyv_bytesperline_that_wraps_is_refused)
{
    uint8_t buf[16] = {0};
    fer_v4l2_format_info f = {.width = 4, .height = 3, .format = FER_V4L2_YUYV,
                              .bytesperline = SIZE_MAX / 2 + 1};
    fer_image grey = {0};
    nn_error err;
    cr_assert_eq(fer_v4l2_convert(buf, sizeof buf, &f, "cam", &grey, NULL, &err), NN_ERR_FORMAT);
    cr_expect_not_null(strstr(err.msg, "bytesperline"), "%s", err.msg);
    fer_image_free(&grey);
}

/* ---- model files whose description asks for gigabytes ------------------ */

/* The sections of a model file, to rebuild one with another description. */
typedef struct {
    uint32_t tag;
    const uint8_t *data;
    size_t len;
} section;

static size_t read_sections(const uint8_t *m, size_t n, section *s, size_t max)
{
    size_t pos = 24, k = 0;
    while (pos + 16 <= n - 4 && k < max) {
        uint64_t len = 0;
        memcpy(&s[k].tag, m + pos, 4);
        for (int i = 0; i < 8; i++) len |= (uint64_t)m[pos + 8 + i] << (8 * i);
        s[k].data = m + pos + 16;
        s[k].len = (size_t)len;
        pos += 16 + (size_t)len;
        k++;
    }
    return k;
}

static void put(uint8_t **p, const void *src, size_t n)
{
    memcpy(*p, src, n);
    *p += n;
}

/* tests/fuzz/model/seeds/tiny_model.bin with its ARCH replaced by arch and
 * its WGHT by n_params zero weights; the CRC is made right. */
static uint8_t *with_arch(const char *arch, size_t n_params, size_t *out_len)
{
    size_t n;
    uint8_t *m = test_read_file("tests/fuzz/model/seeds/tiny_model.bin", &n);
    section s[8];
    size_t ns = read_sections(m, n, s, 8);
    uint8_t *out = calloc(1, n + strlen(arch) + 8 + 4 * n_params + 64), *p = out;
    cr_assert_not_null(out);
    put(&p, m, 24);
    for (size_t i = 0; i < ns; i++) {
        const uint8_t *data = s[i].data;
        size_t len = s[i].len;
        uint8_t *zeros = NULL;
        if (memcmp(&s[i].tag, "ARCH", 4) == 0) {
            data = (const uint8_t *)arch;
            len = strlen(arch);
        } else if (memcmp(&s[i].tag, "WGHT", 4) == 0) {
            len = 8 + 4 * n_params;
            zeros = calloc(1, len);
            for (int b = 0; b < 8; b++) zeros[b] = (uint8_t)((uint64_t)n_params >> (8 * b));
            data = zeros;
        }
        uint8_t hdr[16] = {0};
        memcpy(hdr, &s[i].tag, 4);
        for (int b = 0; b < 8; b++) hdr[8 + b] = (uint8_t)((uint64_t)len >> (8 * b));
        put(&p, hdr, 16);
        put(&p, data, len);
        free(zeros);
    }
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), out, (uInt)(p - out));
    for (int i = 0; i < 4; i++) *p++ = (uint8_t)(crc >> (8 * i));
    *out_len = (size_t)(p - out);
    free(m);
    return out;
}

/* A 1 KiB file describing input(8191,8192,1) conv(28,3) flatten dense(7):
 * the loader built the network first -- calloc of 52 GB (fuzz_model: ASan
 * "allocator is out of memory"; a plain build says "out of memory") --
 * and only then found the weights missing. The weights are now counted
 * from the description before anything is allocated. */
Test(fuzz_findings, weights_are_counted_before_the_network_is_built)
{
    nn_error err;
    cr_assert_eq(parse_file("tests/fuzz/model/regressions/huge_layer_from_tiny_file.bin", &err),
                 NN_ERR_FORMAT, "%s", err.msg);
    cr_expect_not_null(strstr(err.msg, "weights stored"), "%s", err.msg);
}

/* Few weights, huge activations: 8192x8192 input, a 1x1 convolution and
 * thirteen poolings need 16 weights but 190 million values per image. */
Test(fuzz_findings, activation_heavy_description_is_refused_before_allocating)
{
    char arch[512] = "input(8192,8192,1) conv(1,1)";
    for (int i = 0; i < 13; i++) strcat(arch, " maxpool(2)");
    strcat(arch, " flatten dense(7)");
    size_t len;
    uint8_t *m = with_arch(arch, 2 + 14, &len); /* conv 1 + 1 bias, dense 1*7 + 7 biases */
    fer_model_file mf;
    nn_error err;
    nn_status st = fer_model_parse(m, len, "heavy.bin", 64, NN_NO_GRADS, &mf, &err);
    cr_assert_eq(st, NN_ERR_UNSUPPORTED, "%d: %s", st, err.msg);
    cr_expect_not_null(strstr(err.msg, "values per image"), "%s", err.msg);
    free(m);
}

/* nn_arch_sizes agrees with the built network, for every layer kind. */
Test(fuzz_findings, arch_sizes_match_the_built_network)
{
    const char *archs[] = {
        NN_ARCH_FER_DCNN,
        "input(4,4,1) conv(2,3,relu) flatten dense(7)",
        "input(9,7,1) conv(3,3x5,same) maxpool(2) dropout(0.5) flatten dropout(0.1) dense(5,relu) "
        "dense(7)",
    };
    for (size_t i = 0; i < sizeof archs / sizeof archs[0]; i++) {
        nn_arch a;
        nn_error err;
        cr_assert_eq(nn_arch_parse(archs[i], &a, &err), NN_OK, "%s", err.msg);
        size_t params, values;
        cr_assert_eq(nn_arch_sizes(&a, &params, &values, &err), NN_OK, "%s", err.msg);
        nn_model *m = nn_model_create(&a, 1, NN_NO_GRADS, &err);
        cr_assert_not_null(m, "%s", err.msg);
        cr_expect_eq(params, nn_model_param_count(m), "%s: %zu vs %zu", archs[i], params,
                     nn_model_param_count(m));
        nn_model_free(m);
    }
}

/* ---- CSV: a few large images ---------------------------------------------- */

/* The loader reserved room for 4096 rows at the first row, whatever the
 * image size: one 1024x1024 row asked for 4 GiB (and a 4096x4096 row for
 * 64 GiB, refused as "out of memory"). It now starts at 64 MiB of pixels.
 * Checked in a child under a 1 GiB address-space limit (not under ASan,
 * whose shadow memory alone exceeds that). */
Test(fuzz_findings, csv_of_one_big_image_needs_no_gigabytes)
{
#if defined(__SANITIZE_ADDRESS__)
    cr_skip_test("RLIMIT_AS cannot be used under AddressSanitizer");
#else
    char path[] = "/tmp/fer-big-csv-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    FILE *f = fdopen(fd, "w");
    cr_assert_not_null(f);
    fputs("emotion,pixels\n3,", f);
    for (int i = 0; i < 1024 * 1024; i++) fputs(i ? " 7" : "7", f);
    fputs("\n", f);
    cr_assert_eq(fclose(f), 0);
    pid_t pid = fork();
    cr_assert_geq(pid, 0);
    if (pid == 0) {
        struct rlimit rl = {(rlim_t)1 << 30, (rlim_t)1 << 30};
        if (setrlimit(RLIMIT_AS, &rl)) _exit(3);
        fer_dataset ds;
        nn_error err;
        nn_status st = fer_dataset_load(&ds, path, NULL, NULL, &err);
        if (st) fprintf(stderr, "%s\n", err.msg);
        _exit(st == NN_OK && ds.n == 1 && ds.h == 1024 ? 0 : 1);
    }
    int status;
    waitpid(pid, &status, 0);
    unlink(path);
    cr_assert(WIFEXITED(status) && WEXITSTATUS(status) == 0,
              "loading one 1024x1024 row under a 1 GiB limit failed (status %d)", status);
#endif
}

/* Not a finding, a bad input worth its message: a Keras weights file handed
 * to a program that wants our model file says how to convert it. */
Test(fuzz_findings, hdf5_given_as_a_model_says_how_to_convert)
{
    size_t n;
    uint8_t *m = test_read_file("tests/fuzz/model/seeds/hdf5_magic.bin", &n);
    fer_model_file mf;
    nn_error err;
    cr_assert_eq(fer_model_parse(m, n, "fer.h5", 1, NN_NO_GRADS, &mf, &err), NN_ERR_FORMAT);
    cr_expect_not_null(strstr(err.msg, "fer-export --from-keras"), "%s", err.msg);
    free(m);
}
