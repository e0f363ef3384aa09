#!/usr/bin/python3
"""Writes the fuzz seed corpora, tests/fuzz/<target>/seeds/ (committed).

Each seed is a small, mostly valid example of one input format, so that the
fuzzer starts from inputs that reach deep into the parser; a few are broken
on purpose (truncated, wrong magic, bad rows) to start the error paths. The
model and Keras seeds are written by bin/fer-train and bin/fer-export (build them first); everything else is
made here. Run with Debian's Python (cv2, numpy):

    /usr/bin/python3 scripts/make_fuzz_seeds.py

Files are overwritten; the output is deterministic.
"""
import gzip
import io
import os
import shutil
import struct
import subprocess
import sys
import tempfile
import zlib

import cv2
import numpy as np

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
FUZZ = os.path.join(ROOT, "tests", "fuzz")


def put(target, name, data):
    d = os.path.join(FUZZ, target, "seeds")
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode()
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def gz(data):
    """gzip with a fixed mtime, so the bytes do not change between runs."""
    buf = io.BytesIO()
    with gzip.GzipFile(fileobj=buf, mode="wb", mtime=0) as g:
        g.write(data)
    return buf.getvalue()


# ---- FER CSV -------------------------------------------------------------

def csv_rows(n, side, usage=True, seed=1):
    rng = np.random.default_rng(seed)
    rows = []
    for i in range(n):
        px = " ".join(str(int(v)) for v in rng.integers(0, 256, side * side))
        split = ["Training", "PublicTest", "PrivateTest"][i % 3]
        rows.append(f"{i % 7},{px},{split}" if usage else f"{i % 7},{px}")
    return rows


def seeds_csv():
    good = "emotion,pixels,Usage\n" + "\n".join(csv_rows(4, 2)) + "\n"
    put("csv", "plain.csv", good)
    put("csv", "plain.csv.gz", gz(good.encode()))
    put("csv", "truncated.csv.gz", gz(good.encode())[:-9])
    put("csv", "no_usage.csv", "emotion,pixels\n" + "\n".join(csv_rows(3, 3, usage=False)))
    put("csv", "quoted_crlf_bom.csv",
        b"\xef\xbb\xbf" + b'Usage,"emotion", pixels ,extra\r\n'
        b'Training,3,"0 1 2 3",x\r\nPublicTest," 6 ","255 254 253 252",""\r\n')
    put("csv", "bad_rows.csv",
        "emotion,pixels,Usage\n"
        "0,1 2 3 4,Training\n"
        "9,1 2 3 4,Training\n"
        "1,1 2 3 256,Training\n"
        "2,1 2 3,Training\n"
        "3,1 2 x 4,PublicTest\n"
        "4,1 2 3 4\n"
        "5,\"1 2 3 4,Training\n"
        "6,1 2 3 4,Elsewhere\n"
        "6,1 2 3 4,PrivateTest,extra\n"
        "1,5 6 7 8,PrivateTest\n")
    # 48x48 noise (not FER2013 data), pixels first so no row looks like a data-set row
    row = csv_rows(1, 48)[0].split(",")
    put("csv", "fer48.csv", "pixels,emotion,Usage\n" + ",".join([row[1], row[0], row[2]]) + "\n")
    put("csv", "header_only.csv", "emotion,pixels,Usage\n")
    put("csv", "dup_column.csv", "emotion,pixels,emotion\n0,1,0\n")


# ---- models (written by bin/fer-train) ----------------------------------

