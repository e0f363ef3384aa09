/* Text, JSON and CSV reports (eval/report.h), parsed back and compared with
 * the metrics they came from. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "eval/report.h"
#include "tests/support.h"

#define TOL 1e-12

/* Same five-class case as test_eval_metrics.c: c never predicted (precision
 * 0/0), d never present (recall 0/0), e neither (all 0/0). */
static const char *const names5[5] = {"a", "b", "c", "d", "e"};
static const int labels9[9] = {0, 0, 0, 1, 1, 1, 2, 2, 2};
static const int preds9[9] = {0, 0, 1, 1, 0, 3, 0, 1, 1};

static void fill9(fer_metrics *m)
{
    nn_error err;
    float p[5];
    cr_assert_eq(fer_metrics_init(m, 5, names5, &err), NN_OK, "%s", err.msg);
    for (int i = 0; i < 9; i++) {
        for (int j = 0; j < 5; j++) p[j] = 0.1f;
        p[preds9[i]] = 0.6f;
        cr_assert_eq(fer_metrics_add(m, labels9[i], p, NULL, &err), NN_OK, "%s", err.msg);
    }
    cr_assert_eq(fer_metrics_finish(m, &err), NN_OK, "%s", err.msg);
}

/* Everything a FILE* writer printed, as one malloc'd string. */
typedef nn_status (*writer)(FILE *fp, const fer_metrics *m, int arg, nn_error *err);

/* noinline: inlined, GCC 12 mistakes the stream's copy of &buf for a dangling pointer */
__attribute__((noinline)) static char *capture(writer fn, const fer_metrics *m, int arg)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *fp = open_memstream(&buf, &len);
    cr_assert_not_null(fp);
    nn_error err;
    nn_status st = fn(fp, m, arg, &err);
    fclose(fp);
    cr_assert_eq(st, NN_OK, "%s", err.msg);
    return buf;
}

static nn_status classification(FILE *fp, const fer_metrics *m, int digits, nn_error *err)
{
    return fer_report_classification(fp, m, digits, err);
}
static nn_status confusion_text(FILE *fp, const fer_metrics *m, int norm, nn_error *err)
{
    return fer_report_confusion_text(fp, m, norm, err);
}
static nn_status full_text(FILE *fp, const fer_metrics *m, int digits, nn_error *err)
{
    static const fer_report_kv extra[] = {{"seed", "42"}};
    const fer_report_meta meta = {.model_path = "model.fer", .data_path = "fer2013.csv.gz",
                                  .split = "PublicTest", .tta = 1, .extra = extra, .n_extra = 1,
                                  .command = "fer-eval -m model.fer"};
    return fer_report_text(fp, m, &meta, digits, err);
}
static nn_status csv(FILE *fp, const fer_metrics *m, int norm, nn_error *err)
{
    return fer_report_confusion_csv(fp, m, norm, err);
}

static char tmpdir[64];

static void make_tmpdir(void)
{
    snprintf(tmpdir, sizeof tmpdir, "/tmp/fer_report_XXXXXX");
    cr_assert_not_null(mkdtemp(tmpdir));
}

