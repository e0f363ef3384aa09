/* bin/fer-chat for scripts (--prompt): a y4m video of a face is analysed,
 * the JSON report is checked, and a loopback server checks what was sent
 * (the emotion-augmented prompt, the key); also offline mode, server
 * errors, a refused connection, a missing model and bad usage. */
#include <cjson/cJSON.h>
#include <math.h>

#include "chat/emotion_sum.h"
#include "tests/chat_e2e_helpers.h"
#include "tests/chat_test_server.h"

/* The test's temporary folder, removed by fini even when an assertion
 * ends the test early. */
static char dir[256];

static void fini(void)
{
    if (dir[0]) e2e_rmdir(dir);
}

TestSuite(chat_e2e, .timeout = 60, .fini = fini);

static const char reply_text[] = "You look happy today. Enjoy it!";

static void answer_stream(ts_server *s, int fd, int idx, const ts_request *r)
{
    static const char body[] =
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"You look happy\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" today. Enjoy it!\"}}]}\n\n"
        "data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
        "data: [DONE]\n\n";
    if (ts_send_stream_head(fd)) return;
    if (ts_send_chunked_slowly(fd, body, sizeof body - 1, 13, 0)) return;
    ts_send_chunked_end(fd);
}

static void answer_whole(ts_server *s, int fd, int idx, const ts_request *r)
{
    ts_send_response(fd, 200, "application/json", "",
                     "{\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\",\"content\":"
                     "\"You look happy today. Enjoy it!\"},\"finish_reason\":\"stop\"}]}");
}

static void answer_401(ts_server *s, int fd, int idx, const ts_request *r)
{
    ts_send_response(fd, 401, "application/json", "",
                     "{\"error\":{\"message\":\"Incorrect API key provided\","
                     "\"type\":\"invalid_request_error\",\"code\":\"invalid_api_key\"}}");
}

static int count_of(const char *hay, const char *needle)
{
    int k = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p += strlen(needle)) k++;
    return k;
}

static int is_emotion_name(const char *s)
{
    for (int k = 0; k < CHAT_N_EMOTIONS; k++)
        if (!strcmp(s, chat_emotion_name(k))) return 1;
    return 0;
}

static const char *str_item(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    cr_assert(cJSON_IsString(v), "\"%s\" is not a string", name);
    return v->valuestring;
}

static double num_item(const cJSON *j, const char *name)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, name);
    cr_assert(cJSON_IsNumber(v), "\"%s\" is not a number", name);
    return v->valuedouble;
}

/* Parses the report and checks what every report has: the keys, the seven
 * sums, counts that add up. Returns the parsed object (caller deletes). */
static cJSON *report(const e2e_result *r)
{
    cJSON *j = cJSON_Parse(r->out);
    cr_assert_not_null(j, "stdout is not JSON: [%s] (stderr: %s)", r->out, r->err);
    const char *emotion = str_item(j, "emotion");
    cr_assert(is_emotion_name(emotion) || !strcmp(emotion, "unknown"), "%s", emotion);
    double share = num_item(j, "share");
    cr_assert(share >= 0 && share <= 1, "share %g", share);
    double frames = num_item(j, "frames"), faces = num_item(j, "faces_seen");
    cr_assert(faces >= 0 && faces <= frames, "faces_seen %g of %g frames", faces, frames);
    const cJSON *sums = cJSON_GetObjectItemCaseSensitive(j, "sums");
    cr_assert(cJSON_IsObject(sums));
    cr_assert_eq(cJSON_GetArraySize(sums), CHAT_N_EMOTIONS);
    double total = 0, best = -1;
    const char *best_name = "unknown";
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) {
        double v = num_item(sums, chat_emotion_name(k));
        cr_assert(v >= 0);
        total += v;
        if (v > best) best = v, best_name = chat_emotion_name(k);
    }
    /* The probabilities of each frame with a face sum to 1. */
    cr_assert(fabs(total - faces) < 1e-2 * (faces + 1), "sums total %g, faces %g", total, faces);
    if (faces > 0) {
        cr_assert_str_eq(emotion, best_name, "the emotion is the argmax of the sums");
        cr_assert(fabs(share - best / total) < 1e-3);
    } else {
        cr_assert_str_eq(emotion, "unknown", "no face, no emotion");
    }
    cr_assert(cJSON_GetObjectItemCaseSensitive(j, "prompt_sent"));
    cr_assert(cJSON_GetObjectItemCaseSensitive(j, "reply"));
    cr_assert(cJSON_GetObjectItemCaseSensitive(j, "error"));
    return j;
}

