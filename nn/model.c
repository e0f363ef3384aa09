#include "nn/model.h"

#include <ctype.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* ---- description parsing ------------------------------------------------ */

#define MAX_ARGS 6

typedef struct {
    char name[16];
    int n_args;
    char args[MAX_ARGS][16];
} token;

/* Reads one layer "name" or "name(a,b,...)" at *p; returns 0 at end of text,
 * 1 on success, -1 on a syntax error (message in err). */
static int next_token(const char **p, token *t, int index, nn_error *err)
{
    const char *s = *p;
    while (isspace((unsigned char)*s)) s++;
    if (!*s) return 0;
    memset(t, 0, sizeof *t);
    size_t len = 0;
    while (isalnum((unsigned char)*s) || *s == '_') {
        if (len + 1 >= sizeof t->name) {
            nn_fail(err, NN_ERR_FORMAT, "layer %d: name too long", index);
            return -1;
        }
        t->name[len++] = *s++;
    }
    if (!len) {
        nn_fail(err, NN_ERR_FORMAT, "layer %d: expected a layer name at '%.20s'", index, s);
        return -1;
    }
    if (*s == '(') {
        s++;
        for (;;) {
            while (isspace((unsigned char)*s)) s++;
            if (t->n_args == MAX_ARGS) {
                nn_fail(err, NN_ERR_FORMAT, "layer %d (%s): too many arguments", index, t->name);
                return -1;
            }
            size_t n = 0;
            while (*s && *s != ',' && *s != ')' && !isspace((unsigned char)*s)) {
                if (n + 1 >= sizeof t->args[0]) {
                    nn_fail(err, NN_ERR_FORMAT, "layer %d (%s): argument too long", index, t->name);
                    return -1;
                }
                t->args[t->n_args][n++] = *s++;
            }
            while (isspace((unsigned char)*s)) s++;
            if (n) t->n_args++;
            if (*s == ',') {
                if (!n) {
                    nn_fail(err, NN_ERR_FORMAT, "layer %d (%s): empty argument", index, t->name);
                    return -1;
                }
                s++;
                continue;
            }
            if (*s == ')') {
                s++;
                break;
            }
            nn_fail(err, NN_ERR_FORMAT, "layer %d (%s): missing ')'", index, t->name);
            return -1;
        }
    }
    if (*s && !isspace((unsigned char)*s)) {
        nn_fail(err, NN_ERR_FORMAT, "layer %d (%s): unexpected '%c'", index, t->name, *s);
        return -1;
    }
    *p = s;
    return 1;
}

static int parse_int(const char *s, int lo, int hi, int *out)
{
    char *end;
    long v = strtol(s, &end, 10);
    if (end == s || *end || v < lo || v > hi) return -1;
    *out = (int)v;
    return 0;
}

