/* The command a program was run with, as one line a shell reads back to the
 * same argv: recorded in model metadata and evaluation reports so that a
 * published figure carries the command that reproduces it. */
#ifndef NN_COMMAND_LINE_H
#define NN_COMMAND_LINE_H

#include <stddef.h>

/* Joins argv[0..argc-1] with spaces into buf (always NUL-terminated when
 * size > 0). A word made only of letters, digits and _ . / = , : + @ % - is
 * written as is; any other word (spaces, quotes, $, *, empty, ...) is put in
 * single quotes, with each ' written as '\''. If the line does not fit, it is
 * cut at a word boundary where possible and ends in " ..." (so a truncated
 * command is never mistaken for a complete one; a buffer under 5 bytes just
 * ends where it ends). Returns the length the full line would have had (as
 * snprintf does). */
size_t nn_command_line(char *buf, size_t size, int argc, char *const argv[]);

#endif