Test(chat_e2e, video_of_a_face_sent_to_a_server)
{
    e2e_need_binary();
    char clip[512];
    e2e_tmpdir(dir, sizeof dir);
    e2e_make_clip(dir, 6, clip, sizeof clip);
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_stream, NULL, 2, 30), 0, "%s", s.error);
    char *argv[] = {E2E_BIN, "--prompt", "What should I do this afternoon?", "--source", clip,
                    "--base-url", s.base_url, "--model-name", "e2e-model", NULL};
    e2e_result r;
    e2e_run(argv, "sk-e2e-key", "", 30, &r);
    ts_stop(&s);
    cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);

    cJSON *j = report(&r);
    const char *emotion = str_item(j, "emotion");
    cr_assert(is_emotion_name(emotion), "a face in every frame, yet emotion %s", emotion);
    cr_assert_eq(num_item(j, "frames"), 6, "every frame of the video is analysed");
    cr_assert_gt(num_item(j, "faces_seen"), 0);
    const char *sent = str_item(j, "prompt_sent");
    cr_assert(strstr(sent, emotion), "the prompt does not carry %s: %s", emotion, sent);
    cr_assert(strstr(sent, "What should I do this afternoon?"), "%s", sent);
    cr_assert_str_eq(str_item(j, "reply"), reply_text);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "error")));

    /* What the server received: the augmented prompt, the key, the model,
     * the template's system message first. */
    cr_assert_eq(s.n_requests, 1, "%s", s.error);
    char v[256];
    cr_assert(ts_header(&s.req[0], "Authorization", v, sizeof v));
    cr_assert_str_eq(v, "Bearer sk-e2e-key");
    cJSON *body = cJSON_Parse(s.req[0].body);
    cr_assert_not_null(body, "%s", s.req[0].body);
    cr_assert_str_eq(str_item(body, "model"), "e2e-model");
    cr_assert(cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(body, "stream")));
    cJSON *msgs = cJSON_GetObjectItemCaseSensitive(body, "messages");
    cr_assert_eq(cJSON_GetArraySize(msgs), 2);
    cr_assert_str_eq(str_item(cJSON_GetArrayItem(msgs, 0), "role"), "system");
    cJSON *user = cJSON_GetArrayItem(msgs, 1);
    cr_assert_str_eq(str_item(user, "role"), "user");
    cr_assert_str_eq(str_item(user, "content"), sent, "the server got exactly the prompt reported");
    cJSON_Delete(body);
    cJSON_Delete(j);
    ts_free(&s);
}

Test(chat_e2e, photo_whole_reply_and_prompt_from_stdin)
{
    e2e_need_binary();
    e2e_need_model();
    const char *photo = e2e_face_photo();
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_whole, NULL, 2, 30), 0, "%s", s.error);
    char *argv[] = {E2E_BIN, "--prompt", "-", "--source", (char *)photo, "--base-url",
                    s.base_url, "--no-stream", NULL};
    e2e_result r;
    e2e_run(argv, NULL, "Tell me a joke.\n", 30, &r);
    ts_stop(&s);
    cr_assert_eq(r.status, 0, "exit %d, stderr: %s", r.status, r.err);
    cJSON *j = report(&r);
    cr_assert_eq(num_item(j, "frames"), 1, "a photo is one frame");
    cr_assert_eq(num_item(j, "faces_seen"), 1);
    const char *sent = str_item(j, "prompt_sent");
    cr_assert(strstr(sent, "Tell me a joke.") && !strstr(sent, "joke.\n"), "%s", sent);
    cr_assert_str_eq(str_item(j, "reply"), reply_text);
    cr_assert_eq(s.n_requests, 1);
    char v[256];
    cr_assert_not(ts_header(&s.req[0], "Authorization", v, sizeof v), "no key, no header");
    cJSON *body = cJSON_Parse(s.req[0].body);
    cr_assert(cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(body, "stream")));
    cJSON_Delete(body);
    cJSON_Delete(j);
    ts_free(&s);
}

