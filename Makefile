# acme-diag - ACME troubleshooting toolkit.
#   make            build libdiag and the tools into build/
#   make check      unit tests, then integration tests in the lab (root)
#   make sanitize   the same under ASan+UBSan (build-san/)
#   make demo       build, start the lab, run a real diagnosis
#   make bench      fan-out benchmark beside a sequential baseline
#   make install PREFIX=/usr/local DESTDIR=

VERSION   := 0.1.0
PREFIX    ?= /usr/local
DESTDIR   ?=
BUILD     ?= build
CC        ?= cc
PKGS      := libcares ldns libcurl openssl jansson
WARN      := -std=c11 -Wall -Wextra -Wpedantic -Wshadow -Wformat=2 -Wstrict-prototypes
# Truncation into fixed buffers is deliberate (names, labels); gcc only.
WARN      += $(if $(findstring clang,$(shell $(CC) --version 2>/dev/null)),,-Wno-format-truncation)
CFLAGS    ?= -O2 -g
ifeq ($(WERROR),1)
WARN      += -Werror
endif
PKG_CFLAGS := $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   := $(shell pkg-config --libs $(PKGS) 2>/dev/null)
ALL_CFLAGS := $(WARN) $(CFLAGS) $(SANFLAGS) -D_DEFAULT_SOURCE -DDIAG_VERSION='"$(VERSION)"' \
              -Ilibdiag/include $(PKG_CFLAGS)
LDLIBS     := $(PKG_LIBS)

TOOLS     := acme-doctor acme-dnscheck acme-httpcheck acme-alpncheck acme-clock acme-account acme-authz acme-jwslint
LIB_SRC   := $(wildcard libdiag/src/*.c)
LIB_OBJ   := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ   := $(patsubst %.c,$(BUILD)/%.o,$(wildcard tools/common/*.c))
TOOL_BIN  := $(TOOLS:%=$(BUILD)/bin/%)
UNIT_SRC  := $(wildcard tests/unit/test_*.c)
UNIT_BIN  := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
FUZZ_SRC  := $(wildcard fuzz/fuzz_*.c)

.SECONDARY:
.PHONY: completions all deps check unit integration sanitize demo bench install uninstall clean fuzz

all: $(TOOL_BIN) $(BUILD)/bin/dnsjunk

$(BUILD)/%.o: %.c $(wildcard libdiag/include/*.h libdiag/include/diag/*.h tools/common/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools -c -o $@ $<

$(BUILD)/libdiag.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/tools/%.o $(CLI_OBJ) $(BUILD)/libdiag.a
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -o $@ $^ $(LDLIBS)

# The lab's deliberate junk DNS responder (no real program emits garbage DNS).
$(BUILD)/bin/dnsjunk: tests/lab/dnsjunk.c
	@mkdir -p $(dir $@)
	$(CC) $(WARN) $(CFLAGS) $(SANFLAGS) -D_DEFAULT_SOURCE -o $@ $<

$(BUILD)/tests/%: tests/unit/%.c $(BUILD)/libdiag.a $(wildcard tests/unit/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -Itools $(shell pkg-config --cflags cmocka) -o $@ $< $(BUILD)/libdiag.a \
		$(LDLIBS) $(shell pkg-config --libs cmocka)

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

fuzz: deps
	@mkdir -p $(BUILD)/fuzz
	@for f in $(FUZZ_SRC); do n=$$(basename $$f .c); \
	  echo "clang -fsanitize=fuzzer,address,undefined $$f"; \
	  clang -g -O1 -fsanitize=fuzzer,address,undefined -D_DEFAULT_SOURCE -DDIAG_VERSION='"$(VERSION)"' -Ilibdiag/include \
	    $(PKG_CFLAGS) -o $(BUILD)/fuzz/$$n $$f $(LIB_SRC) $(LDLIBS) || exit 1; \
	  mkdir -p $(BUILD)/fuzz/work-$$n; $(BUILD)/fuzz/$$n -max_total_time=$${FUZZ_SECONDS:-30} -max_len=4096 $(BUILD)/fuzz/work-$$n fuzz/corpus/$$n || exit 1; done

demo: deps all
	tests/lab/demo.sh $(BUILD)

bench: deps all
	bench/run.sh $(BUILD)

install: all
	install -d $(DESTDIR)$(PREFIX)/bin $(DESTDIR)$(PREFIX)/share/man/man1 \
		$(DESTDIR)$(PREFIX)/share/man/man7 \
		$(DESTDIR)$(PREFIX)/share/bash-completion/completions \
		$(DESTDIR)$(PREFIX)/share/zsh/site-functions \
		$(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d
	install -m 755 $(TOOL_BIN) $(DESTDIR)$(PREFIX)/bin/
	install -m 644 $(TOOLS:%=man/%.1) $(DESTDIR)$(PREFIX)/share/man/man1/
	install -m 644 man/libdiag.7 $(DESTDIR)$(PREFIX)/share/man/man7/
	for t in $(TOOLS); do \
	  install -m 644 completions/$$t.bash $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t; \
	  install -m 644 completions/_$$t $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t; \
	  install -m 644 completions/$$t.fish $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; \
	done

uninstall:
	for t in $(TOOLS); do rm -f $(DESTDIR)$(PREFIX)/bin/$$t $(DESTDIR)$(PREFIX)/share/man/man1/$$t.1 \
	  $(DESTDIR)$(PREFIX)/share/bash-completion/completions/$$t \
	  $(DESTDIR)$(PREFIX)/share/zsh/site-functions/_$$t \
	  $(DESTDIR)$(PREFIX)/share/fish/vendor_completions.d/$$t.fish; done
	rm -f $(DESTDIR)$(PREFIX)/share/man/man7/libdiag.7

clean:
	rm -rf build build-san