nn_status nn_arch_parse(const char *text, nn_arch *arch, nn_error *err)
{
    if (!text || !arch) return nn_fail(err, NN_ERR_ARG, "architecture: NULL argument");
    memset(arch, 0, sizeof *arch);
    const char *p = text;
    token t;
    int r, index = 0, have_input = 0;
    while ((r = next_token(&p, &t, index + 1, err)) == 1) {
        index++;
        if (!strcmp(t.name, "input")) {
            if (have_input || index != 1)
                return nn_fail(err, NN_ERR_FORMAT, "layer %d: input() must come first, once", index);
            if (t.n_args != 3 || parse_int(t.args[0], 1, 1 << 16, &arch->in_h) ||
                parse_int(t.args[1], 1, 1 << 16, &arch->in_w) ||
                parse_int(t.args[2], 1, 1 << 16, &arch->in_c))
                return nn_fail(err, NN_ERR_FORMAT, "layer 1: input needs (H,W,C), positive integers");
            have_input = 1;
            continue;
        }
        if (!have_input)
            return nn_fail(err, NN_ERR_FORMAT, "layer 1: the description must start with input(H,W,C)");
        if (arch->n_layers == NN_MAX_LAYERS)
            return nn_fail(err, NN_ERR_FORMAT, "more than %d layers", NN_MAX_LAYERS);
        nn_layer_spec *L = &arch->layers[arch->n_layers];
        memset(L, 0, sizeof *L);
        if (!strcmp(t.name, "conv")) {
            L->kind = NN_LAYER_CONV;
            if (t.n_args < 2 || parse_int(t.args[0], 1, 1 << 16, &L->filters))
                return nn_fail(err, NN_ERR_FORMAT, "layer %d: conv needs (filters,kernel[,opts])", index);
            char *x = strchr(t.args[1], 'x');
            if (x) {
                *x = '\0';
                if (parse_int(t.args[1], 1, 64, &L->kh) || parse_int(x + 1, 1, 64, &L->kw))
                    return nn_fail(err, NN_ERR_FORMAT, "layer %d: bad kernel size", index);
            } else if (parse_int(t.args[1], 1, 64, &L->kh)) {
                return nn_fail(err, NN_ERR_FORMAT, "layer %d: bad kernel size '%s'", index, t.args[1]);
            } else {
                L->kw = L->kh;
            }
            for (int i = 2; i < t.n_args; i++) {
                if (!strcmp(t.args[i], "valid")) L->padding = NN_PAD_VALID;
                else if (!strcmp(t.args[i], "same")) L->padding = NN_PAD_SAME;
                else if (!strcmp(t.args[i], "relu")) L->activation = NN_ACT_RELU;
                else if (!strcmp(t.args[i], "linear")) L->activation = NN_ACT_NONE;
                else
                    return nn_fail(err, NN_ERR_FORMAT, "layer %d: unknown conv option '%s'", index,
                                   t.args[i]);
            }
        } else if (!strcmp(t.name, "maxpool")) {
            L->kind = NN_LAYER_MAXPOOL;
            int size = 2;
            if (t.n_args > 1 || (t.n_args == 1 && parse_int(t.args[0], 1, 64, &size)) || size != 2)
                return nn_fail(err, NN_ERR_FORMAT, "layer %d: only maxpool(2) is supported", index);
        } else if (!strcmp(t.name, "dropout")) {
            L->kind = NN_LAYER_DROPOUT;
            char *end;
            if (t.n_args != 1) return nn_fail(err, NN_ERR_FORMAT, "layer %d: dropout needs (rate)", index);
            L->rate = strtof(t.args[0], &end);
            if (end == t.args[0] || *end || !(L->rate >= 0.0f && L->rate < 1.0f))
                return nn_fail(err, NN_ERR_FORMAT, "layer %d: dropout rate must be in [0,1)", index);
        } else if (!strcmp(t.name, "flatten")) {
            L->kind = NN_LAYER_FLATTEN;
            if (t.n_args) return nn_fail(err, NN_ERR_FORMAT, "layer %d: flatten takes no arguments", index);
        } else if (!strcmp(t.name, "dense")) {
            L->kind = NN_LAYER_DENSE;
            if (t.n_args < 1 || t.n_args > 2 || parse_int(t.args[0], 1, 1 << 24, &L->units))
                return nn_fail(err, NN_ERR_FORMAT, "layer %d: dense needs (units[,relu])", index);
            if (t.n_args == 2) {
                if (!strcmp(t.args[1], "relu")) L->activation = NN_ACT_RELU;
                else if (!strcmp(t.args[1], "linear")) L->activation = NN_ACT_NONE;
                else
                    return nn_fail(err, NN_ERR_FORMAT, "layer %d: unknown dense option '%s'", index,
                                   t.args[1]);
            }
        } else {
            return nn_fail(err, NN_ERR_FORMAT, "layer %d: unknown layer '%s'", index, t.name);
        }
        arch->n_layers++;
    }
    if (r < 0) return err ? err->code : NN_ERR_FORMAT;
    if (!have_input) return nn_fail(err, NN_ERR_FORMAT, "empty architecture description");
    if (arch->n_layers == 0 || arch->layers[arch->n_layers - 1].kind != NN_LAYER_DENSE)
        return nn_fail(err, NN_ERR_FORMAT, "the last layer must be dense (the class logits)");
    return NN_OK;
}

