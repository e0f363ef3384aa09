#include "nn/atomic_file.h"

#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
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
