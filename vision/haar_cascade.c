/* haar_cascade.c: OpenCV cascade XML -> struct haar_cascade (see the header).
 *
 * The checks follow what OpenCV's CascadeClassifierImpl::Data::read and
 * HaarEvaluator::Feature::read require, and go further where OpenCV would
 * read out of bounds on a bad file (tilted rects leaving the window, tree
 * links past the tree, feature indices past the feature list).
 */
#include "vision/haar_cascade.h"

#include <errno.h>
#include <locale.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>
#include <libxml/tree.h>

/* Keeps the window small enough that the squared sum of its normalisation
 * rectangle, (w-2)(h-2)*255^2, fits the uint32 arithmetic OpenCV (and the
 * detector) use; every shipped cascade is at most 60 x 20. */
enum { HAAR_MAX_WIN_AREA = 65000 };

typedef struct {
    const char *path;
    nn_error *err;
    locale_t c_locale;   /* numbers are written with '.', whatever the user's locale */
} load_ctx;

static long line_of(const xmlNode *n) { return n ? xmlGetLineNo((xmlNode *)n) : 0; }

static int is_elem(const xmlNode *n, const char *name)
{
    return n->type == XML_ELEMENT_NODE &&
           (!name || xmlStrcmp(n->name, (const xmlChar *)name) == 0);
}

static xmlNode *child(const xmlNode *parent, const char *name)
{
    for (xmlNode *n = parent->children; n; n = n->next)
        if (is_elem(n, name)) return n;
    return NULL;
}

static int count_elems(const xmlNode *parent)
{
    int k = 0;
    for (xmlNode *n = parent->children; n; n = n->next)
        if (is_elem(n, NULL)) k++;
    return k;
}

static xmlNode *need(load_ctx *L, const xmlNode *parent, const char *name)
{
    xmlNode *n = child(parent, name);
    if (!n)
        nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <%s> has no <%s>", L->path,
                line_of(parent), (const char *)parent->name, name);
    return n;
}

/* Parses the whitespace-separated numbers in n's text into out[0..max).
 * Returns how many were found (may exceed max: the caller checks), or -1
 * with err set on a token that is not a number. */
static int parse_numbers(load_ctx *L, const xmlNode *n, double *out, int max)
{
    xmlChar *text = xmlNodeGetContent((xmlNode *)n);
    if (!text) {
        nn_fail(L->err, NN_ERR_NOMEM, "%s:%ld: out of memory reading <%s>", L->path,
                line_of(n), (const char *)n->name);
        return -1;
    }
    const char *s = (const char *)text;
    int k = 0;
    for (;;) {
        while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
        if (!*s) break;
        char *end;
        errno = 0;
        double v = strtod_l(s, &end, L->c_locale);
        if (end == s || errno == ERANGE || !isfinite(v) ||
            (*end && *end != ' ' && *end != '\t' && *end != '\n' && *end != '\r')) {
            const char *e = s;
            while (*e && *e != ' ' && *e != '\t' && *e != '\n' && *e != '\r') e++;
            /* "_" is a list item: name its list instead. */
            int item = xmlStrcmp(n->name, (const xmlChar *)"_") == 0 && n->parent;
            nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <%s>%s: bad number \"%.*s\"", L->path,
                    line_of(n), (const char *)(item ? n->parent->name : n->name),
                    item ? " item" : "", (int)(e - s > 40 ? 40 : e - s), s);
            xmlFree(text);
            return -1;
        }
        if (k < max) out[k] = v;
        k++;
        s = end;
    }
    xmlFree(text);
    return k;
}

/* Exactly one number in <name> under parent. */
static int get_number(load_ctx *L, const xmlNode *parent, const char *name, double *v)
{
    xmlNode *n = need(L, parent, name);
    if (!n) return -1;
    int k = parse_numbers(L, n, v, 1);
    if (k < 0) return -1;
    if (k != 1) {
        nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <%s> should hold one number, found %d",
                L->path, line_of(n), name, k);
        return -1;
    }
    return 0;
}