size_t nn_arch_format(const nn_arch *arch, char *buf, size_t size)
{
    size_t used = 0;
#define EMIT(...)                                                                     \
    do {                                                                              \
        int k_ = snprintf(buf ? buf + (used < size ? used : size) : NULL,             \
                          used < size ? size - used : 0, __VA_ARGS__);                \
        if (k_ > 0) used += (size_t)k_;                                               \
    } while (0)
    EMIT("input(%d,%d,%d)", arch->in_h, arch->in_w, arch->in_c);
    for (int i = 0; i < arch->n_layers; i++) {
        const nn_layer_spec *L = &arch->layers[i];
        switch (L->kind) {
        case NN_LAYER_CONV:
            if (L->kh == L->kw) EMIT(" conv(%d,%d", L->filters, L->kh);
            else EMIT(" conv(%d,%dx%d", L->filters, L->kh, L->kw);
            if (L->padding == NN_PAD_SAME) EMIT(",same");
            EMIT(L->activation == NN_ACT_RELU ? ",relu)" : ")");
            break;
        case NN_LAYER_MAXPOOL: EMIT(" maxpool(2)"); break;
        case NN_LAYER_DROPOUT: {
            /* The shortest form that reads back as the same float, so a stored
             * description rebuilds exactly its network (0.2 stays "0.2"). */
            char rate[32];
            for (int prec = 6; prec <= 9; prec++) {
                snprintf(rate, sizeof rate, "%.*g", prec, L->rate);
                if (strtof(rate, NULL) == L->rate) break;
            }
            EMIT(" dropout(%s)", rate);
            break;
        }
        case NN_LAYER_FLATTEN: EMIT(" flatten"); break;
        case NN_LAYER_DENSE:
            EMIT(" dense(%d%s)", L->units, L->activation == NN_ACT_RELU ? ",relu" : "");
            break;
        }
    }
#undef EMIT
    return used;
}

/* a * b + c, or SIZE_MAX when it does not fit */
static size_t mul_add(size_t a, size_t b, size_t c)
{
    size_t r;
    if (__builtin_mul_overflow(a, b, &r) || __builtin_add_overflow(r, c, &r)) return SIZE_MAX;
    return r;
}

nn_status nn_arch_sizes(const nn_arch *arch, size_t *params, size_t *values, nn_error *err)
{
    if (!arch || !params || !values) return nn_fail(err, NN_ERR_ARG, "nn_arch_sizes: NULL argument");
    /* (h, w, c) while spatial; after flatten, h*w*c in `flat` */
    size_t h = (size_t)arch->in_h, w = (size_t)arch->in_w, c = (size_t)arch->in_c, flat = 0;
    int spatial = 1;
    size_t p = 0, v = mul_add(h * w, c, 0);
    for (int i = 0; i < arch->n_layers; i++) {
        const nn_layer_spec *L = &arch->layers[i];
        size_t out = 0;
        switch (L->kind) {
        case NN_LAYER_CONV:
            if (!spatial) return nn_fail(err, NN_ERR_SHAPE, "layer %d: conv after flatten", i + 1);
            if (L->padding == NN_PAD_VALID) {
                if (h < (size_t)L->kh || w < (size_t)L->kw)
                    return nn_fail(err, NN_ERR_SHAPE, "layer %d: %dx%d kernel on a %zux%zu input",
                                   i + 1, L->kh, L->kw, h, w);
                h -= (size_t)L->kh - 1;
                w -= (size_t)L->kw - 1;
            }
            p = mul_add(mul_add((size_t)L->kh * (size_t)L->kw, c, 0), (size_t)L->filters, p);
            p = mul_add(1, (size_t)L->filters, p);
            c = (size_t)L->filters;
            out = mul_add(mul_add(h, w, 0), c, 0);
            break;
        case NN_LAYER_MAXPOOL:
            if (!spatial || h < 2 || w < 2)
                return nn_fail(err, NN_ERR_SHAPE, "layer %d: maxpool(2) needs a spatial input of "
                               "2x2 or more", i + 1);
            h /= 2;
            w /= 2;
            out = mul_add(mul_add(h, w, 0), c, 0);
            break;
        case NN_LAYER_DROPOUT:
            out = spatial ? mul_add(mul_add(h, w, 0), c, 0) : flat;
            break;
        case NN_LAYER_FLATTEN:
            if (spatial) flat = mul_add(mul_add(h, w, 0), c, 0);
            spatial = 0;
            if (flat > INT_MAX)
                return nn_fail(err, NN_ERR_SHAPE, "layer %d: flatten of %zu values, more than %d",
                               i + 1, flat, INT_MAX);
            out = flat;
            break;
        case NN_LAYER_DENSE:
            if (spatial) return nn_fail(err, NN_ERR_SHAPE, "layer %d: dense needs flatten first", i + 1);
            p = mul_add(flat, (size_t)L->units, p);
            p = mul_add(1, (size_t)L->units, p);
            flat = out = (size_t)L->units;
            break;
        }
        v = mul_add(1, out, v);
        if (p == SIZE_MAX || v == SIZE_MAX)
            return nn_fail(err, NN_ERR_SHAPE, "layer %d: network size overflows", i + 1);
    }
    *params = p;
    *values = v;
    return NN_OK;
}

