/* bin/fer-train as a process, against the faults of real life: kill -9 in
 * the middle of training, Ctrl-C (once, and twice), and a disk that fills
 * up (a file-size limit always; a full tmpfs where mounting is allowed).
 *
 * After any of them: checkpoint.bin and model.bin are whole and load, no
 * epoch that was reported done is lost, --resume finishes the run, log.csv
 * has every epoch exactly once, and the final weights are bit for bit those
 * of a run that was never disturbed (every random stream is derived from
 * (seed, epoch, batch), and -j 1 makes the arithmetic order fixed).
 *
 * The program comes from $FER_BIN_DIR (make sanitize points it at the
 * ASan/UBSan build), else bin/. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "export/model_file.h"
#include "tests/support.h"

/* Big enough that an epoch takes ~0.1 s (0.3 s under the sanitizers), so a
 * signal can be aimed inside one; small enough for a fast suite. */
#define SIDE 16
#define ARCH "input(16,16,1) conv(16,3,relu) conv(16,3,relu) maxpool(2) dropout(0.25) flatten " \
             "dense(16,relu) dense(7)"
#define EPOCHS "3"
#define ROWS 1200

static char dir[256], csv[300], bin[512];

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}

static void sleep_ms(double ms)
{
    struct timespec ts = {(time_t)(ms / 1000), (long)((ms - 1000.0 * (long)(ms / 1000)) * 1e6)};
    while (nanosleep(&ts, &ts) && errno == EINTR) {}
}

/* Class k has a bright patch at a class-specific place, on noise. */
static void write_csv(const char *path)
{
    FILE *f = fopen(path, "w");
    cr_assert_not_null(f);
    fprintf(f, "emotion,pixels,Usage\n");
    unsigned s = 11;
    for (int i = 0; i < ROWS; i++) {
        int k = i % 3;
        fprintf(f, "%d,", k);
        for (int p = 0; p < SIDE * SIDE; p++) {
            s = s * 1103515245u + 12345u;
            int v = (int)((s >> 16) % 80);
            int y = p / SIDE, x = p % SIDE;
            if (y >= 4 * k + 2 && y < 4 * k + 6 && x >= 4 && x < 8) v += 170;
            fprintf(f, "%s%d", p ? " " : "", v);
        }
        fprintf(f, ",%s\n", i % 8 == 0 ? "PublicTest" : "Training");
    }
    cr_assert_eq(fclose(f), 0);
}

static void setup(void)
{
    const char *bd = getenv("FER_BIN_DIR");
    snprintf(bin, sizeof bin, "%s/fer-train", bd && *bd ? bd : "bin");
    cr_assert_eq(access(bin, X_OK), 0, "%s is not built (run make)", bin);
    snprintf(dir, sizeof dir, "/tmp/fer-train-faults-XXXXXX");
    cr_assert_not_null(mkdtemp(dir));
    snprintf(csv, sizeof csv, "%s/data.csv", dir);
    write_csv(csv);
}

static void teardown(void)
{
    char cmd[300], mnt[300];
    snprintf(mnt, sizeof mnt, "%s/tiny", dir);
    umount2(mnt, MNT_DETACH); /* the tmpfs test's mount, if any */
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0) cr_log_warn("could not remove %s", dir);
}

/* ---- running the program ----------------------------------------------- */

typedef struct {
    pid_t pid;
    char out[320], err[320]; /* files holding its stdout and stderr */
} proc;

/* Starts fer-train -o DIR/<run> ... [--resume] DATA with stdout and stderr
 * in files. fsize > 0 limits the size of any file it writes (RLIMIT_FSIZE,
 * SIGXFSZ ignored so that writes fail with EFBIG as on a full disk). */
