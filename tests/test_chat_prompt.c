/* Prompt template: placeholders, escapes, the unknown-emotion variant, plain
 * mode, every load-time error with its file and line, file loading, and the
 * built-in default being byte-identical to chat/templates/default.txt.
 * Run from the repository root (as `make check` does). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "chat/prompt.h"
#include "tests/support.h"

static chat_emotion_summary summary(int emotion, double share, uint64_t frames)
{
    chat_emotion_summary s = {.emotion = emotion, .share = share, .frames = frames};
    return s;
}

static char *render(const chat_template *t, const chat_emotion_summary *s, const char *text)
{
    char *out = NULL;
    nn_error err;
    cr_assert_eq(chat_template_render(t, CHAT_PROMPT_AUGMENTED, s, text, &out, &err), NN_OK,
                 "%s", err.msg);
    return out;
}

static void parse_ok(chat_template *t, const char *text)
{
    nn_error err;
    cr_assert_eq(chat_template_parse(t, text, strlen(text), "t.txt", &err), NN_OK, "%s", err.msg);
}

/* Parses text expecting failure; checks the message contains every needle. */
static void parse_fails(const char *text, const char *needle1, const char *needle2)
{
    chat_template t;
    nn_error err;
    nn_status st = chat_template_parse(&t, text, strlen(text), "my.tpl", &err);
    cr_assert_eq(st, NN_ERR_FORMAT, "accepted: %s", text);
    cr_assert(strstr(err.msg, needle1), "'%s' lacks '%s'", err.msg, needle1);
    if (needle2) cr_assert(strstr(err.msg, needle2), "'%s' lacks '%s'", err.msg, needle2);
    cr_assert_null(t.emotion);
    chat_template_free(&t);
}

static const char basic[] =
    "A description that is never sent. {braces} here are free text.\n"
    "[system]\n"
    "Be kind. Literal {{braces}} are fine here.\n"
    "\n"
    "[emotion]\n"
    "\n"
    "Mood: {emotion} / {feeling}, {share} over {frames}.\n"
    "  Indented line kept.\n"
    "Q: {text}\n"
    "\n"
    "\n"
    "[unknown]\n"
    "Mood unknown. Q: {text} {{x}}\n";

Test(chat_prompt, placeholders_are_filled)
{
    chat_template t;
    parse_ok(&t, basic);
    cr_assert_str_eq(chat_template_system(&t, CHAT_PROMPT_AUGMENTED),
                     "Be kind. Literal {{braces}} are fine here.");
    chat_emotion_summary s = summary(CHAT_EMOTION_DISGUST, 0.644, 37);
    char *out = render(&t, &s, "why {emotion}?");
    cr_assert_str_eq(out, "Mood: disgust / disgusted, 64% over 37 frames.\n"
                          "  Indented line kept.\n"
                          "Q: why {emotion}?",
                     "got: %s", out);
    free(out);
    chat_template_free(&t);
    cr_assert_null(t.emotion);
}

Test(chat_prompt, unknown_variant_says_unknown)
{
    chat_template t;
    parse_ok(&t, basic);
    chat_emotion_summary s = summary(CHAT_EMOTION_UNKNOWN, 0, 0);
    char *out = render(&t, &s, "hello");
    cr_assert_str_eq(out, "Mood unknown. Q: hello {x}");
    free(out);
    out = render(&t, NULL, "hello"); /* no summary at all is also unknown */
    cr_assert_str_eq(out, "Mood unknown. Q: hello {x}");
    free(out);
    chat_template_free(&t);
}

Test(chat_prompt, plain_mode_sends_text_alone)
{
    chat_template t;
    parse_ok(&t, basic);
    chat_emotion_summary s = summary(CHAT_EMOTION_SAD, 0.9, 10);
    char *out = NULL;
    nn_error err;
    cr_assert_eq(chat_template_render(&t, CHAT_PROMPT_PLAIN, &s, "just {text}", &out, &err), NN_OK);
    cr_assert_str_eq(out, "just {text}");
    cr_assert_null(chat_template_system(&t, CHAT_PROMPT_PLAIN));
    free(out);
    /* Plain mode needs no template at all. */
    cr_assert_eq(chat_template_render(NULL, CHAT_PROMPT_PLAIN, NULL, "x", &out, &err), NN_OK);
    cr_assert_str_eq(out, "x");
    free(out);
    chat_template_free(&t);
}

