#!/usr/bin/env bash
# Installs every Debian package the toolkit needs to build, test and plot.
# Idempotent: installs only what is missing. As root it runs apt-get itself;
# otherwise it prints the exact command to run and exits non-zero.
set -euo pipefail

packages=(
  build-essential pkg-config
  libopenblas-openmp-dev zlib1g-dev libcsv-dev libpng-dev libjpeg-dev
  libcurl4-openssl-dev libcjson-dev libhdf5-dev libxml2-dev libedit-dev
  libcriterion-dev libgd-dev
  gnuplot-nox opencv-data tmux time
)
# Optional extras (Python reference scripts and benchmarks); never needed by tests.
if [ "${FER_SETUP_PYTHON:-0}" = 1 ]; then
  packages+=(python3-torch python3-h5py python3-opencv python3-numpy)
fi
# Optional hardening tools: libFuzzer (clang, its runtime libraries, and
# libomp for clang's -fopenmp) for make fuzz, valgrind for make valgrind.
# make test needs none of them (its sanitizer pass uses gcc).
if [ "${FER_SETUP_FUZZ:-0}" = 1 ]; then
  packages+=(clang libclang-rt-dev libomp-dev valgrind)
fi

missing=()
for p in "${packages[@]}"; do
  status=$(dpkg-query -W -f='${db:Status-Status}' "$p" 2>/dev/null || true)
  [ "$status" = installed ] || missing+=("$p")
done

if [ ${#missing[@]} -eq 0 ]; then
  echo "setup: all ${#packages[@]} packages present"
  exit 0
fi

cmd="apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends ${missing[*]}"
if [ "$(id -u)" -ne 0 ]; then
  echo "setup: missing packages: ${missing[*]}" >&2
  echo "setup: run as root:  sudo sh -c '$cmd'" >&2
  exit 1
fi
echo "setup: installing ${missing[*]}"
sh -c "$cmd"
