#include "chat/prompt.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The default template. chat/templates/default.txt is a byte-identical copy
 * (tests/test_chat_prompt.c fails if they differ); edit both together. */
static const char default_text[] =
    "fer-chat default prompt template.\n"
    "\n"
    "This file is a copy of the template built into fer-chat (chat/prompt.c holds\n"
    "the original; a test checks that the two are identical). Copy it, edit it and\n"
    "pass it with --template FILE. Everything above the first [section] line is a\n"
    "free-form description and is never sent.\n"
    "\n"
    "Sections:\n"
    "  [system]   sent once, as the conversation's system message (optional)\n"
    "  [emotion]  wraps the user's message when a face was seen while they typed\n"
    "  [unknown]  wraps the user's message when no face was seen\n"
    "Placeholders ([emotion] may use all of them, [unknown] only {text},\n"
    "[system] none):\n"
    "  {emotion}  the dominant class: angry, disgust, fear, happy, sad,\n"
    "             surprise or neutral\n"
    "  {feeling}  the same as an adjective: angry, disgusted, afraid, happy,\n"
    "             sad, surprised or neutral\n"
    "  {share}    that class's share of the summed probabilities, e.g. 64%\n"
    "  {frames}   how many camera frames with a face were summed, with the noun\n"
    "             (\"1 frame\", \"41 frames\")\n"
    "  {text}     the user's message, exactly as typed\n"
    "  {{ and }}  a literal { and }\n"
    "\n"
    "[system]\n"
    "You are a helpful assistant in a text chat. While the person types, a camera\n"
    "and a facial-expression classifier estimate how they appear to feel, and each\n"
    "of their messages comes with that estimate. Treat it as a hint, not a fact:\n"
    "faces can mislead, so never insist on it or make it the whole conversation.\n"
    "\n"
    "In every reply:\n"
    "- Start by acknowledging, in a sentence or so, how the person seems to feel.\n"
    "- If their message hints at a reason for that feeling, offer a gentle guess\n"
    "  at it, and let them correct you.\n"
    "- Then answer what they asked, completely and accurately.\n"
    "- Let the feeling set your tone: reassure and comfort someone who seems sad\n"
    "  or afraid; share the mood of someone who seems happy and encourage them;\n"
    "  stay calm and steady with someone who seems angry or disgusted; for someone\n"
    "  who seems surprised or confused, slow down and explain step by step. With a\n"
    "  neutral expression, simply answer in a friendly way.\n"
    "When the estimate says the emotion is unknown, do not guess one; answer in a\n"
    "warm, even tone.\n"
    "\n"
    "[emotion]\n"
    "[Camera estimate while they typed: the person appears {feeling}. \"{emotion}\" carried {share} of the expression probabilities summed over {frames}.]\n"
    "\n"
    "{text}\n"
    "\n"
    "[unknown]\n"
    "[Camera estimate while they typed: no face was seen, so their emotional state is unknown.]\n"
    "\n"
    "{text}\n"
    ;

const char *chat_template_default_text(void)
{
    return default_text;
}

enum { SEC_SYSTEM, SEC_EMOTION, SEC_UNKNOWN, N_SEC };
static const char *const sec_names[N_SEC] = {"system", "emotion", "unknown"};

enum { PH_EMOTION, PH_FEELING, PH_SHARE, PH_FRAMES, PH_TEXT, N_PH };
static const char *const ph_names[N_PH] = {"emotion", "feeling", "share", "frames", "text"};
#define PH_BIT(p) (1u << (p))
static const unsigned ph_allowed[N_SEC] = {
    [SEC_SYSTEM] = 0,
    [SEC_EMOTION] = PH_BIT(PH_EMOTION) | PH_BIT(PH_FEELING) | PH_BIT(PH_SHARE) |
                    PH_BIT(PH_FRAMES) | PH_BIT(PH_TEXT),
    [SEC_UNKNOWN] = PH_BIT(PH_TEXT),
};
static const char *const ph_why_not[N_SEC] = {
    [SEC_SYSTEM] = "the system message is sent once, but the emotion and text change every turn",
    [SEC_UNKNOWN] = "no face was seen, so there is no emotion to describe",
};

#define TEMPLATE_MAX_BYTES ((size_t)1 << 20)

