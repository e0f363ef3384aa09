/* chat_test_server.h: a loopback HTTP/1.1 server for the chat client tests
 * (header-only, so it is compiled into each test binary that includes it).
 *
 * It listens on 127.0.0.1 only, on an ephemeral port, in one pthread. It
 * serves at most max_requests connections, one request each (it always
 * answers "Connection: close"), and stops by itself at time_limit_s, so a
 * broken client can never hang a test. Each request is recorded (method,
 * path, raw headers, body, arrival time) for the test to check after
 * ts_stop(); the test's respond() callback writes the answer with the
 * ts_send_* helpers. Assertions are made by the test thread after ts_stop,
 * never in the server thread.
 */
#ifndef CHAT_TEST_SERVER_H
#define CHAT_TEST_SERVER_H

#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define TS_MAX_REQUESTS 16
#define TS_MAX_HEADER 16384
#define TS_MAX_BODY (1 << 20)

typedef struct {
    char method[16];
    char path[512];
    char headers[TS_MAX_HEADER]; /* raw header block, request line included */
    char *body;                  /* NUL-terminated, malloc'd */
    size_t body_len;
    double t;                    /* arrival, CLOCK_MONOTONIC seconds */
} ts_request;

typedef struct ts_server ts_server;
/* Writes the answer to request number idx (0-based) on fd. */
typedef void (*ts_respond_fn)(ts_server *s, int fd, int idx, const ts_request *req);

struct ts_server {
    int listen_fd;
    int port;
    int max_requests;
    double deadline;      /* absolute CLOCK_MONOTONIC time the server stops */
    ts_respond_fn respond;
    void *user;           /* for respond() */
    atomic_int stop;      /* set by ts_stop */
    int n_requests;       /* read only after ts_stop */
    ts_request req[TS_MAX_REQUESTS];
    char base_url[64];    /* "http://127.0.0.1:PORT/v1" */
    char error[256];      /* first server-side problem, "" if none */
    pthread_t thread;
};

static inline double ts_now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static inline void ts_sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - 1000.0 * (long)(ms / 1000)) * 1e6)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* Sends all n bytes (MSG_NOSIGNAL: a client that hung up must not kill the
 * test with SIGPIPE). Returns 0, or -1 if the client is gone. */
static inline int ts_send(int fd, const void *data, size_t n)
{
    const char *p = data;
    while (n) {
        ssize_t k = send(fd, p, n, MSG_NOSIGNAL);
        if (k < 0 && errno == EINTR) continue;
        if (k <= 0) return -1;
        p += k;
        n -= (size_t)k;
    }
    return 0;
}