static int get_int(load_ctx *L, const xmlNode *parent, const char *name, int lo, int hi, int *out)
{
    double v;
    if (get_number(L, parent, name, &v)) return -1;
    if (v != floor(v) || v < lo || v > hi) {
        nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <%s> is %g, expected an integer in [%d, %d]",
                L->path, line_of(child(parent, name)), name, v, lo, hi);
        return -1;
    }
    *out = (int)v;
    return 0;
}

/* The first word of <name>'s text into buf (truncated to cap-1); a missing
 * node is an error. */
static int get_word(load_ctx *L, const xmlNode *parent, const char *name, char *buf, size_t cap)
{
    xmlNode *n = need(L, parent, name);
    if (!n) return -1;
    xmlChar *text = xmlNodeGetContent(n);
    if (!text) {
        nn_fail(L->err, NN_ERR_NOMEM, "%s:%ld: out of memory", L->path, line_of(n));
        return -1;
    }
    const char *s = (const char *)text;
    while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r') s++;
    size_t len = strcspn(s, " \t\r\n");
    if (len >= cap) len = cap - 1;
    memcpy(buf, s, len);
    buf[len] = '\0';
    xmlFree(text);
    return 0;
}

static int is_int(double v) { return v == floor(v) && fabs(v) < 1e9; }

static int read_feature(load_ctx *L, const haar_cascade *c, const xmlNode *fn, haar_feature *f)
{
    const xmlNode *rects = need(L, fn, "rects");
    if (!rects) return -1;
    memset(f, 0, sizeof *f);
    for (xmlNode *rn = rects->children; rn; rn = rn->next) {
        if (!is_elem(rn, NULL)) continue;
        if (f->nrects == HAAR_MAX_RECTS)
            return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: feature has more than %d rects",
                           L->path, line_of(rn), HAAR_MAX_RECTS), -1;
        double v[5];
        int k = parse_numbers(L, rn, v, 5);
        if (k < 0) return -1;
        if (k != 5)
            return nn_fail(L->err, NN_ERR_FORMAT,
                           "%s:%ld: rect should be \"x y w h weight\", found %d numbers",
                           L->path, line_of(rn), k), -1;
        for (int i = 0; i < 4; i++)
            if (!is_int(v[i]))
                return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: rect coordinate %g is not an integer",
                               L->path, line_of(rn), v[i]), -1;
        haar_feature_rect *r = &f->r[f->nrects++];
        r->x = (int)v[0]; r->y = (int)v[1]; r->w = (int)v[2]; r->h = (int)v[3];
        r->weight = (float)v[4];
    }
    if (f->nrects == 0)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: feature has no rects", L->path,
                       line_of(rects)), -1;
    const xmlNode *tn = child(fn, "tilted");
    if (tn) {
        double t;
        int k = parse_numbers(L, tn, &t, 1);
        if (k < 0) return -1;
        if (k != 1 || (t != 0 && t != 1))
            return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <tilted> should be 0 or 1",
                           L->path, line_of(tn)), -1;
        f->tilted = t != 0;
    }
    for (int i = 0; i < f->nrects; i++) {
        const haar_feature_rect *r = &f->r[i];
        int ok;
        if (f->tilted)
            ok = r->w > 0 && r->h > 0 && r->y >= 0 && r->x - r->h >= 0 &&
                 r->x + r->w <= c->win_w && r->y + r->w + r->h <= c->win_h;
        else
            ok = r->w > 0 && r->h > 0 && r->x >= 0 && r->y >= 0 &&
                 r->x + r->w <= c->win_w && r->y + r->h <= c->win_h;
        if (!ok)
            return nn_fail(L->err, NN_ERR_FORMAT,
                           "%s:%ld: %srect %d %d %d %d does not fit the %dx%d window",
                           L->path, line_of(fn), f->tilted ? "tilted " : "", r->x, r->y,
                           r->w, r->h, c->win_w, c->win_h), -1;
    }
    return 0;
}

