# fer toolkit build.
#   make            build libraries and every bin/fer-* program
#   make test       install missing packages, build, run the whole Criterion suite,
#                   then run it again built with ASan + UBSan (make sanitize)
#   make bench      benchmarks (speed and memory), ours against PyTorch
#   make demo       the README's end-to-end run on the embedded default
#   make sanitize   the whole suite again, built with ASan + UBSan (gcc), in build/san
#   make fuzz       libFuzzer targets (clang) built with ASan + UBSan, each run
#                   FUZZ_SECONDS (default 20) from its seeds in tests/fuzz/*/seeds
#   make valgrind   training, eval and the chat client under valgrind --leak-check=full
#
# Layout is discovered, not listed: every module folder's *.c goes into
# build/libfer.a, except files named fer-*.c, each of which is the main of
# bin/fer-*. Every tests/test_*.c is its own Criterion binary.

CC      ?= gcc
OPT     ?= -O3 -march=native
CFLAGS  ?= $(OPT) -g
# Where objects/tests and programs go; the sanitizer and fuzzing builds set
# these to folders of their own so that they never mix with the normal build.
BUILD   ?= build
BINDIR  ?= bin
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-format-truncation \
           -fopenmp -MMD -MP -I. $(SANITIZE)
PKGS     := zlib libpng libxml-2.0 hdf5 libcjson libcurl libedit gdlib
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
# OpenBLAS built for OpenMP (libopenblas-openmp-dev), so BLAS and our own
# parallel loops share one thread pool: Debian's default pthread build spins
# its own threads against OpenMP's and halves speed on two cores.
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null || echo x86_64-linux-gnu)
BLAS_DIR ?= /usr/lib/$(MULTIARCH)/openblas-openmp
BLAS_INC ?= /usr/include/$(MULTIARCH)/openblas-openmp
CFLAGS  += $(PKG_CFLAGS) -I$(BLAS_INC)
LDLIBS  += -L$(BLAS_DIR) -Wl,-rpath,$(BLAS_DIR) -lopenblas $(PKG_LIBS) -lcsv -ljpeg -lm -lpthread -fopenmp

