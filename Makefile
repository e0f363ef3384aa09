# fer toolkit build.
#   make            build libraries and every bin/fer-* program
#   make test       install missing packages, build, run the whole Criterion suite
#   make bench      benchmarks (speed and memory), ours against PyTorch
#   make demo       the README's end-to-end run on the embedded default
#
# Layout is discovered, not listed: every module folder's *.c goes into
# build/libfer.a, except files named fer-*.c, each of which is the main of
# bin/fer-*. Every tests/test_*.c is its own Criterion binary.

CC      ?= gcc
OPT     ?= -O3 -march=native
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -Wall -Wextra -Wshadow -Wno-unused-parameter -Wno-format-truncation \
           -fopenmp -MMD -MP -I.
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
LIB_OBJS := $(patsubst %.c,build/%.o,$(LIB_SRCS))
BINS     := $(patsubst %.c,bin/%,$(notdir $(BIN_SRCS)))
TEST_SRCS := $(wildcard tests/test_*.c)
TESTS    := $(patsubst tests/%.c,build/tests/%,$(TEST_SRCS))
BENCH_SRCS := $(wildcard bench/bench_*.c)
BENCHES  := $(patsubst bench/%.c,build/bench/%,$(BENCH_SRCS))
LIB      := build/libfer.a

.PHONY: all test check setup bench demo clean
all: $(BINS)

build/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

# bin/fer-x comes from whichever module holds fer-x.c.
define bin_rule
bin/$(notdir $(basename $(1))): build/$(basename $(1)).o $(LIB)
	@mkdir -p bin
	$$(CC) $$(CFLAGS) $$^ -o $$@ $$(LDLIBS)
endef
$(foreach s,$(BIN_SRCS),$(eval $(call bin_rule,$(s))))

build/tests/%: build/tests/%.o $(LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS) $(shell pkg-config --libs criterion 2>/dev/null || echo -lcriterion)

build/bench/%: build/bench/%.o $(LIB)
	$(CC) $(CFLAGS) $^ -o $@ $(LDLIBS)

setup:
	@scripts/setup.sh

# The suite: set-up first (installs what is missing), then every test binary.
test: setup
	@$(MAKE) --no-print-directory all $(TESTS)
	@scripts/run-tests.sh $(TESTS)

# Same, without the set-up step (for a machine already set up).
check: all $(TESTS)
	@scripts/run-tests.sh $(TESTS)

bench: all $(BENCHES)
	@scripts/bench.sh

demo: setup
	@$(MAKE) --no-print-directory all
	@scripts/demo.sh

clean:
	rm -rf build bin

.SECONDARY:
-include $(LIB_OBJS:.o=.d) $(patsubst %,build/%.d,$(basename $(BIN_SRCS))) $(TESTS:=.d) $(BENCHES:=.d)
