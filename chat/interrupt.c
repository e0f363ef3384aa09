#include "chat/interrupt.h"

#include <errno.h>
#include <fcntl.h>
#include <string.h>
#include <unistd.h>

/* See the header: a signal handler has no context pointer. */
static int pipe_fd[2] = {-1, -1};
static volatile sig_atomic_t *cancel_flag;
static struct sigaction old_int, old_winch, old_term, old_hup, old_pipe;
static int installed;

static void on_signal(int signo)
{
    int saved = errno;
    char c = signo == SIGINT ? 'i' : signo == SIGWINCH ? 'w' : 't';
    if (signo != SIGWINCH && cancel_flag) *cancel_flag = 1;
    /* Non-blocking: a full pipe already says "something happened". */
    ssize_t k = write(pipe_fd[1], &c, 1);
    (void)k;
    errno = saved;
}

static int set_flags(int fd)
{
    int fl = fcntl(fd, F_GETFL);
    int fdfl = fcntl(fd, F_GETFD);
    return fl < 0 || fdfl < 0 || fcntl(fd, F_SETFL, fl | O_NONBLOCK) ||
           fcntl(fd, F_SETFD, fdfl | FD_CLOEXEC);
}

nn_status chat_interrupt_install(volatile sig_atomic_t *cancel, nn_error *err)
{
    if (installed) return nn_fail(err, NN_ERR_ARG, "signal handlers already installed");
    if (pipe(pipe_fd)) return nn_fail(err, NN_ERR_IO, "pipe: %s", strerror(errno));
    if (set_flags(pipe_fd[0]) || set_flags(pipe_fd[1])) {
        int e = errno;
        close(pipe_fd[0]);
        close(pipe_fd[1]);
        pipe_fd[0] = pipe_fd[1] = -1;
        return nn_fail(err, NN_ERR_IO, "fcntl: %s", strerror(e));
    }
    cancel_flag = cancel;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    struct sigaction ign;
    memset(&ign, 0, sizeof ign);
    ign.sa_handler = SIG_IGN;
    sigemptyset(&ign.sa_mask);
    if (sigaction(SIGINT, &sa, &old_int) || sigaction(SIGWINCH, &sa, &old_winch) ||
        sigaction(SIGTERM, &sa, &old_term) || sigaction(SIGHUP, &sa, &old_hup) ||
        sigaction(SIGPIPE, &ign, &old_pipe)) {
        int e = errno;
        installed = 1;
        chat_interrupt_remove();
        return nn_fail(err, NN_ERR_IO, "sigaction: %s", strerror(e));
    }
    installed = 1;
    return NN_OK;
}

int chat_interrupt_fd(void) { return installed ? pipe_fd[0] : -1; }

unsigned chat_interrupt_drain(void)
{
    if (!installed) return 0;
    unsigned got = 0;
    char buf[64];
    ssize_t k;
    while ((k = read(pipe_fd[0], buf, sizeof buf)) > 0)
        for (ssize_t i = 0; i < k; i++)
            got |= buf[i] == 'i' ? CHAT_SIG_INT : buf[i] == 'w' ? CHAT_SIG_WINCH : CHAT_SIG_TERM;
    return got;
}

void chat_interrupt_remove(void)
{
    if (!installed) return;
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGWINCH, &old_winch, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    sigaction(SIGPIPE, &old_pipe, NULL);
    installed = 0;
    cancel_flag = NULL;
    if (pipe_fd[0] >= 0) close(pipe_fd[0]);
    if (pipe_fd[1] >= 0) close(pipe_fd[1]);
    pipe_fd[0] = pipe_fd[1] = -1;
}
