/* fer-chat: a terminal chat with a language model that is told how the user
 * appears to feel while typing (the paper's emotion-augmented prompt).
 * Interactive by default; --prompt runs once for scripts and prints JSON.
 * The loop is chat/session.c, the camera side chat/capture.c, the
 * one-shot mode chat/oneshot.c; this file is options and set-up. */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "chat/capture.h"
#include "chat/history.h"
#include "chat/interrupt.h"
#include "chat/llm_client.h"
#include "chat/oneshot.h"
#include "chat/prompt.h"
#include "chat/session.h"
#include "chat/turn.h"

#define DEFAULT_MODEL "results/model.bin"

static void usage(FILE *out)
{
    fprintf(out,
        "usage: fer-chat [options]                      interactive chat\n"
        "       fer-chat --prompt TEXT|- [options]      one message, JSON on stdout\n"
        "\n"
        "Chat with an OpenAI-compatible language model. While you type, a camera\n"
        "watches your face; the emotion probabilities of every frame are summed and\n"
        "the dominant emotion goes with your message (the prompt template says how).\n"
        "\n"
        "Camera and emotion model:\n"
        "  -m, --model FILE       emotion model (default " DEFAULT_MODEL ")\n"
        "  -s, --source SPEC      frames: camera (default, /dev/video0), camera:N,\n"
        "                         /dev/videoN, a .png/.jpg photo, a .y4m video,\n"
        "                         - (y4m on stdin, with --prompt only), none (no camera)\n"
        "      --face N           which face counts, largest first (default 0 = largest)\n"
        "      --cascade FILE     Haar cascade (default OpenCV's frontal face)\n"
        "      --size WxH         camera frame size (default 640x480)\n"
        "      --loop             replay a video file when it ends (interactive)\n"
        "      --still-fps F      frames per second a photo source gives (default 10)\n"
        "\n"
        "Prompt:\n"
        "  -t, --template FILE    prompt template (default: built in; see\n"
        "                         chat/templates/default.txt)\n"
        "      --plain            send messages as typed, no emotion (the baseline)\n"
        "      --no-face-plain    when no face was seen, send the message as typed\n"
        "                         (default: the template's [unknown] text)\n"
        "      --show-prompt      print every message as sent\n"
        "\n"
        "Language model (the key comes from OPENAI_API_KEY only):\n"
        "      --base-url URL     server base URL (default OPENAI_BASE_URL, or\n"
        "                         https://api.openai.com/v1 when a key is set; with\n"
        "                         neither, fer-chat runs offline and shows the prompt)\n"
        "      --model-name NAME  model to ask for (default gpt-4o-mini)\n"
        "      --temperature T    sampling temperature (default: the server's)\n"
        "      --max-tokens N     longest reply (default: the server's)\n"
        "      --no-stream        wait for whole replies instead of streaming\n"
        "      --connect-timeout S  connection time-out (default 10)\n"
        "      --timeout S        whole-request time-out, 0 = none (default 600)\n"
        "      --idle-timeout S   give up when nothing arrives for S, 0 = never\n"
        "                         (default 120)\n"
        "      --retries N        retries after 429 and 5xx (default 4)\n"
        "      --ca-file FILE     CA bundle for a server with its own certificate\n"
        "      --max-turns N      turns of conversation kept, 0 = all (default 20)\n"
        "\n"
        "One message (for scripts):\n"
        "  -p, --prompt TEXT      send TEXT (- reads standard input) and print JSON:\n"
        "                         emotion, share, frames, faces_seen, sums,\n"
        "                         prompt_sent, reply (null offline), error\n"
        "      --frames N         analyse at most N frames (default: a photo's one,\n"
        "                         a video's all)\n"
        "      --seconds S        collect for S seconds of frame time (default for a\n"
        "                         camera: 3)\n"
        "\n"
        "Terminal:\n"
        "      --live             show the running emotion in the prompt\n"
        "      --color WHEN       auto (default: on a terminal unless NO_COLOR is\n"
        "                         set), always or never\n"
        "  -h, --help             this text\n"
        "\n"
        "In the chat: /help, /retry, /reset, /emotion, /last, /quit (or Ctrl-D).\n"
        "Ctrl-C stops a reply or clears the line.\n"
        "Exit status: 0 ok, 1 error, 2 bad usage. More in docs/chat.md.\n");
}

