#!/usr/bin/env bash
# Plots a fer-train log as the paper's Fig. 4 (loss) and Fig. 5 (accuracy)
# against epochs, training and validation curves.
#   scripts/plot_training.sh runs/dcnn/log.csv OUTDIR [TITLE]
# writes OUTDIR/loss.png and OUTDIR/accuracy.png (gnuplot, pngcairo).
set -euo pipefail
if [ $# -lt 2 ]; then
  echo "usage: $0 LOG.csv OUTDIR [TITLE]" >&2
  exit 2
fi
log=$1 out=$2 title=${3:-fer-train}
[ -r "$log" ] || { echo "$0: cannot read $log" >&2; exit 1; }
command -v gnuplot >/dev/null || { echo "$0: gnuplot is missing (apt-get install gnuplot-nox)" >&2; exit 1; }
rows=$(($(wc -l < "$log") - 1))
[ "$rows" -ge 1 ] || { echo "$0: $log has no epochs yet" >&2; exit 1; }
mkdir -p "$out"
term='set terminal pngcairo size 900,600 enhanced font "DejaVu Sans,12"'
gnuplot -e "$term" -e "logfile='$log'; outdir='$out'; plot_title='$title'" - <<'GP'
set datafile separator ','
set key autotitle columnhead
set grid lc rgb '#dddddd'
set xlabel 'epoch'
set key right center box opaque
set border lw 1.2
set style line 1 lc rgb '#1f77b4' lw 2.5 pt 7 ps 0.8
set style line 2 lc rgb '#d62728' lw 2.5 pt 5 ps 0.8
stats logfile using 1 nooutput
set xrange [0.5:STATS_max + 0.5]
tic_step = STATS_max <= 15 ? 1 : 5
set xtics tic_step
set output outdir.'/loss.png'
set title plot_title.': loss (cross-entropy)'
set ylabel 'loss'
plot logfile using 1:2 with linespoints ls 1 title 'training', \
     logfile using 1:4 with linespoints ls 2 title 'validation'
set output outdir.'/accuracy.png'
set title plot_title.': accuracy'
set ylabel 'accuracy'
set key right bottom box opaque
set format y '%.0f%%'
plot logfile using 1:($3*100) with linespoints ls 1 title 'training', \
     logfile using 1:($5*100) with linespoints ls 2 title 'validation'
GP
echo "wrote $out/loss.png and $out/accuracy.png"
