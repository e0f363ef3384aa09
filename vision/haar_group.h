/* haar_group.h: cv::groupRectangles(rects, groupThreshold, eps), the
 * clustering detectMultiScale applies to raw window hits (eps 0.2).
 *
 * Rules (modules/objdetect/src/cascadedetect.cpp):
 *  - groupThreshold <= 0: the rects are returned unchanged (neighbors = 1).
 *  - r1, r2 are similar when |x1-x2|, |y1-y2|, |right1-right2| and
 *    |bottom1-bottom2| are all <= eps * (min(w1,w2) + min(h1,h2)) / 2;
 *    clusters are the connected components of that relation (cv::partition).
 *  - each cluster is averaged: round(float(sum) * (1.f / count)) per field.
 *  - a cluster with count <= groupThreshold is dropped; so is a cluster r1
 *    lying inside another kept cluster r2 widened by round(eps * r2 size) on
 *    each side when r2's count > max(3, count1), or when count1 < 3.
 * Output order: clusters in order of their first member in the input.
 */
#ifndef VISION_HAAR_GROUP_H
#define VISION_HAAR_GROUP_H

#include <stddef.h>

#include "vision/haar.h"

/* Bytes of scratch haar_group needs for n rects. */
size_t haar_group_scratch_size(int n);

/* Groups rects[0..n) in place (the result fits: never more groups than
 * rects) and returns the number of groups; neighbors holds each group's
 * count. scratch holds haar_group_scratch_size(n) bytes (int-aligned). */
int haar_group(haar_rect *rects, int n, int group_threshold, double eps, void *scratch);

#endif
