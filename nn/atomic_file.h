/* atomic_file.h: write a file so that readers only ever see the old complete
 * file or the new complete file, never a half-written one, even across a
 * crash, kill -9 or full disk: data goes to "<path>.tmp.<pid>", is fsync'd,
 * then renamed over <path>, and the directory is fsync'd.
 *
 *   nn_atomic_file af;
 *   if (nn_atomic_open(&af, "model.bin", &err)) return err.code;
 *   ... fwrite(..., af.fp) ...            (or nn_atomic_write)
 *   if (nn_atomic_commit(&af, &err)) ...  (on any earlier failure: nn_atomic_abort)
 */
#ifndef NN_ATOMIC_FILE_H
#define NN_ATOMIC_FILE_H

#include <stdio.h>
#include "nn/error.h"

typedef struct {
    FILE *fp;            /* write here between open and commit */
    char path[4096];     /* final name */
    char tmp_path[4200]; /* temporary name in the same directory */
    int failed;          /* set by nn_atomic_write on a short write */
} nn_atomic_file;

/* Creates the temporary file. On failure nothing exists on disk. */
nn_status nn_atomic_open(nn_atomic_file *af, const char *path, nn_error *err);
/* fwrite with the error remembered for commit; returns NN_OK or NN_ERR_IO. */
nn_status nn_atomic_write(nn_atomic_file *af, const void *data, size_t size, nn_error *err);
/* Flushes, fsyncs, closes and renames over the final path. On any failure the
 * temporary file is removed, the previous file at path is untouched, and a
 * message naming the path and errno text is returned. */
nn_status nn_atomic_commit(nn_atomic_file *af, nn_error *err);
/* Closes and removes the temporary file; the previous file stays. */
void nn_atomic_abort(nn_atomic_file *af);

/* Removes "<path>.tmp.<pid>" files whose writer is dead (killed with -9 or
 * by a power cut in the middle of a write; a live writer's file is left
 * alone). Best effort, for programs to call when they start on a folder
 * they write to again and again (the trainer's run folder). Returns how
 * many files were removed. */
int nn_atomic_remove_stale(const char *path);

/* Convenience: atomically replaces path with size bytes of data. */
nn_status nn_atomic_write_file(const char *path, const void *data, size_t size, nn_error *err);

#endif
