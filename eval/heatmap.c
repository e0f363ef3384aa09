#include "eval/heatmap.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <libgen.h>
#include <locale.h>
#include <math.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "nn/atomic_file.h"

/* ColorBrewer 9-class "Blues", light to dark, evenly spaced over 0..100%. */
static const unsigned blues[9] = {
    0xf7fbff, 0xdeebf7, 0xc6dbef, 0x9ecae1, 0x6baed6, 0x4292c6, 0x2171b5, 0x08519c, 0x08306b,
};

/* The colour gnuplot gives to fraction x with `set palette defined` over
 * these stops: linear interpolation in RGB between neighbouring stops. */
static void palette_rgb(double x, double rgb[3])
{
    if (!(x > 0)) x = 0;
    if (x > 1) x = 1;
    double pos = x * 8;
    int i = (int)pos;
    if (i > 7) i = 7;
    double f = pos - i;
    for (int c = 0; c < 3; c++) {
        double a = (blues[i] >> (16 - 8 * c)) & 0xff, b = (blues[i + 1] >> (16 - 8 * c)) & 0xff;
        rgb[c] = (a + f * (b - a)) / 255.0;
    }
}

/* WCAG 2 relative luminance of an sRGB colour. */
static double luminance(const double rgb[3])
{
    double lin[3];
    for (int c = 0; c < 3; c++)
        lin[c] = rgb[c] <= 0.04045 ? rgb[c] / 12.92 : pow((rgb[c] + 0.055) / 1.055, 2.4);
    return 0.2126 * lin[0] + 0.7152 * lin[1] + 0.0722 * lin[2];
}

/* Text colour on the cell colour of fraction x: black on light cells,
 * white on dark ones, switching at relative luminance 0.408 as seaborn's
 * heatmap annotations do. (The pure WCAG contrast-ratio crossover, ~0.18,
 * keeps black text on mid-blue cells where white reads better.) */
static unsigned text_colour(double x)
{
    double rgb[3];
    palette_rgb(x, rgb);
    return luminance(rgb) > 0.408 ? 0x000000 : 0xffffff;
}

/* A gnuplot single-quoted string: nothing inside is interpreted except ''
 * for a quote. Newlines become a concatenated "\n"; other control
 * characters become spaces. */
static void gp_str(FILE *fp, const char *s)
{
    fputc('\'', fp);
    for (; *s; s++) {
        unsigned char ch = (unsigned char)*s;
        if (ch == '\'') fputs("''", fp);
        else if (ch == '\n') fputs("' . \"\\n\" . '", fp);
        else if (ch < 0x20 || ch == 0x7f) fputc(' ', fp);
        else fputc(ch, fp);
    }
    fputc('\'', fp);
}

static int utf8_chars(const char *s)
{
    int w = 0;
    for (; *s; s++) w += ((unsigned char)*s & 0xc0) != 0x80;
    return w;
}

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Picture geometry in pixels, chosen so cells are square and every label fits. */
typedef struct {
    int width, height;
    int left, right, top, bottom; /* margins */
    int cell;                     /* cell side */
    int font, cell_font;          /* tic/label font, cell text font (points) */
    int rotate_x;                 /* predicted-class labels slanted */
    int show_pct;                 /* room for the percentage line in a cell */
} layout;

