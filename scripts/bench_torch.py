#!/usr/bin/python3
"""PyTorch side of `make bench`: the paper's DCNN trained and run in PyTorch on
the CPU, for comparison with build/bench/bench_train.

    /usr/bin/python3 scripts/bench_torch.py [--steps 8] [--warmup 2] [--threads 1,2]
                                            [--batch 64] [--infer-reps 200]

Same work as bench_train: the exact network of the paper (1,914,951
parameters, asserted), random standard-normal 48x48x1 images and random
labels, batch 64, dropout on, mean cross-entropy, Adam (lr 1e-3, epsilon 1e-7
as in Keras); float32 in PyTorch's own NCHW layout (its fast path, so the
fair comparison). Per thread count: training images/s with the
forward/backward/optimiser split, single-image inference latency (batch 1,
eval mode, no_grad; median and mean over --infer-reps), and batched inference
images/s (batch --batch).

Output: one "key value" per line (keys prefixed "torch_", suffixed "_t<threads>"),
so scripts can tabulate it beside bench_train's lines. Without PyTorch it prints
"torch_available 0", a note on stderr, and exits 0.
"""
import argparse
import statistics
import sys
import time

try:
    import torch
    import torch.nn as nn
    import torch.nn.functional as F
except ImportError as e:
    print("torch_available 0")
    print("bench_torch.py: PyTorch not importable (%s); install python3-torch and run with "
          "/usr/bin/python3" % e, file=sys.stderr)
    sys.exit(0)

PAPER_PARAMS = 1914951


def paper_dcnn():
    """Iyer & Vojjala, Fig. 1 (nn/model.h's NN_ARCH_FER_DCNN), in NCHW."""
    return nn.Sequential(
        nn.Conv2d(1, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.5),
        nn.Conv2d(64, 64, 3), nn.ReLU(), nn.Conv2d(64, 64, 3), nn.ReLU(),
        nn.MaxPool2d(2), nn.Dropout(0.5),
        nn.Conv2d(64, 128, 3), nn.ReLU(), nn.Conv2d(128, 128, 3), nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Flatten(),
        nn.Linear(512, 1024), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(1024, 1024), nn.ReLU(), nn.Dropout(0.2),
        nn.Linear(1024, 7),
    )


def bench_threads(threads, args, out):
    torch.set_num_threads(threads)
    torch.manual_seed(1)
    model = paper_dcnn()
    n_params = sum(p.numel() for p in model.parameters())
    assert n_params == PAPER_PARAMS, "network has %d parameters, not %d" % (n_params, PAPER_PARAMS)
    opt = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    x = torch.randn(args.batch, 1, 48, 48)
    y = torch.randint(0, 7, (args.batch,))

    model.train()
    fwd = bwd = upd = 0.0
    for step in range(args.warmup + args.steps):
        t0 = time.perf_counter()
        loss = F.cross_entropy(model(x), y)
        t1 = time.perf_counter()
        opt.zero_grad(set_to_none=True)
        loss.backward()
        t2 = time.perf_counter()
        opt.step()
        t3 = time.perf_counter()
        if step >= args.warmup:
            fwd, bwd, upd = fwd + t1 - t0, bwd + t2 - t1, upd + t3 - t2
    total = fwd + bwd + upd
    sfx = "_t%d" % threads
    out("torch_train_images_per_s" + sfx, "%.1f" % (args.steps * args.batch / total))
    out("torch_train_ms_forward" + sfx, "%.1f" % (1e3 * fwd / args.steps))
    out("torch_train_ms_backward" + sfx, "%.1f" % (1e3 * bwd / args.steps))
    out("torch_train_ms_adam" + sfx, "%.1f" % (1e3 * upd / args.steps))

    model.eval()
    with torch.no_grad():
        one = x[:1].contiguous()
        for _ in range(10):
            model(one)
        times = []
        for _ in range(args.infer_reps):
            t0 = time.perf_counter()
            model(one)
            times.append(time.perf_counter() - t0)
        out("torch_infer_ms_per_image_batch1" + sfx, "%.3f" % (1e3 * statistics.median(times)))
        out("torch_infer_ms_per_image_batch1_mean" + sfx, "%.3f" % (1e3 * statistics.mean(times)))
        model(x)
        reps = 5
        t0 = time.perf_counter()
        for _ in range(reps):
            model(x)
        out("torch_infer_images_per_s_batched" + sfx,
            "%.1f" % (reps * args.batch / (time.perf_counter() - t0)))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--steps", type=int, default=8, help="timed training steps per thread count")
    ap.add_argument("--warmup", type=int, default=2, help="untimed training steps first")
    ap.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    ap.add_argument("--batch", type=int, default=64)
    ap.add_argument("--infer-reps", type=int, default=200, help="batch-1 inferences timed")
    args = ap.parse_args()
    if args.steps < 1 or args.warmup < 0 or args.batch < 1 or args.infer_reps < 1:
        ap.error("--steps, --batch and --infer-reps must be positive, --warmup non-negative")
    threads = [int(t) for t in args.threads.split(",")]
    if not threads or min(threads) < 1:
        ap.error("--threads: positive integers, e.g. 1,2")

    def out(key, value):
        print(key, value, flush=True)

    torch.set_num_interop_threads(1)  # the benchmark has no inter-op parallelism to use
    out("torch_available", 1)
    out("torch_version", torch.__version__)
    out("torch_mkldnn", int(torch.backends.mkldnn.is_available()))
    out("torch_batch", args.batch)
    for t in threads:
        bench_threads(t, args, out)


if __name__ == "__main__":
    main()
