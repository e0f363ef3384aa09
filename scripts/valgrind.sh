#!/usr/bin/env bash
# make valgrind: the programs' main paths under
#   valgrind --leak-check=full --error-exitcode=1
# training (fresh and --resume), evaluation, Keras export and import,
# detection on a photo, and fer-chat sending a message to a loopback
# OpenAI-compatible server, streamed and whole, and offline. Any invalid
# read or write, use of uninitialised memory or leak fails the run. Slow
# (valgrind runs code ~30x slower), so it is not part of make test; the
# sanitized suite (make sanitize) covers the same ground faster.
#   FER_BIN_DIR   where the programs are (make valgrind: build/vg/bin, built
#                 without AVX-512, which valgrind cannot run); default bin
#   VALGRIND_LOG  folder for one log per step (default: a temporary one)
set -uo pipefail
cd "$(dirname "$0")/.."
B=${FER_BIN_DIR:-bin}
command -v valgrind >/dev/null || { echo "valgrind: not installed (apt-get install valgrind)"; exit 1; }
tmp=$(mktemp -d)
logs=${VALGRIND_LOG:-$tmp/logs}
mkdir -p "$logs"
server= keep=0
cleanup() { [ -n "$server" ] && kill "$server" 2>/dev/null; [ $keep = 1 ] || rm -rf "$tmp"; }
trap cleanup EXIT

# --errors-for-leak-kinds: definite and possible leaks are errors (the
# default); "still reachable" blocks are memory libraries keep for the life
# of the process (libgomp's pool, libxml2's and libcurl's globals).
VG=(valgrind --leak-check=full --error-exitcode=1 --show-leak-kinds=definite,possible
    --errors-for-leak-kinds=definite,possible --track-origins=yes --num-callers=30)
failed=() n=0
step() {
  local name=$1; shift
  n=$((n + 1))
  local t0=$SECONDS
  if "${VG[@]}" --log-file="$logs/$name.log" "$@" >"$logs/$name.out" 2>&1; then
    local summary
    summary=$(grep -h 'ERROR SUMMARY' "$logs/$name.log" | sed 's/^==[0-9]*== //' | head -n 1)
    if [ -z "$summary" ]; then  # valgrind did not follow the program: a broken step
      failed+=("$name")
      printf '%-22s FAILED: no valgrind summary in %s\n' "$name" "$logs/$name.log"
      return
    fi
    printf '%-22s ok     %3ds  %s\n' "$name" $((SECONDS - t0)) "$summary"
  else
    failed+=("$name")
    printf '%-22s FAILED %3ds  (log: %s)\n' "$name" $((SECONDS - t0)) "$logs/$name.log"
    grep -E 'Invalid|uninitialised|definitely lost|possibly lost|ERROR SUMMARY' "$logs/$name.log" | head -n 8
    tail -n 5 "$logs/$name.out"
  fi
}

# A small FER CSV (16x16, three learnable classes), made without Python.
awk 'BEGIN { srand(7); print "emotion,pixels,Usage";
  for (i = 0; i < 240; i++) { k = i % 3; line = k ",";
    for (p = 0; p < 256; p++) { y = int(p / 16); x = p % 16; v = int(rand() * 80);
      if (y >= 4*k+2 && y < 4*k+6 && x >= 4 && x < 8) v += 170;
      line = line (p ? " " : "") v }
    print line "," (i % 8 == 0 ? "PublicTest" : "Training") } }' > "$tmp/data.csv"
arch="input(16,16,1) conv(8,3,relu) maxpool(2) dropout(0.25) flatten dense(16,relu) dense(7)"
run=$tmp/run

step train        "$B"/fer-train -o "$run" -e 2 -b 16 -j 1 --arch "$arch" "$tmp/data.csv"
step train-resume "$B"/fer-train -o "$run" -e 3 -b 16 -j 1 --arch "$arch" --resume "$tmp/data.csv"
step eval         "$B"/fer-eval -j 1 --usage PublicTest -o "$tmp/eval" "$run/model.bin" "$tmp/data.csv"
step keras-export "$B"/fer-export "$run/model.bin" --keras "$tmp/keras"
step keras-import "$B"/fer-export --from-keras "$tmp/keras/fer.json" "$tmp/keras/fer.h5" -o "$tmp/back.bin"
step detect       "$B"/fer-detect -j 1 assets/astronaut.jpg
# (no key, no base URL: offline, and nothing goes to a real server)
unset OPENAI_API_KEY OPENAI_BASE_URL
step chat-offline "$B"/fer-chat --prompt "How is my day going?" --source assets/astronaut.jpg
if [ -x /usr/bin/python3 ]; then
  /usr/bin/python3 scripts/fake_llm_server.py 0 > "$tmp/server.url" &
  server=$!
  for _ in $(seq 50); do [ -s "$tmp/server.url" ] && break; sleep 0.1; done
  url=$(head -n 1 "$tmp/server.url")
  step chat-stream  "$B"/fer-chat --base-url "$url" \
                    --prompt "How is my day going?" --source assets/astronaut.jpg
  step chat-whole   "$B"/fer-chat --base-url "$url" --no-stream \
                    --prompt "How is my day going?" --source assets/astronaut.jpg
else
  echo "chat-stream, chat-whole: skipped (needs /usr/bin/python3 for the loopback server)"
fi

echo
if [ ${#failed[@]} -ne 0 ]; then
  keep=1
  echo "valgrind: errors in: ${failed[*]} (logs kept in $logs)"
  exit 1
fi
echo "valgrind: $n program runs, no errors, no leaks"
