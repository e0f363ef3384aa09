/* haar_cascade.h: an OpenCV Haar cascade held in memory, and its XML loader.
 *
 * The model is a plain struct, read-only once loaded: one cascade may be
 * shared by any number of detector workspaces and threads (vision/haar.h
 * runs it). Applications normally need only load, free and win_w/win_h.
 *
 * Reads the "new" cascade format that opencv_traincascade writes and that
 * Debian's opencv-data ships in /usr/share/opencv4/haarcascades/:
 *
 *   <opencv_storage><cascade>            (first element; type_id optional)
 *     <stageType>BOOST</stageType> <featureType>HAAR</featureType>
 *     <height>24</height> <width>24</width>
 *     <featureParams><maxCatCount>0</maxCatCount></featureParams>
 *     <stageNum>25</stageNum>                         (optional, checked)
 *     <stages><_>
 *         <stageThreshold>t</stageThreshold>
 *         <weakClassifiers><_>
 *             <internalNodes>left right featureIdx threshold ...</internalNodes>
 *             <leafValues>v0 v1 ...</leafValues></_> ...
 *     </_> ...</stages>
 *     <features><_><rects><_>x y w h weight</_> ...</rects>
 *                  <tilted>0|1</tilted></_> ...</features>
 *
 * Trees of any depth: each tree is a run of nodes; a child index > 0 names a
 * node of the same tree, a child <= 0 names leaf -child (stumps: "0 -1").
 * As OpenCV does (cascadedetect.cpp, Data::read), every stage threshold is
 * stored as (float)threshold - 1e-5f, so scores that tie the trained
 * threshold pass.
 *
 * The old format (type_id "opencv-haar-classifier", e.g.
 * haarcascade_licence_plate_rus_16stages.xml) and LBP cascades are refused
 * with NN_ERR_UNSUPPORTED.
 */
#ifndef VISION_HAAR_CASCADE_H
#define VISION_HAAR_CASCADE_H

#include "nn/error.h"

enum { HAAR_MAX_RECTS = 3 };   /* OpenCV's HaarEvaluator::Feature::RECT_NUM */

typedef struct {
    int x, y, w, h;     /* in window pixels; for tilted rects see below */
    float weight;
} haar_feature_rect;

/* A Haar feature: the weighted sum of 1..3 rectangle sums. An upright rect
 * covers [x, x+w) x [y, y+h). A tilted (45 degree) rect has its top corner
 * at (x, y); its sides run w pixels down-right and h pixels down-left, so it
 * spans columns x-h .. x+w and rows y .. y+w+h (Lienhart & Maydt 2002). */
typedef struct {
    haar_feature_rect r[HAAR_MAX_RECTS];
    int nrects;
    int tilted;
} haar_feature;

/* A tree node: go left when feature value < threshold, else right.
 * left/right > 0: node index within the tree; <= 0: leaf index -child. */
typedef struct {
    int feature;
    float threshold;
    int left, right;
} haar_node;

typedef struct {
    int first_node;     /* index into nodes[] */
    int nnodes;
    int first_leaf;     /* index into leaves[]; the tree has nnodes+1 leaves */
} haar_tree;

typedef struct {
    int first_tree;     /* index into trees[] */
    int ntrees;
    float threshold;    /* trained threshold - 1e-5f, as OpenCV */
} haar_stage;

struct haar_cascade {
    int win_w, win_h;           /* detection window (e.g. 24 x 24) */
    int nstages, ntrees, nnodes, nleaves, nfeatures;
    haar_stage *stages;
    haar_tree *trees;
    haar_node *nodes;
    float *leaves;
    haar_feature *features;
    int has_tilted;             /* any tilted feature: detector builds a tilted integral */
    int max_nodes;              /* most nodes in one tree; 1 = stumps only */
};

typedef struct haar_cascade haar_cascade;

/* Loads the cascade XML at path (libxml2; no network access). Returns a new
 * cascade owned by the caller (free with haar_cascade_free), or NULL with
 * err set: NN_ERR_IO if the file cannot be read, NN_ERR_FORMAT naming
 * "path:line: problem" for malformed XML, a wrong root, missing nodes, bad
 * numbers, out-of-window rectangles or broken tree links, NN_ERR_UNSUPPORTED
 * for the old or LBP formats, NN_ERR_NOMEM. Never prints. Thread-safe (no
 * shared state besides libxml2's own). */
haar_cascade *haar_cascade_load(const char *path, nn_error *err);

/* Frees a cascade from haar_cascade_load; NULL is a no-op. */
void haar_cascade_free(haar_cascade *c);

#endif