Test(chat_prompt, default_template_follows_the_brief)
{
    chat_template t;
    nn_error err;
    cr_assert_eq(chat_template_default(&t, &err), NN_OK, "%s", err.msg);
    const char *sys = chat_template_system(&t, CHAT_PROMPT_AUGMENTED);
    cr_assert_not_null(sys);
    /* acknowledge, guess a cause, fitting tone for the listed emotions */
    const char *must[] = {"acknowledg", "guess", "comfort", "encourage", "calm", "confused",
                          "unknown"};
    for (size_t i = 0; i < sizeof must / sizeof must[0]; i++)
        cr_assert(strstr(sys, must[i]), "system message lacks '%s'", must[i]);

    chat_emotion_summary s = summary(CHAT_EMOTION_SAD, 0.72, 41);
    char *out = render(&t, &s, "Why did my plant die?");
    cr_assert(strstr(out, "sad"), "%s", out);
    cr_assert(strstr(out, "72%"), "%s", out);
    cr_assert(strstr(out, "41 frames"), "%s", out);
    cr_assert(strstr(out, "Why did my plant die?"), "%s", out);
    free(out);
    s = summary(CHAT_EMOTION_SAD, 1.0, 1);
    out = render(&t, &s, "Why?");
    cr_assert(strstr(out, "over 1 frame."), "singular: %s", out);
    free(out);

    out = render(&t, NULL, "Why did my plant die?");
    cr_assert(strstr(out, "unknown"), "%s", out);
    cr_assert(strstr(out, "Why did my plant die?"));
    for (int k = 0; k < CHAT_N_EMOTIONS; k++) { /* never invent an emotion */
        cr_assert_null(strstr(out, chat_emotion_adjective(k)), "'%s' in: %s",
                       chat_emotion_adjective(k), out);
    }
    free(out);
    chat_template_free(&t);
}

Test(chat_prompt, default_file_is_an_exact_copy_of_the_built_in)
{
    size_t len;
    char *file = test_read_file("chat/templates/default.txt", &len);
    const char *builtin = chat_template_default_text();
    cr_assert_eq(len, strlen(builtin), "chat/templates/default.txt (%zu bytes) and the built-in "
                 "template (%zu bytes) differ: edit both", len, strlen(builtin));
    cr_assert(memcmp(file, builtin, len) == 0, "chat/templates/default.txt differs from the "
              "built-in template in chat/prompt.c: edit both");
    free(file);

    chat_template a, b;
    nn_error err;
    cr_assert_eq(chat_template_load(&a, "chat/templates/default.txt", &err), NN_OK, "%s", err.msg);
    cr_assert_eq(chat_template_default(&b, &err), NN_OK);
    cr_assert_str_eq(a.system, b.system);
    cr_assert_str_eq(a.emotion, b.emotion);
    cr_assert_str_eq(a.unknown, b.unknown);
    cr_assert_str_eq(a.source, "chat/templates/default.txt");
    chat_template_free(&a);
    chat_template_free(&b);
}

Test(chat_prompt, load_from_file_and_crlf_and_bom)
{
    char path[] = "/tmp/fer-chat-tpl-XXXXXX";
    int fd = mkstemp(path);
    cr_assert_geq(fd, 0);
    const char text[] = "\xEF\xBB\xBF[emotion]\r\n{feeling}: {text}\r\n[unknown]\r\n?: {text}\r\n";
    cr_assert_eq(write(fd, text, sizeof text - 1), (ssize_t)(sizeof text - 1));
    close(fd);
    chat_template t;
    nn_error err;
    nn_status st = chat_template_load(&t, path, &err);
    unlink(path);
    cr_assert_eq(st, NN_OK, "%s", err.msg);
    cr_assert_null(t.system);
    chat_emotion_summary s = summary(CHAT_EMOTION_ANGRY, 0.5, 2);
    char *out = render(&t, &s, "hi");
    cr_assert_str_eq(out, "angry: hi", "CR must not leak into the prompt: '%s'", out);
    free(out);
    chat_template_free(&t);

    st = chat_template_load(&t, "/nonexistent/dir/x.tpl", &err);
    cr_assert_eq(st, NN_ERR_IO);
    cr_assert(strstr(err.msg, "/nonexistent/dir/x.tpl"), "%s", err.msg);
    cr_assert(strstr(err.msg, "No such file"), "%s", err.msg);
}

