/* interrupt.h: Ctrl-C and terminal signals for fer-chat.
 *
 * While installed:
 *   SIGINT    sets *cancel (the LLM client's and the frame collector's
 *             cancel flag: a streamed reply stops, not the program) and
 *             makes chat_interrupt_fd() readable, so a poll() at the prompt
 *             wakes up and can clear the line as shells do;
 *   SIGWINCH  makes the fd readable too (the line editor must learn the new
 *             width);
 *   SIGTERM, SIGHUP
 *             set *cancel and make the fd readable: the program should end
 *             cleanly (restoring the terminal) rather than die mid-line;
 *   SIGPIPE   ignored (libcurl advises it: a TLS write to a closed
 *             connection would otherwise kill the program).
 * Handlers use SA_RESTART so stdio writes to the terminal are never cut
 * short; poll() still returns at once because the fd becomes readable.
 *
 * Signals are process-wide, so there is one installation per process; the
 * handler's state (the pipe and the flag's address) is the only file-scope
 * mutable state in chat/, and exists because a signal handler cannot be
 * given a context pointer. Install and remove from the main thread; other
 * threads should block these signals (chat/capture.h does).
 */
#ifndef CHAT_INTERRUPT_H
#define CHAT_INTERRUPT_H

#include <signal.h>

#include "nn/error.h"

enum { CHAT_SIG_INT = 1, CHAT_SIG_WINCH = 2, CHAT_SIG_TERM = 4 };

/* Installs the handlers (saving the old ones) and the self-pipe. cancel
 * must stay valid until chat_interrupt_remove. NN_ERR_ARG if already
 * installed; NN_ERR_IO if the pipe or sigaction fails. */
nn_status chat_interrupt_install(volatile sig_atomic_t *cancel, nn_error *err);

/* The read end of the self-pipe (poll it for POLLIN), -1 if not installed. */
int chat_interrupt_fd(void);

/* Which signals arrived since the last drain (CHAT_SIG_* bits); empties
 * the pipe. Never blocks. */
unsigned chat_interrupt_drain(void);

/* Restores the previous handlers and closes the pipe. Safe to call twice. */
void chat_interrupt_remove(void);

#endif
