#!/usr/bin/env bash
# Publishes a finished fer-train run under results/: the deployable model,
# the training log and its plots (Figs. 4 and 5), and fer-eval reports on
# PublicTest (held out) and on Training (the split the paper's Fig. 6 used).
#   scripts/publish_run.sh RUN_DIR RESULT_DIR TITLE [MODEL_FILE] [-- fer-eval options]
# MODEL_FILE defaults to model.bin (the last epoch: no selection on the test split).
set -euo pipefail
run=$1 dst=$2 title=$3
model=${4:-model.bin}
shift $(( $# >= 4 ? 4 : 3 ))
[ "${1:-}" = "--" ] && shift
data=${FER_DATA:-../shared/data/fer2013-dev.csv.gz}
[ -r "$run/$model" ] || { echo "$0: no $run/$model" >&2; exit 1; }
[ -r "$data" ] || { echo "$0: cannot read $data (set FER_DATA)" >&2; exit 1; }
mkdir -p "$dst"
cp "$run/$model" "$dst/model.bin"
cp "$run/log.csv" "$dst/log.csv"
scripts/plot_training.sh "$dst/log.csv" "$dst" "$title"
for split in PublicTest Training; do
  out="$dst/eval-$(echo "$split" | tr 'A-Z' 'a-z')"
  bin/fer-eval --usage "$split" -o "$out" --title "$title on $split" "$@" "$dst/model.bin" "$data" > /dev/null
  sed -n 's/^accuracy: *//p' "$out/report.txt" | sed "s/^/$split accuracy: /"
done