/* ---- building ----------------------------------------------------------- */

nn_model *nn_model_create(const nn_arch *arch, int max_batch, nn_grad_mode grads, nn_error *err)
{
    if (!arch || arch->n_layers < 1) {
        nn_fail(err, NN_ERR_ARG, "model: empty architecture");
        return NULL;
    }
    nn_model *m = calloc(1, sizeof *m);
    if (!m || !(m->graph = nn_graph_create())) {
        free(m);
        nn_fail(err, NN_ERR_NOMEM, "model: out of memory");
        return NULL;
    }
    m->arch = *arch;
    nn_graph *g = m->graph;
    nn_node *x = m->input = nn_input(g, "input", arch->in_h, arch->in_w, arch->in_c, 0);
    int counts[5] = {0};
    static const char *keras_names[5] = {"conv2d", "max_pooling2d", "dropout", "flatten", "dense"};
    for (int i = 0; i < arch->n_layers; i++) {
        const nn_layer_spec *L = &arch->layers[i];
        snprintf(m->layer_name[i], sizeof m->layer_name[i], "%s_%d", keras_names[L->kind],
                 ++counts[L->kind]);
        char name[64];
        switch (L->kind) {
        case NN_LAYER_CONV: {
            int in_c = x ? x->shape[x->ndim - 1] : 1;
            snprintf(name, sizeof name, "%s/kernel", m->layer_name[i]);
            m->layer_kernel[i] = nn_param(g, name, 4, (int[]){L->kh, L->kw, in_c, L->filters});
            snprintf(name, sizeof name, "%s/bias", m->layer_name[i]);
            m->layer_bias[i] = nn_param(g, name, 1, (int[]){L->filters});
            x = nn_conv2d(g, x, m->layer_kernel[i], m->layer_bias[i], L->padding, L->activation);
            break;
        }
        case NN_LAYER_MAXPOOL: x = nn_maxpool2(g, x); break;
        case NN_LAYER_DROPOUT: x = nn_dropout(g, x, L->rate); break;
        case NN_LAYER_FLATTEN: x = nn_flatten(g, x); break;
        case NN_LAYER_DENSE: {
            int in = x ? x->shape[x->ndim - 1] : 1; /* nn_dense rejects a non-flat x */
            snprintf(name, sizeof name, "%s/kernel", m->layer_name[i]);
            m->layer_kernel[i] = nn_param(g, name, 2, (int[]){in, L->units});
            snprintf(name, sizeof name, "%s/bias", m->layer_name[i]);
            m->layer_bias[i] = nn_param(g, name, 1, (int[]){L->units});
            x = nn_dense(g, x, m->layer_kernel[i], m->layer_bias[i], L->activation);
            break;
        }
        }
        if (x) nn_node_set_name(x, m->layer_name[i]);
        m->layer_out[i] = x;
    }
    m->logits = x;
    m->loss = nn_softmax_xent(g, x);
    if (m->loss) nn_node_set_name(m->loss, "loss");
    m->n_classes = x ? x->shape[1] : 0;
    if (nn_graph_alloc(g, max_batch, grads, err)) {
        nn_error_prefix(err, "building model");
        nn_model_free(m);
        return NULL;
    }
    return m;
}

void nn_model_free(nn_model *m)
{
    if (!m) return;
    nn_graph_free(m->graph);
    free(m);
}

void nn_model_init_glorot(nn_model *m, nn_rng *rng)
{
    for (int i = 0; i < m->arch.n_layers; i++) {
        nn_node *k = m->layer_kernel[i], *b = m->layer_bias[i];
        if (!k) continue;
        size_t receptive = 1;
        for (int d = 0; d < k->ndim - 2; d++) receptive *= (size_t)k->shape[d];
        double fan_in = (double)receptive * k->shape[k->ndim - 2];
        double fan_out = (double)receptive * k->shape[k->ndim - 1];
        float limit = (float)sqrt(6.0 / (fan_in + fan_out));
        for (size_t j = 0; j < k->size; j++) k->value[j] = nn_rng_range(rng, -limit, limit);
        memset(b->value, 0, b->size * sizeof(float));
    }
}

size_t nn_model_param_count(const nn_model *m) { return nn_graph_param_count(m->graph); }

size_t nn_model_layer_params(const nn_model *m, int i)
{
    if (i < 0 || i >= m->arch.n_layers || !m->layer_kernel[i]) return 0;
    return m->layer_kernel[i]->size + m->layer_bias[i]->size;
}