/* Names in tmpdir other than `keep` (leftover temporaries), removing all. */
static int clean_tmpdir(int count_only_leftovers, const char *keep1, const char *keep2)
{
    int leftovers = 0;
    DIR *d = opendir(tmpdir);
    cr_assert_not_null(d);
    struct dirent *e;
    char path[512];
    while ((e = readdir(d))) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..")) continue;
        if (count_only_leftovers && (!keep1 || strcmp(e->d_name, keep1)) && (!keep2 || strcmp(e->d_name, keep2)))
            leftovers++;
        snprintf(path, sizeof path, "%s/%s", tmpdir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(tmpdir);
    return leftovers;
}

/* sklearn's documented output for y_true [0 1 2 2 2], y_pred [0 0 2 2 1],
 * target_names class 0..2 (scikit-learn 0.20 and later), byte for byte. */
Test(eval_report, classification_is_sklearn_layout_byte_for_byte)
{
    static const int yt[5] = {0, 1, 2, 2, 2}, yp[5] = {0, 0, 2, 2, 1};
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 3, (const char *const[]){"class 0", "class 1", "class 2"}, &err), NN_OK);
    for (int i = 0; i < 5; i++) cr_assert_eq(fer_metrics_add_prediction(&m, yt[i], yp[i], &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    char *got = capture(classification, &m, 0);
    const char *want =
        "              precision    recall  f1-score   support\n"
        "\n"
        "     class 0       0.50      1.00      0.67         1\n"
        "     class 1       0.00      0.00      0.00         1\n"
        "     class 2       1.00      0.67      0.80         3\n"
        "\n"
        "    accuracy                           0.60         5\n"
        "   macro avg       0.50      0.56      0.49         5\n"
        "weighted avg       0.70      0.60      0.61         5\n";
    cr_expect_str_eq(got, want);
    free(got);
    got = capture(classification, &m, 4);
    cr_expect(strstr(got, "     class 2     1.0000    0.6667    0.8000         3\n") != NULL, "%s", got);
    free(got);
    fer_metrics_free(&m);
}

Test(eval_report, long_names_widen_the_label_column)
{
    static const char *const nm[2] = {"a-very-long-class-name", "b"};
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 2, nm, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 0, 0, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 1, 0, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    char *got = capture(classification, &m, 2);
    cr_expect(strstr(got, "\na-very-long-class-name       0.50      1.00      0.67         1\n"), "%s", got);
    cr_expect(strstr(got, "\n                     b       0.00      0.00      0.00         1\n"), "%s", got);
    cr_expect(strstr(got, "\n          weighted avg       0.25      0.50      0.33         2\n"), "%s", got);
    free(got);
    fer_metrics_free(&m);
}

Test(eval_report, confusion_tables)
{
    fer_metrics m;
    fill9(&m);
    char *got = capture(confusion_text, &m, 0);
    const char *want = "true \\ predicted\n"
                       "      a  b  c  d  e\n"
                       "   a  2  1  0  0  0\n"
                       "   b  1  1  0  1  0\n"
                       "   c  1  2  0  0  0\n"
                       "   d  0  0  0  0  0\n"
                       "   e  0  0  0  0  0\n";
    cr_expect_str_eq(got, want);
    free(got);
    got = capture(confusion_text, &m, 1);
    cr_expect(strstr(got, "\n   a   66.7   33.3    0.0    0.0    0.0\n") != NULL, "%s", got);
    cr_expect(strstr(got, "\n   d      -      -      -      -      -\n") != NULL, "%s", got);
    free(got);
    fer_metrics_free(&m);
}

Test(eval_report, text_report_lines_and_zero_division_footnote)
{
    fer_metrics m;
    fill9(&m);
    char *got = capture(full_text, &m, 2);
    const char *lines[] = {
        "model:     model.fer\n",
        "data:      fer2013.csv.gz\n",
        "split:     PublicTest\n",
        "tta:       yes\n",
        "seed:      42\n",
        "command:   fer-eval -m model.fer\n",
        "samples:        9\n",
        "accuracy:       0.3333  (3 of 9 correct)\n",
        "top-2 accuracy: 0.5556\n", /* 5 of 9: label second, ties to the lower index */
        "           a       0.50      0.67      0.57         3\n",
        "           c       0.00      0.00      0.00         3\n",
        "    accuracy                           0.33         9\n",
        "   macro avg       0.15      0.20      0.17         9\n",
        "weighted avg       0.25      0.33      0.29         9\n",
        "   b  1  1  0  1  0\n",
        "* precision of 'c' is 0/0 (no sample was predicted 'c'); reported as 0.\n",
        "* recall of 'd' is 0/0 (no sample of class 'd' in the data); reported as 0.\n",
        "* precision of 'e' is 0/0",
        "* recall of 'e' is 0/0",
        "* f1-score of 'e' is 0/0 (neither present nor predicted); reported as 0.\n",
        "zero_division=0",
    };
    for (size_t i = 0; i < sizeof lines / sizeof *lines; i++)
        cr_expect(strstr(got, lines[i]) != NULL, "missing line: %s\n---\n%s", lines[i], got);
    cr_expect_null(strstr(got, "'a' is 0/0"), "a had no 0/0");
    cr_expect_null(strstr(got, "'b' is 0/0"));
    cr_expect_null(strstr(got, "f1-score of 'c'"), "c's F1 is 0/3, a real zero");
    /* log-loss: every sample had p[label] = 0.6 or 0.1. */
    char want[64];
    snprintf(want, sizeof want, "log-loss:       %.4f", -(3 * log(0.6) + 6 * log(0.1)) / 9);
    cr_expect(strstr(got, want) != NULL, "%s\n%s", want, got);
    free(got);
    fer_metrics_free(&m);
}

Test(eval_report, no_footnote_without_zero_division)
{
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 2, (const char *const[]){"p", "q"}, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 0, 0, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 1, 1, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    char *got = capture(full_text, &m, 2);
    cr_expect_null(strstr(got, "Notes"), "%s", got);
    cr_expect_null(strstr(got, "0/0"), "%s", got);
    cr_expect_null(strstr(got, "top-2"), "hard predictions: no top-2 line");
    free(got);
    fer_metrics_free(&m);
}

Test(eval_report, unfinished_metrics_are_refused)
{
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 2, (const char *const[]){"p", "q"}, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 0, 0, &err), NN_OK);
    FILE *fp = fopen("/dev/null", "w");
    cr_expect_eq(fer_report_text(fp, &m, NULL, 2, &err), NN_ERR_ARG);
    cr_expect(strstr(err.msg, "fer_metrics_finish") != NULL, "%s", err.msg);
    cr_expect_null(fer_report_json(&m, NULL, &err));
    cr_expect_eq(fer_report_confusion_csv(fp, &m, 0, &err), NN_ERR_ARG);
    fclose(fp);
    fer_metrics_free(&m);
}