/* Growable string; every failure is NN_ERR_NOMEM. */
typedef struct {
    char *s;
    size_t len, cap;
} strbuf;

static int sb_add(strbuf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->len + n + 1) cap *= 2;
        char *ns = realloc(b->s, cap);
        if (!ns) return -1;
        b->s = ns;
        b->cap = cap;
    }
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = '\0';
    return 0;
}

static int placeholder_id(const char *name, size_t n)
{
    for (int i = 0; i < N_PH; i++)
        if (strlen(ph_names[i]) == n && memcmp(ph_names[i], name, n) == 0) return i;
    return -1;
}

/* Checks one line of section sec for brace and placeholder errors and ORs
 * the placeholders it uses into *used. */
static nn_status check_line(const char *line, size_t n, int sec, const char *src, int lineno,
                            unsigned *used, nn_error *err)
{
    for (size_t i = 0; i < n; i++) {
        if (line[i] == '}') {
            if (i + 1 < n && line[i + 1] == '}') {
                i++;
                continue;
            }
            return nn_fail(err, NN_ERR_FORMAT,
                           "%s:%d:%zu: '}' without an opening '{' (write }} for a literal brace)",
                           src, lineno, i + 1);
        }
        if (line[i] != '{') continue;
        if (i + 1 < n && line[i + 1] == '{') {
            i++;
            continue;
        }
        const char *close = memchr(line + i + 1, '}', n - i - 1);
        const char *open = memchr(line + i + 1, '{', n - i - 1);
        if (!close || (open && open < close))
            return nn_fail(err, NN_ERR_FORMAT,
                           "%s:%d:%zu: '{' without a closing '}' (write {{ for a literal brace)",
                           src, lineno, i + 1);
        const char *name = line + i + 1;
        size_t nlen = (size_t)(close - name);
        int ph = placeholder_id(name, nlen);
        if (ph < 0)
            return nn_fail(err, NN_ERR_FORMAT,
                           "%s:%d:%zu: unknown placeholder {%.*s} (known: {emotion} {feeling} "
                           "{share} {frames} {text}; {{ and }} are literal braces)",
                           src, lineno, i + 1, nlen > 40 ? 40 : (int)nlen, name);
        if (!(ph_allowed[sec] & PH_BIT(ph)))
            return nn_fail(err, NN_ERR_FORMAT, "%s:%d:%zu: {%s} cannot be used in [%s]: %s", src,
                           lineno, i + 1, ph_names[ph], sec_names[sec], ph_why_not[sec]);
        *used |= PH_BIT(ph);
        i = (size_t)(close - line);
    }
    return NN_OK;
}

/* A section line is "[name]" at column 0, optionally followed by blanks.
 * Returns 1 and the name's span if line is one. */
static int section_line(const char *line, size_t n, const char **name, size_t *nlen)
{
    if (n < 3 || line[0] != '[') return 0;
    size_t i = 1;
    while (i < n && ((line[i] >= 'a' && line[i] <= 'z') || line[i] == '-' || line[i] == '_')) i++;
    if (i == 1 || i >= n || line[i] != ']') return 0;
    for (size_t j = i + 1; j < n; j++)
        if (line[j] != ' ' && line[j] != '\t') return 0;
    *name = line + 1;
    *nlen = i - 1;
    return 1;
}

static int blank(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (s[i] != ' ' && s[i] != '\t' && s[i] != '\n' && s[i] != '\r') return 0;
    return 1;
}

/* The section text without blank lines at either end and without the final
 * newline; NULL if nothing is left or on allocation failure (*oom set). */
static char *trimmed_copy(const strbuf *b, int *oom)
{
    if (!b->s) return NULL;
    size_t start = 0, end = b->len;
    for (;;) { /* drop leading blank lines */
        const char *nl = memchr(b->s + start, '\n', end - start);
        size_t stop = nl ? (size_t)(nl - b->s) + 1 : end;
        if (!blank(b->s + start, stop - start) || stop == start) break;
        start = stop;
    }
    while (end > start) { /* drop trailing blank lines */
        size_t ls = end - 1;
        while (ls > start && b->s[ls - 1] != '\n') ls--;
        if (!blank(b->s + ls, end - ls)) break;
        end = ls;
    }
    while (end > start && (b->s[end - 1] == '\n' || b->s[end - 1] == '\r')) end--;
    if (end == start) return NULL;
    char *out = malloc(end - start + 1);
    if (!out) {
        *oom = 1;
        return NULL;
    }
    memcpy(out, b->s + start, end - start);
    out[end - start] = '\0';
    return out;
}

