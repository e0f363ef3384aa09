/* Chat Completions replies (chat/llm_client.c) through
 * chat_llm_parse_response: the first byte picks the HTTP status, the
 * Content-Type, streamed or not and the size of the pieces the body arrives
 * in; the rest is the body (a JSON reply, an SSE stream, an error page). */
#include <stdlib.h>
#include <string.h>

#include "chat/llm_client.h"
#include "tests/fuzz/targets.h"

int fer_fuzz_llm_reply(const uint8_t *data, size_t n)
{
    if (n < 1) return 0;
    static const long statuses[8] = {200, 200, 200, 200, 429, 401, 500, 404};
    static const char *types[4] = {"text/event-stream", "application/json",
                                   "text/event-stream; charset=utf-8", ""};
    uint8_t sel = data[0];
    long status = statuses[sel & 7];
    const char *type = types[(sel >> 3) & 3];
    int stream = (sel >> 5) & 1;
    size_t chunk = (sel >> 6) == 0 ? 0 : (size_t)1 << (2 * (sel >> 6)); /* whole, 4, 16, 64 */
    char *reply = NULL;
    chat_llm_stats stats;
    int retry = -1;
    nn_error err = {0};
    nn_status st = chat_llm_parse_response(status, type, stream, (const char *)data + 1, n - 1,
                                           chunk, &reply, &stats, &retry, &err);
    int rc = 0;
    if (st == NN_OK) {
        if (!reply)
            rc = fer_fuzz_violation("llm_reply", "success without a reply");
        else if (status != 200)
            rc = fer_fuzz_violation("llm_reply", "HTTP %ld taken as a reply", status);
        else if (strlen(reply) != stats.reply_bytes)
            rc = fer_fuzz_violation("llm_reply", "reply of %zu bytes, stats say %zu",
                                    strlen(reply), stats.reply_bytes);
        else if (strlen(reply) > n)
            rc = fer_fuzz_violation("llm_reply", "reply longer than the body");
    } else {
        if (reply || err.code != st || !err.msg[0])
            rc = fer_fuzz_violation("llm_reply", "failure %d with reply %p, message '%s'", st,
                                    (void *)reply, err.msg);
        if (!rc && retry != (status == 429 || status == 500) && status != 429)
            rc = fer_fuzz_violation("llm_reply", "HTTP %ld: retry %d", status, retry);
    }
    if (!rc && memchr(stats.finish_reason, '\0', sizeof stats.finish_reason) == NULL)
        rc = fer_fuzz_violation("llm_reply", "finish_reason not terminated");
    free(reply);
    return rc;
}
