#include "nn/command_line.h"

#include <string.h>

static int is_plain(const char *w)
{
    if (!*w) return 0;
    for (const char *p = w; *p; p++) {
        const char c = *p;
        const int ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                       strchr("_./=,:+@%-", c) != NULL;
        if (!ok) return 0;
    }
    return 1;
}

/* Appends one byte at *len if it fits before the last byte of buf (kept for
 * the terminator); always counts it. */
static void put(char *buf, size_t size, size_t *len, char c)
{
    if (*len + 1 < size) buf[*len] = c;
    (*len)++;
}

size_t nn_command_line(char *buf, size_t size, int argc, char *const argv[])
{
    static const char more[] = " ...";
    size_t len = 0, last_fit = 0; /* last_fit: end of the last whole word that fitted */
    for (int i = 0; i < argc; i++) {
        if (i) put(buf, size, &len, ' ');
        const char *w = argv[i];
        if (is_plain(w)) {
            for (const char *p = w; *p; p++) put(buf, size, &len, *p);
        } else {
            put(buf, size, &len, '\'');
            for (const char *p = w; *p; p++) {
                if (*p == '\'') {
                    for (const char *q = "'\\''"; *q; q++) put(buf, size, &len, *q);
                } else {
                    put(buf, size, &len, *p);
                }
            }
            put(buf, size, &len, '\'');
        }
        if (len + sizeof more <= size) last_fit = len;
    }
    if (size == 0) return len;
    if (len < size) {
        buf[len] = '\0';
    } else if (size >= sizeof more) {
        /* Cut after the last word that leaves room for the marker, or, if
         * not even the first word fitted, mid-word. */
        size_t cut = last_fit ? last_fit : size - sizeof more;
        memcpy(buf + cut, more, sizeof more);
    } else {
        buf[size - 1] = '\0';
    }
    return len;
}