def seeds_model_and_arch():
    archs = {
        "tiny": "input(4,4,1) conv(2,3,relu) flatten dense(7)",
        "pool": "input(6,6,1) conv(2,3,same,relu) maxpool(2) dropout(0.25) flatten "
                "dense(4,relu) dense(7)",
    }
    for name, text in archs.items():
        put("arch", name + ".txt", text)
    put("arch", "dcnn.txt",
        "input(48,48,1) conv(64,3,relu) conv(64,3,relu) maxpool(2) dropout(0.5) "
        "conv(64,3,relu) conv(64,3,relu) maxpool(2) dropout(0.5) conv(128,3,relu) "
        "conv(128,3,relu) maxpool(2) flatten dense(1024,relu) dropout(0.2) "
        "dense(1024,relu) dropout(0.2) dense(7)")
    put("arch", "kernels.txt", "input(9,7,1) conv(3,3x5,valid,linear) flatten dense(7,linear)")
    put("arch", "bad.txt", "input(4,4) conv(2,,relu dense(7")

    train = os.path.join(ROOT, "bin", "fer-train")
    if not os.access(train, os.X_OK):
        sys.exit("build bin/fer-train first (make)")
    tmp = tempfile.mkdtemp(prefix="fer-seeds-")
    try:
        for name, text in archs.items():
            side = int(text.split("(")[1].split(",")[0])
            csv = os.path.join(tmp, f"{name}.csv")
            with open(csv, "w") as f:
                f.write("emotion,pixels,Usage\n")
                rows = csv_rows(21, side, usage=False, seed=3)
                for i, r in enumerate(rows):
                    f.write(r + (",PublicTest\n" if i % 4 == 0 else ",Training\n"))
            out = os.path.join(tmp, name)
            subprocess.run([train, "-o", out, "-e", "1", "-b", "8", "-j", "1", "--arch", text,
                            "--rotate", "0", csv], check=True, stdout=subprocess.DEVNULL)
            for f in ("model.bin", "checkpoint.bin"):
                with open(os.path.join(out, f), "rb") as fh:
                    put("model", f"{name}_{f}", fh.read())
        with open(os.path.join(tmp, "tiny", "model.bin"), "rb") as fh:
            m = fh.read()
        put("model", "truncated.bin", m[: len(m) // 2])
        put("model", "hdf5_magic.bin", b"\x89HDF\r\n\x1a\n" + bytes(40))
    finally:
        shutil.rmtree(tmp)


# ---- Haar cascades ------------------------------------------------------

HAAR = """<?xml version="1.0"?>
<opencv_storage>
<cascade type_id="opencv-cascade-classifier"><stageType>BOOST</stageType>
  <featureType>HAAR</featureType>
  <height>{h}</height>
  <width>{w}</width>
  <stageParams><maxWeakCount>3</maxWeakCount></stageParams>
  <featureParams><maxCatCount>0</maxCatCount></featureParams>
  <stageNum>2</stageNum>
  <stages>
    <_>
      <maxWeakCount>2</maxWeakCount>
      <stageThreshold>-1.2</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 -1 0 -3.1e-02</internalNodes>
          <leafValues>
            8.0e-01 -7.5e-01</leafValues></_>
        <_>
          <internalNodes>
            1 -2 1 1.5e-02 0 -1 2 -4.0e-03</internalNodes>
          <leafValues>
            -0.5 0.25 0.75</leafValues></_></weakClassifiers></_>
    <_>
      <maxWeakCount>1</maxWeakCount>
      <stageThreshold>-0.5</stageThreshold>
      <weakClassifiers>
        <_>
          <internalNodes>
            0 -1 1 2.0e-02</internalNodes>
          <leafValues>
            -0.25 0.5</leafValues></_></weakClassifiers></_></stages>
  <features>
    <_>
      <rects>
        <_>
          0 0 {w} 4 -1.</_>
        <_>
          0 2 {w} 2 2.</_></rects></_>
    <_>
      <rects>
        <_>
          2 1 3 3 -1.</_>
        <_>
          3 1 1 3 3.</_></rects>
      <tilted>0</tilted></_>
    <_>
      <rects>
        <_>
          4 0 3 2 -1.</_>
        <_>
          4 0 1 1 2.</_></rects>
      <tilted>1</tilted></_></features></cascade>
</opencv_storage>
"""


def seeds_haar():
    put("haar", "small.xml", HAAR.format(w=12, h=10))
    put("haar", "square24.xml", HAAR.format(w=24, h=24))
    put("haar", "old_format.xml",
        '<?xml version="1.0"?>\n<opencv_storage>\n<plate type_id="opencv-haar-classifier">\n'
        "<size>64 16</size>\n<stages></stages></plate></opencv_storage>\n")
    put("haar", "lbp.xml", HAAR.format(w=12, h=10).replace(
        "<featureType>HAAR</featureType>", "<featureType>LBP</featureType>"))
    put("haar", "entities.xml",
        '<?xml version="1.0"?>\n<!DOCTYPE opencv_storage [\n<!ENTITY a "1 2 3">\n'
        '<!ENTITY b "&a;&a;&a;&a;">\n]>\n' + HAAR.format(w=12, h=10).split("\n", 1)[1]
        .replace("-1.2</stageThreshold>", "&b;</stageThreshold>", 1))
    put("haar", "not_xml.xml", "<opencv_storage><cascade><stageType>BOOST</stageType>")


# ---- PNG and JPEG -------------------------------------------------------

def png_chunk(tag, data):
    return struct.pack(">I", len(data)) + tag + data + struct.pack(
        ">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def png(w, h, depth, color, raw_rows, plte=None, trns=None, interlace=0):
    """A PNG from already filtered rows (filter byte 0 + packed samples)."""
    out = b"\x89PNG\r\n\x1a\n"
    out += png_chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, depth, color, 0, 0, interlace))
    if plte:
        out += png_chunk(b"PLTE", plte)
    if trns:
        out += png_chunk(b"tRNS", trns)
    out += png_chunk(b"IDAT", zlib.compress(b"".join(b"\x00" + r for r in raw_rows), 9))
    return out + png_chunk(b"IEND", b"")


def seeds_image():
    w, h = 5, 3
    grey = [bytes((x * 40 + y * 7) & 255 for x in range(w)) for y in range(h)]
    rgb = [bytes((x * 50 + c * 80 + y) & 255 for x in range(w) for c in range(3)) for y in range(h)]
    rgba = [bytes((x * 50 + c * 60) & 255 for x in range(w) for c in range(4)) for y in range(h)]
    ga = [bytes((x * 50 + c) & 255 for x in range(w) for c in range(2)) for y in range(h)]
    g16 = [b"".join(struct.pack(">H", x * 13000 + y) for x in range(w)) for y in range(h)]
    pal2 = [bytes([0b00011011, 0b01000000]) for _ in range(h)]  # 2-bit indices 0,1,2,3,1
    bits1 = [bytes([0b10110000]) for _ in range(h)]
    put("image", "grey8.png", png(w, h, 8, 0, grey))
    put("image", "rgb8.png", png(w, h, 8, 2, rgb))
    put("image", "rgba8.png", png(w, h, 8, 6, rgba))
    put("image", "grey_alpha.png", png(w, h, 8, 4, ga))
    put("image", "grey16.png", png(w, h, 16, 0, g16))
    put("image", "grey1.png", png(w, h, 1, 0, bits1))
    put("image", "palette2.png", png(w, h, 2, 3, pal2, plte=bytes(range(12))))
    put("image", "palette_trns.png", png(w, h, 2, 3, pal2, plte=bytes(range(12)), trns=b"\x00\x80"))
    put("image", "grey_trns.png", png(w, h, 8, 0, grey, trns=b"\x00\x28"))
    # Adam7: 5x3 split into passes by hand is fiddly; let OpenCV-free zlib do
    # a 1x1 interlaced image (every pass but the first is empty).
    put("image", "interlaced1x1.png", png(1, 1, 8, 2, [b"\x10\x20\x30"], interlace=1))
    put("image", "truncated.png", png(w, h, 8, 2, rgb)[:60])

    img = np.zeros((8, 16, 3), np.uint8)
    img[:, :, 0] = np.arange(16) * 15
    img[:, :, 1] = np.arange(8)[:, None] * 30
    img[2:6, 4:12, 2] = 200
    ok, j = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, 75])
    jpeg = j.tobytes()
    put("image", "colour.jpg", jpeg)
    ok, j = cv2.imencode(".jpg", img[:, :, 0], [cv2.IMWRITE_JPEG_QUALITY, 50])
    put("image", "grey.jpg", j.tobytes())
    ok, j = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_PROGRESSIVE, 1])
    put("image", "progressive.jpg", j.tobytes())
    ok, j = cv2.imencode(".jpg", np.tile(img, (2, 2, 1)), [cv2.IMWRITE_JPEG_RST_INTERVAL, 1])
    put("image", "restarts.jpg", j.tobytes())
    # EXIF orientation 6 (rotate 90 clockwise) inserted after SOI.
    put("image", "exif6.jpg", jpeg[:2] + app1(exif_payload(6, big_endian=False)) + jpeg[2:])
    put("image", "no_eoi.jpg", jpeg[:-2])
    put("image", "cut.jpg", jpeg[: len(jpeg) * 2 // 3])


def exif_payload(orientation, big_endian, extra_tags=0):
    e = ">" if big_endian else "<"
    tiff = (b"MM\x00*" if big_endian else b"II*\x00") + struct.pack(e + "I", 8)
    n = extra_tags + 1
    ifd = struct.pack(e + "H", n)
    for k in range(extra_tags):
        ifd += struct.pack(e + "HHII", 0x010F + k, 2, 4, 0x41424300)
    ifd += struct.pack(e + "HHI", 0x0112, 3, 1) + struct.pack(e + "HH", orientation, 0)
    ifd += struct.pack(e + "I", 0)
    return b"Exif\x00\x00" + tiff + ifd


def app1(payload):
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def seeds_exif():
    put("exif", "le_6.bin", exif_payload(6, False))
    put("exif", "be_8.bin", exif_payload(8, True, extra_tags=2))
    put("exif", "le_3_after_tags.bin", exif_payload(3, False, extra_tags=3))
    put("exif", "not_exif.bin", b"http://ns.adobe.com/xap/1.0/\x00<x:xmpmeta/>")
    put("exif", "bad_offset.bin", b"Exif\x00\x00II*\x00\xff\xff\xff\x7f\x01\x00")


# ---- Y4M ------------------------------------------------------------------

def y4m(w, h, chroma, frames=2, extra=""):
    cw, ch, planes = {
        "420jpeg": ((w + 1) // 2, (h + 1) // 2, 3), "420": ((w + 1) // 2, (h + 1) // 2, 3),
        "422": ((w + 1) // 2, h, 3), "411": ((w + 3) // 4, h, 3), "444": (w, h, 3),
        "444alpha": (w, h, 4), "mono": (0, 0, 1)}[chroma]
    size = w * h + (2 * cw * ch if planes >= 3 else 0) + (w * h if planes == 4 else 0)
    out = f"YUV4MPEG2 W{w} H{h} F25:1 Ip A1:1 C{chroma}{extra}\n".encode()
    for f in range(frames):
        out += b"FRAME" + (b" Ip" if f else b"") + b"\n" + bytes((i * 7 + f) & 255 for i in range(size))
    return out


def seeds_y4m():
    for c in ("420jpeg", "422", "411", "444", "444alpha", "mono"):
        put("y4m", f"{c}.y4m", y4m(5, 3, c))
    put("y4m", "full_range.y4m", y4m(4, 2, "420", extra=" XCOLORRANGE=FULL"))
    put("y4m", "no_chroma_tag.y4m", b"YUV4MPEG2 W2 H2\nFRAME\n" + bytes(6))
    put("y4m", "cut_frame.y4m", y4m(4, 4, "420jpeg")[:-5])
    put("y4m", "deep.y4m", b"YUV4MPEG2 W2 H2 C420p10\nFRAME\n" + bytes(12))


# ---- V4L2 buffers (8-byte driver header, see target_v4l2.c) ---------------

def v4l2_header(w, h, fmt, bpl, full=False):
    return struct.pack("<HHBHB", w, h, fmt, bpl, 1 if full else 0)


def seeds_v4l2():
    w, h = 6, 3
    yuyv = bytes((i * 11) & 255 for i in range(w * 2 * h))
    put("v4l2", "yuyv_packed.bin", v4l2_header(w, h, 0, 0) + yuyv)
    padded = b"".join(yuyv[y * w * 2:(y + 1) * w * 2] + b"\xAA" * 4 for y in range(h))
    put("v4l2", "yuyv_padded_full.bin", v4l2_header(w, h, 0, w * 2 + 4, True) + padded)
    put("v4l2", "yuyv_odd_width.bin", v4l2_header(5, 2, 0, 0) + bytes(range(24)))
    put("v4l2", "yuyv_short.bin", v4l2_header(w, h, 0, 0) + yuyv[:-3])
    img = np.full((8, 8, 3), 90, np.uint8)
    img[2:6, 2:6] = (20, 200, 40)
    ok, j = cv2.imencode(".jpg", img)
    put("v4l2", "mjpeg.bin", v4l2_header(8, 8, 1, 0) + j.tobytes())


# ---- SSE and chat replies --------------------------------------------------

def chunk(content, finish="null"):
    c = '{"content":' + content + '}' if content is not None else "{}"
    return ('{"id":"c1","object":"chat.completion.chunk","choices":[{"index":0,"delta":'
            + c + ',"finish_reason":' + finish + '}]}')


STREAM = ("data: " + chunk('"Hel"') + "\n\n"
          ": keep-alive\n\n"
          "data: " + chunk('"lo \\u00e9\\ud83d\\ude00"') + "\n\n"
          "data: " + chunk(None, '"stop"') + "\n\n"
          'data: {"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}}\n\n'
          "data: [DONE]\n\n")


def seeds_sse():
    put("sse", "openai_stream.txt", STREAM)
    put("sse", "fields_crlf.txt",
        "\ufeffevent: delta\r\nid: 7\r\nretry: 1500\r\ndata: line one\r\ndata:line two\r\n\r\n"
        ":comment\rdata\rdata: third\r\rid\r\n\r\nevent: error\ndata: STOP\n\nunknown: x\n")
    put("sse", "unterminated.txt", "data: {\"a\":1}\n\ndata: partial")
    put("sse", "tiny_limit.txt", b"\x05data: 0123456789abcdefghijklmnopqrstuvwxyz\n\n")


def seeds_llm_reply():
    # selector byte: status index (bits 0-2: 0 = 200, 4 = 429, 5 = 401, 6 = 500,
    # 7 = 404), content type (bits 3-4: 0 event-stream, 1 json), stream (bit 5),
    # chunk size (bits 6-7: whole, 4, 16, 64).
    def sel(status=0, ctype=0, stream=0, chunking=0):
        return bytes([status | ctype << 3 | stream << 5 | chunking << 6])

    full = ('{"id":"x","object":"chat.completion","choices":[{"index":0,"message":'
            '{"role":"assistant","content":"Hi there \\ud83d\\ude00"},"finish_reason":"stop"}],'
            '"usage":{"prompt_tokens":9,"completion_tokens":4,"total_tokens":13}}')
    put("llm_reply", "json_reply.bin", sel(ctype=1) + full.encode())
    put("llm_reply", "stream.bin", sel(stream=1) + STREAM.encode())
    put("llm_reply", "stream_chunked.bin", sel(stream=1, chunking=1) + STREAM.encode())
    put("llm_reply", "stream_no_done.bin", sel(stream=1, chunking=2) + STREAM.split("data: [DONE]")[0].encode())
    put("llm_reply", "stream_error.bin",
        sel(stream=1) + b'data: {"error":{"message":"overloaded","type":"server_error"}}\n\n')
    put("llm_reply", "refusal.bin", sel(ctype=1) +
        b'{"choices":[{"message":{"role":"assistant","content":null,"refusal":"no"}}]}')
    put("llm_reply", "rate_limited.bin", sel(status=4, ctype=1) +
        b'{"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}')
    put("llm_reply", "no_quota.bin", sel(status=4, ctype=1) +
        b'{"error":{"message":"You exceeded your quota","code":"insufficient_quota"}}')
    put("llm_reply", "unauthorised.bin", sel(status=5, ctype=1) + b'{"error":"bad key"}')
    put("llm_reply", "html_500.bin", sel(status=6, ctype=3) + b"<html><body>Bad gateway</body></html>")
    put("llm_reply", "not_json.bin", sel(ctype=1) + b'{"choices":[{"message":')


def seeds_template():
    with open(os.path.join(ROOT, "chat", "templates", "default.txt"), "rb") as f:
        put("template", "default.txt", f.read())
    put("template", "minimal.txt", "[emotion]\n{text} ({feeling}, {share}, {frames} frames, {emotion})\n"
        "[unknown]\n{text}\n")
    put("template", "crlf_braces.txt", "notes first\r\n[system]  \r\nBe kind {{always}}.\r\n\r\n"
        "[unknown]\r\n\r\n{text}\r\n[emotion]\r\nI look {feeling}: {text}\r\n")
    put("template", "bad_placeholder.txt", "[emotion]\n{mood} {text}\n[unknown]\n{text}\n")
    put("template", "missing_section.txt", "[emotion]\n{text}\n")


# ---- Keras (written by bin/fer-export) ----------------------------------------

def seeds_keras():
    export = os.path.join(ROOT, "bin", "fer-export")
    tmp = tempfile.mkdtemp(prefix="fer-seeds-")
    try:
        for variant, extra in (("norm", []), ("stats", ["--no-normalization-layer"])):
            out = os.path.join(tmp, variant)
            subprocess.run([export, os.path.join(FUZZ, "model", "seeds", "tiny_model.bin"),
                            "--keras", out] + extra, check=True, stdout=subprocess.DEVNULL)
            with open(os.path.join(out, "fer.json"), "rb") as f:
                put("keras_json", f"tiny_{variant}.json", f.read())
            with open(os.path.join(out, "fer.h5"), "rb") as f:
                h5 = f.read()
            put("keras_h5_raw", f"tiny_{variant}.h5", h5)
            if variant == "norm":
                put("keras_h5_raw", "truncated.h5", h5[:4096])
    finally:
        shutil.rmtree(tmp)
    put("keras_h5", "tiny.prog", keras_h5_program())
    put("keras_h5", "tiny_vlen_chunked.prog", keras_h5_program(vlen=True, chunked=True))
    put("keras_h5", "tiny_no_class_names.prog", keras_h5_program(class_names=False))
    put("keras_h5", "kernel_shape_wrong.prog", keras_h5_program(bad_kernel=True))
    with open(os.path.join(ROOT, "tests", "fixtures", "keras", "keras2", "fer.json"), "rb") as f:
        put("keras_json", "written_by_keras2.json", f.read())
    put("keras_json", "old_list_config.json",
        '{"class_name":"Sequential","config":[{"class_name":"Conv2D","config":{"name":"c",'
        '"batch_input_shape":[null,6,6,1],"filters":2,"kernel_size":[3,3],"strides":[1,1],'
        '"padding":"same","activation":"linear","use_bias":false}},{"class_name":"Activation",'
        '"config":{"name":"a","activation":"relu"}},{"class_name":"MaxPooling2D","config":'
        '{"name":"p","pool_size":[2,2],"strides":[2,2]}},{"class_name":"Flatten","config":'
        '{"name":"f"}},{"class_name":"Dropout","config":{"name":"d","rate":0.5}},'
        '{"class_name":"Dense","config":{"name":"o","units":7,"activation":"softmax"}}]}')
    put("keras_json", "rescaling_input_layer.json",
        '{"class_name":"Sequential","config":{"name":"m","layers":[{"class_name":"InputLayer",'
        '"config":{"batch_shape":[null,8,8,1],"name":"in"}},{"class_name":"Rescaling","config":'
        '{"name":"r","scale":0.00392156862745098,"offset":0.0}},{"class_name":"Flatten","config":'
        '{"name":"f"}},{"class_name":"Dense","config":{"name":"o","units":7}}]}}')
    put("keras_json", "strided_refused.json",
        '{"class_name":"Sequential","config":{"layers":[{"class_name":"Conv2D","config":{"name":"c",'
        '"batch_input_shape":[null,8,8,1],"filters":2,"kernel_size":[3,3],"strides":[2,2]}}]}}')


def keras_h5_program(class_names=True, vlen=False, chunked=False, bad_kernel=False):
    """A program for target_keras_h5.c that builds the tiny model's fer.h5
    (see the decoder there: each byte is taken modulo the range it picks)."""
    flags = (1 if vlen else 0) | (2 if class_names else 0) | (16 if chunked else 0)
    prog = [flags, 4, 0, 1, 2, 3]          # four layers: normalization, conv, flatten, dense
    def weights(specs):
        out = [1, len(specs)]               # the group exists; its weight names
        for suffix, _ in specs:
            out += [suffix, 1]              # <layer>/<suffix>, owned by the layer itself
        for _, (rank, dims, dtype) in specs:
            out += [1, rank] + dims + [dtype] + [(7 * i + 16 * 4) % 254 for i in range(
                max(1, __import__("math").prod(dims)) if rank else 1)]
        return out
    prog += weights([(2, (3, [4, 4, 1], 0)), (3, (3, [4, 4, 1], 0)), (4, (0, [], 3))])
    prog += weights([(0, (4, [3, 3, 1, 2 if not bad_kernel else 3], 0)), (1, (1, [2], 0))])
    prog += [1, 0]                          # flatten: a group without weights
    prog += weights([(0, (2, [8, 7], 1)), (1, (1, [7], 2))])
    if class_names:
        prog += [7] + [5] * 7
    return bytes(prog)


def main():
    for t in ("csv", "model", "arch", "haar", "image", "exif", "y4m", "v4l2", "sse",
              "llm_reply", "template", "keras_json", "keras_h5", "keras_h5_raw"):
        shutil.rmtree(os.path.join(FUZZ, t, "seeds"), ignore_errors=True)
    seeds_csv()
    seeds_model_and_arch()
    seeds_haar()
    seeds_image()
    seeds_exif()
    seeds_y4m()
    seeds_v4l2()
    seeds_sse()
    seeds_llm_reply()
    seeds_template()
    seeds_keras()


if __name__ == "__main__":
    main()
