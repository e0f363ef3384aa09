/* haar_group.c: see haar_group.h. */
#include "vision/haar_group.h"

#include <math.h>
#include <stdlib.h>

size_t haar_group_scratch_size(int n)
{
    /* parent, class of root, per-class count and four sums, class rects */
    return (size_t)n * (2 * sizeof(int) + 5 * sizeof(int) + sizeof(haar_rect));
}

static int find_root(int *parent, int i)
{
    int r = i;
    while (parent[r] != r) r = parent[r];
    while (parent[i] != r) {    /* path compression */
        int next = parent[i];
        parent[i] = r;
        i = next;
    }
    return r;
}

static int similar(const haar_rect *a, const haar_rect *b, double eps)
{
    int mw = a->w < b->w ? a->w : b->w, mh = a->h < b->h ? a->h : b->h;
    double delta = eps * (mw + mh) * 0.5;
    return abs(a->x - b->x) <= delta && abs(a->y - b->y) <= delta &&
           abs(a->x + a->w - b->x - b->w) <= delta && abs(a->y + a->h - b->y - b->h) <= delta;
}

int haar_group(haar_rect *rects, int n, int group_threshold, double eps, void *scratch)
{
    if (group_threshold <= 0 || n <= 0) {
        for (int i = 0; i < n; i++) rects[i].neighbors = 1;
        return n > 0 ? n : 0;
    }
    int *parent = scratch;
    int *cls = parent + n;
    int *acc = cls + n;                      /* [5 * nclasses]: count, x, y, w, h */
    haar_rect *g = (haar_rect *)(acc + 5 * n);

    for (int i = 0; i < n; i++) parent[i] = i;
    for (int i = 1; i < n; i++)
        for (int j = 0; j < i; j++)
            if (similar(&rects[i], &rects[j], eps)) {
                int ri = find_root(parent, i), rj = find_root(parent, j);
                if (ri != rj) parent[ri > rj ? ri : rj] = ri < rj ? ri : rj;
            }

    /* Number classes by first appearance, as cv::partition does. */
    for (int i = 0; i < n; i++) cls[i] = -1;
    int ncls = 0;
    for (int i = 0; i < n; i++) {
        int r = find_root(parent, i);
        if (cls[r] < 0) {
            cls[r] = ncls;
            int *a = acc + 5 * ncls++;
            a[0] = a[1] = a[2] = a[3] = a[4] = 0;
        }
        int *a = acc + 5 * cls[r];
        a[0]++;
        a[1] += rects[i].x;
        a[2] += rects[i].y;
        a[3] += rects[i].w;
        a[4] += rects[i].h;
    }
    for (int k = 0; k < ncls; k++) {
        const int *a = acc + 5 * k;
        float s = 1.f / (float)a[0];
        g[k].x = (int)lrintf((float)a[1] * s);
        g[k].y = (int)lrintf((float)a[2] * s);
        g[k].w = (int)lrintf((float)a[3] * s);
        g[k].h = (int)lrintf((float)a[4] * s);
        g[k].neighbors = a[0];
    }

    int nout = 0;
    for (int i = 0; i < ncls; i++) {
        const haar_rect *r1 = &g[i];
        int n1 = r1->neighbors;
        if (n1 <= group_threshold) continue;
        int j;
        for (j = 0; j < ncls; j++) {
            const haar_rect *r2 = &g[j];
            int n2 = r2->neighbors;
            if (j == i || n2 <= group_threshold) continue;
            int dx = (int)lrint(r2->w * eps), dy = (int)lrint(r2->h * eps);
            if (r1->x >= r2->x - dx && r1->y >= r2->y - dy &&
                r1->x + r1->w <= r2->x + r2->w + dx && r1->y + r1->h <= r2->y + r2->h + dy &&
                (n2 > (n1 > 3 ? n1 : 3) || n1 < 3))
                break;
        }
        if (j == ncls) rects[nout++] = *r1;
    }
    return nout;
}
