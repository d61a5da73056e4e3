# SPDX-License-Identifier: ISC
# acme-diag - ACME troubleshooting toolkit.
#   make            build libdiag and the tools into build/
#   make check      unit tests, then integration tests in the lab (root)
#   make sanitize   the same under ASan+UBSan (build-san/)
#   make demo       build, start the lab, run a real diagnosis
#   make bench      fan-out, bulk and revocation benchmarks beside baselines
#   make install PREFIX=/usr/local DESTDIR=  (BINDIR MANDIR BASHCOMPDIR ZSHCOMPDIR FISHCOMPDIR)
#   make dist       acme-diag-VERSION.tar.gz (the tracked files)
#   make distcheck  build, test and install that tarball in a fresh directory

# git describe in a checkout, the VERSION file in a tarball (scripts/version.sh)
VERSION   := $(shell scripts/version.sh)
ifeq ($(VERSION),)
$(error scripts/version.sh gave no version)
endif
PREFIX    ?= /usr/local
DESTDIR   ?=
BINDIR    ?= $(PREFIX)/bin
MANDIR    ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
ZSHCOMPDIR  ?= $(PREFIX)/share/zsh/site-functions
FISHCOMPDIR ?= $(PREFIX)/share/fish/vendor_completions.d
BUILD     ?= build
CC        ?= cc
PKGS      := libcares ldns libcurl openssl jansson libpsl
WARN      := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
# Truncation into fixed buffers is deliberate (names, labels); gcc only.
WARN      += $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-Wno-format-truncation)
CFLAGS    ?= -O2 -g
ifeq ($(WERROR),1)
WARN      += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS := $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) -D_DEFAULT_SOURCE -DDIAG_VERSION='"$(VERSION)"' \
              -Ilibdiag/include $(PKG_CFLAGS)
LDLIBS     := $(PKG_LIBS) -lm

TOOLS     := acme-doctor acme-dash acme-dnscheck acme-httpcheck acme-alpncheck acme-clock acme-account \
             acme-authz acme-jwslint acme-ratelimit acme-revcheck acme-certcheck
