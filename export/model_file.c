#include "export/model_file.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "nn/atomic_file.h"
#include "nn/read_file.h"

/* 0x89 guards against 7-bit transfers, CR LF and ^Z against text-mode
 * newline conversion, as PNG's signature does. */
static const uint8_t MAGIC[8] = {0x89, 'F', 'E', 'R', '\r', '\n', 0x1a, '\n'};
#define HEADER_BYTES 24
#define SECTION_HEADER_BYTES 16
#define MAX_FILE_BYTES ((size_t)1 << 31)

#define TAG(a, b, c, d) ((uint32_t)(a) | (uint32_t)(b) << 8 | (uint32_t)(c) << 16 | (uint32_t)(d) << 24)
#define TAG_ARCH TAG('A', 'R', 'C', 'H')
#define TAG_CLAS TAG('C', 'L', 'A', 'S')
#define TAG_NORM TAG('N', 'O', 'R', 'M')
#define TAG_WGHT TAG('W', 'G', 'H', 'T')
#define TAG_ADAM TAG('A', 'D', 'A', 'M')
#define TAG_TRST TAG('T', 'R', 'S', 'T')
#define TAG_META TAG('M', 'E', 'T', 'A')

/* ---- a growable little-endian byte buffer --------------------------------- */

typedef struct {
    uint8_t *data;
    size_t len, cap;
    int failed;
} buf;

static void put(buf *b, const void *p, size_t n)
{
    if (b->failed) return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n) cap *= 2;
        uint8_t *d = realloc(b->data, cap);
        if (!d) {
            b->failed = 1;
            return;
        }
        b->data = d;
        b->cap = cap;
    }
    memcpy(b->data + b->len, p, n);
    b->len += n;
}

static void put_u32(buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    put(b, x, 4);
}

static void put_u64(buf *b, uint64_t v)
{
    put_u32(b, (uint32_t)v);
    put_u32(b, (uint32_t)(v >> 32));
}

static void put_f32(buf *b, float f)
{
    uint32_t v;
    memcpy(&v, &f, 4);
    put_u32(b, v);
}

static void put_f32s(buf *b, const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++) put_f32(b, f[i]);
}

static void put_f64(buf *b, double d)
{
    uint64_t v;
    memcpy(&v, &d, 8);
    put_u64(b, v);
}

/* Starts a section; returns the offset of its length field for end_section. */
static size_t begin_section(buf *b, uint32_t tag)
{
    put_u32(b, tag);
    put_u32(b, 0);
    size_t at = b->len;
    put_u64(b, 0);
    return at;
}

static void end_section(buf *b, size_t at)
{
    if (b->failed) return;
    uint64_t n = b->len - (at + 8);
    for (int i = 0; i < 8; i++) b->data[at + i] = (uint8_t)(n >> (8 * i));
}

/* ---- a bounds-checked reader ------------------------------------------------ */

typedef struct {
    const uint8_t *p;
    size_t len, pos;
    int short_read;
} reader;

static int get(reader *r, void *out, size_t n)
{
    if (r->short_read || n > r->len - r->pos) {
        r->short_read = 1;
        memset(out, 0, n);
        return -1;
    }
    memcpy(out, r->p + r->pos, n);
    r->pos += n;
    return 0;
}

static uint32_t get_u32(reader *r)
{
    uint8_t x[4];
    get(r, x, 4);
    return (uint32_t)x[0] | (uint32_t)x[1] << 8 | (uint32_t)x[2] << 16 | (uint32_t)x[3] << 24;
}

static uint64_t get_u64(reader *r)
{
    uint64_t lo = get_u32(r);
    return lo | (uint64_t)get_u32(r) << 32;
}

static float get_f32(reader *r)
{
    uint32_t v = get_u32(r);
    float f;
    memcpy(&f, &v, 4);
    return f;
}

static double get_f64(reader *r)
{
    uint64_t v = get_u64(r);
    double d;
    memcpy(&d, &v, 8);
    return d;
}

/* ---- writing ---------------------------------------------------------------- */

