/* FER CSV loading and validation (data/fer_dataset.h) on small synthetic
 * files, plain and gzip, written to a fresh temporary folder per test. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "data/fer_dataset.h"

/* ---- temporary folder and file helpers --------------------------------- */

static char tmpdir[256];

static void setup(void)
{
    const char *base = getenv("TMPDIR") ? getenv("TMPDIR") : "/tmp";
    snprintf(tmpdir, sizeof tmpdir, "%s/test_data_csv_XXXXXX", base);
    cr_assert(mkdtemp(tmpdir) != NULL, "mkdtemp failed");
}

static void teardown(void)
{
    DIR *d = opendir(tmpdir);
    if (!d) return;
    struct dirent *e;
    char p[600];
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.') continue;
        snprintf(p, sizeof p, "%s/%s", tmpdir, e->d_name);
        unlink(p);
    }
    closedir(d);
    rmdir(tmpdir);
}

TestSuite(data_csv, .init = setup, .fini = teardown);

/* A growing string. */
typedef struct {
    char *s;
    size_t n, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...)
{
    for (;;) {
        va_list ap;
        va_start(ap, fmt);
        size_t room = b->cap - b->n;
        int k = b->s ? vsnprintf(b->s + b->n, room, fmt, ap) : -1;
        va_end(ap);
        if (k >= 0 && (size_t)k < room) {
            b->n += (size_t)k;
            return;
        }
        b->cap = b->cap ? 2 * b->cap + (size_t)(k > 0 ? k : 0) : 4096;
        b->s = realloc(b->s, b->cap);
        cr_assert(b->s != NULL);
    }
}

/* Pixel k of a test image: a pattern that differs per row seed. */
static int pix(int seed, int k)
{
    return (seed * 37 + k * 11) % 256;
}

/* "v0 v1 ... v(npx-1)" of pix(seed, k). */
static void sb_pixels(sbuf *b, int seed, int npx)
{
    for (int k = 0; k < npx; k++) sb_printf(b, k ? " %d" : "%d", pix(seed, k));
}

/* One row in the standard column order. */
static void sb_row(sbuf *b, int label, int seed, int npx, const char *usage)
{
    sb_printf(b, "%d,", label);
    sb_pixels(b, seed, npx);
    sb_printf(b, ",%s\n", usage);
}

static const char *path_of(const char *name)
{
    static char p[600];
    snprintf(p, sizeof p, "%s/%s", tmpdir, name);
    return p;
}

static const char *write_plain(const char *name, const char *data, size_t len)
{
    const char *p = path_of(name);
    FILE *f = fopen(p, "wb");
    cr_assert(f != NULL);
    cr_assert_eq(fwrite(data, 1, len, f), len);
    cr_assert_eq(fclose(f), 0);
    return p;
}

static const char *write_gz(const char *name, const char *data, size_t len)
{
    const char *p = path_of(name);
    gzFile g = gzopen(p, "wb6");
    cr_assert(g != NULL);
    cr_assert_eq(gzwrite(g, data, (unsigned)len), (int)len);
    cr_assert_eq(gzclose(g), Z_OK);
    return p;
}

static long file_len(const char *p)
{
    FILE *f = fopen(p, "rb");
    cr_assert(f != NULL);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fclose(f);
    return n;
}

/* Loads text written to `name` and returns the status. */
static nn_status load_text(const char *name, const char *text, const fer_load_opts *o, fer_dataset *ds,
                           fer_load_report *rep, nn_error *err)
{
    const char *p = write_plain(name, text, strlen(text));
    nn_error_clear(err);
    return fer_dataset_load(ds, p, o, rep, err);
}

/* The message must name FILE:LINE: and contain `reason`. */
static void expect_error(nn_status rc, const nn_error *err, const char *name, long line, const char *reason,
                         const char *what)
{
    cr_expect_eq(rc, NN_ERR_FORMAT, "%s: status %d (%s)", what, rc, err->msg);
    char where[700];
    if (line > 0) snprintf(where, sizeof where, "%s:%ld: ", path_of(name), line);
    else snprintf(where, sizeof where, "%s: ", path_of(name));
    cr_expect(strstr(err->msg, where) != NULL, "%s: message '%s' does not name '%s'", what, err->msg, where);
    cr_expect(strstr(err->msg, reason) != NULL, "%s: message '%s' lacks '%s'", what, err->msg, reason);
}

