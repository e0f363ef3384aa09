/* Prompt templates (chat/prompt.c): parse, and render every section of an
 * accepted template with and without an emotion. */
#include <stdlib.h>
#include <string.h>

#include "chat/prompt.h"
#include "tests/fuzz/targets.h"

int fer_fuzz_template(const uint8_t *data, size_t n)
{
    chat_template t;
    nn_error err = {0};
    nn_status st = chat_template_parse(&t, (const char *)data, n, "fuzz.txt", &err);
    if (st != NN_OK) {
        int rc = 0;
        if (err.code != st || !err.msg[0])
            rc = fer_fuzz_violation("template", "status %d without a message", st);
        chat_template_free(&t);
        return rc;
    }
    int rc = 0;
    if (!t.emotion || !t.unknown)
        rc = fer_fuzz_violation("template", "accepted without [emotion] or [unknown]");
    chat_emotion_summary s;
    memset(&s, 0, sizeof s);
    for (int k = 0; k < 2 && !rc; k++) {
        chat_emotion_summary *sp = NULL;
        if (k == 1) {
            /* A real summary: sum one frame of probabilities. */
            chat_emotion_sum acc;
            if (chat_emotion_sum_init(&acc, &err)) break;
            float p[CHAT_N_EMOTIONS] = {0.1f, 0.05f, 0.05f, 0.6f, 0.1f, 0.05f, 0.05f};
            if (chat_emotion_sum_add(&acc, p, &err))
                rc = fer_fuzz_violation("template", "emotion sum: %s", err.msg);
            chat_emotion_sum_take(&acc, &s);
            chat_emotion_sum_destroy(&acc);
            sp = &s;
        }
        for (int mode = 0; mode < 2 && !rc; mode++) {
            char *out = NULL;
            st = chat_template_render(&t, mode ? CHAT_PROMPT_PLAIN : CHAT_PROMPT_AUGMENTED, sp,
                                      "hello {there}", &out, &err);
            if (st != NN_OK)
                rc = fer_fuzz_violation("template", "render failed: %s", err.msg);
            else if (!out || !strstr(out, "hello {there}"))
                rc = fer_fuzz_violation("template", "rendered text lost the user's message");
            free(out);
        }
    }
    chat_template_free(&t);
    return rc;
}