nn_status fer_model_serialize(const fer_model_contents *c, uint8_t **out, size_t *out_len,
                              nn_error *err)
{
    *out = NULL;
    *out_len = 0;
    if (!c || !c->net || !c->norm || !c->class_names)
        return nn_fail(err, NN_ERR_ARG, "model file: network, statistics and class names are required");
    if ((c->adam == NULL) != (c->train == NULL))
        return nn_fail(err, NN_ERR_ARG, "model file: a checkpoint needs both optimiser and training state");
    const nn_model *m = c->net;
    if (c->n_classes != m->n_classes || c->n_classes > FER_MAX_CLASSES)
        return nn_fail(err, NN_ERR_ARG, "model file: %d class names for a %d-class network",
                       c->n_classes, m->n_classes);
    if (c->norm->h != m->arch.in_h || c->norm->w != m->arch.in_w || m->arch.in_c != 1)
        return nn_fail(err, NN_ERR_ARG, "model file: %dx%d statistics for a %dx%dx%d input",
                       c->norm->h, c->norm->w, m->arch.in_h, m->arch.in_w, m->arch.in_c);
    size_t n_params = nn_model_param_count(m);
    if (c->adam && c->adam->n != n_params)
        return nn_fail(err, NN_ERR_ARG, "model file: optimiser state for %zu parameters, network has %zu",
                       c->adam->n, n_params);

    char arch[4096];
    size_t arch_len = nn_arch_format(&m->arch, arch, sizeof arch);
    if (arch_len >= sizeof arch) return nn_fail(err, NN_ERR_ARG, "model file: architecture too long");

    buf b = {0};
    int is_ckpt = c->adam != NULL;
    int n_sections = 4 + 2 * is_ckpt + (c->meta != NULL);
    put(&b, MAGIC, 8);
    put_u32(&b, FER_MODEL_VERSION);
    put_u32(&b, is_ckpt ? FER_FILE_CHECKPOINT : FER_FILE_MODEL);
    put_u32(&b, (uint32_t)n_sections);
    put_u32(&b, 0);

    size_t at = begin_section(&b, TAG_ARCH);
    put(&b, arch, arch_len);
    end_section(&b, at);

    at = begin_section(&b, TAG_CLAS);
    put_u32(&b, (uint32_t)c->n_classes);
    for (int i = 0; i < c->n_classes; i++) {
        size_t len = strlen(c->class_names[i]);
        if (len == 0 || len >= FER_CLASS_NAME_MAX) {
            free(b.data);
            return nn_fail(err, NN_ERR_ARG, "model file: class name %d must be 1..%d bytes", i,
                           FER_CLASS_NAME_MAX - 1);
        }
        put_u32(&b, (uint32_t)len);
        put(&b, c->class_names[i], len);
    }
    end_section(&b, at);

    at = begin_section(&b, TAG_NORM);
    size_t px = (size_t)c->norm->h * c->norm->w;
    put_u32(&b, (uint32_t)c->norm->h);
    put_u32(&b, (uint32_t)c->norm->w);
    put_f32s(&b, c->norm->mean, px);
    put_f32s(&b, c->norm->std, px);
    end_section(&b, at);

    at = begin_section(&b, TAG_WGHT);
    put_u64(&b, n_params);
    put_f32s(&b, nn_graph_params(m->graph), n_params);
    end_section(&b, at);

    if (is_ckpt) {
        const nn_adam *a = c->adam;
        at = begin_section(&b, TAG_ADAM);
        put_f32(&b, a->lr);
        put_f32(&b, a->beta1);
        put_f32(&b, a->beta2);
        put_f32(&b, a->epsilon);
        put_u64(&b, (uint64_t)a->t);
        put_u64(&b, a->n);
        put_f32s(&b, a->m, a->n);
        put_f32s(&b, a->v, a->n);
        end_section(&b, at);

        const fer_train_state *t = c->train;
        at = begin_section(&b, TAG_TRST);
        put_u32(&b, (uint32_t)t->epoch);
        put_u32(&b, (uint32_t)t->batch);
        put_u32(&b, (uint32_t)t->best_epoch);
        put_f32(&b, t->best_val_acc);
        put_u64(&b, t->seed);
        put_f64(&b, t->loss_sum);
        put_u64(&b, (uint64_t)t->correct);
        put_u64(&b, (uint64_t)t->seen);
        put_f64(&b, t->seconds);
        size_t rlen = strnlen(t->recipe, sizeof t->recipe - 1);
        put_u32(&b, (uint32_t)rlen);
        put(&b, t->recipe, rlen);
        end_section(&b, at);
    }
    if (c->meta) {
        at = begin_section(&b, TAG_META);
        put(&b, c->meta, strlen(c->meta));
        end_section(&b, at);
    }
    uint32_t crc = (uint32_t)crc32(0L, Z_NULL, 0);
    if (!b.failed) crc = (uint32_t)crc32(crc, b.data, (uInt)b.len);
    put_u32(&b, crc);
    if (b.failed) {
        free(b.data);
        return nn_fail(err, NN_ERR_NOMEM, "model file: out of memory serialising");
    }
    *out = b.data;
    *out_len = b.len;
    return NN_OK;
}

