/* nn_read_file: whole files, a terminating zero, size limit, errors. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "nn/read_file.h"

Test(read_file, contents_limit_and_errors)
{
    char path[] = "/tmp/fer-read-file-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    uint8_t *data;
    size_t len;
    nn_error err = {0};
    cr_assert_eq(nn_read_file(path, 1 << 20, "thing", &data, &len, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(len, 0);
    cr_assert_eq(data[0], 0); /* empty file: still a valid empty string */
    free(data);

    /* 200,000 bytes: several buffer doublings */
    char *big = malloc(200000);
    for (int i = 0; i < 200000; i++) big[i] = (char)('a' + i % 26);
    cr_assert_eq(write(fd, big, 200000), 200000);
    close(fd);
    cr_assert_eq(nn_read_file(path, 1 << 20, "thing", &data, &len, &err), NN_OK, "%s", err.msg);
    cr_assert_eq(len, 200000);
    cr_assert_eq(memcmp(data, big, len), 0);
    cr_assert_eq(data[len], 0);
    free(data);

    cr_assert_eq(nn_read_file(path, 100000, "thing", &data, &len, &err), NN_ERR_FORMAT);
    cr_assert_null(data);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "the most a thing can be"), "%s", err.msg);
    unlink(path);

    cr_assert_eq(nn_read_file(path, 1 << 20, "thing", &data, &len, &err), NN_ERR_IO);
    cr_assert(strstr(err.msg, path) && strstr(err.msg, "No such file"), "%s", err.msg);
    free(big);
}