static int read_tree(load_ctx *L, haar_cascade *c, const xmlNode *wn, int ti)
{
    const xmlNode *in = need(L, wn, "internalNodes");
    const xmlNode *lv = in ? need(L, wn, "leafValues") : NULL;
    if (!lv) return -1;
    haar_tree *t = &c->trees[ti];
    int nvals = parse_numbers(L, in, NULL, 0);
    if (nvals < 0) return -1;
    if (nvals == 0 || nvals % 4)
        return nn_fail(L->err, NN_ERR_FORMAT,
                       "%s:%ld: <internalNodes> should hold groups of 4 numbers "
                       "(left right featureIdx threshold), found %d numbers",
                       L->path, line_of(in), nvals), -1;
    t->nnodes = nvals / 4;
    double *vals = malloc(sizeof(double) * (size_t)(nvals + t->nnodes + 1));
    if (!vals) return nn_fail(L->err, NN_ERR_NOMEM, "%s: out of memory", L->path), -1;
    double *leaf = vals + nvals;
    int rc = -1;
    parse_numbers(L, in, vals, nvals);
    int nleaf = parse_numbers(L, lv, leaf, t->nnodes + 1);
    if (nleaf < 0) goto done;
    if (nleaf != t->nnodes + 1) {
        nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: a tree of %d nodes needs %d <leafValues>, found %d",
                L->path, line_of(lv), t->nnodes, t->nnodes + 1, nleaf);
        goto done;
    }
    t->first_node = c->nnodes;
    t->first_leaf = c->nleaves;
    for (int i = 0; i < t->nnodes; i++) {
        const double *v = vals + 4 * i;
        if (!is_int(v[0]) || !is_int(v[1]) || !is_int(v[2])) {
            nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: node %d: left, right and featureIdx must be integers",
                    L->path, line_of(in), i);
            goto done;
        }
        haar_node *nd = &c->nodes[c->nnodes + i];
        nd->left = (int)v[0];
        nd->right = (int)v[1];
        nd->feature = (int)v[2];
        nd->threshold = (float)v[3];
        /* A child > 0 must come later in the tree (so evaluation ends); a
         * child <= 0 must name one of the tree's leaves. */
        int kids[2] = { nd->left, nd->right };
        for (int k = 0; k < 2; k++)
            if ((kids[k] > 0 && (kids[k] <= i || kids[k] >= t->nnodes)) ||
                (kids[k] <= 0 && -kids[k] > t->nnodes)) {
                nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: node %d: child %d is outside its tree of %d nodes",
                        L->path, line_of(in), i, kids[k], t->nnodes);
                goto done;
            }
        if (nd->feature < 0) {
            nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: node %d: negative featureIdx %d", L->path,
                    line_of(in), i, nd->feature);
            goto done;
        }
    }
    for (int i = 0; i <= t->nnodes; i++) c->leaves[c->nleaves + i] = (float)leaf[i];
    c->nnodes += t->nnodes;
    c->nleaves += t->nnodes + 1;
    if (t->nnodes > c->max_nodes) c->max_nodes = t->nnodes;
    rc = 0;
done:
    free(vals);
    return rc;
}

/* First pass: sizes of the arrays. */
static int count_cascade(load_ctx *L, const xmlNode *stages, int *ntrees, int *nnodes)
{
    *ntrees = *nnodes = 0;
    for (xmlNode *sn = stages->children; sn; sn = sn->next) {
        if (!is_elem(sn, NULL)) continue;
        const xmlNode *wc = need(L, sn, "weakClassifiers");
        if (!wc) return -1;
        for (xmlNode *wn = wc->children; wn; wn = wn->next) {
            if (!is_elem(wn, NULL)) continue;
            const xmlNode *in = need(L, wn, "internalNodes");
            if (!in) return -1;
            int k = parse_numbers(L, in, NULL, 0);
            if (k < 0) return -1;
            (*ntrees)++;
            *nnodes += k / 4;
        }
    }
    return 0;
}