typedef struct {
    chat_capture_opts cap;
    int no_camera;
    const char *template_path;
    int plain, no_face_plain, show_prompt, stream, live;
    const char *color;
    chat_llm_config llm;
    long max_turns;
    const char *prompt;
    long frames;
    double seconds;
} options;

static int bad_value(const char *opt, const char *v, const char *want)
{
    fprintf(stderr, "fer-chat: %s %s: expected %s\n", opt, v, want);
    return 2;
}

static int parse_long(const char *opt, const char *v, long lo, long hi, long *out)
{
    char *end;
    errno = 0;
    long x = strtol(v, &end, 10);
    if (errno || end == v || *end || x < lo || x > hi) {
        char want[96];
        snprintf(want, sizeof want, "an integer from %ld to %ld", lo, hi);
        return bad_value(opt, v, want);
    }
    *out = x;
    return 0;
}

static int parse_double(const char *opt, const char *v, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double x = strtod(v, &end);
    if (errno || end == v || *end || !isfinite(x) || x < lo || x > hi) {
        char want[96];
        snprintf(want, sizeof want, "a number from %g to %g", lo, hi);
        return bad_value(opt, v, want);
    }
    *out = x;
    return 0;
}

static int parse_ms(const char *opt, const char *v, long *ms)
{
    double s;
    if (parse_double(opt, v, 0, 86400, &s)) return 2;
    *ms = (long)llround(s * 1000);
    return 0;
}

