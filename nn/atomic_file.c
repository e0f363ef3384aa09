#include "nn/atomic_file.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

nn_status nn_atomic_open(nn_atomic_file *af, const char *path, nn_error *err)
{
    memset(af, 0, sizeof *af);
    if (!path || !*path) return nn_fail(err, NN_ERR_ARG, "atomic write: empty path");
    if (strlen(path) >= sizeof af->path)
        return nn_fail(err, NN_ERR_ARG, "atomic write: path too long: %.100s...", path);
    strcpy(af->path, path);
    snprintf(af->tmp_path, sizeof af->tmp_path, "%s.tmp.%ld", path, (long)getpid());
    af->fp = fopen(af->tmp_path, "wb");
    if (!af->fp)
        return nn_fail(err, NN_ERR_IO, "%s: cannot create: %s", af->tmp_path, strerror(errno));
    return NN_OK;
}

nn_status nn_atomic_write(nn_atomic_file *af, const void *data, size_t size, nn_error *err)
{
    if (af->failed) return NN_ERR_IO;
    if (size && fwrite(data, 1, size, af->fp) != size) {
        af->failed = errno ? errno : EIO;
        return nn_fail(err, NN_ERR_IO, "%s: write failed: %s", af->path, strerror(af->failed));
    }
    return NN_OK;
}

static void fsync_parent_dir(const char *path)
{
    char copy[4096];
    snprintf(copy, sizeof copy, "%s", path);
    int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY);
    if (fd >= 0) {
        fsync(fd); /* best effort: some filesystems refuse fsync on directories */
        close(fd);
    }
}

nn_status nn_atomic_commit(nn_atomic_file *af, nn_error *err)
{
    int e = af->failed;
    if (!e && fflush(af->fp) != 0) e = errno;
    if (!e && ferror(af->fp)) e = EIO;
    if (!e && fsync(fileno(af->fp)) != 0) e = errno;
    if (fclose(af->fp) != 0 && !e) e = errno;
    af->fp = NULL;
    if (!e && rename(af->tmp_path, af->path) != 0) e = errno;
    if (e) {
        unlink(af->tmp_path);
        return nn_fail(err, NN_ERR_IO, "%s: cannot write: %s (previous file, if any, left intact)",
                       af->path, strerror(e));
    }
    fsync_parent_dir(af->path);
    return NN_OK;
}

void nn_atomic_abort(nn_atomic_file *af)
{
    if (af->fp) fclose(af->fp);
    af->fp = NULL;
    if (af->tmp_path[0]) unlink(af->tmp_path);
}

nn_status nn_atomic_write_file(const char *path, const void *data, size_t size, nn_error *err)
{
    nn_atomic_file af;
    nn_status st = nn_atomic_open(&af, path, err);
    if (st) return st;
    if ((st = nn_atomic_write(&af, data, size, err))) {
        nn_atomic_abort(&af);
        return st;
    }
    return nn_atomic_commit(&af, err);
}

int nn_atomic_remove_stale(const char *path)
{
    if (!path || !*path || strlen(path) >= 4096) return 0;
    char dcopy[4096], bcopy[4096];
    snprintf(dcopy, sizeof dcopy, "%s", path);
    snprintf(bcopy, sizeof bcopy, "%s", path);
    const char *dir = dirname(dcopy), *base = basename(bcopy);
    size_t blen = strlen(base);
    DIR *d = opendir(dir);
    if (!d) return 0;
    int removed = 0;
    for (struct dirent *e; (e = readdir(d));) {
        const char *n = e->d_name;
        if (strncmp(n, base, blen) != 0 || strncmp(n + blen, ".tmp.", 5) != 0) continue;
        char *end;
        long pid = strtol(n + blen + 5, &end, 10);
        if (end == n + blen + 5 || *end || pid <= 0 || pid == (long)getpid()) continue;
        if (kill((pid_t)pid, 0) == 0 || errno != ESRCH) continue; /* alive, or not ours to judge */
        char full[8400];
        snprintf(full, sizeof full, "%s/%s", dir, n);
        if (unlink(full) == 0) removed++;
    }
    closedir(d);
    return removed;
}
