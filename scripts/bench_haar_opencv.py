#!/usr/bin/python3
"""OpenCV's detectMultiScale, one thread, on the frames bench/bench_haar.c uses.

Rebuilds the composed 640x480 frames of tests/fixtures/haar (same recipe and
CRC check as the C side), times cv2.CascadeClassifier.detectMultiScale with
cv2.setNumThreads(1) at (1.32, 5) and (1.1, 3), and -- if
build/bench/bench_haar exists -- runs it with the same repeat count, in
alternating rounds. Reports, per parameter set, the mean over frames of the
median time per frame, from each side's best round, and the ratio
OpenCV / ours (> 1: ours is faster).

Usage (repository root): make build/bench/bench_haar &&
    /usr/bin/python3 scripts/bench_haar_opencv.py [--repeats N] [--rounds R]
"""
import argparse
import os
import subprocess
import sys
import time
import zlib

import cv2
import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)
sys.path.insert(0, HERE)
import opencv_haar_reference as ref  # noqa: E402

SETS = [(1.32, 5), (1.1, 3)]


def read_pgm(path):
    with open(path, "rb") as f:
        data = f.read()
    parts = data.split(maxsplit=4)
    w, h = int(parts[1]), int(parts[2])
    return np.frombuffer(parts[4][:w * h], np.uint8).reshape(h, w)


def frames():
    fix = os.path.join(REPO, "tests", "fixtures", "haar")
    images = {name: read_pgm(os.path.join(fix, name)) for name in ref.SOURCES}
    want = {}
    for line in open(os.path.join(fix, "opencv_reference.txt")):
        f = line.split()
        if f and f[0] == "frame":
            want[f[1]] = int(f[7], 16)
    out = []
    for fr in ref.FRAMES:
        img = ref.compose(fr, images)
        if zlib.crc32(img.tobytes()) & 0xFFFFFFFF != want[fr[0]]:
            sys.exit("frame %s differs from the fixture; rerun opencv_haar_reference.py" % fr[0])
        out.append((fr[0], img))
    return out


def time_opencv(cc, frames_, repeats):
    """Mean over frames of the median detectMultiScale time (ms), per parameter set."""
    out = {}
    for sf, mn in SETS:
        meds = []
        for name, img in frames_:
            t = []
            for r in range(-3, repeats):
                t0 = time.perf_counter()
                faces = cc.detectMultiScale(img, scaleFactor=sf, minNeighbors=mn)
                if r >= 0:
                    t.append((time.perf_counter() - t0) * 1e3)
            t.sort()
            meds.append(t[len(t) // 2])
            print("  opencv %s %dx%d %.2f %d median_ms %.3f min_ms %.3f faces %d" % (
                name, img.shape[1], img.shape[0], sf, mn, t[len(t) // 2], t[0], len(faces)))
        out[(sf, mn)] = sum(meds) / len(meds)
    return out


def time_ours(exe, repeats):
    res = subprocess.run([exe, str(repeats)], cwd=REPO, capture_output=True, text=True, check=True)
    out = {}
    for line in res.stdout.splitlines():
        print("  " + line)
        f = line.split()
        if len(f) >= 6 and f[0] == "haar" and f[1] == "mean":
            out[(float(f[2]), int(f[3]))] = float(f[5])
    return out


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=30, help="timed runs per frame (after 3 warm-ups)")
    ap.add_argument("--rounds", type=int, default=3,
                    help="alternating OpenCV/ours rounds; the best round of each is reported "
                         "(the machine may be shared)")
    args = ap.parse_args()
    cv2.setNumThreads(1)
    cc = cv2.CascadeClassifier(os.path.join(ref.CASCADES, ref.DEFAULT))
    exe = os.path.join(REPO, "build", "bench", "bench_haar")
    have_ours = os.path.exists(exe)
    fr = frames()
    print("OpenCV %s, cv2.getNumThreads() = %d; frames: %s" % (
        cv2.__version__, cv2.getNumThreads(), ", ".join(n for n, _ in fr)))
    best_cv, best_ours = {}, {}
    for rnd in range(args.rounds):
        print("round %d" % (rnd + 1))
        for k, v in time_opencv(cc, fr, args.repeats).items():
            best_cv[k] = min(v, best_cv.get(k, v))
        if have_ours:
            for k, v in time_ours(exe, args.repeats).items():
                best_ours[k] = min(v, best_ours.get(k, v))
    if not have_ours:
        print("(build/bench/bench_haar not built: make build/bench/bench_haar)")
    for key in SETS:
        line = "scale %.2f minNeighbors %d: OpenCV %.2f ms" % (key[0], key[1], best_cv[key])
        if key in best_ours:
            line += ", ours %.2f ms per 640x480 frame (one core); OpenCV/ours = %.2fx" % (
                best_ours[key], best_cv[key] / best_ours[key])
        print(line)


if __name__ == "__main__":
    main()