LIB_SRC   := $(wildcard libdiag/src/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/common/*.c))
TOOL_BIN  := $(TOOLS:%=$(BUILD)/bin/%)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)

.SECONDARY:
.PHONY: completions all deps check unit integration sanitize demo bench install uninstall clean fuzz \
	dist distcheck print-tools FORCE $(FUZZ_SRC:fuzz/%.c=fuzz-run-%)

all: $(TOOL_BIN) $(BUILD)/bin/dnsjunk

# Rewritten only when the version changes (a commit, a tree made dirty), so
# that every object, compiled with -DDIAG_VERSION, is rebuilt then.
$(BUILD)/version.stamp: FORCE
	@mkdir -p $(dir $@)
	@[ "$$(cat $@ 2>/dev/null)" = "$(VERSION)" ] || echo "$(VERSION)" >$@

$(BUILD)/%.o: %.c $(wildcard libdiag/include/*.h libdiag/include/diag/*.h tools/common/*.h tools/doctor/*.h \
		tools/dash/*.h) $(BUILD)/version.stamp
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -c -o $@ $<

$(BUILD)/libdiag.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# acme-doctor's own modules (its run and output formats)
DOCTOR_OBJ := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/doctor/*.c))
$(BUILD)/bin/acme-doctor: $(DOCTOR_OBJ)

# acme-dash's own modules; only its screen module uses curses, and only
# acme-dash links it.
NCURSES     := $(shell pkg-config --exists ncursesw 2>/dev/null && echo ncursesw || echo ncurses)
DASH_OBJ    := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/dash/*.c))
$(BUILD)/bin/acme-dash: $(DASH_OBJ)
$(BUILD)/bin/acme-dash: private LDLIBS += $(shell pkg-config --libs $(NCURSES) 2>/dev/null)
$(BUILD)/tools/dash/screen.o: private ALL_CFLAGS += $(shell pkg-config --cflags $(NCURSES) 2>/dev/null)
# the dashboard's model and view are unit-tested without a terminal
$(BUILD)/tests/test_dash: $(BUILD)/tools/dash/model.o $(BUILD)/tools/dash/view.o

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(CLI_OBJ) $(BUILD)/libdiag.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) $(LDFLAGS) -o $@ $(filter-out %.a,$^) $(filter %.a,$^) $(LDLIBS)

# The lab's deliberate junk DNS responder (no real program emits garbage DNS).
$(BUILD)/bin/dnsjunk: tests/lab/dnsjunk.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CPPFLAGS) $(CFLAGS) $(SANFLAGS) $(LDFLAGS) -D_DEFAULT_SOURCE -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdiag.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools $(shell pkg-config --cflags cmocka) $(LDFLAGS) -o $@ $< \
		$(filter %.o,$^) $(BUILD)/libdiag.a $(LDLIBS) $(shell pkg-config --libs cmocka)

deps:
	scripts/install-deps.sh all

# Developer step: regenerate the committed completions from each --help.
completions: $(TOOL_BIN)
	for t in $(TOOL_BIN); do scripts/gen-completions.py $$t completions; done

unit: $(UNIT_BIN)
	@set -e; for t in $(UNIT_BIN); do echo "== $$t"; $$t; done

integration: all
	tests/run-integration.sh $(BUILD)

check: deps
	$(MAKE) WERROR=$(WERROR) all unit
	$(MAKE) integration

# A sanitizer report must fail the tests: its own exit code (86) matches no
# expected status.
sanitize: export ASAN_OPTIONS = exitcode=86:detect_leaks=1:abort_on_error=0
sanitize: export UBSAN_OPTIONS = halt_on_error=1:exitcode=86:print_stacktrace=1
sanitize: deps
	$(MAKE) BUILD=build-san CC=clang WERROR=$(WERROR) \
		SANFLAGS="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=all" \
		CFLAGS="-O1 -g" all unit integration

# make fuzz: every fuzz/fuzz_*.c, built with libFuzzer, ASan and UBSan (a
# UBSan report is a crash too), run FUZZ_SECONDS each on its corpus
# (fuzz/corpus/<target>, read; what it finds goes to build/fuzz/work-<target>).
# A crash, a leak, a timeout or too much memory fails make fuzz; the input
# is kept as build/fuzz/<target>-crash-... (or -timeout-, -leak-, -oom-).
FUZZ_SECONDS ?= 30
FUZZ_DIR    := $(BUILD)/fuzz
FUZZ_TARGETS := $(FUZZ_SRC:fuzz/%.c=%)
FUZZ_CFLAGS := $(filter-out -Wno-format-truncation,$(WARN)) -g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all \
               -D_DEFAULT_SOURCE -DDIAG_VERSION='"$(VERSION)"' -Ilibdiag/include $(PKG_CFLAGS)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_DIR)/obj/%.o)
# Per target: objects and libraries beyond libdiag, and libFuzzer options.
FUZZ_RUN_fuzz_dns_reply := -max_len=4096
FUZZ_RUN_fuzz_finding   := -max_len=4096
FUZZ_RUN_fuzz_caa       := -max_len=1024
# a run takes a few local HTTP exchanges (timeout_ms 300 each)
FUZZ_LIBS_fuzz_acme     := -pthread
FUZZ_RUN_fuzz_acme      := -max_len=16384 -timeout=10
# large inputs and a time budget per input: reading a capture is linear
FUZZ_RUN_fuzz_capture   := -max_len=262144 -timeout=5
# every tool, its main renamed, stopping where its checks would start
FUZZ_OBJ_fuzz_args      := $(TOOLS:%=$(FUZZ_DIR)/args/%.o) \
                           $(patsubst tools/%.c,$(FUZZ_DIR)/args/%.o,$(wildcard tools/common/*.c tools/doctor/*.c \
                                                                                tools/dash/*.c))
FUZZ_LIBS_fuzz_args     := $(shell pkg-config --libs $(NCURSES) 2>/dev/null)
FUZZ_RUN_fuzz_args      := -max_len=1024 -timeout=10 -close_fd_mask=3
$(FUZZ_DIR)/args/dash/screen.o: private FUZZ_CFLAGS += $(shell pkg-config --cflags $(NCURSES) 2>/dev/null)

$(FUZZ_DIR)/obj/%.o: %.c $(wildcard libdiag/include/*.h libdiag/include/diag/*.h libdiag/src/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_DIR)/args/%.o: tools/%.c $(wildcard libdiag/include/*.h libdiag/include/diag/*.h tools/common/*.h tools/doctor/*.h \
		tools/dash/*.h)
	@mkdir -p $(dir $@)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -DDIAG_FUZZ_ARGS -Itools \
		-Dmain=fuzz_main_$(subst -,_,$(notdir $*)) -c -o $@ $<

.SECONDEXPANSION:
$(FUZZ_DIR)/%: fuzz/%.c $(wildcard fuzz/*.h) $(FUZZ_LIB_OBJ) $$(FUZZ_OBJ_$$*)
	clang $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OBJ_$*) $(FUZZ_LIB_OBJ) \
		$(FUZZ_LIBS_$*) $(LDLIBS)

# One line a target: runs, execs per second, corpus; the end of the log on a failure.
$(FUZZ_TARGETS:%=fuzz-run-%): fuzz-run-%: $(FUZZ_DIR)/%
	@mkdir -p $(FUZZ_DIR)/work-$*
	@if ! $< -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 -artifact_prefix=$(abspath $(FUZZ_DIR))/$*- \
	    $(FUZZ_RUN_$*) $(FUZZ_DIR)/work-$* fuzz/corpus/$* >$(FUZZ_DIR)/$*.log 2>&1; then \
	  tail -n 60 $(FUZZ_DIR)/$*.log; echo "fuzz $*: FAILED (log: $(FUZZ_DIR)/$*.log)"; exit 1; fi; \
	echo "fuzz $*: $$(sed -n 's/^stat::number_of_executed_units: *//p' $(FUZZ_DIR)/$*.log) runs," \
	  "$$(sed -n 's/^stat::average_exec_per_sec: *//p' $(FUZZ_DIR)/$*.log)/s," \
	  "corpus $$(ls fuzz/corpus/$* | wc -l) in the tree + $$(ls $(FUZZ_DIR)/work-$* | wc -l) found," \
	  "peak $$(sed -n 's/^stat::peak_rss_mb: *//p' $(FUZZ_DIR)/$*.log) MB: ok"

fuzz: deps
	$(MAKE) $(FUZZ_TARGETS:%=$(FUZZ_DIR)/%)
	@$(MAKE) --no-print-directory $(FUZZ_TARGETS:%=fuzz-run-%)

demo: deps all
	tests/lab/demo.sh $(BUILD)

bench: deps all
	bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(MANDIR)/man7 \
		$(DESTDIR)$(BASHCOMPDIR) $(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 755 $(TOOL_BIN) $(DESTDIR)$(BINDIR)/
	install -m 644 $(TOOLS:%=man/%.1) $(DESTDIR)$(MANDIR)/man1/
	install -m 644 man/libdiag.7 $(DESTDIR)$(MANDIR)/man7/
	for t in $(TOOLS); do \
	  install -m 644 completions/$$t.bash $(DESTDIR)$(BASHCOMPDIR)/$$t; \
	  install -m 644 completions/_$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t; \
	  install -m 644 completions/$$t.fish $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; \
	done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(BINDIR)/$$t $(DESTDIR)$(MANDIR)/man1/$$t.1 \
	  $(DESTDIR)$(BASHCOMPDIR)/$$t $(DESTDIR)$(ZSHCOMPDIR)/_$$t $(DESTDIR)$(FISHCOMPDIR)/$$t.fish; done
	rm -f $(DESTDIR)$(MANDIR)/man7/libdiag.7

dist:
	@scripts/dist.sh $(VERSION)

# For scripts and tests that cover every tool (tests/integration/package.t).
print-tools:
	@echo $(TOOLS)

# The tarball, unpacked in a fresh directory: built with -Werror, unit
# tests, the checks that need no lab, installed to a DESTDIR and the
# installed files compared with what TOOLS promises.
distcheck: dist
	scripts/distcheck.sh acme-diag-$(VERSION).tar.gz $(TOOLS)

clean:
	rm -rf build build-san