/* ---- good input ---------------------------------------------------------- */

Test(data_csv, parses_standard_layout_and_splits)
{
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    sb_row(&b, 3, 1, 64, "Training");
    sb_row(&b, 0, 2, 64, "PublicTest");
    sb_row(&b, 6, 3, 64, "PrivateTest");
    sb_row(&b, 1, 4, 64, "Training");
    fer_dataset ds;
    fer_load_report rep;
    nn_error err;
    cr_assert_eq(load_text("a.csv", b.s, NULL, &ds, &rep, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.n, 4);
    cr_expect_eq(ds.h, 8);
    cr_expect_eq(ds.w, 8);
    cr_expect_eq(ds.has_usage, 1);
    const int labels[4] = {3, 0, 6, 1}, splits[4] = {0, 1, 2, 0};
    for (int i = 0; i < 4; i++) {
        cr_expect_eq(ds.labels[i], labels[i], "label of row %d", i);
        cr_expect_eq(ds.splits[i], splits[i], "split of row %d", i);
        cr_expect_eq(ds.lines[i], (uint32_t)(i + 2), "line of row %d", i);
        for (int k = 0; k < 64; k++)
            cr_expect_eq(fer_dataset_image(&ds, i)[k], pix(i + 1, k), "row %d pixel %d", i, k);
    }
    cr_expect_eq(rep.rows_loaded, 4);
    cr_expect_eq(rep.rows_skipped, 0);
    cr_expect_eq(rep.lines, 5);
    cr_expect_eq(rep.bytes, (uint64_t)b.n);

    fer_indices tr, pu, pr;
    cr_assert_eq(fer_split_indices(&ds, FER_SPLIT_TRAINING, &tr, &err), NN_OK);
    cr_assert_eq(fer_split_indices(&ds, FER_SPLIT_PUBLIC_TEST, &pu, &err), NN_OK);
    cr_assert_eq(fer_split_indices(&ds, FER_SPLIT_PRIVATE_TEST, &pr, &err), NN_OK);
    cr_expect_eq(tr.n, 2);
    cr_expect_eq(tr.idx[0], 0);
    cr_expect_eq(tr.idx[1], 3);
    cr_expect_eq(pu.n, 1);
    cr_expect_eq(pu.idx[0], 1);
    cr_expect_eq(pr.n, 1);
    cr_expect_eq(pr.idx[0], 2);
    long counts[FER_NUM_CLASSES];
    fer_class_counts(&ds, tr.idx, tr.n, counts);
    cr_expect(counts[3] == 1 && counts[1] == 1 && counts[0] == 0, "class counts of Training");
    fer_class_counts(&ds, NULL, (uint32_t)ds.n, counts);
    cr_expect(counts[0] == 1 && counts[6] == 1, "class counts of all rows");
    fer_indices_free(&tr);
    fer_indices_free(&pu);
    fer_indices_free(&pr);
    fer_dataset_free(&ds);
    cr_expect(ds.pixels == NULL && ds.n == 0, "free zeroes the struct");
    fer_dataset_free(&ds); /* twice is fine */
    free(b.s);
}

Test(data_csv, columns_in_any_order_extra_columns_ignored)
{
    /* Same data as the standard layout, columns shuffled, extra ones around
     * (one of them quoted with a comma inside), names in other cases. */
    sbuf b = {0};
    sb_printf(&b, "id,USAGE,pixels,note,Emotion\n");
    const int labels[3] = {5, 2, 4};
    const char *usage[3] = {"PublicTest", "Training", "PrivateTest"};
    for (int i = 0; i < 3; i++) {
        sb_printf(&b, "%d,%s,", 100 + i, usage[i]);
        sb_pixels(&b, 10 + i, 16);
        sb_printf(&b, ",\"a, b\",%d\n", labels[i]);
    }
    fer_dataset ds;
    nn_error err;
    cr_assert_eq(load_text("order.csv", b.s, NULL, &ds, NULL, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.n, 3);
    cr_expect_eq(ds.h, 4);
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(ds.labels[i], labels[i]);
        cr_expect_eq(ds.splits[i], i == 0 ? FER_SPLIT_PUBLIC_TEST : i == 1 ? FER_SPLIT_TRAINING : FER_SPLIT_PRIVATE_TEST);
        for (int k = 0; k < 16; k++) cr_expect_eq(fer_dataset_image(&ds, i)[k], pix(10 + i, k));
    }
    fer_dataset_free(&ds);
    free(b.s);
}

Test(data_csv, quoting_crlf_blank_lines_bom_and_no_final_newline)
{
    /* A BOM, CRLF line ends, a blank line, a quoted pixels field, a quoted
     * label with spaces, and a last row without a newline. */
    const char *text = "\xEF\xBB\xBF"
                       "emotion,pixels,Usage\r\n"
                       "1,\"0 1 2 3\",Training\r\n"
                       "\r\n"
                       "  \" 2 \" , 4  5 6   7 ,PublicTest\r\n"
                       "3,255 254 253 252,Training";
    fer_dataset ds;
    fer_load_report rep;
    nn_error err;
    cr_assert_eq(load_text("crlf.csv", text, NULL, &ds, &rep, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(ds.n, 3);
    cr_expect_eq(ds.h, 2);
    cr_expect_eq(ds.labels[1], 2);
    cr_expect_eq(ds.splits[1], FER_SPLIT_PUBLIC_TEST);
    cr_expect_eq(ds.lines[1], 4, "blank line counted: row 2 is on line 4");
    cr_expect_eq(ds.lines[2], 5);
    const uint8_t want[3][4] = {{0, 1, 2, 3}, {4, 5, 6, 7}, {255, 254, 253, 252}};
    for (int i = 0; i < 3; i++)
        for (int k = 0; k < 4; k++) cr_expect_eq(fer_dataset_image(&ds, i)[k], want[i][k]);
    cr_expect_eq(rep.lines, 5);
    fer_dataset_free(&ds);
}

Test(data_csv, default_size_48x48)
{
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    sb_row(&b, 4, 7, 48 * 48, "Training");
    sb_row(&b, 5, 8, 48 * 48, "Training");
    fer_dataset ds;
    nn_error err;
    cr_assert_eq(load_text("big.csv", b.s, NULL, &ds, NULL, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.h, 48);
    cr_expect_eq(ds.w, 48);
    cr_expect_eq(fer_dataset_image(&ds, 1)[2303], pix(8, 2303));
    fer_dataset_free(&ds);
    free(b.s);
}

Test(data_csv, no_usage_column_is_one_split)
{
    sbuf b = {0};
    sb_printf(&b, "pixels,emotion\n");
    for (int i = 0; i < 3; i++) {
        sb_pixels(&b, i, 9);
        sb_printf(&b, ",%d\n", i);
    }
    fer_dataset ds;
    nn_error err;
    cr_assert_eq(load_text("nousage.csv", b.s, NULL, &ds, NULL, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.has_usage, 0);
    cr_expect_eq(ds.h, 3);
    for (int i = 0; i < 3; i++) cr_expect_eq(ds.splits[i], FER_SPLIT_TRAINING);
    fer_dataset_free(&ds);

    fer_load_opts o = {.default_split = FER_SPLIT_PUBLIC_TEST};
    cr_assert_eq(load_text("nousage.csv", b.s, &o, &ds, NULL, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 3; i++) cr_expect_eq(ds.splits[i], FER_SPLIT_PUBLIC_TEST);
    fer_dataset_free(&ds);
    free(b.s);
}

Test(data_csv, gzip_reads_the_same_as_plain)
{
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    for (int i = 0; i < 50; i++) sb_row(&b, i % 7, i, 25, i % 5 ? "Training" : "PublicTest");
    nn_error err;
    fer_dataset plain, gz;
    cr_assert_eq(fer_dataset_load(&plain, write_plain("p.csv", b.s, b.n), NULL, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_dataset_load(&gz, write_gz("g.csv.gz", b.s, b.n), NULL, NULL, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(gz.n, 50);
    cr_expect_eq(gz.h, 5);
    cr_expect_eq(memcmp(gz.pixels, plain.pixels, 50 * 25), 0);
    cr_expect_eq(memcmp(gz.labels, plain.labels, 50), 0);
    cr_expect_eq(memcmp(gz.splits, plain.splits, 50), 0);
    fer_dataset_free(&plain);
    fer_dataset_free(&gz);
    free(b.s);
}

Test(data_csv, max_rows_and_forced_side)
{
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    for (int i = 0; i < 10; i++) sb_row(&b, 1, i, 16, "Training");
    fer_dataset ds;
    nn_error err;
    fer_load_opts o = {.max_rows = 4};
    cr_assert_eq(load_text("m.csv", b.s, &o, &ds, NULL, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.n, 4);
    fer_dataset_free(&ds);

    o = (fer_load_opts){.side = 4};
    cr_assert_eq(load_text("m.csv", b.s, &o, &ds, NULL, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.n, 10);
    fer_dataset_free(&ds);

    o = (fer_load_opts){.side = 3};
    nn_status rc = load_text("m.csv", b.s, &o, &ds, NULL, &err);
    expect_error(rc, &err, "m.csv", 2, "pixels: 16 values, expected 9 (3x3)", "forced side");
    cr_expect(ds.pixels == NULL && ds.n == 0, "failed load leaves ds empty");
    free(b.s);
}

/* ---- bad input: every case names file, line and reason ------------------ */

typedef struct {
    const char *what, *text;
    long line; /* 0: a file-level message without a line */
    const char *reason;
} bad_case;

static const bad_case bad_cases[] = {
    {"too few pixels", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2 3,Training\n", 3,
     "pixels: 3 values, expected 4 (2x2)"},
    {"too many pixels", "emotion,pixels,Usage\n0,1 2 3 4,Training\n\n1,1 2 3 4 5,Training\n", 4,
     "pixels: 5 values, expected 4 (2x2)"},
    {"non-numeric pixel", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2 x3 4,Training\n", 3,
     "pixels: value 3 'x3' is not an integer in 0..255"},
    {"digits then junk", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2.5 3 4,Training\n", 3,
     "pixels: value 2 '2.5' is not an integer in 0..255"},
    {"negative pixel", "emotion,pixels,Usage\n0,1 -2 3 4,Training\n", 2,
     "pixels: value 2 '-2' is not an integer in 0..255"},
    {"pixel out of range", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2 3 256,Training\n", 3,
     "pixels: value 4 '256' is out of range 0..255"},
    {"huge pixel", "emotion,pixels,Usage\n0,1 99999999999999999999 3 4,Training\n", 2,
     "value 2 '99999999999999999999' is out of range 0..255"},
    {"empty pixels", "emotion,pixels,Usage\n0,,Training\n", 2, "pixels field is empty"},
    {"label 7", "emotion,pixels,Usage\n0,1 2 3 4,Training\n7,1 2 3 4,Training\n", 3,
     "emotion label 7 is outside 0..6"},
    {"label -1", "emotion,pixels,Usage\n-1,1 2 3 4,Training\n", 2, "emotion '-1' is not an integer label 0..6"},
    {"label text", "emotion,pixels,Usage\nhappy,1 2 3 4,Training\n", 2,
     "emotion 'happy' is not an integer label 0..6"},
    {"empty label", "emotion,pixels,Usage\n,1 2 3 4,Training\n", 2, "emotion field is empty"},
    {"unknown usage", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2 3 4,Validation\n", 3,
     "unknown Usage 'Validation' (expected Training, PublicTest or PrivateTest)"},
    {"too few fields", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2 3 4\n", 3,
     "2 fields, expected 3 as in the header"},
    {"too many fields", "emotion,pixels,Usage\n0,1 2 3 4,Training,extra\n", 2,
     "more fields than the 3 of the header"},
    {"not square", "emotion,pixels,Usage\n0,1 2 3,Training\n", 2, "pixels: 3 values is not a square image"},
    {"open quote", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,\"1 2 3 4,Training\n2,1 2 3 4,Training\n", 3,
     "quoted field not closed at the end of the line"},
    {"open quote at end of file", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,\"1 2 3 4,Training", 3,
     "quoted field not closed at the end of the file"},
    {"stray quote", "emotion,pixels,Usage\n0,1 2 3 4,Training\n1,1 2 \"3\" 4,Training\n", 3,
     "malformed quoting"},
    {"missing pixels column", "emotion,image,Usage\n0,1 2 3 4,Training\n", 1,
     "missing column 'pixels' in the header (found 'emotion', 'image', 'Usage')"},
    {"missing emotion column", "\n\npixels,Usage\n1 2 3 4,Training\n", 3, "missing column 'emotion'"},
    {"no header line", "0,1 2 3 4,Training\n", 1, "missing column 'emotion' in the header (found '0'"},
    {"duplicate column", "emotion,pixels,Pixels\n0,1 2 3 4,1 2 3 4\n", 1,
     "column 'pixels' appears twice in the header (columns 2 and 3)"},
    {"empty file", "", 0, "empty file: no header line"},
    {"blank file", "\n  \n\r\n", 0, "empty file: no header line"},
    {"header only", "emotion,pixels,Usage\n", 0, "no data rows after the header"},
};

Test(data_csv, each_bad_input_names_file_line_and_reason)
{
    for (size_t i = 0; i < sizeof bad_cases / sizeof bad_cases[0]; i++) {
        const bad_case *c = &bad_cases[i];
        fer_dataset ds;
        fer_load_report rep;
        nn_error err;
        nn_status rc = load_text("bad.csv", c->text, NULL, &ds, &rep, &err);
        expect_error(rc, &err, "bad.csv", c->line, c->reason, c->what);
        cr_expect(ds.n == 0 && ds.pixels == NULL, "%s: ds left empty", c->what);
        cr_expect_eq(rep.rows_loaded, 0, "%s", c->what);
        fer_dataset_free(&ds);
    }
}

Test(data_csv, bad_rows_in_gzip_files_too)
{
    const char *text = "emotion,pixels,Usage\n0,1 2 3 4,Training\n9,1 2 3 4,Training\n";
    fer_dataset ds;
    nn_error err;
    nn_status rc = fer_dataset_load(&ds, write_gz("bad.csv.gz", text, strlen(text)), NULL, NULL, &err);
    expect_error(rc, &err, "bad.csv.gz", 3, "emotion label 9 is outside 0..6", "gzip");
}

Test(data_csv, missing_file_is_an_io_error)
{
    fer_dataset ds;
    nn_error err;
    nn_status rc = fer_dataset_load(&ds, path_of("nope.csv"), NULL, NULL, &err);
    cr_expect_eq(rc, NN_ERR_IO);
    cr_expect(strstr(err.msg, "nope.csv: cannot open: No such file") != NULL, "%s", err.msg);
}

Test(data_csv, bad_arguments)
{
    fer_dataset ds;
    nn_error err;
    cr_expect_eq(fer_dataset_load(NULL, "x", NULL, NULL, &err), NN_ERR_ARG);
    cr_expect_eq(fer_dataset_load(&ds, NULL, NULL, NULL, &err), NN_ERR_ARG);
    fer_load_opts o = {.side = -1};
    cr_expect_eq(fer_dataset_load(&ds, "x", &o, NULL, &err), NN_ERR_ARG);
    o = (fer_load_opts){.default_split = (fer_split)7};
    cr_expect_eq(fer_dataset_load(&ds, "x", &o, NULL, &err), NN_ERR_ARG);
}

/* ---- skip mode -------------------------------------------------------------- */

Test(data_csv, skip_mode_counts_and_reports_bad_rows)
{
    /* The first row is bad (not square), so the size comes from the second;
     * a bad row between good ones must not disturb its neighbours. */
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    sb_row(&b, 0, 0, 15, "Training");    /* line 2: 15 values, not square */
    sb_row(&b, 1, 1, 16, "Training");    /* 3: good */
    sb_row(&b, 2, 2, 15, "Training");    /* 4: 15 values, expected 16 */
    sb_row(&b, 8, 3, 16, "Training");    /* 5: label 8 */
    sb_row(&b, 3, 4, 16, "PublicTest");  /* 6: good */
    sb_printf(&b, "4,\"1 2\n");          /* 7: open quote */
    sb_row(&b, 5, 5, 16, "Nope");        /* 8: unknown usage */
    sb_row(&b, 6, 6, 16, "PrivateTest"); /* 9: good */
    fer_load_opts o = {.skip_bad_rows = 1};
    fer_dataset ds;
    fer_load_report rep;
    nn_error err;
    cr_assert_eq(load_text("skip.csv", b.s, &o, &ds, &rep, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(rep.rows_loaded, 3);
    cr_expect_eq(rep.rows_skipped, 5);
    cr_assert_eq(rep.n_reasons, 5);
    const long lines[5] = {2, 4, 5, 7, 8};
    const char *why[5] = {"not a square image", "15 values, expected 16 (4x4)", "emotion label 8",
                          "quoted field not closed", "unknown Usage 'Nope'"};
    for (int i = 0; i < 5; i++) {
        char where[700];
        snprintf(where, sizeof where, "%s:%ld: ", path_of("skip.csv"), lines[i]);
        cr_expect(strstr(rep.reasons[i], where) != NULL, "reason %d '%s' names %s", i, rep.reasons[i], where);
        cr_expect(strstr(rep.reasons[i], why[i]) != NULL, "reason %d '%s' says %s", i, rep.reasons[i], why[i]);
    }
    cr_assert_eq(ds.n, 3);
    cr_expect_eq(ds.h, 4);
    const int seeds[3] = {1, 4, 6}, labels[3] = {1, 3, 6};
    const uint32_t at[3] = {3, 6, 9};
    for (int i = 0; i < 3; i++) {
        cr_expect_eq(ds.labels[i], labels[i]);
        cr_expect_eq(ds.lines[i], at[i]);
        for (int k = 0; k < 16; k++) cr_expect_eq(fer_dataset_image(&ds, i)[k], pix(seeds[i], k), "row %d px %d", i, k);
    }
    cr_expect_eq(ds.splits[2], FER_SPLIT_PRIVATE_TEST);
    fer_dataset_free(&ds);

    /* Without the option, the same file stops at line 2. */
    nn_status rc = load_text("skip.csv", b.s, NULL, &ds, &rep, &err);
    expect_error(rc, &err, "skip.csv", 2, "not a square image", "stop mode");
    free(b.s);
}

Test(data_csv, skip_mode_keeps_first_reasons_only)
{
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    sb_row(&b, 0, 0, 4, "Training");
    for (int i = 0; i < 12; i++) sb_row(&b, 0, i, 5, "Training"); /* lines 3..14 bad */
    sb_row(&b, 0, 0, 4, "Training");
    fer_load_opts o = {.skip_bad_rows = 1};
    fer_dataset ds;
    fer_load_report rep;
    nn_error err;
    cr_assert_eq(load_text("many.csv", b.s, &o, &ds, &rep, &err), NN_OK, "%s", err.msg);
    cr_expect_eq(ds.n, 2);
    cr_expect_eq(rep.rows_skipped, 12);
    cr_expect_eq(rep.n_reasons, FER_LOAD_MAX_REASONS);
    cr_expect(strstr(rep.reasons[FER_LOAD_MAX_REASONS - 1], "many.csv:10: ") != NULL, "%s",
              rep.reasons[FER_LOAD_MAX_REASONS - 1]);
    fer_dataset_free(&ds);
    free(b.s);
}

Test(data_csv, skip_mode_fails_when_nothing_is_usable)
{
    fer_load_opts o = {.skip_bad_rows = 1};
    fer_dataset ds;
    fer_load_report rep;
    nn_error err;
    nn_status rc = load_text("allbad.csv", "emotion,pixels,Usage\n9,1 2 3 4,Training\n0,1 2 3,Training\n", &o, &ds,
                             &rep, &err);
    expect_error(rc, &err, "allbad.csv", 0, "no usable rows: all 2 data rows are malformed", "all bad");
    cr_expect(strstr(err.msg, "allbad.csv:2: emotion label 9") != NULL, "first reason quoted: %s", err.msg);
    cr_expect_eq(rep.rows_skipped, 2);

    /* Header problems stop the load even in skip mode. */
    rc = load_text("hdr.csv", "emotion,pixel,Usage\n0,1 2 3 4,Training\n", &o, &ds, &rep, &err);
    expect_error(rc, &err, "hdr.csv", 1, "missing column 'pixels'", "header in skip mode");
}

/* ---- damaged gzip ----------------------------------------------------------- */

static sbuf many_rows(int n)
{
    sbuf b = {0};
    sb_printf(&b, "emotion,pixels,Usage\n");
    for (int i = 0; i < n; i++) sb_row(&b, i % 7, i, 64, "Training");
    return b;
}

Test(data_csv, truncated_gzip_is_detected)
{
    sbuf b = many_rows(400);
    const char *p = write_gz("t.csv.gz", b.s, b.n);
    long full = file_len(p);
    fer_dataset ds;
    nn_error err;
    for (int mode = 0; mode < 2; mode++) {
        /* Cut in the middle, and just before the 8-byte trailer (all data
         * present, only the checksum missing). */
        long keep = mode == 0 ? full / 2 : full - 8;
        cr_assert_eq(truncate(p, keep), 0);
        for (int skip = 0; skip < 2; skip++) {
            fer_load_opts o = {.skip_bad_rows = skip};
            nn_status rc = fer_dataset_load(&ds, p, &o, NULL, &err);
            cr_expect_eq(rc, NN_ERR_FORMAT, "cut at %ld, skip %d: %d %s", keep, skip, rc, err.msg);
            cr_expect(strstr(err.msg, p) != NULL, "%s", err.msg);
            cr_expect(strstr(err.msg, "gzip data ends early (truncated file?)") != NULL, "%s", err.msg);
            cr_expect(ds.n == 0 && ds.pixels == NULL);
        }
        p = write_gz("t.csv.gz", b.s, b.n);
    }
    free(b.s);
}

Test(data_csv, corrupt_gzip_is_detected)
{
    sbuf b = many_rows(400);
    const char *p = write_gz("c.csv.gz", b.s, b.n);
    long full = file_len(p);
    fer_dataset ds;
    nn_error err;
    /* A wrong CRC in the trailer: the data parses, the checksum fails. */
    FILE *f = fopen(p, "r+b");
    cr_assert(f != NULL);
    fseek(f, full - 8, SEEK_SET);
    int c = fgetc(f);
    fseek(f, full - 8, SEEK_SET);
    fputc(c ^ 0x5a, f);
    fclose(f);
    nn_status rc = fer_dataset_load(&ds, p, NULL, NULL, &err);
    cr_expect_eq(rc, NN_ERR_FORMAT, "%s", err.msg);
    cr_expect(strstr(err.msg, ": corrupt gzip data after line ") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, ": incorrect data check") != NULL, "%s", err.msg);
    cr_expect(strstr(err.msg, p) != NULL, "%s", err.msg);

    /* Garbage inside the deflate stream: an error, whichever is hit first
     * (zlib's or a malformed row), never success. */
    p = write_gz("c.csv.gz", b.s, b.n);
    f = fopen(p, "r+b");
    cr_assert(f != NULL);
    fseek(f, full / 3, SEEK_SET);
    for (int i = 0; i < 64; i++) fputc(0xff, f);
    fclose(f);
    fer_load_opts o = {.skip_bad_rows = 1};
    rc = fer_dataset_load(&ds, p, &o, NULL, &err);
    cr_expect_eq(rc, NN_ERR_FORMAT, "%s", err.msg);
    cr_expect(strstr(err.msg, "corrupt gzip data") != NULL, "%s", err.msg);
    free(b.s);
}

/* ---- small helpers ------------------------------------------------------------ */

Test(data_csv, names_and_split_parsing)
{
    cr_expect_str_eq(fer_class_name(0), "angry");
    cr_expect_str_eq(fer_class_name(6), "neutral");
    cr_expect_str_eq(fer_class_name(7), "?");
    cr_expect_str_eq(fer_split_name(FER_SPLIT_PUBLIC_TEST), "PublicTest");
    fer_split s;
    nn_error err;
    cr_expect_eq(fer_split_parse("privatetest", &s, &err), NN_OK);
    cr_expect_eq(s, FER_SPLIT_PRIVATE_TEST);
    cr_expect_eq(fer_split_parse("val", &s, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "unknown split 'val'") != NULL, "%s", err.msg);
}