static inline int ts_sendf(int fd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int ts_sendf(int fd, const char *fmt, ...)
{
    char buf[8192];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    if (n < 0 || (size_t)n >= sizeof buf) return -1;
    return ts_send(fd, buf, (size_t)n);
}

/* A complete response with Content-Length. extra_headers: "" or lines each
 * ending in "\r\n". */
static inline int ts_send_response(int fd, int status, const char *content_type,
                                   const char *extra_headers, const char *body)
{
    size_t n = strlen(body);
    if (ts_sendf(fd, "HTTP/1.1 %d X\r\nContent-Type: %s\r\nContent-Length: %zu\r\n"
                     "Connection: close\r\n%s\r\n", status, content_type, n, extra_headers))
        return -1;
    return ts_send(fd, body, n);
}

/* Starts a chunked text/event-stream response. */
static inline int ts_send_stream_head(int fd)
{
    return ts_sendf(fd, "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
                        "Cache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n"
                        "Connection: close\r\n\r\n");
}

/* Sends data as HTTP chunks of 1, 2, ... max_piece bytes in turn, each its
 * own write with a pause of pause_us after it, so the client sees the
 * stream arrive in many small, oddly split reads. */
static inline int ts_send_chunked_slowly(int fd, const char *data, size_t n, size_t max_piece,
                                         int pause_us)
{
    size_t piece = 1;
    while (n) {
        size_t k = piece < n ? piece : n;
        if (ts_sendf(fd, "%zx\r\n", k) || ts_send(fd, data, k) || ts_send(fd, "\r\n", 2))
            return -1;
        data += k;
        n -= k;
        piece = piece % max_piece + 1;
        if (pause_us) ts_sleep_ms(pause_us / 1000.0);
    }
    return 0;
}

static inline int ts_send_chunked_end(int fd)
{
    return ts_send(fd, "0\r\n\r\n", 5);
}

/* Waits (without answering) until the test stops the server or the time
 * limit passes: for time-out tests. */
static inline void ts_hang(ts_server *s)
{
    while (!atomic_load(&s->stop) && ts_now() < s->deadline) ts_sleep_ms(10);
}

/* Value of request header name (case-insensitive) copied into out; returns
 * 1 if present. */
static inline int ts_header(const ts_request *r, const char *name, char *out, size_t outsz)
{
    size_t k = strlen(name);
    for (const char *line = strstr(r->headers, "\r\n"); line && line[2];
         line = strstr(line + 2, "\r\n")) {
        const char *h = line + 2;
        if (strncasecmp(h, name, k) == 0 && h[k] == ':') {
            const char *v = h + k + 1;
            while (*v == ' ') v++;
            const char *end = strstr(v, "\r\n");
            size_t n = end ? (size_t)(end - v) : strlen(v);
            snprintf(out, outsz, "%.*s", (int)n, v);
            return 1;
        }
    }
    return 0;
}

static inline void ts_note(ts_server *s, const char *msg)
{
    if (!s->error[0]) snprintf(s->error, sizeof s->error, "%s", msg);
}

/* Reads one request from fd into r; 0 on success. */
static inline int ts_read_request(ts_server *s, int fd, ts_request *r)
{
    size_t len = 0;
    char *hdr_end = NULL;
    while (!hdr_end) {
        struct pollfd p = {fd, POLLIN, 0};
        if (ts_now() > s->deadline || atomic_load(&s->stop)) return -1;
        if (poll(&p, 1, 20) <= 0) continue;
        if (len + 1 >= sizeof r->headers) { ts_note(s, "request headers too long"); return -1; }
        ssize_t k = recv(fd, r->headers + len, sizeof r->headers - 1 - len, 0);
        if (k <= 0) return -1;
        len += (size_t)k;
        r->headers[len] = '\0';
        hdr_end = strstr(r->headers, "\r\n\r\n");
    }
    size_t hlen = (size_t)(hdr_end - r->headers) + 4;
    if (sscanf(r->headers, "%15s %511s", r->method, r->path) != 2) {
        ts_note(s, "bad request line");
        return -1;
    }
    char cl[32] = "0";
    ts_header(r, "Content-Length", cl, sizeof cl);
    size_t want = strtoul(cl, NULL, 10);
    if (want > TS_MAX_BODY) { ts_note(s, "request body too long"); return -1; }
    r->body = malloc(want + 1);
    if (!r->body) return -1;
    size_t have = len - hlen; /* body bytes that came with the headers */
    if (have > want) have = want;
    memcpy(r->body, r->headers + hlen, have);
    r->headers[hlen] = '\0';
    while (have < want) {
        struct pollfd p = {fd, POLLIN, 0};
        if (ts_now() > s->deadline) return -1;
        if (poll(&p, 1, 20) <= 0) continue;
        ssize_t k = recv(fd, r->body + have, want - have, 0);
        if (k <= 0) return -1;
        have += (size_t)k;
    }
    r->body[want] = '\0';
    r->body_len = want;
    return 0;
}

static inline void *ts_main(void *arg)
{
    ts_server *s = arg;
    while (s->n_requests < s->max_requests && !atomic_load(&s->stop) && ts_now() < s->deadline) {
        struct pollfd p = {s->listen_fd, POLLIN, 0};
        if (poll(&p, 1, 20) <= 0) continue;
        int fd = accept(s->listen_fd, NULL, NULL);
        if (fd < 0) continue;
        int one = 1;
        setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
        ts_request *r = &s->req[s->n_requests];
        memset(r, 0, sizeof *r);
        r->t = ts_now();
        if (ts_read_request(s, fd, r) == 0) {
            int idx = s->n_requests++;
            s->respond(s, fd, idx, r);
        } else {
            free(r->body);
            r->body = NULL;
        }
        /* Half-close, then drain briefly, so the client reads everything
         * sent before the connection goes away. */
        shutdown(fd, SHUT_WR);
        char sink[256];
        struct pollfd q = {fd, POLLIN, 0};
        while (poll(&q, 1, 50) > 0 && recv(fd, sink, sizeof sink, 0) > 0) {}
        close(fd);
    }
    return NULL;
}

/* Starts the server. Returns 0, or -1 with s->error set. */
static inline int ts_start(ts_server *s, ts_respond_fn respond, void *user, int max_requests,
                           double time_limit_s)
{
    memset(s, 0, sizeof *s);
    s->respond = respond;
    s->user = user;
    s->max_requests = max_requests < TS_MAX_REQUESTS ? max_requests : TS_MAX_REQUESTS;
    s->deadline = ts_now() + time_limit_s;
    s->listen_fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s->listen_fd < 0) { ts_note(s, "socket failed"); return -1; }
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(s->listen_fd, (struct sockaddr *)&a, sizeof a) ||
        listen(s->listen_fd, 8) ||
        getsockname(s->listen_fd, (struct sockaddr *)&a, &alen)) {
        ts_note(s, "bind/listen failed");
        close(s->listen_fd);
        return -1;
    }
    s->port = ntohs(a.sin_port);
    snprintf(s->base_url, sizeof s->base_url, "http://127.0.0.1:%d/v1", s->port);
    if (pthread_create(&s->thread, NULL, ts_main, s)) {
        ts_note(s, "pthread_create failed");
        close(s->listen_fd);
        return -1;
    }
    return 0;
}

/* Stops the server (waits for the connection in progress, bounded by the
 * time limit) and closes the socket. Requests stay readable until
 * ts_free. */
static inline void ts_stop(ts_server *s)
{
    atomic_store(&s->stop, 1);
    pthread_join(s->thread, NULL);
    close(s->listen_fd);
}

static inline void ts_free(ts_server *s)
{
    for (int i = 0; i < s->n_requests; i++) free(s->req[i].body);
}

/* A TCP port on 127.0.0.1 that refuses connections: bound but never
 * listening, so no other process can take it while *fd stays open. */
static inline int ts_refusing_port(int *fd)
{
    *fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (*fd < 0) return -1;
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = 0};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (bind(*fd, (struct sockaddr *)&a, sizeof a) ||
        getsockname(*fd, (struct sockaddr *)&a, &alen)) {
        close(*fd);
        return -1;
    }
    return ntohs(a.sin_port);
}

#endif