static layout plan(const fer_metrics *m, const fer_heatmap_options *opts)
{
    layout L;
    const int k = m->k;
    int longest = 0, ylab = 0;
    for (int c = 0; c < k; c++) {
        int w = utf8_chars(m->names[c]);
        if (w > longest) longest = w;
        char buf[64];
        int lw = w + snprintf(buf, sizeof buf, " (n=%" PRId64 ")", m->per_class[c].support);
        if (lw > ylab) ylab = lw;
    }
    L.cell = clampi(770 / k, 28, 110);
    if (L.cell * k < 420) L.cell = (420 + k - 1) / k; /* a few classes: still a legible picture */
    L.font = k <= 12 ? 12 : 10;
    const double charpx = L.font * 0.75; /* average glyph width of DejaVu Sans at 96 dpi */
    L.cell_font = clampi(L.cell / 8, 7, 13);
    L.rotate_x = longest * charpx > L.cell * 0.95;
    L.show_pct = L.cell >= 56;
    L.left = (int)(ylab * charpx) + 70;
    L.right = 150;
    /* Title: the caller's lines plus the accuracy line, each needing room. */
    int title_lines = 2, title_chars = 48;
    if (opts && opts->title) {
        int run = 0;
        for (const char *t = opts->title;; t++) {
            if (*t == '\n' || !*t) {
                if (run > title_chars) title_chars = run;
                run = 0;
                if (!*t) break;
                title_lines++;
            } else {
                run += ((unsigned char)*t & 0xc0) != 0x80;
            }
        }
    }
    L.top = 40 + 24 * title_lines;
    L.bottom = 80 + (L.rotate_x ? (int)(longest * charpx * 0.6) : 0);
    L.width = L.left + k * L.cell + L.right;
    L.height = L.top + k * L.cell + L.bottom;
    const int title_px = (int)(title_chars * (L.font + 2) * 0.75) + 40;
    if (L.width < title_px) { /* widen evenly so the title fits, keeping cells square */
        L.left += (title_px - L.width) / 2;
        L.right += title_px - L.width - (title_px - L.width) / 2;
        L.width = title_px;
    }
    /* A caller-chosen size keeps the margins and shrinks or grows the cells. */
    if (opts && opts->width > 0) L.width = opts->width > L.left + L.right + 100 ? opts->width : L.left + L.right + 100;
    if (opts && opts->height > 0) L.height = opts->height > L.top + L.bottom + 100 ? opts->height : L.top + L.bottom + 100;
    return L;
}