void chat_template_free(chat_template *t)
{
    if (!t) return;
    free(t->system);
    free(t->emotion);
    free(t->unknown);
    t->system = t->emotion = t->unknown = NULL;
}

nn_status chat_template_parse(chat_template *t, const char *text, size_t len,
                              const char *source, nn_error *err)
{
    if (!t || (!text && len)) return nn_fail(err, NN_ERR_ARG, "chat_template_parse: NULL argument");
    memset(t, 0, sizeof *t);
    snprintf(t->source, sizeof t->source, "%s", source ? source : "template");
    const char *src = t->source;

    strbuf body[N_SEC] = {{0}};
    int header_line[N_SEC] = {0};
    unsigned used[N_SEC] = {0};
    int sec = -1;
    nn_status st = NN_OK;

    if (len >= 3 && memcmp(text, "\xEF\xBB\xBF", 3) == 0) { /* UTF-8 BOM */
        text += 3;
        len -= 3;
    }
    const char *nul = memchr(text, '\0', len);
    if (nul) {
        int lineno = 1;
        for (const char *c = text; c < nul; c++) lineno += *c == '\n';
        st = nn_fail(err, NN_ERR_FORMAT, "%s:%d: NUL byte: not a text file", src, lineno);
        goto done;
    }

    int lineno = 0;
    for (size_t pos = 0; pos < len;) {
        const char *line = text + pos;
        const char *nl = memchr(line, '\n', len - pos);
        size_t n = nl ? (size_t)(nl - line) : len - pos;
        pos += n + (nl != NULL);
        lineno++;
        if (n && line[n - 1] == '\r') n--;

        const char *name;
        size_t nlen;
        if (section_line(line, n, &name, &nlen)) {
            int s = -1;
            for (int k = 0; k < N_SEC; k++)
                if (strlen(sec_names[k]) == nlen && memcmp(sec_names[k], name, nlen) == 0) s = k;
            if (s < 0) {
                st = nn_fail(err, NN_ERR_FORMAT,
                             "%s:%d: unknown section [%.*s] (sections are [system], "
                             "[emotion] and [unknown])",
                             src, lineno, nlen > 40 ? 40 : (int)nlen, name);
                goto done;
            }
            if (header_line[s]) {
                st = nn_fail(err, NN_ERR_FORMAT, "%s:%d: section [%s] repeated (first at line %d)",
                             src, lineno, sec_names[s], header_line[s]);
                goto done;
            }
            header_line[s] = lineno;
            sec = s;
            continue;
        }
        if (sec < 0) continue; /* the description before the first section */
        st = check_line(line, n, sec, src, lineno, &used[sec], err);
        if (st) goto done;
        if (sb_add(&body[sec], line, n) || sb_add(&body[sec], "\n", 1)) {
            st = nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", src);
            goto done;
        }
    }

    for (int s = SEC_EMOTION; s <= SEC_UNKNOWN; s++) {
        if (!header_line[s]) {
            st = nn_fail(err, NN_ERR_FORMAT, "%s: no [%s] section (a template needs [emotion] "
                         "and [unknown]; see chat/templates/default.txt)", src, sec_names[s]);
            goto done;
        }
        if (!(used[s] & PH_BIT(PH_TEXT))) {
            st = nn_fail(err, NN_ERR_FORMAT,
                         "%s:%d: section [%s] never uses {text}, so the user's message would "
                         "not be sent", src, header_line[s], sec_names[s]);
            goto done;
        }
    }
    int oom = 0;
    t->system = trimmed_copy(&body[SEC_SYSTEM], &oom);
    t->emotion = trimmed_copy(&body[SEC_EMOTION], &oom);
    t->unknown = trimmed_copy(&body[SEC_UNKNOWN], &oom);
    if (oom) st = nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", src);

done:
    for (int s = 0; s < N_SEC; s++) free(body[s].s);
    if (st) chat_template_free(t);
    return st;
}

