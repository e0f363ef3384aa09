#!/usr/bin/python3
"""OpenCV reference detections for the C Haar detector (vision/haar.h).

Runs Debian's python3-opencv (cv2.CascadeClassifier.detectMultiScale, one
thread) on a set of grey images and writes tests/fixtures/haar/:

  astronaut.pgm, messi.pgm, camera.pgm   grey crops/reductions of the photos
                                         in /work/shared/data/faces (from
                                         Debian packages), converted with
                                         cv2.cvtColor(BGR2GRAY)
  opencv_reference.txt                   the recipe of the composed 640x480
                                         frames and, for every case, OpenCV's
                                         grouped detections and raw hits; and
                                         CRC-32s of cv2.resize(INTER_LINEAR_EXACT)
                                         and cv2.integral3 on hashed test
                                         patterns, for the building blocks

The composed frames are not stored: the C test rebuilds them from the PGMs
with the same integer recipe (a background resized with INTER_LINEAR_EXACT,
which vision/haar_resize.h reproduces bit for bit, a hashed noise, and face
crops pasted at several sizes) and checks each frame's CRC-32 before use.

Usage: /usr/bin/python3 scripts/opencv_haar_reference.py [--faces DIR] [--out DIR]
"""
import argparse
import os
import sys
import zlib

import cv2
import numpy as np

CASCADES = "/usr/share/opencv4/haarcascades"
HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(HERE)

# Grey fixture images: name -> (photo, crop x0 y0 x1 y1 or None, resize to or None).
SOURCES = {
    "astronaut.pgm": ("astronaut.png", (112, 0, 352, 240), None),
    "messi.pgm": ("messi5.jpg", (160, 20, 400, 220), None),
    "camera.pgm": ("camera.png", None, (256, 256)),
}

# Face crops used in the composed frames: (source pgm, x, y, w, h).
ASTRO_FACE = ("astronaut.pgm", 40, 36, 142, 142)
MESSI_FACE = ("messi.pgm", 57, 62, 56, 56)

# Composed 640x480 frames: background, noise amplitude, noise seed, pastes of
# (crop, dst x, dst y, dst size, mirrored).
FRAMES = [
    ("frame1", "camera.pgm", 6, 1, [
        (ASTRO_FACE, 40, 60, 190, 0),
        (ASTRO_FACE, 300, 40, 100, 1),
        (MESSI_FACE, 460, 250, 70, 0),
        (ASTRO_FACE, 330, 330, 56, 0),
    ]),
    ("frame2", "camera.pgm", 10, 2, [
        (ASTRO_FACE, 420, 60, 150, 1),
        (MESSI_FACE, 80, 300, 96, 1),
        (ASTRO_FACE, 120, 80, 72, 0),
        (ASTRO_FACE, 260, 300, 44, 1),
    ]),
    ("frame3", "messi.pgm", 4, 3, [
        (ASTRO_FACE, 60, 40, 120, 0),
        (ASTRO_FACE, 400, 200, 220, 1),
        (MESSI_FACE, 250, 330, 60, 0),
    ]),
]

DEFAULT = "haarcascade_frontalface_default.xml"
# (image, cascade, scaleFactor, minNeighbors, minSize, maxSize)
CASES = [
    ("astronaut.pgm", DEFAULT, 1.32, 5, (0, 0), (0, 0)),
    ("camera.pgm", DEFAULT, 1.32, 5, (0, 0), (0, 0)),
    ("messi.pgm", DEFAULT, 1.1, 3, (0, 0), (0, 0)),
    ("frame1", DEFAULT, 1.32, 5, (0, 0), (0, 0)),
    ("frame2", DEFAULT, 1.32, 5, (0, 0), (0, 0)),
    ("frame3", DEFAULT, 1.32, 5, (0, 0), (0, 0)),
    ("frame1", DEFAULT, 1.1, 3, (0, 0), (0, 0)),
    ("frame2", DEFAULT, 1.2, 4, (40, 40), (160, 160)),
    ("frame3", DEFAULT, 1.1, 5, (50, 50), (0, 0)),
    # min == max between two scales: OpenCV falls back to the nearest one.
    ("frame1", DEFAULT, 1.32, 2, (130, 130), (130, 130)),
    # Depth-2 trees, 20x20 window.
    ("frame1", "haarcascade_frontalface_alt2.xml", 1.32, 3, (0, 0), (0, 0)),
    # Tilted features and depth-3 trees.
    ("astronaut.pgm", "haarcascade_eye_tree_eyeglasses.xml", 1.1, 3, (0, 0), (0, 0)),
    ("frame2", "haarcascade_eye_tree_eyeglasses.xml", 1.2, 3, (0, 0), (0, 0)),
    # Tilted features and depth-2 trees.
    ("frame1", "haarcascade_lefteye_2splits.xml", 1.1, 3, (0, 0), (0, 0)),
    # Tilted features with stumps, wide 36x18 window; many hits.
    ("astronaut.pgm", "haarcascade_smile.xml", 1.1, 3, (0, 0), (0, 0)),
    ("frame1", "haarcascade_upperbody.xml", 1.1, 1, (0, 0), (0, 0)),
]