Test(chat_e2e, offline_shows_the_prompt)
{
    e2e_need_binary();
    char clip[512];
    e2e_tmpdir(dir, sizeof dir);
    e2e_make_clip(dir, 3, clip, sizeof clip);
    char *argv[] = {E2E_BIN, "--prompt", "Is it going to rain?", "--source", clip,
                    "--frames", "2", NULL};
    e2e_result r;
    e2e_run(argv, NULL, "", 30, &r);
    cr_assert_eq(r.status, 0, "offline is not an error; stderr: %s", r.err);
    cJSON *j = report(&r);
    cr_assert_eq(num_item(j, "frames"), 2, "--frames 2");
    const char *emotion = str_item(j, "emotion");
    cr_assert(is_emotion_name(emotion));
    cr_assert(strstr(str_item(j, "prompt_sent"), emotion));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "reply")));
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "error")));
    cr_assert(strstr(r.err, "OPENAI_API_KEY") && strstr(r.err, "--base-url"),
              "how to configure a server goes to stderr: %s", r.err);
    cJSON_Delete(j);

    /* --seconds counts video time: at 10 fps, frames at 0, 0.1 and 0.2 s. */
    char *argv2[] = {E2E_BIN, "--prompt", "Hi", "--source", clip, "--seconds", "0.25", NULL};
    e2e_run(argv2, NULL, "", 30, &r);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    j = report(&r);
    cr_assert_eq(num_item(j, "frames"), 3, "--seconds 0.25 at 10 fps");
    cJSON_Delete(j);
}

/* No camera: the emotion is marked unknown (never guessed), or with
 * --no-face-plain the text goes as typed; --plain never adds anything. */
Test(chat_e2e, no_face_unknown_or_plain)
{
    e2e_need_binary();
    char *argv1[] = {E2E_BIN, "--prompt", "Hello", "--source", "none", NULL};
    e2e_result r;
    e2e_run(argv1, NULL, "", 20, &r);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    cJSON *j = report(&r);
    cr_assert_str_eq(str_item(j, "emotion"), "unknown");
    cr_assert(strstr(str_item(j, "prompt_sent"), "unknown"), "%s", str_item(j, "prompt_sent"));
    cJSON_Delete(j);

    char *argv2[] = {E2E_BIN, "--prompt", "Hello", "--source", "none", "--no-face-plain", NULL};
    e2e_run(argv2, NULL, "", 20, &r);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    j = report(&r);
    cr_assert_str_eq(str_item(j, "prompt_sent"), "Hello");
    cJSON_Delete(j);

    e2e_need_model();
    const char *photo = e2e_face_photo();
    char *argv3[] = {E2E_BIN, "--prompt", "Hello", "--source", (char *)photo, "--plain", NULL};
    e2e_run(argv3, NULL, "", 20, &r);
    cr_assert_eq(r.status, 0, "stderr: %s", r.err);
    j = report(&r);
    cr_assert_eq(num_item(j, "faces_seen"), 1, "the face is still measured");
    cr_assert_str_eq(str_item(j, "prompt_sent"), "Hello", "--plain sends the text alone");
    cJSON_Delete(j);
}

Test(chat_e2e, server_error_is_reported_in_the_json)
{
    e2e_need_binary();
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_401, NULL, 2, 30), 0, "%s", s.error);
    char *argv[] = {E2E_BIN, "--prompt", "Hi", "--source", "none", "--base-url", s.base_url, NULL};
    e2e_result r;
    e2e_run(argv, "sk-wrong", "", 30, &r);
    ts_stop(&s);
    cr_assert_eq(r.status, 1, "exit %d", r.status);
    cJSON *j = report(&r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    cr_assert(cJSON_IsString(e), "%s", r.out);
    cr_assert(strstr(e->valuestring, "401"), "%s", e->valuestring);
    cr_assert(cJSON_IsNull(cJSON_GetObjectItemCaseSensitive(j, "reply")));
    cr_assert(cJSON_IsString(cJSON_GetObjectItemCaseSensitive(j, "prompt_sent")),
              "the prompt is still reported");
    cr_assert_eq(s.n_requests, 1, "401 is not retried");
    cJSON_Delete(j);
    ts_free(&s);
}