static double num(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsNumber(x), "key %s is not a number", key);
    return x->valuedouble;
}

static const char *str(const cJSON *o, const char *key)
{
    const cJSON *x = cJSON_GetObjectItemCaseSensitive(o, key);
    cr_assert(cJSON_IsString(x), "key %s is not a string", key);
    return x->valuestring;
}

Test(eval_report, json_file_parses_back_to_the_metrics)
{
    fer_metrics m;
    fill9(&m);
    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/metrics.json", tmpdir);
    static const fer_report_kv extra[] = {{"tta_mode", "hflip"}};
    const fer_report_meta meta = {.model_path = "runs/m.fer", .data_path = "d.csv.gz", .split = "PrivateTest",
                                  .tta = 1, .extra = extra, .n_extra = 1, .command = "fer-eval x"};
    nn_error err;
    cr_assert_eq(fer_report_write_json(path, &m, &meta, &err), NN_OK, "%s", err.msg);
    char *text = test_read_file(path, NULL);
    cJSON *j = cJSON_Parse(text);
    cr_assert_not_null(j, "invalid JSON:\n%s", text);

    cr_expect_str_eq(str(j, "format"), "fer-eval-metrics");
    cr_expect_eq(num(j, "version"), 1);
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(j, "meta");
    cr_expect_str_eq(str(mo, "model"), "runs/m.fer");
    cr_expect_str_eq(str(mo, "data"), "d.csv.gz");
    cr_expect_str_eq(str(mo, "split"), "PrivateTest");
    cr_expect_str_eq(str(mo, "tta_mode"), "hflip");
    cr_expect_str_eq(str(mo, "command"), "fer-eval x");
    cr_expect(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(mo, "tta")));
    cr_expect_eq(num(j, "n"), 9);
    cr_expect_eq(num(j, "n_correct"), 3);
    cr_expect_eq(num(j, "accuracy"), m.accuracy, "exact round trip");
    cr_expect_eq(num(j, "log_loss"), m.log_loss);
    cr_expect_eq(num(j, "top2_accuracy"), m.top2_accuracy);

    const cJSON *classes = cJSON_GetObjectItemCaseSensitive(j, "classes");
    cr_assert_eq(cJSON_GetArraySize(classes), 5);
    const cJSON *pc = cJSON_GetObjectItemCaseSensitive(j, "per_class");
    cr_assert_eq(cJSON_GetArraySize(pc), 5);
    static const char *const zd_want[5] = {"", "", "precision", "recall", "precision,recall,f1"};
    for (int c = 0; c < 5; c++) {
        cr_expect_str_eq(cJSON_GetArrayItem(classes, c)->valuestring, names5[c]);
        const cJSON *o = cJSON_GetArrayItem(pc, c);
        cr_expect_str_eq(str(o, "class"), names5[c]);
        cr_expect_eq(num(o, "precision"), m.per_class[c].precision, "class %d", c);
        cr_expect_eq(num(o, "recall"), m.per_class[c].recall, "class %d", c);
        cr_expect_eq(num(o, "f1"), m.per_class[c].f1, "class %d", c);
        cr_expect_eq(num(o, "support"), (double)m.per_class[c].support);
        cr_expect_eq(num(o, "predicted"), (double)m.per_class[c].predicted);
        char zd[64] = "";
        const cJSON *it;
        cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(o, "zero_division"))
        {
            if (*zd) strcat(zd, ",");
            strcat(zd, it->valuestring);
        }
        cr_expect_str_eq(zd, zd_want[c], "class %d", c);
    }
    const cJSON *mac = cJSON_GetObjectItemCaseSensitive(j, "macro_avg");
    const cJSON *wtd = cJSON_GetObjectItemCaseSensitive(j, "weighted_avg");
    cr_expect_float_eq(num(mac, "precision"), 0.15, TOL);
    cr_expect_float_eq(num(mac, "recall"), 0.2, TOL);
    cr_expect_float_eq(num(mac, "f1"), 6.0 / 35, TOL);
    cr_expect_float_eq(num(wtd, "precision"), 0.25, TOL);
    cr_expect_float_eq(num(wtd, "f1"), 2.0 / 7, TOL);
    cr_expect_eq(num(wtd, "support"), 9);
    cr_expect_eq(num(j, "zero_division_value"), 0);

    const cJSON *cmo = cJSON_GetObjectItemCaseSensitive(j, "confusion_matrix");
    cr_expect_str_eq(str(cmo, "rows"), "true");
    const cJSON *counts = cJSON_GetObjectItemCaseSensitive(cmo, "counts");
    cr_assert_eq(cJSON_GetArraySize(counts), 5);
    for (int t = 0; t < 5; t++) {
        const cJSON *row = cJSON_GetArrayItem(counts, t);
        cr_assert_eq(cJSON_GetArraySize(row), 5);
        for (int p = 0; p < 5; p++)
            cr_expect_eq(cJSON_GetArrayItem(row, p)->valuedouble, (double)fer_metrics_count(&m, t, p));
    }
    cJSON_Delete(j);
    free(text);
    cr_expect_eq(clean_tmpdir(1, "metrics.json", NULL), 0, "no temporary left behind");
    fer_metrics_free(&m);
}