/* Returns -1 to go on, else the exit status (0 after --help). */
static int parse_options(int argc, char **argv, options *o)
{
    enum { O_FACE = 256, O_CASCADE, O_SIZE, O_LOOP, O_STILL_FPS, O_PLAIN, O_NOFACE,
           O_SHOW, O_BASE, O_MNAME, O_TEMP, O_MAXTOK, O_NOSTREAM, O_CTO, O_TO, O_ITO,
           O_RETRIES, O_CA, O_TURNS, O_FRAMES, O_SECONDS, O_LIVE, O_COLOR };
    static const struct option lo[] = {
        {"model", required_argument, 0, 'm'}, {"source", required_argument, 0, 's'},
        {"face", required_argument, 0, O_FACE}, {"cascade", required_argument, 0, O_CASCADE},
        {"size", required_argument, 0, O_SIZE}, {"loop", no_argument, 0, O_LOOP},
        {"still-fps", required_argument, 0, O_STILL_FPS},
        {"template", required_argument, 0, 't'}, {"plain", no_argument, 0, O_PLAIN},
        {"no-face-plain", no_argument, 0, O_NOFACE}, {"show-prompt", no_argument, 0, O_SHOW},
        {"base-url", required_argument, 0, O_BASE}, {"model-name", required_argument, 0, O_MNAME},
        {"temperature", required_argument, 0, O_TEMP},
        {"max-tokens", required_argument, 0, O_MAXTOK}, {"no-stream", no_argument, 0, O_NOSTREAM},
        {"connect-timeout", required_argument, 0, O_CTO}, {"timeout", required_argument, 0, O_TO},
        {"idle-timeout", required_argument, 0, O_ITO}, {"retries", required_argument, 0, O_RETRIES},
        {"ca-file", required_argument, 0, O_CA}, {"max-turns", required_argument, 0, O_TURNS},
        {"prompt", required_argument, 0, 'p'}, {"frames", required_argument, 0, O_FRAMES},
        {"seconds", required_argument, 0, O_SECONDS}, {"live", no_argument, 0, O_LIVE},
        {"color", required_argument, 0, O_COLOR}, {"colour", required_argument, 0, O_COLOR},
        {"help", no_argument, 0, 'h'}, {0, 0, 0, 0}};
    chat_capture_opts_default(&o->cap);
    o->cap.model_path = DEFAULT_MODEL;
    o->stream = 1;
    o->color = "auto";
    o->max_turns = 20;
    chat_llm_config_defaults(&o->llm);
    long n;
    double x;
    int c;
    while ((c = getopt_long(argc, argv, "m:s:t:p:h", lo, NULL)) != -1) {
        switch (c) {
        case 'm': o->cap.model_path = optarg; break;
        case 's': o->cap.source = optarg; break;
        case O_FACE:
            if (parse_long("--face", optarg, 0, FER_MAX_FACES - 1, &n)) return 2;
            o->cap.face_index = (int)n;
            break;
        case O_CASCADE: o->cap.face.cascade_path = optarg; break;
        case O_SIZE: {
            int w, h;
            char tail;
            if (sscanf(optarg, "%dx%d%c", &w, &h, &tail) != 2 || w < 16 || h < 16 ||
                w > FER_IMAGE_MAX_SIDE || h > FER_IMAGE_MAX_SIDE)
                return bad_value("--size", optarg, "WIDTHxHEIGHT, e.g. 1280x720");
            o->cap.src.camera.width = w;
            o->cap.src.camera.height = h;
            break;
        }
        case O_LOOP: o->cap.loop = 1; break;
        case O_STILL_FPS:
            if (parse_double("--still-fps", optarg, 0.1, 1000, &x)) return 2;
            o->cap.src.still_fps = x;
            break;
        case 't': o->template_path = optarg; break;
        case O_PLAIN: o->plain = 1; break;
        case O_NOFACE: o->no_face_plain = 1; break;
        case O_SHOW: o->show_prompt = 1; break;
        case O_BASE: o->llm.base_url = optarg; break;
        case O_MNAME: o->llm.model = optarg; break;
        case O_TEMP:
            if (parse_double("--temperature", optarg, 0, 2, &x)) return 2;
            o->llm.temperature = x;
            break;
        case O_MAXTOK:
            if (parse_long("--max-tokens", optarg, 1, 1000000, &o->llm.max_tokens)) return 2;
            break;
        case O_NOSTREAM: o->stream = 0; break;
        case O_CTO:
            if (parse_ms("--connect-timeout", optarg, &o->llm.connect_timeout_ms)) return 2;
            if (o->llm.connect_timeout_ms < 1)
                return bad_value("--connect-timeout", optarg, "a time above 0");
            break;
        case O_TO:
            if (parse_ms("--timeout", optarg, &o->llm.timeout_ms)) return 2;
            break;
        case O_ITO:
            if (parse_ms("--idle-timeout", optarg, &o->llm.idle_timeout_ms)) return 2;
            break;
        case O_RETRIES:
            if (parse_long("--retries", optarg, 0, 20, &n)) return 2;
            o->llm.max_retries = (int)n;
            break;
        case O_CA: o->llm.ca_file = optarg; break;
        case O_TURNS:
            if (parse_long("--max-turns", optarg, 0, 100000, &o->max_turns)) return 2;
            break;
        case 'p': o->prompt = optarg; break;
        case O_FRAMES:
            if (parse_long("--frames", optarg, 1, LONG_MAX, &o->frames)) return 2;
            break;
        case O_SECONDS:
            if (parse_double("--seconds", optarg, 0.001, 86400, &o->seconds)) return 2;
            break;
        case O_LIVE: o->live = 1; break;
        case O_COLOR:
            if (strcmp(optarg, "auto") && strcmp(optarg, "always") && strcmp(optarg, "never"))
                return bad_value("--color", optarg, "auto, always or never");
            o->color = optarg;
            break;
        case 'h': usage(stdout); return 0;
        default: usage(stderr); return 2;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "fer-chat: unexpected argument '%s' (a message goes in --prompt)\n",
                argv[optind]);
        return 2;
    }
    o->no_camera = strcmp(o->cap.source, "none") == 0;
    int batch = o->prompt != NULL;
    if (!batch && (o->frames || o->seconds)) {
        fprintf(stderr, "fer-chat: --frames and --seconds go with --prompt\n");
        return 2;
    }
    if (!strcmp(o->cap.source, "-") && (!batch || !strcmp(o->prompt, "-"))) {
        fprintf(stderr, "fer-chat: --source - reads video from standard input, which %s\n",
                batch ? "--prompt - reads too" : "the interactive chat reads the keyboard from");
        return 2;
    }
    /* Interactive: files behave like a live camera (paced, a photo seen
     * forever). One-shot: read as fast as possible, a photo once. */
    o->cap.src.realtime = !batch;
    o->cap.src.still_repeat = !batch;
    return -1;
}