MODULES  := nn data eval export vision chat train
ALL_SRCS := $(foreach m,$(MODULES),$(wildcard $(m)/*.c))
BIN_SRCS := $(filter $(addsuffix /fer-%.c,$(MODULES)),$(ALL_SRCS))
LIB_SRCS := $(filter-out $(BIN_SRCS),$(ALL_SRCS))
LIB_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRCS))
BINS     := $(patsubst %.c,$(BINDIR)/%,$(notdir $(BIN_SRCS)))
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS    := $(patsubst tests/%.c,$(BUILD)/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCHES  := $(patsubst bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
LIB      := $(BUILD)/libfer.a
# Fuzz targets (tests/fuzz/target_*.c): one function per input format, linked
# into each libFuzzer binary and into tests/test_fuzz_replay (which replays
# the committed seeds and regression inputs in every test run).
FUZZ_TARGET_SRCS := $(wildcard tests/fuzz/target_*.c)
FUZZ_TARGET_OBJS := $(patsubst %.c,$(BUILD)/%.o,$(FUZZ_TARGET_SRCS))
FUZZ_UTIL_OBJ := $(BUILD)/tests/fuzz/util.o
FUZZ_NAMES := $(patsubst tests/fuzz/target_%.c,%,$(FUZZ_TARGET_SRCS))

.PHONY: all test check setup bench demo clean sanitize san-build san-check fuzz fuzz-build fuzzers valgrind
all: $(BINS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# bin/fer-x comes from whichever module holds fer-x.c.
define bin_rule
$(BINDIR)/$(notdir $(basename $(1))): $(BUILD)/$(basename $(1)).o $(LIB)
	@mkdir -p $(BINDIR)
	$$(CC) $$(CFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach s,$(BIN_SRCS),$(eval $(call bin_rule,$(s))))

$(BUILD)/tests/%: $(BUILD)/tests/%.o $(LIB)
	$(CC) $(CFLAGS) $(filter-out $(LIB),$^) $(LIB) -o $@ $(LDLIBS) $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

# The replay test calls every fuzz target function.
$(BUILD)/tests/test_fuzz_replay: $(FUZZ_TARGET_OBJS) $(FUZZ_UTIL_OBJ)

$(BUILD)/bench/%: $(BUILD)/bench/%.o $(LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

setup:
	@scripts/setup.sh

# The suite: set-up first (installs what is missing), then every test binary,
# then the whole suite again under AddressSanitizer + UndefinedBehaviorSanitizer.
test: setup
	@$(MAKE) --no-print-directory all $(TESTS)
	@scripts/run-tests.sh $(TESTS)
	@$(MAKE) --no-print-directory sanitize

# Same, without the set-up step and without the sanitizer pass (for a
# machine already set up, and quick edit-compile-test loops).
check: all $(TESTS)
	@scripts/run-tests.sh $(TESTS)

# ASan + UBSan (gcc): every test binary and program rebuilt in build/san and
# run; any memory error, leak or undefined behaviour fails the run. Tests
# that start programs take them from $FER_BIN_DIR (build/san/bin here).
SAN_DIR  := build/san
SAN_OPT  ?= -O1 -march=native
SAN_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
sanitize:
	@echo "== sanitized suite (ASan + UBSan): building in $(SAN_DIR)"
	@$(MAKE) -s --no-print-directory BUILD=$(SAN_DIR) BINDIR=$(SAN_DIR)/bin OPT="$(SAN_OPT)" \
	  SANITIZE="$(SAN_FLAGS)" san-build
	@$(MAKE) --no-print-directory BUILD=$(SAN_DIR) BINDIR=$(SAN_DIR)/bin OPT="$(SAN_OPT)" \
	  SANITIZE="$(SAN_FLAGS)" san-check
san-build: all $(TESTS)
san-check:
	@FER_BIN_DIR=$(BINDIR) \
	  ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1:detect_stack_use_after_return=1:check_initialization_order=1:strict_init_order=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 \
	  LSAN_OPTIONS=suppressions=$(CURDIR)/tests/sanitize/lsan.supp:print_suppressions=0 \
	  scripts/run-tests.sh $(TESTS)

# libFuzzer (needs clang, libclang-rt-dev, libomp-dev: FER_SETUP_FUZZ=1 scripts/setup.sh).
# Library, targets and drivers are built with clang, ASan, UBSan and coverage
# in build/fuzz; each target then runs FUZZ_SECONDS from its seeds (the
# growing corpus stays in build/fuzz/corpus). FUZZ_TARGETS picks a subset.
FUZZ_DIR  := build/fuzz
FUZZ_CC   ?= clang
FUZZ_SECONDS ?= 20
# keras_h5_raw mostly finds bugs in libhdf5 itself (not ours; see
# docs/bad-inputs.md), so it runs only when named: FUZZ_TARGETS=keras_h5_raw.
FUZZ_TARGETS ?= $(filter-out keras_h5_raw,$(FUZZ_NAMES))
FUZZ_FLAGS := -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all \
              -fno-omit-frame-pointer -DFUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION \
              -Wno-unknown-warning-option
FUZZERS := $(patsubst %,$(BUILD)/fuzz_%,$(FUZZ_NAMES))
fuzz: fuzz-build
	@scripts/fuzz.sh $(FUZZ_DIR) $(FUZZ_SECONDS) $(FUZZ_TARGETS)
fuzz-build:
	@command -v $(FUZZ_CC) >/dev/null || { echo "make fuzz needs clang and libFuzzer:" \
	  "FER_SETUP_FUZZ=1 scripts/setup.sh"; exit 1; }
	@$(MAKE) --no-print-directory CC=$(FUZZ_CC) BUILD=$(FUZZ_DIR) BINDIR=$(FUZZ_DIR)/bin \
	  OPT="-O1 -g" SANITIZE="$(FUZZ_FLAGS)" fuzzers
fuzzers: $(FUZZERS)
$(BUILD)/fuzz_%: tests/fuzz/fuzz_main.c $(BUILD)/tests/fuzz/target_%.o $(FUZZ_UTIL_OBJ) $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -fsanitize=fuzzer -DFUZZ_TARGET=fer_fuzz_$* $^ -o $@ $(LDLIBS)

# The programs' main paths (training and resume, evaluation, Keras export
# and import, detection, chat) under valgrind --leak-check=full. Built apart
# in build/vg for the baseline instruction set: valgrind does not know
# AVX-512, which -march=native may use (OpenBLAS is held to Haswell kernels
# for the same reason). Slow (~a minute); not part of make test.
VG_OPT ?= -O1
valgrind:
	@$(MAKE) -s --no-print-directory BUILD=build/vg BINDIR=build/vg/bin OPT="$(VG_OPT)" all
	@FER_BIN_DIR=build/vg/bin OPENBLAS_CORETYPE=Haswell scripts/valgrind.sh

bench: all $(BENCHES)
	@scripts/bench.sh

demo: setup
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

clean:
	rm -rf build bin

.SECONDARY:
-include $(LIB_OBJS:.o=.d) $(patsubst %,$(BUILD)/%.d,$(basename $(BIN_SRCS))) $(TESTS:=.d) $(BENCHES:=.d) \
         $(FUZZ_TARGET_OBJS:.o=.d) $(FUZZ_UTIL_OBJ:.o=.d)