Test(eval_report, json_without_probabilities_has_nulls_and_no_meta)
{
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 2, (const char *const[]){"p", "q"}, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 0, 1, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    cJSON *j = fer_report_json(&m, NULL, &err);
    cr_assert_not_null(j, "%s", err.msg);
    cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "log_loss")));
    cr_expect(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "top2_accuracy")));
    const cJSON *mo = cJSON_GetObjectItemCaseSensitive(j, "meta");
    cr_expect_null(cJSON_GetObjectItemCaseSensitive(mo, "model"));
    cr_expect(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(mo, "tta")));
    cJSON_Delete(j);
    fer_metrics_free(&m);
}

/* Minimal RFC 4180 reader for one line: fills cells, returns their count. */
static int csv_split(const char *line, char cells[][128], int max)
{
    int n = 0;
    const char *s = line;
    for (;;) {
        cr_assert_lt(n, max);
        char *out = cells[n++];
        if (*s == '"') {
            for (s++;; s++) {
                if (*s == '"' && s[1] == '"') *out++ = '"', s++;
                else if (*s == '"') { s++; break; }
                else { cr_assert(*s, "unterminated quote"); *out++ = *s; }
            }
        } else {
            while (*s && *s != ',' && *s != '\n') *out++ = *s++;
        }
        *out = '\0';
        if (*s != ',') break;
        s++;
    }
    return n;
}

