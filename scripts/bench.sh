#!/usr/bin/env bash
# make bench: speed and memory of the toolkit against PyTorch on this machine,
# in one run. Needs an otherwise idle machine for meaningful figures.
#   FER_DATA   data set for the load and memory figures
#              (default ../shared/data/fer2013-dev.csv.gz)
#   BENCH_STEPS  timed training steps per measurement (default 8)
set -uo pipefail
cd "$(dirname "$0")/.."
B=build/bench
data=${FER_DATA:-../shared/data/fer2013-dev.csv.gz}
steps=${BENCH_STEPS:-8}
out=$(mktemp -d)
trap 'rm -rf "$out"' EXIT

get() { sed -n "s/^$2 //p" "$out/$1" | head -n 1; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (a == "" || b == "" || b == 0) print "-"; else printf "%.2f", a / b }'; }

echo "== machine"
echo "cpu: $(lscpu | sed -n 's/^Model name: *//p'), $(nproc) cores; memory $(free -g | awk '/Mem:/ {print $2}') GiB"
echo "load average before: $(cut -d' ' -f1-3 /proc/loadavg)"
echo "blas: $(ldd "$B/bench_train" | awk '/openblas/ {print $3}')"
echo

for t in 1 2; do
  "$B/bench_sgemm" --threads $t > "$out/sgemm_t$t"
  "$B/bench_train" --threads $t --steps "$steps" --infer 200 > "$out/ours_t$t" || exit 1
done
torch=0
if /usr/bin/python3 -c 'import torch' 2>/dev/null; then
  /usr/bin/python3 scripts/bench_torch.py --steps "$steps" --threads 1,2 > "$out/torch" && torch=1
else
  echo "note: Debian's python3-torch is not installed; PyTorch columns skipped" \
       "(apt-get install python3-torch)"
fi

gflop=$(get ours_t1 train_gflop_per_image)
printf '%-44s %12s %12s %8s\n' "measure" "ours" "PyTorch" "ours/pt"
for t in 1 2; do
  o=$(get ours_t$t train_images_per_s); p=$([ $torch = 1 ] && get torch torch_train_images_per_s_t$t)
  printf '%-44s %12s %12s %8s\n' "training images/s, $t thread(s)" "$o" "${p:--}" "$(ratio "$o" "$p")"
done
o=$(get ours_t1 infer_ms_per_image_batch1); p=$([ $torch = 1 ] && get torch torch_infer_ms_per_image_batch1_t1)
printf '%-44s %12s %12s %8s\n' "latency ms (median), batch 1, 1 thread" "$o" "${p:--}" "$(ratio "$o" "$p")"
for t in 1 2; do
  o=$(get ours_t$t infer_images_per_s_batched); p=$([ $torch = 1 ] && get torch torch_infer_images_per_s_batched_t$t)
  printf '%-44s %12s %12s %8s\n' "evaluation images/s, batch 64, $t thread(s)" "$o" "${p:--}" "$(ratio "$o" "$p")"
done
echo
echo "training step: $gflop GFLOP per image (convolutions and dense layers, forward + backward)"
for t in 1 2; do
  g=$(get sgemm_t$t sgemm_gflops); o=$(get ours_t$t train_images_per_s)
  bound=$(awk -v g="$g" -v f="$gflop" 'BEGIN { printf "%.0f", g / f }')
  printf 'sgemm %s thread(s): %s GFLOP/s -> bound %s images/s; ours reaches %s%% of it\n' \
    "$t" "$g" "$bound" "$(awk -v o="$o" -v b="$bound" 'BEGIN { printf "%.0f", 100 * o / b }')"
done
echo "peak RSS of the benchmark process (batch 64 training + inference): $(get ours_t2 peak_rss_mib) MiB"
echo

echo "== face detection, 640x480 frames, one core (ours vs OpenCV's detectMultiScale)"
if /usr/bin/python3 -c 'import cv2' 2>/dev/null; then
  /usr/bin/python3 scripts/bench_haar_opencv.py --repeats 10 --rounds 2 | tail -n 4
else
  "$B/bench_haar" | grep mean
  echo "note: python3-opencv missing; OpenCV side skipped"
fi
echo

if [ -r "$data" ]; then
  echo "== CSV loading ($data)"
  "$B/bench_csv_load" --plain --repeat 3 "$data" | grep -E 'MB/s|agree|DIFFER'
  echo
  echo "== fer-eval on PublicTest (prediction time; loading the CSV is timed above)"
  for t in 1 2; do
    bin/fer-eval --usage PublicTest -j $t results/model.bin "$data" 2>&1 >/dev/null | grep 'images in'
  done
  echo
  echo "== peak memory of a full training run (full data set, stopped by SIGINT after 45 s)"
  rm -rf "$out/run"
  if [ -x /usr/bin/time ]; then
    timeout -s INT 45 /usr/bin/time -f 'max_rss_kib %M' -o "$out/time" \
      bin/fer-train -j 2 -o "$out/run" "$data" > /dev/null 2>&1
    echo "maximum resident set: $(awk '/max_rss_kib/ {printf "%.0f MiB", $2 / 1024}' "$out/time") (target < 1024 MiB)"
  else
    echo "note: /usr/bin/time missing (apt-get install time); skipped"
  fi
else
  echo "note: $FER_DATA not readable; CSV load and training-memory figures skipped"
fi