Test(chat_e2e, connection_refused_is_reported)
{
    e2e_need_binary();
    int fd;
    int port = ts_refusing_port(&fd);
    cr_assert_gt(port, 0);
    char url[64];
    snprintf(url, sizeof url, "http://127.0.0.1:%d/v1", port);
    char *argv[] = {E2E_BIN, "--prompt", "Hi", "--source", "none", "--base-url", url, NULL};
    e2e_result r;
    e2e_run(argv, NULL, "", 30, &r);
    close(fd);
    cr_assert_eq(r.status, 1);
    cJSON *j = report(&r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    cr_assert(cJSON_IsString(e) && strstr(e->valuestring, url), "the message names the URL: %s",
              r.out);
    cJSON_Delete(j);
}

Test(chat_e2e, missing_model_and_bad_usage)
{
    e2e_need_binary();
    const char *photo = e2e_face_photo();
    char *argv1[] = {E2E_BIN, "--prompt", "Hi", "--model", "no/such/model.bin", "--source",
                     (char *)photo, NULL};
    e2e_result r;
    e2e_run(argv1, NULL, "", 20, &r);
    cr_assert_eq(r.status, 1);
    cr_assert(strstr(r.err, "no/such/model.bin") && strstr(r.err, "fer-train"),
              "the error names the file and how to get a model: %s", r.err);
    cJSON *j = report(&r);
    const cJSON *e = cJSON_GetObjectItemCaseSensitive(j, "error");
    cr_assert(cJSON_IsString(e) && strstr(e->valuestring, "no/such/model.bin"), "%s", r.out);
    cJSON_Delete(j);

    char *argv2[] = {E2E_BIN, "--frames", "x", NULL};
    e2e_run(argv2, NULL, "", 20, &r);
    cr_assert_eq(r.status, 2);
    cr_assert(strstr(r.err, "--frames"), "%s", r.err);
    char *argv3[] = {E2E_BIN, "--prompt", "-", "--source", "-", NULL};
    e2e_run(argv3, NULL, "", 20, &r);
    cr_assert_eq(r.status, 2, "stdin cannot be both the prompt and the video");
    char *argv4[] = {E2E_BIN, "--help", NULL};
    e2e_run(argv4, NULL, "", 20, &r);
    cr_assert_eq(r.status, 0);
    const char *opts[] = {"--model", "--source", "--face", "--template", "--plain",
                          "--no-face-plain", "--base-url", "--model-name", "--no-stream",
                          "--timeout", "--retries", "--prompt", "--frames", "--seconds",
                          "--live", "--color"};
    for (size_t i = 0; i < sizeof opts / sizeof opts[0]; i++)
        cr_assert(strstr(r.out, opts[i]), "--help lacks %s", opts[i]);
}

/* The chat loop fed from a pipe: history across turns, /reset, commands,
 * end of input. */
Test(chat_e2e, chat_loop_from_a_pipe_keeps_the_conversation)
{
    e2e_need_binary();
    ts_server s;
    cr_assert_eq(ts_start(&s, answer_whole, NULL, 4, 30), 0, "%s", s.error);
    char *argv[] = {E2E_BIN, "--source", "none", "--base-url", s.base_url, NULL};
    e2e_result r;
    e2e_run(argv, NULL, "First question\nSecond question\n/reset\nThird question\n/nope\n", 30,
            &r);
    ts_stop(&s);
    cr_assert_eq(r.status, 0, "end of input ends the chat; stderr: %s", r.err);
    cr_assert_eq(count_of(r.out, reply_text), 3, "three replies printed:\n%s", r.out);
    cr_assert(strstr(r.out, "conversation cleared (2 turns forgotten)"), "%s", r.out);
    cr_assert(strstr(r.out, "unknown command /nope"), "%s", r.out);
    cr_assert_eq(s.n_requests, 3, "%s", s.error);
    const int want[] = {2, 4, 2}; /* system + user; + the first turn; after /reset */
    for (int i = 0; i < 3; i++) {
        cJSON *b = cJSON_Parse(s.req[i].body);
        cr_assert_not_null(b);
        cJSON *m = cJSON_GetObjectItemCaseSensitive(b, "messages");
        cr_assert_eq(cJSON_GetArraySize(m), want[i], "request %d has %d messages", i,
                     cJSON_GetArraySize(m));
        if (i == 1) {
            cr_assert(strstr(str_item(cJSON_GetArrayItem(m, 1), "content"), "First question"));
            cr_assert_str_eq(str_item(cJSON_GetArrayItem(m, 2), "content"), reply_text);
        }
        cJSON_Delete(b);
    }
    ts_free(&s);
}