Test(eval_report, csv_file_parses_back_to_the_counts)
{
    fer_metrics m;
    fill9(&m);
    make_tmpdir();
    char path[128], npath[128];
    snprintf(path, sizeof path, "%s/confusion.csv", tmpdir);
    snprintf(npath, sizeof npath, "%s/confusion_norm.csv", tmpdir);
    nn_error err;
    cr_assert_eq(fer_report_write_confusion_csv(path, &m, 0, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(fer_report_write_confusion_csv(npath, &m, 1, &err), NN_OK, "%s", err.msg);

    for (int norm = 0; norm < 2; norm++) {
        FILE *fp = fopen(norm ? npath : path, "r");
        cr_assert_not_null(fp);
        char line[1024], cells[8][128];
        cr_assert_not_null(fgets(line, sizeof line, fp));
        cr_assert_eq(csv_split(line, cells, 8), 6);
        cr_expect_str_eq(cells[0], "true/predicted");
        for (int p = 0; p < 5; p++) cr_expect_str_eq(cells[1 + p], names5[p]);
        for (int t = 0; t < 5; t++) {
            cr_assert_not_null(fgets(line, sizeof line, fp));
            cr_assert_eq(csv_split(line, cells, 8), 6);
            cr_expect_str_eq(cells[0], names5[t]);
            for (int p = 0; p < 5; p++) {
                if (!norm) {
                    cr_expect_eq(strtoll(cells[1 + p], NULL, 10), fer_metrics_count(&m, t, p));
                } else if (t >= 3) {
                    cr_expect_str_eq(cells[1 + p], "", "no samples: empty cell");
                } else {
                    cr_expect_float_eq(strtod(cells[1 + p], NULL), fer_metrics_row_fraction(&m, t, p), 1e-6);
                }
            }
        }
        cr_expect_null(fgets(line, sizeof line, fp), "exactly k+1 lines");
        fclose(fp);
    }
    cr_expect_eq(clean_tmpdir(1, "confusion.csv", "confusion_norm.csv"), 0);
    fer_metrics_free(&m);
}

Test(eval_report, csv_quotes_awkward_names)
{
    static const char *const nm[3] = {"plain", "a,b", "say \"hi\""};
    fer_metrics m;
    nn_error err;
    cr_assert_eq(fer_metrics_init(&m, 3, nm, &err), NN_OK);
    cr_assert_eq(fer_metrics_add_prediction(&m, 1, 2, &err), NN_OK);
    cr_assert_eq(fer_metrics_finish(&m, &err), NN_OK);
    char *got = capture(csv, &m, 0);
    const char *head = "true/predicted,plain,\"a,b\",\"say \"\"hi\"\"\"\n";
    cr_expect(strncmp(got, head, strlen(head)) == 0, "%s", got);
    char cells[4][128];
    const char *row1 = strchr(got, '\n') + 1;
    row1 = strchr(row1, '\n') + 1; /* the "a,b" row */
    cr_assert_eq(csv_split(row1, cells, 4), 4);
    cr_expect_str_eq(cells[0], "a,b");
    cr_expect_str_eq(cells[3], "1");
    free(got);
    fer_metrics_free(&m);
}

Test(eval_report, write_errors_name_the_path_and_keep_the_old_file)
{
    fer_metrics m;
    fill9(&m);
    nn_error err;
    const char *bad = "/nonexistent-dir/metrics.json";
    cr_expect_eq(fer_report_write_json(bad, &m, NULL, &err), NN_ERR_IO);
    cr_expect(strstr(err.msg, "/nonexistent-dir/metrics.json") != NULL, "%s", err.msg);
    cr_expect_eq(fer_report_write_text("/nonexistent-dir/r.txt", &m, NULL, 2, &err), NN_ERR_IO);
    cr_expect_eq(fer_report_write_confusion_csv("/nonexistent-dir/c.csv", &m, 0, &err), NN_ERR_IO);

    make_tmpdir();
    char path[128];
    snprintf(path, sizeof path, "%s/report.txt", tmpdir);
    cr_assert_eq(fer_report_write_text(path, &m, NULL, 2, &err), NN_OK, "%s", err.msg);
    char *first = test_read_file(path, NULL);
    cr_expect(strstr(first, "weighted avg") != NULL);
    /* A failing rewrite (unfinished metrics) must leave the old file as it was. */
    fer_metrics u;
    cr_assert_eq(fer_metrics_init(&u, 2, (const char *const[]){"p", "q"}, &err), NN_OK);
    cr_expect_eq(fer_report_write_text(path, &u, NULL, 2, &err), NN_ERR_ARG);
    char *second = test_read_file(path, NULL);
    cr_expect_str_eq(first, second);
    free(first);
    free(second);
    fer_metrics_free(&u);
    cr_expect_eq(clean_tmpdir(1, "report.txt", NULL), 0);
    fer_metrics_free(&m);
}