static nn_status script_impl(FILE *fp, const fer_metrics *m, const fer_heatmap_options *opts,
                             const char *default_output, nn_error *err)
{
    if (!m || !m->finished)
        return nn_fail(err, NN_ERR_ARG, "heatmap: metrics not finished (call fer_metrics_finish)");
    if (!default_output) return nn_fail(err, NN_ERR_ARG, "heatmap: no output path");
    const int k = m->k;
    const layout L = plan(m, opts);

    fputs("# Confusion-matrix heatmap, generated by fer-eval (eval/heatmap.c).\n"
          "# Redraw: gnuplot -c THIS_FILE [out.png]. The data are inline below.\n\n", fp);
    fputs("# columns: predicted true share_of_true_class(-1: class has no samples) count text_rgb\n"
          "$cells << EOD\n", fp);
    for (int t = 0; t < k; t++)
        for (int p = 0; p < k; p++) {
            double f = fer_metrics_row_fraction(m, t, p);
            fprintf(fp, "%d %d %.6f %" PRId64 " 0x%06x\n", p, t, isnan(f) ? -1.0 : f,
                    fer_metrics_count(m, t, p), isnan(f) ? 0u : text_colour(f));
        }
    fputs("EOD\n\n", fp);

    fputs("out = (ARGC >= 1) ? ARG1 : ", fp);
    gp_str(fp, default_output);
    fprintf(fp, "\nif (strstrt(GPVAL_TERMINALS, 'pngcairo') > 0) {\n"
                "    set terminal pngcairo noenhanced size %d,%d font 'DejaVu Sans,%d'\n"
                "} else {\n"
                "    set terminal png noenhanced size %d,%d font 'DejaVu Sans,%d'\n"
                "}\n"
                "set output out\n\n",
            L.width, L.height, L.font, L.width, L.height, L.font);

    /* Margins fixed in screen fractions so cells come out square. */
    fprintf(fp, "set lmargin at screen %.5f\nset rmargin at screen %.5f\n"
                "set tmargin at screen %.5f\nset bmargin at screen %.5f\n",
            (double)L.left / L.width, 1.0 - (double)L.right / L.width,
            1.0 - (double)L.top / L.height, (double)L.bottom / L.height);

    fputs("set title ", fp);
    gp_str(fp, opts && opts->title ? opts->title : "Confusion matrix");
    fprintf(fp, " . \"\\n\" . 'accuracy %.2f%%, macro F1 %.4f, N = %" PRId64 "' font ',%d'\n",
            100.0 * m->accuracy, m->macro.f1, m->n, L.font + 2);

    fprintf(fp, "set xrange [-0.5:%d.5]\nset yrange [%d.5:-0.5]\n", k - 1, k - 1);
    fputs("set xtics (", fp);
    for (int p = 0; p < k; p++) {
        if (p) fputs(", ", fp);
        gp_str(fp, m->names[p]);
        fprintf(fp, " %d", p);
    }
    fprintf(fp, ") scale 0%s\n", L.rotate_x ? " rotate by 30 right" : "");
    fputs("set ytics (", fp);
    for (int t = 0; t < k; t++) {
        char lab[FER_METRICS_MAX_NAME + 32];
        snprintf(lab, sizeof lab, "%s (n=%" PRId64 ")", m->names[t], m->per_class[t].support);
        if (t) fputs(", ", fp);
        gp_str(fp, lab);
        fprintf(fp, " %d", t);
    }
    fputs(") scale 0\n", fp);
    fputs("set xlabel 'Predicted class'\nset ylabel 'True class'\n", fp);

    fputs("set cbrange [0:100]\nset cbtics 20 format '%g%%'\n"
          "set cblabel 'share of the true class (row %)'\n"
          "set colorbox user origin screen ", fp);
    fprintf(fp, "%.5f, screen %.5f size screen %.5f, screen %.5f\n",
            1.0 - (L.right - 30.0) / L.width, (double)L.bottom / L.height, 22.0 / L.width,
            (double)(L.height - L.top - L.bottom) / L.height);
    fputs("set palette defined (", fp);
    for (int i = 0; i < 9; i++) fprintf(fp, "%s%d '#%06x'", i ? ", " : "", i, blues[i]);
    fputs(")\nset palette maxcolors 0\n", fp);
    fputs("set style fill solid 1.0 border lc rgb 'white'\nset border 0\nunset key\n\n", fp);

    fprintf(fp, "plot $cells using 1:2:(0.5):(0.5):($3 < 0 ? 0 : 100*$3) with boxxyerror fc palette, \\\n"
                "     $cells using 1:2:(%s):5 with labels font ',%d' tc rgb variable\n",
            L.show_pct ? "$3 < 0 ? sprintf('%d', $4) : sprintf(\"%d\\n%.1f%%\", $4, 100*$3)"
                       : "sprintf('%d', $4)",
            L.cell_font);
    fputs("unset output\n", fp);
    if (ferror(fp)) return nn_fail(err, NN_ERR_IO, "heatmap: writing the script failed: %s", strerror(errno ? errno : EIO));
    return NN_OK;
}

/* gnuplot reads "0.5", never "0,5": the script is printed under the C
 * numeric locale of this thread (uselocale), whatever the program set. */
nn_status fer_heatmap_script(FILE *fp, const fer_metrics *m, const fer_heatmap_options *opts,
                             const char *default_output, nn_error *err)
{
    locale_t c = newlocale(LC_NUMERIC_MASK, "C", (locale_t)0);
    locale_t old = c ? uselocale(c) : (locale_t)0;
    nn_status st = script_impl(fp, m, opts, default_output, err);
    if (c) {
        uselocale(old);
        freelocale(c);
    }
    return st;
}

/* ---- running gnuplot ---- */

extern char **environ;

/* Runs exe with argv (stdin /dev/null, stdout+stderr captured), waits, and
 * returns its exit status in *status (-1 if killed by a signal). The last
 * bytes of its output go to tail. NN_ERR_UNSUPPORTED when exe cannot run. */