static proc start(const char *run, const char *epochs, int resume, long fsize)
{
    static int seq;
    proc p;
    char out_dir[320];
    snprintf(out_dir, sizeof out_dir, "%s/%s", dir, run);
    snprintf(p.out, sizeof p.out, "%s/stdout.%d", dir, seq);
    snprintf(p.err, sizeof p.err, "%s/stderr.%d", dir, seq++);
    p.pid = fork();
    cr_assert_geq(p.pid, 0);
    if (p.pid == 0) {
        int o = open(p.out, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        int e = open(p.err, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (o < 0 || e < 0 || dup2(o, 1) < 0 || dup2(e, 2) < 0) _exit(99);
        if (fsize > 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = {(rlim_t)fsize, (rlim_t)fsize};
            if (setrlimit(RLIMIT_FSIZE, &rl)) _exit(98);
        }
        signal(SIGINT, SIG_DFL);
        char *argv[20];
        int k = 0;
        argv[k++] = bin;
        argv[k++] = "-o";
        argv[k++] = out_dir;
        argv[k++] = "-e";
        argv[k++] = (char *)epochs;
        argv[k++] = "-b";
        argv[k++] = "8";
        argv[k++] = "-j";
        argv[k++] = "1";
        argv[k++] = "--lr";
        argv[k++] = "0.01";
        argv[k++] = "--arch";
        argv[k++] = ARCH;
        if (resume) argv[k++] = "--resume";
        argv[k++] = csv;
        argv[k] = NULL;
        execv(bin, argv);
        _exit(97);
    }
    return p;
}

/* Waits for the process; returns its exit status, or 128 + signal. Fails
 * the test if it takes longer than limit_s. */
static int finish(proc *p, double limit_s)
{
    double t0 = now_s();
    for (;;) {
        int st;
        pid_t r = waitpid(p->pid, &st, WNOHANG);
        cr_assert_geq(r, 0);
        if (r == p->pid) return WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st);
        if (now_s() - t0 > limit_s) {
            kill(p->pid, SIGKILL);
            waitpid(p->pid, &st, 0);
            cr_assert_fail("fer-train did not finish within %.0f s", limit_s);
        }
        sleep_ms(2);
    }
}

/* A process's output file as text; "" if it was never created. */
static char *slurp(const char *path)
{
    return access(path, F_OK) == 0 ? test_read_file(path, NULL) : strdup("");
}

/* A sanitized program reports leaks and errors on stderr (and may still
 * exit 0 or 130): treat any report as a failure. */
static void no_sanitizer_report(const proc *p)
{
    char *e = slurp(p->err);
    cr_expect_null(strstr(e, "Sanitizer"), "sanitizer report from fer-train:\n%s", e);
    cr_expect_null(strstr(e, "runtime error"), "UBSan report from fer-train:\n%s", e);
    free(e);
}

/* Waits until the program's stdout contains needle; returns 0, or -1 if the
 * program ended first or limit_s passed. */
static int wait_for_output(const proc *p, const char *needle, double limit_s)
{
    double t0 = now_s();
    while (now_s() - t0 < limit_s) {
        char *o = slurp(p->out);
        int found = strstr(o, needle) != NULL;
        free(o);
        if (found) return 0;
        if (waitpid(p->pid, NULL, WNOHANG | WNOWAIT) == p->pid) return -1;
        sleep_ms(1);
    }
    return -1;
}

/* The highest "epoch N/" the program reported done on stdout. */
static int last_reported_epoch(const proc *p)
{
    char *o = slurp(p->out);
    int last = 0;
    for (const char *s = o; (s = strstr(s, "epoch ")); s += 6) {
        int e;
        if ((s == o || s[-1] == '\n') && sscanf(s, "epoch %d/", &e) == 1 && e > last) last = e;
    }
    free(o);
    return last;
}

/* ---- checking what is on disk ---------------------------------------------- */

static void path_of(char *out, size_t n, const char *run, const char *file)
{
    snprintf(out, n, "%s/%s/%s", dir, run, file);
}

/* Loads run/file, checks its kind, returns the epochs done (checkpoints). */
static int check_loads(const char *run, const char *file, fer_file_kind kind)
{
    char path[512];
    path_of(path, sizeof path, run, file);
    fer_model_file mf;
    nn_error err;
    nn_status st = fer_model_load(path, 8, NN_NO_GRADS, &mf, &err);
    cr_assert_eq(st, NN_OK, "%s does not load: %s", path, err.msg);
    cr_assert_eq(mf.kind, kind, "%s: kind %d", path, mf.kind);
    int epochs = mf.has_train_state ? mf.train.epoch : -1;
    fer_model_file_free(&mf);
    return epochs;
}

/* log.csv lists epochs 1..n, each once, in order. */
static void check_log(const char *run, int n)
{
    char path[512];
    path_of(path, sizeof path, run, "log.csv");
    FILE *f = fopen(path, "r");
    cr_assert_not_null(f, "%s missing", path);
    char line[512];
    cr_assert_not_null(fgets(line, sizeof line, f));
    cr_assert_eq(strncmp(line, "epoch,", 6), 0, "header: %s", line);
    int want = 1;
    while (fgets(line, sizeof line, f)) {
        int e = 0;
        cr_assert_eq(sscanf(line, "%d,", &e), 1, "bad row: %s", line);
        cr_assert_eq(e, want, "%s: row for epoch %d where epoch %d belongs", path, e, want);
        want++;
    }
    fclose(f);
    cr_assert_eq(want - 1, n, "%s: %d epochs logged, expected %d", path, want - 1, n);
}

/* No temporary file of an atomic write is left in the run's folder. */
static void check_no_temp_files(const char *run)
{
    char path[512];
    snprintf(path, sizeof path, "%s/%s", dir, run);
    DIR *d = opendir(path);
    cr_assert_not_null(d);
    for (struct dirent *e; (e = readdir(d));)
        cr_expect_null(strstr(e->d_name, ".tmp."), "%s/%s left behind", path, e->d_name);
    closedir(d);
}

static float *weights_of(const char *run, const char *file, size_t *n)
{
    char path[512];
    path_of(path, sizeof path, run, file);
    fer_model_file mf;
    nn_error err;
    cr_assert_eq(fer_model_load(path, 1, NN_NO_GRADS, &mf, &err), NN_OK, "%s", err.msg);
    *n = nn_model_param_count(mf.net);
    float *w = malloc(*n * sizeof *w);
    cr_assert_not_null(w);
    memcpy(w, nn_graph_params(mf.net->graph), *n * sizeof *w);
    fer_model_file_free(&mf);
    return w;
}

static void check_same_weights(const char *run, const char *reference)
{
    size_t n1, n2;
    float *a = weights_of(run, "model.bin", &n1), *b = weights_of(reference, "model.bin", &n2);
    cr_assert_eq(n1, n2);
    cr_assert_eq(memcmp(a, b, n1 * sizeof *a), 0,
                 "%s/model.bin differs from the undisturbed run's", run);
    free(a);
    free(b);
}

static void *read_bytes(const char *run, const char *file, size_t *n)
{
    char path[512];
    path_of(path, sizeof path, run, file);
    return test_read_file(path, n);
}

static void check_unchanged(const char *run, const char *file, const void *before, size_t n)
{
    size_t m;
    void *now = read_bytes(run, file, &m);
    cr_assert(m == n && memcmp(now, before, n) == 0, "%s/%s changed", run, file);
    free(now);
}

static void reference_run(void)
{
    proc p = start("reference", EPOCHS, 0, 0);
    cr_assert_eq(finish(&p, 300), 0, "undisturbed run failed:\n%s", slurp(p.err));
    no_sanitizer_report(&p);
}

/* ---- the faults ------------------------------------------------------------ */

TestSuite(train_faults, .init = setup, .fini = teardown, .timeout = 600);

/* Milliseconds from the "network:" line to the "epoch 1/" line: how long
 * an epoch takes on this machine, in this build. */
static double time_first_epoch(const proc *p)
{
    cr_assert_eq(wait_for_output(p, "network:", 120), 0, "no start:\n%s", slurp(p->err));
    double t0 = now_s();
    cr_assert_eq(wait_for_output(p, "epoch 1/", 120), 0, "no epoch:\n%s", slurp(p->err));
    return (now_s() - t0) * 1000;
}

Test(train_faults, kill_9_mid_epoch_then_resume)
{
    reference_run();
    /* Three kills at different moments: half-way through epoch 2, a third
     * of the way into the epoch a resumed run starts with, and at once
     * after a resume has loaded its checkpoint. */
    proc p = start("killed", EPOCHS, 0, 0);
    double epoch_ms = time_first_epoch(&p);
    const double delay_ms[3] = {0.5 * epoch_ms, 0.3 * epoch_ms, 0};
    int reported = 0;
    for (int k = 0; k < 3; k++) {
        if (k > 0) {
            p = start("killed", EPOCHS, 1, 0);
            if (wait_for_output(&p, "resuming", 120) != 0) {
                cr_assert_eq(finish(&p, 60), 0, "resume failed:\n%s", slurp(p.err));
                break;
            }
        }
        sleep_ms(delay_ms[k]);
        kill(p.pid, SIGKILL);
        int st = finish(&p, 120);
        if (st == 0) break; /* the whole run finished before the kill: nothing left to test */
        cr_assert_eq(st, 128 + SIGKILL, "exit %d:\n%s", st, slurp(p.err));
        int r = last_reported_epoch(&p);
        if (r > reported) reported = r;
        /* Whatever the moment, what is on disk is whole, and nothing the
         * program reported done is lost. */
        int saved = check_loads("killed", "checkpoint.bin", FER_FILE_CHECKPOINT);
        check_loads("killed", "model.bin", FER_FILE_MODEL);
        check_loads("killed", "best.bin", FER_FILE_MODEL);
        cr_assert_geq(saved, reported, "checkpoint has %d epochs, %d were reported done", saved,
                      reported);
        cr_log_info("kill %d after %.0f ms: %d epochs saved, %d reported", k + 1, delay_ms[k],
                    saved, reported);
    }
    /* A kill that lands inside a save leaves "<file>.tmp.<pid>" behind (the
     * kills above rarely do): plant one from a dead process, as big as the
     * checkpoint, for the resumed run to clear away. */
    pid_t dead = fork();
    cr_assert_geq(dead, 0);
    if (dead == 0) _exit(0);
    waitpid(dead, NULL, 0);
    char stale[512];
    snprintf(stale, sizeof stale, "%s/killed/checkpoint.bin.tmp.%ld", dir, (long)dead);
    FILE *f = fopen(stale, "wb");
    cr_assert_not_null(f);
    fputs("half a checkpoint", f);
    fclose(f);
    p = start("killed", EPOCHS, 1, 0);
    cr_assert_eq(finish(&p, 300), 0, "resume failed:\n%s", slurp(p.err));
    no_sanitizer_report(&p);
    cr_assert_neq(access(stale, F_OK), 0, "%s was not cleared away", stale);
    cr_assert_eq(check_loads("killed", "checkpoint.bin", FER_FILE_CHECKPOINT), atoi(EPOCHS));
    check_loads("killed", "best.bin", FER_FILE_MODEL);
    check_log("killed", atoi(EPOCHS));
    check_same_weights("killed", "reference");
    check_no_temp_files("killed");
}

Test(train_faults, ctrl_c_saves_a_checkpoint_and_exits_130)
{
    reference_run();
    proc p = start("interrupted", EPOCHS, 0, 0);
    sleep_ms(0.5 * time_first_epoch(&p)); /* half-way through epoch 2 */
    double t0 = now_s();
    kill(p.pid, SIGINT);
    int st = finish(&p, 60);
    double took = now_s() - t0;
    char *e = slurp(p.err);
    if (st == 0) { /* it was already on its last batch */
        free(e);
        cr_skip_test("the run finished before the signal arrived");
    }
    cr_assert_eq(st, 130, "Ctrl-C must exit with 130, got %d:\n%s", st, e);
    cr_expect_not_null(strstr(e, "stopping after this batch"), "stderr:\n%s", e);
    cr_expect_not_null(strstr(e, "checkpoint saved"), "stderr:\n%s", e);
    cr_expect_not_null(strstr(e, "--resume"), "stderr must say how to continue:\n%s", e);
    cr_expect_lt(took, 10.0, "took %.1f s to stop after Ctrl-C", took);
    free(e);
    no_sanitizer_report(&p);
    int saved = check_loads("interrupted", "checkpoint.bin", FER_FILE_CHECKPOINT);
    cr_assert_geq(saved, last_reported_epoch(&p));
    check_no_temp_files("interrupted");

    p = start("interrupted", EPOCHS, 1, 0);
    cr_assert_eq(finish(&p, 300), 0, "resume failed:\n%s", slurp(p.err));
    check_log("interrupted", atoi(EPOCHS));
    check_same_weights("interrupted", "reference");
}

Test(train_faults, second_ctrl_c_quits_at_once_keeping_the_last_checkpoint)
{
    proc p = start("twice", EPOCHS, 0, 0);
    cr_assert_eq(wait_for_output(&p, "epoch 1/", 120), 0, "no epoch reported:\n%s", slurp(p.err));
    kill(p.pid, SIGINT);
    /* The second signal once the first has been seen (two pending SIGINTs
     * would merge into one). The run may already have saved and exited. */
    double t0 = now_s();
    for (;;) {
        char *e = slurp(p.err);
        int seen = strstr(e, "stopping after this batch") != NULL;
        free(e);
        if (seen || now_s() - t0 > 10) break;
        sleep_ms(1);
    }
    kill(p.pid, SIGINT);
    int st = finish(&p, 60);
    if (st == 0) cr_skip_test("the run finished before the signals arrived");
    cr_assert_eq(st, 130, "exit %d:\n%s", st, slurp(p.err));
    /* Quitting without saving must still leave whole files: the checkpoint
     * of epoch 1 (or the one that was being saved, if that completed). */
    cr_assert_geq(check_loads("twice", "checkpoint.bin", FER_FILE_CHECKPOINT), 1);
    check_loads("twice", "model.bin", FER_FILE_MODEL);
    /* and --resume continues from it */
    p = start("twice", EPOCHS, 1, 0);
    cr_assert_eq(finish(&p, 300), 0, "resume failed:\n%s", slurp(p.err));
    check_log("twice", atoi(EPOCHS));
}

/* A disk that fills up while a checkpoint is written: a clear error naming
 * the file, exit status 1, the previous files intact, and --resume works
 * once there is room again. */
static void full_disk_case(const char *run, long fsize, const char *needle)
{
    proc p = start(run, "1", 0, 0);
    cr_assert_eq(finish(&p, 120), 0, "first epoch failed:\n%s", slurp(p.err));
    size_t nc, nm;
    void *ckpt = read_bytes(run, "checkpoint.bin", &nc), *model = read_bytes(run, "model.bin", &nm);

    p = start(run, "3", 1, fsize);
    int st = finish(&p, 120);
    char *e = slurp(p.err);
    cr_assert_eq(st, 1, "a full disk must fail with status 1, got %d:\n%s", st, e);
    cr_expect_not_null(strstr(e, needle), "stderr should say '%s':\n%s", needle, e);
    cr_expect_not_null(strstr(e, run), "stderr should name the file:\n%s", e);
    free(e);
    no_sanitizer_report(&p);
    check_unchanged(run, "checkpoint.bin", ckpt, nc);
    check_unchanged(run, "model.bin", model, nm);
    check_no_temp_files(run);
    free(ckpt);
    free(model);
}

Test(train_faults, file_size_limit_while_saving)
{
    /* The limit lets log.csv through but not a model file (tens of KiB). */
    full_disk_case("fsize", 700, "File too large");
    proc p = start("fsize", "3", 1, 0);
    cr_assert_eq(finish(&p, 300), 0, "resume after the disk error failed:\n%s", slurp(p.err));
    check_log("fsize", 3);
    cr_assert_eq(check_loads("fsize", "checkpoint.bin", FER_FILE_CHECKPOINT), 3);
}

Test(train_faults, no_space_left_on_a_tiny_tmpfs)
{
    /* A private mount namespace keeps the tmpfs to this test process and its
     * children, and it vanishes with them. Needs CAP_SYS_ADMIN (root in
     * most CI containers); the file-size test above covers the rest. */
    char mnt[300];
    snprintf(mnt, sizeof mnt, "%s/tiny", dir);
    cr_assert_eq(mkdir(mnt, 0755), 0);
    if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) != 0 ||
        mount("tmpfs", mnt, "tmpfs", 0, "size=1m") != 0)
        cr_skip_test("cannot mount a tmpfs here (%s); the RLIMIT_FSIZE test covers full disks",
                     strerror(errno));
    proc p = start("tiny", "1", 0, 0);
    cr_assert_eq(finish(&p, 120), 0, "first epoch failed:\n%s", slurp(p.err));
    /* Fill what is left of the 1 MiB. */
    char filler[400];
    snprintf(filler, sizeof filler, "%s/filler", mnt);
    int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0644);
    cr_assert_geq(fd, 0);
    static const char block[4096];
    while (write(fd, block, sizeof block) > 0) {}
    cr_assert_eq(errno, ENOSPC);
    while (write(fd, block, 1) > 0) {}
    close(fd);

    size_t nc, nm;
    void *ckpt = read_bytes("tiny", "checkpoint.bin", &nc), *model = read_bytes("tiny", "model.bin", &nm);
    p = start("tiny", "3", 1, 0);
    int st = finish(&p, 120);
    char *e = slurp(p.err);
    cr_assert_eq(st, 1, "a full disk must fail with status 1, got %d:\n%s", st, e);
    cr_expect_not_null(strstr(e, "No space left on device"), "stderr:\n%s", e);
    free(e);
    check_unchanged("tiny", "checkpoint.bin", ckpt, nc);
    check_unchanged("tiny", "model.bin", model, nm);
    check_no_temp_files("tiny");
    free(ckpt);
    free(model);

    cr_assert_eq(unlink(filler), 0);
    p = start("tiny", "3", 1, 0);
    cr_assert_eq(finish(&p, 300), 0, "resume after freeing space failed:\n%s", slurp(p.err));
    check_log("tiny", 3);
    cr_assert_eq(check_loads("tiny", "checkpoint.bin", FER_FILE_CHECKPOINT), 3);
}