static int read_cascade(load_ctx *L, haar_cascade *c, const xmlNode *root)
{
    if (!is_elem(root, "opencv_storage"))
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: root element is <%s>, expected <opencv_storage>",
                       L->path, line_of(root), (const char *)root->name), -1;
    const xmlNode *cn = NULL;
    for (xmlNode *n = root->children; n && !cn; n = n->next)
        if (is_elem(n, NULL)) cn = n;
    if (!cn)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <opencv_storage> holds no cascade",
                       L->path, line_of(root)), -1;
    xmlChar *type = xmlGetProp((xmlNode *)cn, (const xmlChar *)"type_id");
    int old = (type && xmlStrcmp(type, (const xmlChar *)"opencv-haar-classifier") == 0) ||
              (!child(cn, "stageType") && child(cn, "size") && child(cn, "stages"));
    xmlFree(type);
    if (old)
        return nn_fail(L->err, NN_ERR_UNSUPPORTED,
                       "%s:%ld: old-format cascade (opencv-haar-classifier) is not supported; "
                       "convert it with OpenCV or use a new-format file", L->path, line_of(cn)), -1;

    char word[32];
    if (get_word(L, cn, "stageType", word, sizeof word)) return -1;
    if (strcmp(word, "BOOST") != 0)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <stageType> is \"%s\", expected BOOST",
                       L->path, line_of(child(cn, "stageType")), word), -1;
    if (get_word(L, cn, "featureType", word, sizeof word)) return -1;
    if (strcmp(word, "LBP") == 0 || strcmp(word, "HOG") == 0)
        return nn_fail(L->err, NN_ERR_UNSUPPORTED, "%s:%ld: %s cascades are not supported, only HAAR",
                       L->path, line_of(child(cn, "featureType")), word), -1;
    if (strcmp(word, "HAAR") != 0)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <featureType> is \"%s\", expected HAAR",
                       L->path, line_of(child(cn, "featureType")), word), -1;
    if (get_int(L, cn, "width", 3, 1000, &c->win_w) ||
        get_int(L, cn, "height", 3, 1000, &c->win_h))
        return -1;
    if (c->win_w * c->win_h > HAAR_MAX_WIN_AREA)
        return nn_fail(L->err, NN_ERR_UNSUPPORTED, "%s: window %dx%d is larger than %d pixels",
                       L->path, c->win_w, c->win_h, HAAR_MAX_WIN_AREA), -1;
    const xmlNode *fp = need(L, cn, "featureParams");
    if (!fp) return -1;
    int maxcat;
    if (get_int(L, fp, "maxCatCount", 0, 1 << 20, &maxcat)) return -1;
    if (maxcat != 0)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <maxCatCount> is %d; HAAR features are ordered (0)",
                       L->path, line_of(fp), maxcat), -1;

    const xmlNode *stages = need(L, cn, "stages");
    const xmlNode *features = stages ? need(L, cn, "features") : NULL;
    if (!features) return -1;
    c->nstages = count_elems(stages);
    c->nfeatures = count_elems(features);
    if (c->nstages == 0)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <stages> is empty", L->path,
                       line_of(stages)), -1;
    if (c->nfeatures == 0)
        return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <features> is empty", L->path,
                       line_of(features)), -1;
    if (child(cn, "stageNum")) {
        int sn;
        if (get_int(L, cn, "stageNum", 1, 1 << 20, &sn)) return -1;
        if (sn != c->nstages)
            return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: <stageNum> says %d stages, <stages> holds %d",
                           L->path, line_of(child(cn, "stageNum")), sn, c->nstages), -1;
    }
    int ntrees, nnodes;
    if (count_cascade(L, stages, &ntrees, &nnodes)) return -1;

    c->stages = calloc((size_t)c->nstages, sizeof *c->stages);
    c->trees = calloc((size_t)(ntrees ? ntrees : 1), sizeof *c->trees);
    c->nodes = calloc((size_t)(nnodes ? nnodes : 1), sizeof *c->nodes);
    c->leaves = calloc((size_t)(nnodes + ntrees + 1), sizeof *c->leaves);
    c->features = calloc((size_t)c->nfeatures, sizeof *c->features);
    if (!c->stages || !c->trees || !c->nodes || !c->leaves || !c->features)
        return nn_fail(L->err, NN_ERR_NOMEM, "%s: out of memory for %d trees", L->path, ntrees), -1;

    int si = 0;
    for (xmlNode *sn = stages->children; sn; sn = sn->next) {
        if (!is_elem(sn, NULL)) continue;
        haar_stage *st = &c->stages[si++];
        double thr;
        if (get_number(L, sn, "stageThreshold", &thr)) return -1;
        st->threshold = (float)thr - 1e-5f;   /* OpenCV's THRESHOLD_EPS, in float */
        const xmlNode *wc = child(sn, "weakClassifiers");
        st->first_tree = c->ntrees;
        for (xmlNode *wn = wc->children; wn; wn = wn->next) {
            if (!is_elem(wn, NULL)) continue;
            if (read_tree(L, c, wn, c->ntrees)) return -1;
            c->ntrees++;
        }
        st->ntrees = c->ntrees - st->first_tree;
        if (st->ntrees == 0)
            return nn_fail(L->err, NN_ERR_FORMAT, "%s:%ld: stage %d has no weak classifiers",
                           L->path, line_of(wc), si - 1), -1;
    }

    int fi = 0;
    for (xmlNode *fn = features->children; fn; fn = fn->next) {
        if (!is_elem(fn, NULL)) continue;
        haar_feature *f = &c->features[fi++];
        if (read_feature(L, c, fn, f)) return -1;
        c->has_tilted |= f->tilted;
    }
    for (int i = 0; i < c->nnodes; i++)
        if (c->nodes[i].feature >= c->nfeatures)
            return nn_fail(L->err, NN_ERR_FORMAT, "%s: node %d uses feature %d, but there are only %d features",
                           L->path, i, c->nodes[i].feature, c->nfeatures), -1;
    return 0;
}

