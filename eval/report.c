#include "eval/report.h"

#include <errno.h>
#include <inttypes.h>
#include <locale.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/atomic_file.h"

/* Numbers in reports must read "0.57", never "0,57", whatever locale the
 * program set: every public writer runs its printf calls under the C
 * numeric locale of this thread only (uselocale), then restores it. */
typedef struct {
    locale_t c, old;
} c_numeric;

static void c_numeric_begin(c_numeric *s)
{
    s->c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    s->old = s->c ? uselocale(s->c) : (locale_t)0;
}

static void c_numeric_end(c_numeric *s)
{
    if (!s->c) return;
    uselocale(s->old);
    freelocale(s->c);
}

static nn_status check_finished(const fer_metrics *m, nn_error *err)
{
    if (!m || !m->k || !m->confusion)
        return nn_fail(err, NN_ERR_ARG, "report: no metrics");
    if (!m->finished)
        return nn_fail(err, NN_ERR_ARG, "report: metrics not finished (call fer_metrics_finish after the last add)");
    return NN_OK;
}

static nn_status stream_status(FILE *fp, nn_error *err)
{
    if (ferror(fp))
        return nn_fail(err, NN_ERR_IO, "report: write failed: %s", strerror(errno ? errno : EIO));
    return NN_OK;
}

/* Printed width of a UTF-8 string: code points, not bytes, so that names
 * like "überrascht" line up as sklearn (which counts code points) does. */
