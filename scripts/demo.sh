#!/usr/bin/env bash
# make demo: the whole pipeline on the embedded default -- the committed
# trained model and a face photo: network summary, face + emotion detection,
# the emotion-aware prompt (sent to an LLM if one is configured, otherwise
# shown), and, when the FER2013 copy is present, held-out accuracy.
#   FER_MODEL  model file (default results/model.bin)
#   FER_FACE   photo (default assets/astronaut.jpg)
#   FER_DATA   data set for the accuracy step (default ../shared/data/fer2013-dev.csv.gz)
#   OPENAI_API_KEY / OPENAI_BASE_URL   an OpenAI-compatible server for a real reply
set -euo pipefail
cd "$(dirname "$0")/.."
model=${FER_MODEL:-results/model.bin}
face=${FER_FACE:-assets/astronaut.jpg}
data=${FER_DATA:-../shared/data/fer2013-dev.csv.gz}
out=demo-out
mkdir -p "$out"

step() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

step "1. The paper's DCNN (bin/fer-train --summary)"
bin/fer-train --summary

step "2. Faces and their emotions in $face (bin/fer-detect)"
bin/fer-detect --model "$model" --annotate "$out/annotated.png" "$face"
echo "annotated picture: $out/annotated.png"

step "3. The emotion-aware prompt (bin/fer-chat, non-interactive)"
if [ -z "${OPENAI_API_KEY:-}${OPENAI_BASE_URL:-}" ]; then
  echo "(no OPENAI_API_KEY / OPENAI_BASE_URL: offline, so the prompt is shown, not sent)"
fi
bin/fer-chat --model "$model" --source "$face" \
  --prompt "I just finished my first spacewalk. What should I do with the rest of my day?"

if [ -r "$data" ]; then
  step "4. Held-out accuracy on FER2013 PublicTest (bin/fer-eval)"
  bin/fer-eval --usage PublicTest --out "$out/eval" "$model" "$data" | sed -n '/^samples/,/^weighted avg/p'
  echo "reports and heatmap: $out/eval/"
fi
