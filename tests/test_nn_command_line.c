/* nn_command_line: the recorded command must read back, through a real
 * shell, to the same words. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/command_line.h"

/* Runs `printf '%s\n' LINE` in /bin/sh and checks that it prints argv's
 * words, one per line (no word here holds a newline). */
static void shell_reads_back(const char *line, int argc, char *const argv[])
{
    char cmd[8192];
    snprintf(cmd, sizeof cmd, "printf '%%s\\n' %s", line);
    FILE *p = popen(cmd, "r");
    cr_assert_not_null(p);
    char got[1024];
    for (int i = 0; i < argc; i++) {
        cr_assert_not_null(fgets(got, sizeof got, p), "the shell gave fewer words than %d for: %s", argc, line);
        got[strcspn(got, "\n")] = '\0';
        cr_expect_str_eq(got, argv[i], "word %d of: %s", i, line);
    }
    cr_expect_null(fgets(got, sizeof got, p), "the shell gave more words than %d for: %s", argc, line);
    cr_assert_eq(pclose(p), 0);
}

Test(nn_command_line, plain_words_are_written_as_they_are)
{
    char *argv[] = {"bin/fer-eval", "--usage", "PublicTest", "--tta=shifts", "-j", "2", "a/b_c.csv.gz"};
    char buf[256];
    size_t n = nn_command_line(buf, sizeof buf, 7, argv);
    cr_assert_str_eq(buf, "bin/fer-eval --usage PublicTest --tta=shifts -j 2 a/b_c.csv.gz");
    cr_assert_eq(n, strlen(buf));
}

Test(nn_command_line, other_words_are_quoted_and_read_back)
{
    char *argv[] = {"fer-eval", "--title", "DCNN, 80 epochs, cosine lr", "it's", "", "$HOME", "*.csv",
                    "a\"b", "back\\slash", "tab\there", "'", "semi;colon", "x'y'z"};
    const int argc = (int)(sizeof argv / sizeof *argv);
    char buf[512];
    nn_command_line(buf, sizeof buf, argc, argv);
    cr_assert(strstr(buf, "--title 'DCNN, 80 epochs, cosine lr'"), "%s", buf);
    cr_assert(strstr(buf, "'it'\\''s'"), "%s", buf);
    shell_reads_back(buf, argc, argv);
}

Test(nn_command_line, a_line_that_does_not_fit_ends_in_a_marker_at_a_word_boundary)
{
    char *argv[] = {"fer-train", "--epochs", "80", "data.csv"};
    char buf[24]; /* "fer-train --epochs 80" is 21 bytes; with " ..." it needs 26 */
    size_t n = nn_command_line(buf, sizeof buf, 4, argv);
    cr_assert_eq(n, strlen("fer-train --epochs 80 data.csv"));
    cr_assert_str_eq(buf, "fer-train --epochs ...");

    char tiny[8]; /* not even the first word fits: cut inside it */
    nn_command_line(tiny, sizeof tiny, 4, argv);
    cr_assert_str_eq(tiny, "fer ...");
    char three[3];
    nn_command_line(three, sizeof three, 4, argv);
    cr_assert_str_eq(three, "fe");
    char one[1];
    nn_command_line(one, sizeof one, 4, argv);
    cr_assert_str_eq(one, "");
}

Test(nn_command_line, exact_fit_has_no_marker)
{
    char *argv[] = {"ab", "cd"};
    char buf[6];
    cr_assert_eq(nn_command_line(buf, sizeof buf, 2, argv), 5);
    cr_assert_str_eq(buf, "ab cd");
    cr_assert_eq(nn_command_line(buf, sizeof buf, 0, argv), 0);
    cr_assert_str_eq(buf, "");
}