static nn_status run_captured(const char *exe, char *const argv[], int *status, char *tail,
                              size_t tail_size, nn_error *err)
{
    int fds[2];
    if (pipe(fds) != 0) return nn_fail(err, NN_ERR_IO, "%s: pipe: %s", exe, strerror(errno));
    fcntl(fds[0], F_SETFD, FD_CLOEXEC);
    posix_spawn_file_actions_t fa;
    int e = posix_spawn_file_actions_init(&fa);
    if (!e) e = posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
    if (!e) e = posix_spawn_file_actions_adddup2(&fa, fds[1], 1);
    if (!e) e = posix_spawn_file_actions_adddup2(&fa, fds[1], 2);
    if (!e) e = posix_spawn_file_actions_addclose(&fa, fds[1]);
    pid_t pid = -1;
    if (!e) e = posix_spawnp(&pid, exe, &fa, NULL, argv, environ);
    posix_spawn_file_actions_destroy(&fa);
    close(fds[1]);
    if (e) {
        close(fds[0]);
        if (e == ENOENT)
            return nn_fail(err, NN_ERR_UNSUPPORTED,
                           "%s: not found; install gnuplot (Debian package gnuplot-nox, listed in scripts/setup.sh) to draw the confusion matrix",
                           exe);
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: cannot run: %s", exe, strerror(e));
    }
    /* Read to EOF before waiting, so a chatty child never blocks on a full pipe. */
    size_t used = 0;
    char buf[4096];
    for (;;) {
        ssize_t got = read(fds[0], buf, sizeof buf);
        if (got < 0 && errno == EINTR) continue;
        if (got <= 0) break;
        for (ssize_t i = 0; i < got; i++) {
            if (used + 1 >= tail_size) { /* keep the newest bytes */
                memmove(tail, tail + tail_size / 2, used - tail_size / 2);
                used -= tail_size / 2;
            }
            tail[used++] = buf[i];
        }
    }
    tail[used] = '\0';
    close(fds[0]);
    int ws;
    while (waitpid(pid, &ws, 0) < 0)
        if (errno != EINTR) return nn_fail(err, NN_ERR_IO, "%s: waitpid: %s", exe, strerror(errno));
    *status = WIFEXITED(ws) ? WEXITSTATUS(ws) : -1;
    return NN_OK;
}

/* The last two informative lines of gnuplot's output (its error line, e.g.
 * '"cm.gp" line 70: cannot open file', and the system error under it),
 * joined with " / " into out, for error messages. Skips the echoed command
 * and caret lines. Edits s. */
static const char *last_lines(char *s, char *out, size_t out_size)
{
    const char *keep[2] = {NULL, NULL};
    int got = 0;
    char *end = s + strlen(s);
    while (end > s && got < 2) {
        while (end > s && (end[-1] == '\n' || end[-1] == '\r')) *--end = '\0';
        char *line = end;
        while (line > s && line[-1] != '\n') line--;
        int informative = 0;
        for (const char *c = line; *c; c++) informative |= *c != ' ' && *c != '^' && *c != '\t';
        /* gnuplot echoes the failing command above the caret; drop that too. */
        int caret = !informative && *line;
        if (informative) keep[got++] = line;
        end = line;
        if (caret && end > s) { /* skip the echoed command line */
            *--end = '\0';
            while (end > s && end[-1] != '\n') end--;
        }
    }
    if (!got) snprintf(out, out_size, "(no output)");
    else if (got == 1) snprintf(out, out_size, "%s", keep[0]);
    else snprintf(out, out_size, "%s / %s", keep[1], keep[0]);
    return out;
}

nn_status fer_heatmap_check_gnuplot(const char *gnuplot, nn_error *err)
{
    const char *exe = gnuplot ? gnuplot : "gnuplot";
    char *argv[] = {(char *)exe, "-e",
                    "if (strstrt(GPVAL_TERMINALS, 'png') == 0) { print 'no png terminal'; exit status 3 }",
                    NULL};
    int status;
    char tail[512], why[300];
    nn_status st = run_captured(exe, argv, &status, tail, sizeof tail, err);
    if (st) return st;
    if (status == 3) return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: has no png terminal", exe);
    if (status != 0)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: exited with status %d: %s", exe, status, last_lines(tail, why, sizeof why));
    return NN_OK;
}