haar_cascade *haar_cascade_load(const char *path, nn_error *err)
{
    if (!path) {
        nn_fail(err, NN_ERR_ARG, "haar_cascade_load: NULL path");
        return NULL;
    }
    /* A plain open and read first: libxml2's message for a missing or
     * unreadable file (or a directory) is vague. */
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        nn_fail(err, NN_ERR_IO, "%s: %s", path, strerror(errno));
        return NULL;
    }
    errno = 0;
    (void)fgetc(fp);
    int rerr = ferror(fp) ? errno : 0;
    fclose(fp);
    if (rerr) {
        nn_fail(err, NN_ERR_IO, "%s: %s", path, strerror(rerr));
        return NULL;
    }

    xmlParserCtxtPtr pc = xmlNewParserCtxt();
    if (!pc) {
        nn_fail(err, NN_ERR_NOMEM, "%s: out of memory creating XML parser", path);
        return NULL;
    }
    /* NOERROR/NOWARNING: a library must not print; the error is read back below. */
    xmlDocPtr doc = xmlCtxtReadFile(pc, path, NULL,
                                    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
    if (!doc) {
        const xmlError *xe = xmlCtxtGetLastError(pc);
        if (xe && xe->message) {
            size_t len = strlen(xe->message);
            while (len && (xe->message[len - 1] == '\n' || xe->message[len - 1] == '\r')) len--;
            nn_fail(err, NN_ERR_FORMAT, "%s:%d: malformed XML: %.*s", path, xe->line, (int)len,
                    xe->message);
        } else {
            nn_fail(err, NN_ERR_FORMAT, "%s: malformed XML", path);
        }
        xmlFreeParserCtxt(pc);
        return NULL;
    }
    xmlFreeParserCtxt(pc);

    haar_cascade *c = calloc(1, sizeof *c);
    load_ctx L = { path, err, newlocale(LC_NUMERIC_MASK, "C", (locale_t)0) };
    if (!c || !L.c_locale) {
        nn_fail(err, NN_ERR_NOMEM, "%s: out of memory", path);
        free(c);
        c = NULL;
    } else {
        const xmlNode *root = xmlDocGetRootElement(doc);
        if (!root) {
            nn_fail(err, NN_ERR_FORMAT, "%s: empty XML document", path);
            haar_cascade_free(c);
            c = NULL;
        } else if (read_cascade(&L, c, root)) {
            haar_cascade_free(c);
            c = NULL;
        }
    }
    if (L.c_locale) freelocale(L.c_locale);
    xmlFreeDoc(doc);
    return c;
}

void haar_cascade_free(haar_cascade *c)
{
    if (!c) return;
    free(c->stages);
    free(c->trees);
    free(c->nodes);
    free(c->leaves);
    free(c->features);
    free(c);
}