nn_status fer_model_save(const char *path, const fer_model_contents *c, nn_error *err)
{
    uint8_t *data;
    size_t len;
    nn_status st = fer_model_serialize(c, &data, &len, err);
    if (st) return st;
    st = nn_atomic_write_file(path, data, len, err);
    free(data);
    return st;
}

/* ---- reading ---------------------------------------------------------------- */

void fer_model_file_free(fer_model_file *mf)
{
    if (!mf) return;
    nn_model_free(mf->net);
    fer_standardizer_free(&mf->norm);
    free(mf->meta);
    if (mf->has_optimizer) nn_adam_free(&mf->adam);
    memset(mf, 0, sizeof *mf);
}

static int all_finite(const float *f, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isfinite(f[i])) return 0;
    return 1;
}

#define BAD(...) (st = nn_fail(err, NN_ERR_FORMAT, __VA_ARGS__), (void)0)

nn_status fer_model_parse(const uint8_t *data, size_t len, const char *label, int max_batch,
                          nn_grad_mode grads, fer_model_file *out, nn_error *err)
{
    nn_error local;
    if (!err) err = &local; /* messages are built up below even if the caller wants none */
    memset(out, 0, sizeof *out);
    nn_status st = NN_OK;
    if (len < HEADER_BYTES + 4 || memcmp(data, MAGIC, 8) != 0) {
        if (len >= 4 && memcmp(data, "\x89HDF", 4) == 0)
            return nn_fail(err, NN_ERR_FORMAT,
                           "%s: this is an HDF5 (Keras) file; convert it with fer-export --from-keras", label);
        return nn_fail(err, NN_ERR_FORMAT, "%s: not a fer model file (bad magic number)", label);
    }
    reader r = {data, len - 4, 8, 0};
    uint32_t version = get_u32(&r), kind = get_u32(&r), n_sections = get_u32(&r);
    get_u32(&r);
    if (version == 0 || version > FER_MODEL_VERSION)
        return nn_fail(err, NN_ERR_FORMAT, "%s: format version %u, this build reads up to %d", label,
                       version, FER_MODEL_VERSION);
    uint32_t crc_stored = (uint32_t)data[len - 4] | (uint32_t)data[len - 3] << 8 |
                          (uint32_t)data[len - 2] << 16 | (uint32_t)data[len - 1] << 24;
    uint32_t crc = (uint32_t)crc32(crc32(0L, Z_NULL, 0), data, (uInt)(len - 4));
    if (crc != crc_stored)
        return nn_fail(err, NN_ERR_FORMAT,
                       "%s: checksum mismatch (file truncated or corrupted: CRC-32 %08x, stored %08x)",
                       label, crc, crc_stored);
    if (kind != FER_FILE_MODEL && kind != FER_FILE_CHECKPOINT)
        return nn_fail(err, NN_ERR_FORMAT, "%s: unknown file kind %u", label, kind);

    /* First pass: locate sections. */
    struct {
        size_t off, len;
        int found;
    } sec[7] = {{0}};
    static const uint32_t tags[7] = {TAG_ARCH, TAG_CLAS, TAG_NORM, TAG_WGHT, TAG_ADAM, TAG_TRST, TAG_META};
    static const char *names[7] = {"ARCH", "CLAS", "NORM", "WGHT", "ADAM", "TRST", "META"};
    for (uint32_t s = 0; s < n_sections; s++) {
        uint32_t tag = get_u32(&r);
        get_u32(&r);
        uint64_t slen = get_u64(&r);
        if (r.short_read || slen > r.len - r.pos)
            return nn_fail(err, NN_ERR_FORMAT, "%s: section %u runs past the end of the file", label, s);
        for (int k = 0; k < 7; k++)
            if (tag == tags[k]) {
                if (sec[k].found)
                    return nn_fail(err, NN_ERR_FORMAT, "%s: duplicate %s section", label, names[k]);
                sec[k].off = r.pos;
                sec[k].len = (size_t)slen;
                sec[k].found = 1;
            }
        r.pos += (size_t)slen; /* unknown sections are skipped: newer writers may add some */
    }
    if (r.pos != r.len)
        return nn_fail(err, NN_ERR_FORMAT, "%s: %zu unexpected bytes after the last section", label,
                       r.len - r.pos);
    for (int k = 0; k < 4; k++)
        if (!sec[k].found) return nn_fail(err, NN_ERR_FORMAT, "%s: missing %s section", label, names[k]);
    if (kind == FER_FILE_CHECKPOINT && (!sec[4].found || !sec[5].found))
        return nn_fail(err, NN_ERR_FORMAT, "%s: checkpoint without optimiser or training state", label);
    if (kind == FER_FILE_MODEL && (sec[4].found || sec[5].found)) /* the writer never does this */
        return nn_fail(err, NN_ERR_FORMAT, "%s: model file (not a checkpoint) with optimiser or "
                       "training state", label);

    /* ARCH -> network */
    char arch_text[4096];
    if (sec[0].len >= sizeof arch_text)
        return nn_fail(err, NN_ERR_FORMAT, "%s: architecture section too long", label);
    memcpy(arch_text, data + sec[0].off, sec[0].len);
    arch_text[sec[0].len] = '\0';
    nn_arch arch;
    if (nn_arch_parse(arch_text, &arch, err)) return nn_error_prefix(err, "%s: architecture", label);
    if (arch.in_c != 1)
        return nn_fail(err, NN_ERR_FORMAT, "%s: input has %d channels; grey images need 1", label, arch.in_c);
    /* Sizes first, from the description alone: a corrupt one must not make
     * the builder allocate gigabytes before the weights are found missing. */
    size_t want_params, values;
    if (nn_arch_sizes(&arch, &want_params, &values, err))
        return nn_error_prefix(err, "%s: architecture", label);
    if (sec[3].len < 8 || (sec[3].len - 8) % 4 || (sec[3].len - 8) / 4 != want_params)
        return nn_fail(err, NN_ERR_FORMAT, "%s: weights stored in %zu bytes, the architecture "
                       "has %zu parameters (%zu bytes)", label, sec[3].len, want_params,
                       8 + 4 * want_params);
    if (values > FER_MODEL_MAX_VALUES)
        return nn_fail(err, NN_ERR_UNSUPPORTED, "%s: the architecture moves %zu values per image, "
                       "more than the %zu this loader accepts (corrupt file?)", label, values,
                       FER_MODEL_MAX_VALUES);
    out->net = nn_model_create(&arch, max_batch, grads, err);
    if (!out->net) {
        memset(out, 0, sizeof *out);
        return nn_error_prefix(err, "%s", label);
    }

    /* CLAS */
    r = (reader){data + sec[1].off, sec[1].len, 0, 0};
    uint32_t n_classes = get_u32(&r);
    if (n_classes != (uint32_t)out->net->n_classes) {
        BAD("%s: %u class names for a network with %d outputs", label, n_classes, out->net->n_classes);
        goto fail;
    }
    out->n_classes = (int)n_classes;
    for (uint32_t i = 0; i < n_classes; i++) {
        uint32_t nlen = get_u32(&r);
        if (nlen == 0 || nlen >= FER_CLASS_NAME_MAX || get(&r, out->class_names[i], nlen) ||
            memchr(out->class_names[i], '\0', nlen)) { /* a NUL would cut the name short */
            BAD("%s: class name %u is malformed", label, i);
            goto fail;
        }
        out->class_names[i][nlen] = '\0';
    }

    /* NORM */
    r = (reader){data + sec[2].off, sec[2].len, 0, 0};
    uint32_t h = get_u32(&r), w = get_u32(&r);
    if ((int)h != arch.in_h || (int)w != arch.in_w) {
        BAD("%s: statistics are %ux%u, the input %dx%d", label, h, w, arch.in_h, arch.in_w);
        goto fail;
    }
    if (sec[2].len != 8 + 8 * (size_t)h * w) {
        BAD("%s: statistics section has %zu bytes, expected %zu", label, sec[2].len, 8 + 8 * (size_t)h * w);
        goto fail;
    }
    if ((st = fer_standardizer_alloc(&out->norm, (int)h, (int)w, err))) goto fail;
    for (size_t i = 0; i < (size_t)h * w; i++) out->norm.mean[i] = get_f32(&r);
    for (size_t i = 0; i < (size_t)h * w; i++) out->norm.std[i] = get_f32(&r);
    if (fer_standardizer_check(&out->norm, err)) {
        st = nn_error_prefix(err, "%s: statistics", label);
        goto fail;
    }

    /* WGHT */
    r = (reader){data + sec[3].off, sec[3].len, 0, 0};
    size_t n_params = nn_model_param_count(out->net);
    uint64_t stored = get_u64(&r);
    if (stored != n_params || sec[3].len != 8 + 4 * n_params) {
        BAD("%s: %llu weights stored, the architecture has %zu", label, (unsigned long long)stored,
            n_params);
        goto fail;
    }
    float *params = nn_graph_params(out->net->graph);
    for (size_t i = 0; i < n_params; i++) params[i] = get_f32(&r);
    if (!all_finite(params, n_params)) {
        BAD("%s: weights contain NaN or infinity", label);
        goto fail;
    }

    if (sec[4].found) { /* ADAM */
        r = (reader){data + sec[4].off, sec[4].len, 0, 0};
        float lr = get_f32(&r), b1 = get_f32(&r), b2 = get_f32(&r), eps = get_f32(&r);
        int64_t t = (int64_t)get_u64(&r);
        uint64_t n = get_u64(&r);
        if (n != n_params || sec[4].len != 32 + 8 * n_params) {
            BAD("%s: optimiser state for %llu parameters, the network has %zu", label,
                (unsigned long long)n, n_params);
            goto fail;
        }
        if ((st = nn_adam_init(&out->adam, n_params, err))) goto fail;
        out->has_optimizer = 1;
        out->adam.lr = lr;
        out->adam.beta1 = b1;
        out->adam.beta2 = b2;
        out->adam.epsilon = eps;
        out->adam.t = t;
        for (size_t i = 0; i < n_params; i++) out->adam.m[i] = get_f32(&r);
        for (size_t i = 0; i < n_params; i++) out->adam.v[i] = get_f32(&r);
        if (t < 0 || !all_finite(out->adam.m, n_params) || !all_finite(out->adam.v, n_params)) {
            BAD("%s: optimiser state is corrupt", label);
            goto fail;
        }
    }
    if (sec[5].found) { /* TRST */
        r = (reader){data + sec[5].off, sec[5].len, 0, 0};
        fer_train_state *t = &out->train;
        t->epoch = (int32_t)get_u32(&r);
        t->batch = (int32_t)get_u32(&r);
        t->best_epoch = (int32_t)get_u32(&r);
        t->best_val_acc = get_f32(&r);
        t->seed = get_u64(&r);
        t->loss_sum = get_f64(&r);
        t->correct = (int64_t)get_u64(&r);
        t->seen = (int64_t)get_u64(&r);
        t->seconds = get_f64(&r);
        uint32_t rlen = get_u32(&r);
        if (rlen >= sizeof t->recipe || get(&r, t->recipe, rlen) || r.short_read || t->epoch < 0) {
            BAD("%s: training state is malformed", label);
            goto fail;
        }
        t->recipe[rlen] = '\0';
        if (t->batch < 0 || t->correct < 0 || t->seen < t->correct) {
            BAD("%s: training state is malformed", label);
            goto fail;
        }
        out->has_train_state = 1;
    }
    if (sec[6].found) { /* META */
        if (!(out->meta = malloc(sec[6].len + 1))) {
            st = nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", label);
            goto fail;
        }
        memcpy(out->meta, data + sec[6].off, sec[6].len);
        out->meta[sec[6].len] = '\0';
    }
    out->kind = (fer_file_kind)kind; /* last: every early return above leaves out zeroed */
    return NN_OK;
fail:
    fer_model_file_free(out);
    return st ? st : NN_ERR_FORMAT;
}

nn_status fer_model_load(const char *path, int max_batch, nn_grad_mode grads, fer_model_file *out,
                         nn_error *err)
{
    memset(out, 0, sizeof *out);
    uint8_t *data = NULL;
    size_t len = 0;
    nn_status st = nn_read_file(path, MAX_FILE_BYTES, "model file", &data, &len, err);
    if (!st) st = fer_model_parse(data, len, path, max_batch, grads, out, err);
    free(data);
    return st;
}

size_t fer_model_scratch_floats(const fer_model_file *mf, int n)
{
    return (size_t)n * mf->norm.h * mf->norm.w;
}

nn_status fer_model_classify_u8(fer_model_file *mf, const uint8_t *images, int n, float *scratch,
                                float *probs, nn_error *err)
{
    if (!mf || !mf->net || (n > 0 && (!images || !scratch || !probs)) || n < 0)
        return nn_fail(err, NN_ERR_ARG, "classify: bad argument");
    const size_t px = (size_t)mf->norm.h * mf->norm.w;
    for (int i = 0; i < n; i++) fer_standardize_u8(&mf->norm, images + i * px, scratch + i * px);
    return nn_model_predict(mf->net, scratch, n, probs, err);
}