static int text_width(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static void put_right(FILE *fp, const char *s, int width)
{
    for (int i = text_width(s); i < width; i++) fputc(' ', fp);
    fputs(s, fp);
}

static int name_width(const fer_metrics *m)
{
    int w = 0;
    for (int c = 0; c < m->k; c++) {
        int cw = text_width(m->names[c]);
        if (cw > w) w = cw;
    }
    return w;
}

/* ---- classification report (sklearn layout) ---- */

static void prf_row(FILE *fp, const char *label, int width, int digits, double p, double r,
                    double f, int64_t support)
{
    put_right(fp, label, width);
    fprintf(fp, "  %9.*f %9.*f %9.*f %9" PRId64 "\n", digits, p, digits, r, digits, f, support);
}

static nn_status classification_impl(FILE *fp, const fer_metrics *m, int digits, nn_error *err)
{
    nn_status st = check_finished(m, err);
    if (st) return st;
    if (digits <= 0) digits = 2;
    if (digits > 15) digits = 15;
    /* sklearn: width = max(len of names, len("weighted avg"), digits); each
     * column " {:>9}" after the name and one space. */
    int width = name_width(m);
    if (width < 12) width = 12;
    if (width < digits) width = digits;

    fprintf(fp, "%*s  %9s %9s %9s %9s\n\n", width, "", "precision", "recall", "f1-score", "support");
    for (int c = 0; c < m->k; c++) {
        const fer_class_metrics *cm = &m->per_class[c];
        prf_row(fp, m->names[c], width, digits, cm->precision, cm->recall, cm->f1, cm->support);
    }
    fputc('\n', fp);
    fprintf(fp, "%*s  %9s %9s %9.*f %9" PRId64 "\n", width, "accuracy", "", "", digits, m->accuracy, m->n);
    prf_row(fp, "macro avg", width, digits, m->macro.precision, m->macro.recall, m->macro.f1,
            m->macro.support);
    prf_row(fp, "weighted avg", width, digits, m->weighted.precision, m->weighted.recall,
            m->weighted.f1, m->weighted.support);
    return stream_status(fp, err);
}

nn_status fer_report_classification(FILE *fp, const fer_metrics *m, int digits, nn_error *err)
{
    c_numeric loc;
    c_numeric_begin(&loc);
    nn_status st = classification_impl(fp, m, digits, err);
    c_numeric_end(&loc);
    return st;
}

/* ---- confusion matrix as text ---- */

static nn_status confusion_text_impl(FILE *fp, const fer_metrics *m, int normalised, nn_error *err)
{
    nn_status st = check_finished(m, err);
    if (st) return st;
    const int k = m->k;
    int64_t maxc = 0;
    for (size_t i = 0; i < (size_t)k * (size_t)k; i++)
        if (m->confusion[i] > maxc) maxc = m->confusion[i];
    char buf[32];
    int cell = normalised ? 5 /* "100.0" */ : snprintf(buf, sizeof buf, "%" PRId64, maxc);
    int rowlab = name_width(m);
    if (rowlab < 4) rowlab = 4;

    put_right(fp, "true", rowlab);
    fputs(" \\ predicted\n", fp);
    put_right(fp, "", rowlab);
    int colw[FER_METRICS_MAX_CLASSES];
    for (int p = 0; p < k; p++) {
        colw[p] = text_width(m->names[p]);
        if (colw[p] < cell) colw[p] = cell;
        fputs("  ", fp);
        put_right(fp, m->names[p], colw[p]);
    }
    fputc('\n', fp);
    for (int t = 0; t < k; t++) {
        put_right(fp, m->names[t], rowlab);
        for (int p = 0; p < k; p++) {
            if (!normalised) {
                snprintf(buf, sizeof buf, "%" PRId64, fer_metrics_count(m, t, p));
            } else {
                double f = fer_metrics_row_fraction(m, t, p);
                if (isnan(f)) snprintf(buf, sizeof buf, "-");
                else snprintf(buf, sizeof buf, "%.1f", 100.0 * f);
            }
            fputs("  ", fp);
            put_right(fp, buf, colw[p]);
        }
        fputc('\n', fp);
    }
    return stream_status(fp, err);
}

nn_status fer_report_confusion_text(FILE *fp, const fer_metrics *m, int normalised, nn_error *err)
{
    c_numeric loc;
    c_numeric_begin(&loc);
    nn_status st = confusion_text_impl(fp, m, normalised, err);
    c_numeric_end(&loc);
    return st;
}

/* ---- full text report ---- */

static void meta_line(FILE *fp, const char *key, const char *value)
{
    if (value) fprintf(fp, "%-10s %s\n", key, value);
}

static void zero_div_notes(FILE *fp, const fer_metrics *m)
{
    fputs("\nNotes:\n", fp);
    for (int c = 0; c < m->k; c++) {
        unsigned z = m->per_class[c].zero_div;
        const char *name = m->names[c];
        if (z & FER_ZERO_DIV_PRECISION)
            fprintf(fp, "* precision of '%s' is 0/0 (no sample was predicted '%s'); reported as 0.\n", name, name);
        if (z & FER_ZERO_DIV_RECALL)
            fprintf(fp, "* recall of '%s' is 0/0 (no sample of class '%s' in the data); reported as 0.\n", name, name);
        if (z & FER_ZERO_DIV_F1)
            fprintf(fp, "* f1-score of '%s' is 0/0 (neither present nor predicted); reported as 0.\n", name);
    }
    fputs("  Convention: 0/0 is reported as 0, as scikit-learn's zero_division=0 does; these\n"
          "  zeros count in the macro and weighted averages.\n", fp);
}

static nn_status text_impl(FILE *fp, const fer_metrics *m, const fer_report_meta *meta,
                           int digits, nn_error *err)
{
    nn_status st = check_finished(m, err);
    if (st) return st;
    static const fer_report_meta none = {0};
    if (!meta) meta = &none;

    fputs("fer-eval report\n\n", fp);
    meta_line(fp, "model:", meta->model_path);
    meta_line(fp, "data:", meta->data_path);
    meta_line(fp, "split:", meta->split);
    meta_line(fp, "tta:", meta->tta ? "yes" : "no");
    for (int i = 0; i < meta->n_extra; i++) {
        if (!meta->extra[i].key) continue;
        char key[128];
        snprintf(key, sizeof key, "%s:", meta->extra[i].key);
        meta_line(fp, key, meta->extra[i].value ? meta->extra[i].value : "");
    }
    meta_line(fp, "command:", meta->command);

    fprintf(fp, "\nsamples:        %" PRId64 "\n", m->n);
    fprintf(fp, "accuracy:       %.4f  (%" PRId64 " of %" PRId64 " correct)\n", m->accuracy,
            m->n_correct, m->n);
    if (!isnan(m->top2_accuracy)) {
        fprintf(fp, "top-2 accuracy: %.4f\n", m->top2_accuracy);
        fprintf(fp, "log-loss:       %.4f  (mean cross-entropy, nats)\n", m->log_loss);
    }
    fprintf(fp, "macro F1:       %.4f\n", m->macro.f1);

    fputs("\nClassification report\n\n", fp);
    if ((st = classification_impl(fp, m, digits, err))) return st;
    fputs("\nConfusion matrix, counts (rows: true class, columns: predicted class)\n\n", fp);
    if ((st = confusion_text_impl(fp, m, 0, err))) return st;
    fputs("\nConfusion matrix, percent of each true class\n\n", fp);
    if ((st = confusion_text_impl(fp, m, 1, err))) return st;
    if (m->zero_div_any) zero_div_notes(fp, m);
    return stream_status(fp, err);
}

nn_status fer_report_text(FILE *fp, const fer_metrics *m, const fer_report_meta *meta,
                          int digits, nn_error *err)
{
    c_numeric loc;
    c_numeric_begin(&loc);
    nn_status st = text_impl(fp, m, meta, digits, err);
    c_numeric_end(&loc);
    return st;
}

/* Runs a FILE* writer on an atomic file at path. */
typedef nn_status (*stream_writer)(FILE *fp, const fer_metrics *m, const fer_report_meta *meta,
                                   int arg, nn_error *err);

static nn_status write_atomically(const char *path, stream_writer fn, const fer_metrics *m,
                                  const fer_report_meta *meta, int arg, nn_error *err)
{
    nn_status st = check_finished(m, err);
    if (st) return st;
    nn_atomic_file af;
    if ((st = nn_atomic_open(&af, path, err))) return st;
    if ((st = fn(af.fp, m, meta, arg, err))) {
        nn_atomic_abort(&af);
        return nn_error_prefix(err, "%s", path);
    }
    return nn_atomic_commit(&af, err);
}

static nn_status text_writer(FILE *fp, const fer_metrics *m, const fer_report_meta *meta, int digits,
                             nn_error *err)
{
    return fer_report_text(fp, m, meta, digits, err);
}

nn_status fer_report_write_text(const char *path, const fer_metrics *m,
                                const fer_report_meta *meta, int digits, nn_error *err)
{
    return write_atomically(path, text_writer, m, meta, digits, err);
}

/* ---- CSV ---- */

static void csv_cell(FILE *fp, const char *s)
{
    size_t len = strlen(s);
    int quote = strpbrk(s, ",\"") != NULL || (len && (s[0] == ' ' || s[len - 1] == ' '));
    if (!quote) {
        fputs(s, fp);
        return;
    }
    fputc('"', fp);
    for (; *s; s++) {
        if (*s == '"') fputc('"', fp);
        fputc(*s, fp);
    }
    fputc('"', fp);
}

static nn_status confusion_csv_impl(FILE *fp, const fer_metrics *m, int normalised, nn_error *err)
{
    nn_status st = check_finished(m, err);
    if (st) return st;
    fputs("true/predicted", fp);
    for (int p = 0; p < m->k; p++) {
        fputc(',', fp);
        csv_cell(fp, m->names[p]);
    }
    fputc('\n', fp);
    for (int t = 0; t < m->k; t++) {
        csv_cell(fp, m->names[t]);
        for (int p = 0; p < m->k; p++) {
            fputc(',', fp);
            if (!normalised) {
                fprintf(fp, "%" PRId64, fer_metrics_count(m, t, p));
            } else {
                double f = fer_metrics_row_fraction(m, t, p);
                if (!isnan(f)) fprintf(fp, "%.6f", f);
            }
        }
        fputc('\n', fp);
    }
    return stream_status(fp, err);
}

nn_status fer_report_confusion_csv(FILE *fp, const fer_metrics *m, int normalised, nn_error *err)
{
    c_numeric loc;
    c_numeric_begin(&loc);
    nn_status st = confusion_csv_impl(fp, m, normalised, err);
    c_numeric_end(&loc);
    return st;
}

static nn_status csv_writer(FILE *fp, const fer_metrics *m, const fer_report_meta *meta,
                            int normalised, nn_error *err)
{
    return fer_report_confusion_csv(fp, m, normalised, err);
}

nn_status fer_report_write_confusion_csv(const char *path, const fer_metrics *m, int normalised,
                                         nn_error *err)
{
    return write_atomically(path, csv_writer, m, NULL, normalised, err);
}

/* ---- JSON ---- */

/* cJSON's Add* functions return NULL when they fail to allocate; each call
 * goes through these so one flag tells whether the tree is complete. */
static cJSON *add_num(cJSON *obj, const char *key, double v, int *ok)
{
    cJSON *x = isnan(v) ? cJSON_AddNullToObject(obj, key) : cJSON_AddNumberToObject(obj, key, v);
    if (!x) *ok = 0;
    return x;
}

static void add_str(cJSON *obj, const char *key, const char *v, int *ok)
{
    if (v && !cJSON_AddStringToObject(obj, key, v)) *ok = 0;
}

static cJSON *add_obj(cJSON *obj, const char *key, int *ok)
{
    cJSON *x = cJSON_AddObjectToObject(obj, key);
    if (!x) *ok = 0;
    return x;
}

static cJSON *add_arr(cJSON *obj, const char *key, int *ok)
{
    cJSON *x = cJSON_AddArrayToObject(obj, key);
    if (!x) *ok = 0;
    return x;
}

static void push(cJSON *arr, cJSON *item, int *ok)
{
    if (!item || !cJSON_AddItemToArray(arr, item)) {
        cJSON_Delete(item);
        *ok = 0;
    }
}

static void add_avg(cJSON *root, const char *key, const fer_avg_metrics *a, int *ok)
{
    cJSON *o = add_obj(root, key, ok);
    if (!o) return;
    add_num(o, "precision", a->precision, ok);
    add_num(o, "recall", a->recall, ok);
    add_num(o, "f1", a->f1, ok);
    add_num(o, "support", (double)a->support, ok);
}

cJSON *fer_report_json(const fer_metrics *m, const fer_report_meta *meta, nn_error *err)
{
    if (check_finished(m, err)) return NULL;
    static const fer_report_meta none = {0};
    if (!meta) meta = &none;
    const int k = m->k;
    int ok = 1;
    cJSON *root = cJSON_CreateObject();
    if (!root) ok = 0;

    if (ok) {
        add_str(root, "format", "fer-eval-metrics", &ok);
        add_num(root, "version", 1, &ok);
        cJSON *mo = add_obj(root, "meta", &ok);
        if (mo) {
            add_str(mo, "model", meta->model_path, &ok);
            add_str(mo, "data", meta->data_path, &ok);
            add_str(mo, "split", meta->split, &ok);
            if (!cJSON_AddBoolToObject(mo, "tta", meta->tta != 0)) ok = 0;
            for (int i = 0; i < meta->n_extra; i++)
                if (meta->extra[i].key) add_str(mo, meta->extra[i].key, meta->extra[i].value ? meta->extra[i].value : "", &ok);
            add_str(mo, "command", meta->command, &ok);
        }
        add_num(root, "n", (double)m->n, &ok);
        cJSON *names = add_arr(root, "classes", &ok);
        for (int c = 0; names && c < k; c++) push(names, cJSON_CreateString(m->names[c]), &ok);
        add_num(root, "accuracy", m->accuracy, &ok);
        add_num(root, "n_correct", (double)m->n_correct, &ok);
        add_num(root, "top2_accuracy", m->top2_accuracy, &ok);
        add_num(root, "log_loss", m->log_loss, &ok);

        cJSON *pc = add_arr(root, "per_class", &ok);
        for (int c = 0; pc && c < k; c++) {
            const fer_class_metrics *cm = &m->per_class[c];
            cJSON *o = cJSON_CreateObject();
            push(pc, o, &ok);
            if (!ok) break;
            add_str(o, "class", m->names[c], &ok);
            add_num(o, "precision", cm->precision, &ok);
            add_num(o, "recall", cm->recall, &ok);
            add_num(o, "f1", cm->f1, &ok);
            add_num(o, "support", (double)cm->support, &ok);
            add_num(o, "predicted", (double)cm->predicted, &ok);
            cJSON *zd = add_arr(o, "zero_division", &ok);
            if (zd && (cm->zero_div & FER_ZERO_DIV_PRECISION)) push(zd, cJSON_CreateString("precision"), &ok);
            if (zd && (cm->zero_div & FER_ZERO_DIV_RECALL)) push(zd, cJSON_CreateString("recall"), &ok);
            if (zd && (cm->zero_div & FER_ZERO_DIV_F1)) push(zd, cJSON_CreateString("f1"), &ok);
        }
        add_avg(root, "macro_avg", &m->macro, &ok);
        add_avg(root, "weighted_avg", &m->weighted, &ok);
        add_num(root, "zero_division_value", 0, &ok);

        cJSON *cmo = add_obj(root, "confusion_matrix", &ok);
        if (cmo) {
            add_str(cmo, "rows", "true", &ok);
            add_str(cmo, "columns", "predicted", &ok);
            cJSON *counts = add_arr(cmo, "counts", &ok);
            for (int t = 0; counts && ok && t < k; t++) {
                cJSON *row = cJSON_CreateArray();
                push(counts, row, &ok);
                for (int p = 0; ok && p < k; p++)
                    push(row, cJSON_CreateNumber((double)fer_metrics_count(m, t, p)), &ok);
            }
        }
    }
    if (!ok) {
        cJSON_Delete(root);
        nn_fail(err, NN_ERR_NOMEM, "report: out of memory building JSON");
        return NULL;
    }
    return root;
}

nn_status fer_report_write_json(const char *path, const fer_metrics *m,
                                const fer_report_meta *meta, nn_error *err)
{
    nn_status st = check_finished(m, err);
    if (st) return st;
    cJSON *root = fer_report_json(m, meta, err);
    if (!root) return NN_ERR_NOMEM;
    char *text = cJSON_Print(root);
    cJSON_Delete(root);
    if (!text) return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory printing JSON", path);
    size_t len = strlen(text);
    nn_atomic_file af;
    st = nn_atomic_open(&af, path, err);
    if (!st) st = nn_atomic_write(&af, text, len, err);
    if (!st) st = nn_atomic_write(&af, "\n", 1, err);
    cJSON_free(text);
    if (st) {
        if (af.fp) nn_atomic_abort(&af);
        return st;
    }
    return nn_atomic_commit(&af, err);
}
