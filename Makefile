# asyncrun - build, test, sanitizer and install targets.
#   make            build/asyncrun (-O2)
#   make test       unit tests, golden scripts and CLI tests against build/asyncrun
#   make repl       the interactive session's tests alone (tmux for the terminal ones)
#   make asan       the same tests against build/asan/asyncrun (ASan + UBSan)
#   make stress     golden scripts on the sanitizer build, collecting at every safe point
#   make install    PREFIX=/usr/local DESTDIR=

CC      ?= cc
CFLAGS  ?= -O2
WARN    := -std=c11 -Wall -Wextra -Werror -Wno-unused-parameter
CPPFLAGS:= -D_POSIX_C_SOURCE=200809L -I.
LDLIBS  := -lm
PREFIX  ?= /usr/local
BUILD   ?= build

SRCS     := $(wildcard lexer/*.c parser/*.c runtime/*.c)
MAIN_SRC := $(wildcard cmd/*.c)
MAIN_OBJS:= $(MAIN_SRC:%.c=$(BUILD)/%.o)
# runtime/*.aio are library code written in the language, embedded as strings
EMBEDS   := $(wildcard runtime/*.aio)
OBJS     := $(SRCS:%.c=$(BUILD)/%.o) $(EMBEDS:runtime/%.aio=$(BUILD)/gen/%.o)
UNIT_SRCS:= $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer -DASYNCRUN_CHECK_STACK \
              -Wno-format-truncation \
              -fno-sanitize-recover=undefined

.PHONY: all test unit golden cli repl asan stress install clean

all: $(BUILD)/asyncrun

$(BUILD)/asyncrun: $(OBJS) $(MAIN_OBJS)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/gen/%.c: runtime/%.aio
	@mkdir -p $(dir $@)
	@{ echo '// generated from $< by the Makefile'; echo 'const char $*_source[] ='; \
	   sed -e 's/\\/\\\\/g' -e 's/"/\\"/g' -e 's/^/"/' -e 's/$$/\\n"/' $<; echo ';'; } > $@

$(BUILD)/gen/%.o: $(BUILD)/gen/%.c
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(OBJS:.o=.d) $(MAIN_OBJS:.o=.d)

test: unit golden cli

unit: $(UNITS)
	@for t in $(UNITS); do echo "unit: $$t"; $$t || exit 1; done

golden: $(BUILD)/asyncrun
	@tests/golden.sh $(BUILD)/asyncrun

cli: $(BUILD)/asyncrun
	@ASYNCRUN=$(CURDIR)/$(BUILD)/asyncrun bats tests/cli.bats tests/repl.bats tests/core.bats tests/limits.bats

# the interactive session and the line editor alone (also part of cli)
repl: $(BUILD)/asyncrun
	@ASYNCRUN=$(CURDIR)/$(BUILD)/asyncrun bats tests/repl.bats

asan:
	@$(MAKE) --no-print-directory BUILD=build/asan \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" test

# Golden scripts under the sanitizer build with a collection at every safe
# point: catches values the collector cannot see.
stress:
	@$(MAKE) --no-print-directory BUILD=build/asan \
	    CFLAGS="$(ASAN_FLAGS)" LDFLAGS="-fsanitize=address,undefined" build/asan/asyncrun
	@ASYNCRUN_GC_STRESS=1 tests/golden.sh build/asan/asyncrun

install: $(BUILD)/asyncrun
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 755 $(BUILD)/asyncrun $(DESTDIR)$(PREFIX)/bin/asyncrun
	install -d $(DESTDIR)$(PREFIX)/share/man/man1
	install -m 644 man/asyncrun.1 $(DESTDIR)$(PREFIX)/share/man/man1/asyncrun.1

clean:
	rm -rf build

# --- fuzzing (libFuzzer) and valgrind ----------------------------------------
#   make fuzz        build the harnesses (clang) into build/fuzz/ and run each
#                    for FUZZ_SECONDS; the corpus grows in build/fuzz/corpus/,
#                    crashes land in build/fuzz/artifacts/
#   make fuzz-smoke  each harness for FUZZ_SMOKE_SECONDS (10; CI runs 60)
#   make valgrind    golden scripts under valgrind: no errors, no definite leaks
#   make limits      tests/limits.bats (deep sources, bad bytes, flushing)
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 10
FUZZ_DIR     := build/fuzz
FUZZ_FLAGS   := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -DASYNCRUN_CHECK_STACK \
                -fno-sanitize-recover=undefined
FUZZ_WARN    := -std=c11 -Wall -Wextra -Wno-unused-parameter
FUZZ_NAMES   := lex parse compile exec
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_DIR)/fuzz_%)
FUZZ_OBJS    := $(SRCS:%.c=$(FUZZ_DIR)/obj/%.o) \
                $(EMBEDS:runtime/%.aio=$(FUZZ_DIR)/obj/gen/%.o)
FUZZ_SEEDS   := $(shell find scripts -name '*.aio' 2>/dev/null)
VALGRIND     ?= valgrind --error-exitcode=1 --leak-check=full \
                --errors-for-leak-kinds=definite

.PHONY: fuzz fuzz-build fuzz-smoke valgrind limits

$(FUZZ_DIR)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_WARN) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer-no-link \
	    -MMD -MP -c -o $@ $<

$(FUZZ_DIR)/obj/gen/%.o: $(BUILD)/gen/%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_WARN) $(CPPFLAGS) -O1 -c -o $@ $<

$(FUZZ_DIR)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_WARN) $(CPPFLAGS) $(FUZZ_FLAGS) -fsanitize=fuzzer \
	    -o $@ $^ $(LDLIBS)

-include $(FUZZ_OBJS:.o=.d)
.SECONDARY: $(FUZZ_OBJS)

# Seed corpus: every golden script, flattened (scripts/core/x.aio -> core_x.aio).
$(FUZZ_DIR)/seed/.stamp: $(FUZZ_SEEDS)
	@rm -rf $(FUZZ_DIR)/seed && mkdir -p $(FUZZ_DIR)/seed
	@for f in $(FUZZ_SEEDS); do \
	    g=$${f#scripts/}; cp "$$f" "$(FUZZ_DIR)/seed/$$(echo "$$g" | tr / _)"; \
	done
	@touch $@

fuzz-build: $(FUZZ_BINS) $(FUZZ_DIR)/seed/.stamp

# Run each harness for $(1) seconds with libFuzzer options $(2)
# (tests/fuzz/run.sh prints the figures).
define fuzz_run
	@set -e; for n in $(FUZZ_NAMES); do tests/fuzz/run.sh $(FUZZ_DIR) $$n $(1) $(2); done
endef

fuzz: fuzz-build
	$(call fuzz_run,$(FUZZ_SECONDS))

fuzz-smoke: fuzz-build
	$(call fuzz_run,$(FUZZ_SMOKE_SECONDS),-seed=1)

valgrind: $(BUILD)/asyncrun
	@VALGRIND="$(VALGRIND)" tests/valgrind.sh $(BUILD)/asyncrun

# Limits instead of crashes: sources too deep to parse, bad bytes, flushing.
limits: $(BUILD)/asyncrun
	@ASYNCRUN=$(CURDIR)/$(BUILD)/asyncrun bats tests/limits.bats

# --- benchmarks (bench/; not part of make test) -------------------------------
#   make bench        build/asyncrun, then every bench/*.aio workload: N, ops,
#                     median wall time of 3 runs, ns/op, peak RSS
#                     (BENCH_ARGS="--vs python3" adds CPython and the ratios)
#   make bench-scale  ns per timer and per task, bytes per task at 10k, 100k
#                     and 1M (SCALE_ARGS="--max 100000" when memory is short)
BENCH_ARGS ?=
SCALE_ARGS ?=

.PHONY: bench bench-scale

bench: $(BUILD)/asyncrun
	@bench/run.sh $(BENCH_ARGS) $(BUILD)/asyncrun

bench-scale: $(BUILD)/asyncrun
	@bench/scale.sh $(SCALE_ARGS) $(BUILD)/asyncrun