nn_status chat_template_load(chat_template *t, const char *path, nn_error *err)
{
    if (!t || !path) return nn_fail(err, NN_ERR_ARG, "chat_template_load: NULL argument");
    memset(t, 0, sizeof *t);
    FILE *fp = fopen(path, "rb");
    if (!fp) return nn_fail(err, NN_ERR_IO, "%s: cannot open template: %s", path, strerror(errno));
    char *buf = malloc(TEMPLATE_MAX_BYTES + 1);
    if (!buf) {
        fclose(fp);
        return nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", path);
    }
    size_t n = fread(buf, 1, TEMPLATE_MAX_BYTES + 1, fp);
    int rerr = ferror(fp);
    int saved = errno;
    fclose(fp);
    nn_status st;
    if (rerr)
        st = nn_fail(err, NN_ERR_IO, "%s: cannot read template: %s", path, strerror(saved));
    else if (n > TEMPLATE_MAX_BYTES)
        st = nn_fail(err, NN_ERR_FORMAT, "%s: template larger than %zu bytes", path,
                     TEMPLATE_MAX_BYTES);
    else
        st = chat_template_parse(t, buf, n, path, err);
    free(buf);
    return st;
}

nn_status chat_template_default(chat_template *t, nn_error *err)
{
    return chat_template_parse(t, default_text, sizeof default_text - 1, "built-in template", err);
}

const char *chat_template_system(const chat_template *t, chat_prompt_mode mode)
{
    return mode == CHAT_PROMPT_PLAIN || !t ? NULL : t->system;
}

nn_status chat_template_render(const chat_template *t, chat_prompt_mode mode,
                               const chat_emotion_summary *s, const char *text, char **out,
                               nn_error *err)
{
    if (!text || !out || (mode != CHAT_PROMPT_PLAIN && !t))
        return nn_fail(err, NN_ERR_ARG, "chat_template_render: NULL argument");
    *out = NULL;
    if (mode == CHAT_PROMPT_PLAIN) {
        *out = strdup(text);
        return *out ? NN_OK : nn_fail(err, NN_ERR_NOMEM, "prompt: out of memory");
    }
    int known = s && s->emotion >= 0 && s->emotion < CHAT_N_EMOTIONS;
    const char *sec = known ? t->emotion : t->unknown;
    if (!sec) return nn_fail(err, NN_ERR_ARG, "%s: template not loaded", t->source);

    char share[16], frames[32];
    snprintf(share, sizeof share, "%.0f%%", known ? 100.0 * s->share : 0.0);
    unsigned long long nf = s ? (unsigned long long)s->frames : 0ULL;
    snprintf(frames, sizeof frames, "%llu frame%s", nf, nf == 1 ? "" : "s");
    const char *value[N_PH] = {
        [PH_EMOTION] = chat_emotion_name(known ? s->emotion : CHAT_EMOTION_UNKNOWN),
        [PH_FEELING] = chat_emotion_adjective(known ? s->emotion : CHAT_EMOTION_UNKNOWN),
        [PH_SHARE] = share,
        [PH_FRAMES] = frames,
        [PH_TEXT] = text,
    };

    strbuf b = {0};
    int bad = 0;
    /* The section was validated at load, so every brace here is either an
     * escape or a known placeholder. */
    for (const char *c = sec; *c && !bad;) {
        if ((c[0] == '{' && c[1] == '{') || (c[0] == '}' && c[1] == '}')) {
            bad = sb_add(&b, c, 1);
            c += 2;
        } else if (c[0] == '{') {
            const char *close = strchr(c, '}');
            int ph = close ? placeholder_id(c + 1, (size_t)(close - c - 1)) : -1;
            if (ph < 0) { /* unreachable for a parsed template; copy as is */
                bad = sb_add(&b, c, 1);
                c++;
                continue;
            }
            bad = sb_add(&b, value[ph], strlen(value[ph]));
            c = close + 1;
        } else {
            size_t run = strcspn(c, "{}");
            if (run == 0) run = 1;
            bad = sb_add(&b, c, run);
            c += run;
        }
    }
    if (!bad && !b.s) bad = sb_add(&b, "", 0);
    if (bad) {
        free(b.s);
        return nn_fail(err, NN_ERR_NOMEM, "prompt: out of memory");
    }
    *out = b.s;
    return NN_OK;
}