static int use_color(const char *when)
{
    if (!strcmp(when, "always")) return 1;
    if (!strcmp(when, "never")) return 0;
    const char *nc = getenv("NO_COLOR");
    return isatty(STDOUT_FILENO) && !(nc && *nc);
}

/* A missing model is the first thing a new user meets: say how to get one. */
static int model_missing(const char *path, char *msg, size_t n)
{
    struct stat sb;
    if (stat(path, &sb) == 0) return 0;
    snprintf(msg, n, "emotion model %s: %s", path, strerror(errno));
    fprintf(stderr,
            "fer-chat: %s\n"
            "  Train one:  bin/fer-train -o runs/dcnn ../shared/data/fer2013-dev.csv.gz\n"
            "              then pass --model runs/dcnn/model.bin (or copy it to %s)\n"
            "  or chat without a camera:  --source none\n",
            msg, DEFAULT_MODEL);
    return 1;
}

/* --prompt -: the whole of standard input (at most 1 MiB), final newlines
 * dropped. */
static char *read_stdin_text(void)
{
    size_t cap = 4096, len = 0;
    char *buf = malloc(cap);
    if (!buf) return NULL;
    size_t k;
    while ((k = fread(buf + len, 1, cap - 1 - len, stdin)) > 0) {
        len += k;
        if (len + 1 == cap) {
            if (cap >= ((size_t)1 << 20)) break;
            char *b = realloc(buf, cap * 2);
            if (!b) {
                free(buf);
                return NULL;
            }
            buf = b;
            cap *= 2;
        }
    }
    while (len && (buf[len - 1] == '\n' || buf[len - 1] == '\r')) len--;
    buf[len] = '\0';
    return buf;
}

/* Prints the report of a one-shot run that failed before it could start. */
static int batch_fail(const char *msg)
{
    chat_oneshot_result r;
    memset(&r, 0, sizeof r);
    r.turn.summary.emotion = CHAT_EMOTION_UNKNOWN;
    r.status = NN_ERR_ARG;
    snprintf(r.error, sizeof r.error, "%s", msg);
    char *json = chat_oneshot_json(&r);
    if (json) puts(json);
    free(json);
    return 1;
}

static int run_batch(options *o, const char *text, const chat_turn_policy *policy,
                     chat_capture *cap, chat_llm *llm, volatile sig_atomic_t *cancel)
{
    chat_oneshot_opts oo = {.text = text, .capture = cap, .max_frames = o->frames,
                            .max_seconds = o->seconds, .policy = *policy, .llm = llm,
                            .stream = o->stream, .cancel = cancel};
    if (cap && !oo.max_frames && !oo.max_seconds &&
        chat_capture_source_info(cap)->kind == FER_SOURCE_CAMERA)
        oo.max_seconds = 3;
    chat_oneshot_result r;
    nn_status st = chat_oneshot_run(&oo, &r);
    char *json = chat_oneshot_json(&r);
    if (json) puts(json);
    if (st) fprintf(stderr, "fer-chat: %s\n", r.error);
    if (!llm && !st) fputs(chat_llm_setup_help(), stderr);
    int rc = st || !json ? 1 : 0;
    free(json);
    chat_oneshot_result_free(&r);
    return rc;
}