void nn_model_layer_shape(const nn_model *m, int i, char *buf, size_t size)
{
    const nn_node *n = (i >= 0 && i < m->arch.n_layers) ? m->layer_out[i] : NULL;
    if (!n) {
        snprintf(buf, size, "?");
        return;
    }
    if (n->ndim == 4) snprintf(buf, size, "%dx%dx%d", n->shape[1], n->shape[2], n->shape[3]);
    else snprintf(buf, size, "%d", n->shape[1]);
}

void nn_model_flops(const nn_model *m, double *forward, double *training)
{
    double fwd = 0, bwd = 0;
    int first = 1;
    for (int i = 0; i < m->arch.n_layers; i++) {
        const nn_node *k = m->layer_kernel[i], *out = m->layer_out[i];
        if (!k || !out) continue;
        double per_pixel = (double)k->size; /* K*F for conv, N*M for dense */
        double pixels = out->ndim == 4 ? (double)out->shape[1] * out->shape[2] : 1.0;
        double f = 2.0 * per_pixel * pixels;
        fwd += f;
        bwd += first ? f : 2.0 * f; /* weight gradient, plus input gradient after the first layer */
        first = 0;
    }
    if (forward) *forward = fwd;
    if (training) *training = fwd + bwd;
}

static void format_thousands(size_t v, char *buf, size_t size)
{
    char raw[32];
    snprintf(raw, sizeof raw, "%zu", v);
    size_t len = strlen(raw), o = 0;
    for (size_t i = 0; i < len && o + 2 < size; i++) {
        if (i && (len - i) % 3 == 0) buf[o++] = ',';
        buf[o++] = raw[i];
    }
    buf[o] = '\0';
}

void nn_model_summary(const nn_model *m, FILE *out)
{
    static const char *types[5] = {"Conv2D", "MaxPooling2D", "Dropout", "Flatten", "Dense"};
    char shape[32], params[32], layer[64];
    fprintf(out, "%-32s %-14s %12s\n", "Layer (type)", "Output shape", "Params");
    fprintf(out, "%.60s\n", "============================================================");
    snprintf(shape, sizeof shape, "%dx%dx%d", m->arch.in_h, m->arch.in_w, m->arch.in_c);
    fprintf(out, "%-32s %-14s %12s\n", "input (Input)", shape, "0");
    for (int i = 0; i < m->arch.n_layers; i++) {
        const nn_layer_spec *L = &m->arch.layers[i];
        snprintf(layer, sizeof layer, "%s (%s)", m->layer_name[i], types[L->kind]);
        nn_model_layer_shape(m, i, shape, sizeof shape);
        format_thousands(nn_model_layer_params(m, i), params, sizeof params);
        fprintf(out, "%-32s %-14s %12s", layer, shape, params);
        if (L->kind == NN_LAYER_CONV || L->kind == NN_LAYER_DENSE)
            fprintf(out, "  %s", L->activation == NN_ACT_RELU ? "relu" : "linear");
        if (L->kind == NN_LAYER_DROPOUT) fprintf(out, "  rate %g", L->rate);
        fputc('\n', out);
    }
    fprintf(out, "%.60s\n", "============================================================");
    format_thousands(nn_model_param_count(m), params, sizeof params);
    fprintf(out, "Total params: %s (softmax over %d classes on top)\n", params, m->n_classes);
}

nn_status nn_model_predict(nn_model *m, const float *x, int n, float *probs, nn_error *err)
{
    if (!m || (n > 0 && (!x || !probs)) || n < 0)
        return nn_fail(err, NN_ERR_ARG, "predict: bad argument");
    nn_graph *g = m->graph;
    const int max_batch = nn_graph_max_batch(g), K = m->n_classes;
    const size_t in_size = nn_node_example_size(m->input);
    nn_graph_set_training(g, 0);
    for (int b0 = 0; b0 < n; b0 += max_batch) {
        int nb = n - b0 < max_batch ? n - b0 : max_batch;
        nn_status st = nn_graph_set_batch(g, nb, err);
        if (st) return st;
        memcpy(nn_value(m->input), x + (size_t)b0 * in_size, (size_t)nb * in_size * sizeof(float));
        nn_graph_forward(g);
        float *out = probs + (size_t)b0 * K;
        memcpy(out, nn_value(m->logits), (size_t)nb * K * sizeof(float));
        nn_softmax_rows(out, nb, K);
    }
    return NN_OK;
}