# Resize checks: (source w, h, seed, smooth, [destination sizes]).
RESIZES = [
    (61, 47, 11, 0, [(46, 36), (35, 27), (20, 15), (30, 47), (122, 94), (61, 23), (1, 1), (7, 100),
                     (2, 2), (60, 46)]),
    (160, 120, 12, 1, [(121, 91), (92, 69), (80, 60), (160, 119), (33, 25), (9, 7)]),
    (1, 9, 13, 0, [(1, 4), (3, 20)]),
]
# Integral checks: (w, h, seed).
INTEGRALS = [(61, 47, 21), (33, 90, 22), (1, 1, 23), (200, 3, 24), (3, 150, 25)]


def hash32(i, seed):
    """The C test's hfx_hash: a per-index uint32 hash (numpy uint64 holding uint32)."""
    x = (i * np.uint64(2654435761) + np.uint64(seed) * np.uint64(97531)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(15)
    x = (x * np.uint64(2246822519)) & np.uint64(0xFFFFFFFF)
    x ^= x >> np.uint64(13)
    return x


def noise(h, w, amp, seed):
    """Hashed per-pixel noise in [-amp, amp]; uint32 arithmetic as the C test."""
    x = hash32(np.arange(h * w, dtype=np.uint64), seed)
    return (x % np.uint64(2 * amp + 1)).astype(np.int32).reshape(h, w) - amp


def pattern(w, h, seed, smooth):
    """A test image: hashed bytes, or a gradient with small hashed noise."""
    x = hash32(np.arange(h * w, dtype=np.uint64), seed)
    if not smooth:
        return (x & np.uint64(255)).astype(np.uint8).reshape(h, w)
    yy, xx = np.mgrid[0:h, 0:w]
    v = (xx * 3 + yy * 2).reshape(-1) + (x & np.uint64(15)).astype(np.int64)
    return (v & 255).astype(np.uint8).reshape(h, w)


def compose(frame, images):
    name, bg, amp, seed, pastes = frame
    canvas = cv2.resize(images[bg], (640, 480), interpolation=cv2.INTER_LINEAR_EXACT)
    canvas = np.clip(canvas.astype(np.int32) + noise(480, 640, amp, seed), 0, 255).astype(np.uint8)
    for (src, sx, sy, sw, sh), dx, dy, size, mirror in pastes:
        crop = images[src][sy:sy + sh, sx:sx + sw]
        face = cv2.resize(crop, (size, size), interpolation=cv2.INTER_LINEAR_EXACT)
        if mirror:
            face = face[:, ::-1]
        canvas[dy:dy + size, dx:dx + size] = face
    return canvas


def write_pgm(path, img):
    with open(path, "wb") as f:
        f.write(b"P5\n%d %d\n255\n" % (img.shape[1], img.shape[0]))
        f.write(np.ascontiguousarray(img).tobytes())


def crc(img):
    return zlib.crc32(np.ascontiguousarray(img).tobytes()) & 0xFFFFFFFF


def rects(r):
    return [] if len(r) == 0 else [tuple(int(v) for v in row) for row in r]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--faces", default="/work/shared/data/faces")
    ap.add_argument("--out", default=os.path.join(REPO, "tests", "fixtures", "haar"))
    args = ap.parse_args()
    cv2.setNumThreads(1)
    os.makedirs(args.out, exist_ok=True)

    images = {}
    for name, (photo, crop, size) in SOURCES.items():
        bgr = cv2.imread(os.path.join(args.faces, photo), cv2.IMREAD_COLOR)
        if bgr is None:
            sys.exit("cannot read %s" % os.path.join(args.faces, photo))
        g = cv2.cvtColor(bgr, cv2.COLOR_BGR2GRAY)
        if crop:
            x0, y0, x1, y1 = crop
            g = g[y0:y1, x0:x1]
        if size:
            g = cv2.resize(g, size, interpolation=cv2.INTER_AREA)
        images[name] = np.ascontiguousarray(g)
        write_pgm(os.path.join(args.out, name), images[name])
    for fr in FRAMES:
        images[fr[0]] = compose(fr, images)

    lines = [
        "# OpenCV %s reference for tests/test_vision_haar.c; written by "
        "scripts/opencv_haar_reference.py -- do not edit." % cv2.__version__,
        "# image NAME FILE CRC32                      a grey PGM in this folder",
        "# frame NAME W H BACKGROUND NOISE_AMP SEED CRC32   a composed frame",
        "# paste FRAME SRC SX SY SW SH DX DY SIZE MIRROR   (in order)",
        "# cascade FILE BYTES CRC32                   under %s" % CASCADES,
        "# resize SW SH SEED SMOOTH DW DH CRC32       cv2.resize INTER_LINEAR_EXACT of pattern()",
        "# integral W H SEED CRC_SUM CRC_SQSUM CRC_TILTED   cv2.integral3, as little-endian uint32",
        "# case IMAGE CASCADE SCALE MIN_NEIGHBORS MIN_W MIN_H MAX_W MAX_H",
        "#   faces N x y w h ...   (detectMultiScale)",
        "#   raw N x y w h ...     (minNeighbors 0: every window hit, ungrouped)",
    ]
    for name in SOURCES:
        lines.append("image %s %s %08x" % (name, name, crc(images[name])))
    for fr in FRAMES:
        name, bg, amp, seed, pastes = fr
        lines.append("frame %s 640 480 %s %d %d %08x" % (name, bg, amp, seed, crc(images[name])))
        for (src, sx, sy, sw, sh), dx, dy, size, mirror in pastes:
            lines.append("paste %s %s %d %d %d %d %d %d %d %d" % (name, src, sx, sy, sw, sh, dx, dy,
                                                                  size, mirror))
    for sw, sh, seed, smooth, sizes in RESIZES:
        src = pattern(sw, sh, seed, smooth)
        for dw, dh in sizes:
            out = cv2.resize(src, (dw, dh), interpolation=cv2.INTER_LINEAR_EXACT)
            lines.append("resize %d %d %d %d %d %d %08x" % (sw, sh, seed, smooth, dw, dh, crc(out)))
    for w, h, seed in INTEGRALS:
        src = pattern(w, h, seed, 0)
        s_, q_, t_ = cv2.integral3(src, sdepth=cv2.CV_32S, sqdepth=cv2.CV_64F)
        lines.append("integral %d %d %d %08x %08x %08x" % (
            w, h, seed, crc(s_.astype("<u4")), crc(q_.astype("<u4")), crc(t_.astype("<u4"))))
    for cas in sorted({c[1] for c in CASES}):
        data = open(os.path.join(CASCADES, cas), "rb").read()
        lines.append("cascade %s %d %08x" % (cas, len(data), zlib.crc32(data) & 0xFFFFFFFF))

    classifiers = {}
    for img, cas, sf, mn, mins, maxs in CASES:
        if cas not in classifiers:
            classifiers[cas] = cv2.CascadeClassifier(os.path.join(CASCADES, cas))
            if classifiers[cas].empty():
                sys.exit("cannot load %s" % cas)
        cc = classifiers[cas]
        faces = rects(cc.detectMultiScale(images[img], scaleFactor=sf, minNeighbors=mn,
                                          minSize=mins, maxSize=maxs))
        raw = rects(cc.detectMultiScale(images[img], scaleFactor=sf, minNeighbors=0,
                                        minSize=mins, maxSize=maxs))
        lines.append("case %s %s %g %d %d %d %d %d" % (img, cas, sf, mn, mins[0], mins[1],
                                                      maxs[0], maxs[1]))
        lines.append("  faces %d%s" % (len(faces), "".join(" %d %d %d %d" % r for r in faces)))
        lines.append("  raw %d%s" % (len(raw), "".join(" %d %d %d %d" % r for r in raw)))
        print("%-14s %-38s %.2f/%d: %d faces %s, %d raw hits" % (img, cas, sf, mn, len(faces),
                                                                 faces, len(raw)))
    with open(os.path.join(args.out, "opencv_reference.txt"), "w") as f:
        f.write("\n".join(lines) + "\n")
    return images


if __name__ == "__main__":
    main()