int main(int argc, char **argv)
{
    options o;
    memset(&o, 0, sizeof o);
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0) return rc;
    int batch = o.prompt != NULL;
    nn_error err;
    char *stdin_text = NULL;
    if (batch && !strcmp(o.prompt, "-")) {
        if (!(stdin_text = read_stdin_text())) return batch_fail("out of memory reading stdin");
        o.prompt = stdin_text;
    }
    if (batch && !*o.prompt) {
        free(stdin_text);
        fprintf(stderr, "fer-chat: the prompt is empty\n");
        return 2;
    }

    volatile sig_atomic_t cancel = 0;
    o.llm.cancel = &cancel;
    chat_llm_config_from_env(&o.llm);

    chat_template tpl;
    memset(&tpl, 0, sizeof tpl);
    chat_capture *cap = NULL;
    chat_llm *llm = NULL;
    chat_history hist;
    chat_history_init(&hist);
    hist.max_turns = (size_t)o.max_turns;
    rc = 1;

    if (o.template_path ? chat_template_load(&tpl, o.template_path, &err)
                        : chat_template_default(&tpl, &err)) {
        fprintf(stderr, "fer-chat: %s\n", err.msg);
        if (batch) batch_fail(err.msg);
        goto done;
    }
    if (chat_llm_configured(&o.llm) && chat_llm_create(&llm, &o.llm, &err)) {
        fprintf(stderr, "fer-chat: %s\n", err.msg);
        rc = err.code == NN_ERR_ARG ? 2 : 1;
        goto done;
    }
    if (!o.no_camera) {
        char msg[512];
        if (model_missing(o.cap.model_path, msg, sizeof msg)) {
            if (batch) batch_fail(msg);
            goto done;
        }
        if (!(cap = chat_capture_open(&o.cap, &err))) {
            fprintf(stderr, "fer-chat: %s\n", err.msg);
            if (!batch)
                fprintf(stderr, "  --source FILE takes frames from a photo or a .y4m video "
                                "instead; --source none chats without a camera\n");
            if (batch) batch_fail(err.msg);
            goto done;
        }
    }
    chat_turn_policy policy = {.tpl = &tpl,
                               .mode = o.plain ? CHAT_PROMPT_PLAIN : CHAT_PROMPT_AUGMENTED,
                               .no_face_plain = o.no_face_plain};
    if (batch) {
        /* Ctrl-C cancels the frames or the request; the report still prints. */
        if (chat_interrupt_install(&cancel, &err)) {
            fprintf(stderr, "fer-chat: %s\n", err.msg);
            goto done;
        }
        rc = run_batch(&o, o.prompt, &policy, cap, llm, &cancel);
        chat_interrupt_remove();
        goto done;
    }
    chat_session_opts so = {.out = stdout, .color = use_color(o.color), .live = o.live,
                            .stream = o.stream, .show_prompt = o.show_prompt,
                            .policy = policy, .capture = cap, .llm = llm,
                            .llm_base = o.llm.base_url, .llm_model = o.llm.model,
                            .model_path = o.cap.model_path, .history = &hist,
                            .cancel = &cancel};
    if (chat_session_run(&so, &err)) {
        fprintf(stderr, "fer-chat: %s\n", err.msg);
        goto done;
    }
    rc = 0;
done:
    chat_capture_close(cap);
    chat_llm_destroy(llm);
    chat_history_free(&hist);
    chat_template_free(&tpl);
    free(stdin_text);
    return rc;
}
