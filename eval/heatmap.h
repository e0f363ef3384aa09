/* heatmap.h: the confusion matrix as a PNG picture (the paper's Fig. 2),
 * drawn by gnuplot (Debian package gnuplot-nox) from a script this module
 * generates.
 *
 * The picture: one square cell per (true class, predicted class), true
 * classes down the left (each with its support, "angry (n=467)"), predicted
 * classes along the bottom, first class top-left so the diagonal runs
 * top-left to bottom-right as in sklearn's ConfusionMatrixDisplay. Each cell
 * shows its count and, below it, its percentage of the true class. Cell
 * colour is that row percentage on a white-to-dark-blue scale (ColorBrewer
 * "Blues", seaborn's default for confusion matrices) with a colour bar:
 * normalising by row keeps a rare class (FER2013's disgust, ~1.5% of the
 * data) as readable as a common one, where colour by raw count would show
 * little but the happy row. Each cell's text is black or white, whichever
 * contrasts more with that cell's colour (WCAG relative luminance). A class
 * with no samples has a white row of zeros. The title is the caller's line
 * (default "Confusion matrix") over "accuracy 57.12%, macro F1 0.5432,
 * N = 3589".
 *
 * The generated script holds the data inline (a gnuplot datablock), so it
 * stands alone: `gnuplot -c confusion.gp out.png` redraws the picture, and
 * editing it is the way to restyle one for a paper. Class names and titles
 * are written as single-quoted gnuplot strings with the terminal in
 * noenhanced mode, so no name is ever read as markup, a backquoted shell
 * command or a macro.
 */
#ifndef FER_EVAL_HEATMAP_H
#define FER_EVAL_HEATMAP_H

#include <stdio.h>
#include "eval/metrics.h"
#include "nn/error.h"

typedef struct {
    const char *title;       /* first title line; NULL = "Confusion matrix" */
    const char *gnuplot;     /* program to run; NULL = "gnuplot" found on PATH */
    const char *script_path; /* keep the script here (written atomically);
                                NULL = a temporary beside the PNG, removed */
    int width, height;       /* picture size in pixels; 0 = chosen from k (cells
                                square, ~110 px for k = 7). A set size keeps
                                the label margins and stretches the cells. */
} fer_heatmap_options;

/* Writes the gnuplot script for m's confusion matrix to fp. When run as
 * `gnuplot -c script [out.png]` it draws to out.png, or to default_output
 * when no argument is given. opts may be NULL (all defaults). Uses the
 * pngcairo terminal when gnuplot has it (antialiased), else png.
 * Errors: NN_ERR_ARG (unfinished metrics, default_output NULL), NN_ERR_IO. */
nn_status fer_heatmap_script(FILE *fp, const fer_metrics *m, const fer_heatmap_options *opts,
                             const char *default_output, nn_error *err);

/* Draws m's confusion matrix to png_path: generates the script, runs
 * gnuplot on it (stdin from /dev/null, its output captured), checks its
 * exit status and that it wrote a PNG, then renames the PNG into place from
 * a temporary name beside it, so png_path is never a partial picture.
 * Blocks until gnuplot ends (well under a second for k = 7).
 * Errors: NN_ERR_UNSUPPORTED when gnuplot cannot be started (not
 * installed: the message says which package to install); NN_ERR_IO when it
 * fails (the message carries the end of gnuplot's own error output), when
 * its output is not a PNG, or on a file error; NN_ERR_ARG, NN_ERR_NOMEM.
 * On failure png_path is untouched and no temporary is left; a kept
 * script (opts->script_path) stays, to rerun by hand. */
nn_status fer_heatmap_png(const char *png_path, const fer_metrics *m,
                          const fer_heatmap_options *opts, nn_error *err);

/* NN_OK when `gnuplot` (NULL = "gnuplot" on PATH) runs and can draw PNGs;
 * otherwise NN_ERR_UNSUPPORTED (or NN_ERR_IO) saying why. Lets a program
 * decide up front, and tests skip, rather than fail after the evaluation. */
nn_status fer_heatmap_check_gnuplot(const char *gnuplot, nn_error *err);

#endif
