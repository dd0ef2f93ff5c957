# asyncrun - build, test, sanitizer and install targets.
#   make            build/asyncrun (-O2)
#   make test       unit tests, golden scripts and CLI tests against build/asyncrun
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
MAIN_SRC := cmd/main.c
OBJS     := $(SRCS:%.c=$(BUILD)/%.o)
UNIT_SRCS:= $(wildcard tests/unit/test_*.c)
UNITS    := $(UNIT_SRCS:tests/unit/%.c=$(BUILD)/tests/%)

ASAN_FLAGS := -O1 -g -fsanitize=address,undefined -fno-omit-frame-pointer \
              -Wno-format-truncation \
              -fno-sanitize-recover=undefined

.PHONY: all test unit golden cli asan stress install clean

all: $(BUILD)/asyncrun

$(BUILD)/asyncrun: $(OBJS) $(BUILD)/cmd/main.o
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) -MMD -MP -c -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(OBJS)
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $(LDFLAGS) -o $@ $^ $(LDLIBS)

-include $(OBJS:.o=.d) $(BUILD)/cmd/main.d

test: unit golden cli

unit: $(UNITS)
	@for t in $(UNITS); do echo "unit: $$t"; $$t || exit 1; done

golden: $(BUILD)/asyncrun
	@tests/golden.sh $(BUILD)/asyncrun

cli: $(BUILD)/asyncrun
	@ASYNCRUN=$(CURDIR)/$(BUILD)/asyncrun bats tests/cli.bats

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

clean:
	rm -rf build