static nn_status check_png(const char *path, const char *exe, nn_error *err)
{
    static const unsigned char sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    int fd = open(path, O_RDONLY);
    if (fd < 0) return nn_fail(err, NN_ERR_IO, "%s: wrote no picture (%s: %s)", exe, path, strerror(errno));
    unsigned char head[8];
    ssize_t got = read(fd, head, sizeof head);
    struct stat sb;
    int bad = got != (ssize_t)sizeof head || memcmp(head, sig, sizeof sig) != 0;
    int e = 0;
    if (!bad && (fstat(fd, &sb) != 0 || sb.st_size < 100)) bad = 1;
    /* Durable before it is renamed into place, like nn/atomic_file. */
    if (!bad && fsync(fd) != 0) e = errno;
    close(fd);
    if (bad) return nn_fail(err, NN_ERR_IO, "%s: output %s is not a PNG picture", exe, path);
    if (e) return nn_fail(err, NN_ERR_IO, "%s: fsync: %s", path, strerror(e));
    return NN_OK;
}

nn_status fer_heatmap_png(const char *png_path, const fer_metrics *m,
                          const fer_heatmap_options *opts, nn_error *err)
{
    if (!png_path || !*png_path) return nn_fail(err, NN_ERR_ARG, "heatmap: empty output path");
    if (strlen(png_path) > 4000) return nn_fail(err, NN_ERR_ARG, "heatmap: output path too long: %.100s...", png_path);
    if (!m || !m->finished)
        return nn_fail(err, NN_ERR_ARG, "heatmap: metrics not finished (call fer_metrics_finish)");
    const char *exe = opts && opts->gnuplot ? opts->gnuplot : "gnuplot";
    const int keep = opts && opts->script_path;
    char tmp_png[4200], tmp_gp[4200];
    snprintf(tmp_png, sizeof tmp_png, "%s.tmp.%ld.png", png_path, (long)getpid());
    if (keep) snprintf(tmp_gp, sizeof tmp_gp, "%s", opts->script_path);
    else snprintf(tmp_gp, sizeof tmp_gp, "%s.tmp.%ld.gp", png_path, (long)getpid());

    nn_atomic_file af;
    nn_status st;
    if (keep) {
        st = nn_atomic_open(&af, tmp_gp, err);
    } else {
        memset(&af, 0, sizeof af);
        af.fp = fopen(tmp_gp, "w");
        st = af.fp ? NN_OK : nn_fail(err, NN_ERR_IO, "%s: cannot create: %s", tmp_gp, strerror(errno));
    }
    if (st) return st;
    st = fer_heatmap_script(af.fp, m, opts, png_path, err);
    if (keep) {
        if (st) nn_atomic_abort(&af);
        else st = nn_atomic_commit(&af, err);
    } else if (fclose(af.fp) != 0 && !st) {
        st = nn_fail(err, NN_ERR_IO, "%s: cannot write: %s", tmp_gp, strerror(errno));
    }
    if (st) {
        if (!keep) unlink(tmp_gp);
        return st;
    }

    char *argv[] = {(char *)exe, "-c", tmp_gp, tmp_png, NULL};
    int status = 0;
    char tail[1024], why[300];
    st = run_captured(exe, argv, &status, tail, sizeof tail, err);
    if (!keep) unlink(tmp_gp);
    if (!st && status != 0)
        st = nn_fail(err, NN_ERR_IO, "%s: drawing %s failed (exit status %d): %s", exe, png_path, status,
                     last_lines(tail, why, sizeof why));
    if (!st) st = check_png(tmp_png, exe, err);
    if (!st && rename(tmp_png, png_path) != 0)
        st = nn_fail(err, NN_ERR_IO, "%s: cannot rename into place: %s", png_path, strerror(errno));
    if (st) {
        unlink(tmp_png);
        return st;
    }
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", png_path);
    int dfd = open(dirname(dir), O_RDONLY | O_DIRECTORY);
    if (dfd >= 0) {
        fsync(dfd); /* best effort, as nn/atomic_file does */
        close(dfd);
    }
    return NN_OK;
}