Test(chat_prompt, unknown_placeholder_names_file_and_line)
{
    parse_fails("intro\n[emotion]\nfine {text}\nYou look {mood} today\n[unknown]\n{text}\n",
                "my.tpl:4:", "unknown placeholder {mood}");
    parse_fails("[emotion]\n{text}\n[unknown]\n{Text}\n", "my.tpl:4:", "{Text}");
}

Test(chat_prompt, unbalanced_braces_name_file_and_line)
{
    parse_fails("[emotion]\n{text}\n[unknown]\n{text}\nopen { here\n", "my.tpl:5:", "'{' without");
    parse_fails("[emotion]\n{text}\nclose } here\n[unknown]\n{text}\n", "my.tpl:3:", "'}' without");
    parse_fails("[emotion]\n{te\nxt}\n[unknown]\n{text}\n", "my.tpl:2:", "'{' without");
    parse_fails("[system]\n{ {text} }\n[emotion]\n{text}\n[unknown]\n{text}\n", "my.tpl:2:1:",
                "'{' without");
    parse_fails("[emotion]\n{text}}\n[unknown]\n{text}\n", "my.tpl:2:", "'}' without");
}

Test(chat_prompt, placeholders_outside_their_section_are_errors)
{
    parse_fails("[system]\nYou see {emotion}.\n[emotion]\n{text}\n[unknown]\n{text}\n",
                "my.tpl:2:", "[system]");
    parse_fails("[emotion]\n{text}\n[unknown]\nmaybe {feeling}: {text}\n", "my.tpl:4:",
                "no face was seen");
    parse_fails("[emotion]\n{text}\n[unknown]\n{share} {text}\n", "my.tpl:4:", "{share}");
}

Test(chat_prompt, section_structure_errors)
{
    parse_fails("[emotion]\n{text}\n", "my.tpl", "no [unknown] section");
    parse_fails("[unknown]\n{text}\n", "my.tpl", "no [emotion] section");
    parse_fails("[emotion]\n{text}\n[unknown]\n{text}\n[emotion]\n{text}\n", "my.tpl:5:",
                "repeated (first at line 1)");
    parse_fails("[emotion]\n{text}\n[unknown]\n{text}\n[notes]\n", "my.tpl:5:",
                "unknown section [notes]");
    parse_fails("[emotion]\nno question here\n[unknown]\n{text}\n", "my.tpl:1:",
                "never uses {text}");
    parse_fails("[emotion]\n{text}\n[unknown]\n", "my.tpl:3:", "never uses {text}");
    const char nul[] = "[emotion]\n{text}\n\0[unknown]\n{text}\n";
    chat_template t;
    nn_error err;
    cr_assert_eq(chat_template_parse(&t, nul, sizeof nul - 1, "bin.tpl", &err), NN_ERR_FORMAT);
    cr_assert(strstr(err.msg, "bin.tpl:3: NUL"), "%s", err.msg);
}

Test(chat_prompt, bracket_lines_that_are_not_sections_are_text)
{
    chat_template t;
    parse_ok(&t, "[emotion]\n[Note: {feeling}]\n [unknown]\n{text}\n[unknown]\n{text}\n");
    chat_emotion_summary s = summary(CHAT_EMOTION_FEAR, 1.0, 1);
    char *out = render(&t, &s, "q");
    cr_assert_str_eq(out, "[Note: afraid]\n [unknown]\nq");
    free(out);
    chat_template_free(&t);
}
