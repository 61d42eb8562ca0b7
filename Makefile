# SPDX-License-Identifier: GPL-2.0
#
# mxwall: bpf/*.bpf.c -> build/*.bpf.o -> build/*.skel.h -> build/mxwall
#
#   make            build the BPF objects, skeletons and build/mxwall
#   make check      install missing packages (as root), build, run every test
#   make lint       check every C file against .clang-format (make format fixes)
#                   and the module rules of docs/architecture.md
#   make bench      run the benchmarks (numbers for docs/performance.md)
#   make fuzz       run the libFuzzer targets (FUZZ_SECONDS each)
#   make install    PREFIX and DESTDIR aware
#   make demo       a lab with a real Postfix: the weekly report in a minute
#   make compile_commands.json
#
# Quiet unless V=1.

.DELETE_ON_ERROR:
.SECONDARY:
.SUFFIXES:

PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
CRONDIR ?= $(SYSCONFDIR)/cron.d
COMPLETIONDIR ?= $(PREFIX)/share/bash-completion/completions
# the unprivileged user the log readers run as (mxwall(8) SECURITY): made
# by `make install` as root without DESTDIR; a package makes it itself
CREATE_USER ?= $(if $(DESTDIR),no,yes)
USERADD ?= useradd
GETENT ?= getent

CC ?= gcc
CLANG ?= clang
BPFTOOL ?= bpftool
ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
MULTIARCH := $(shell $(CC) -print-multiarch 2>/dev/null)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
endif

BUILD := build
WARN := -Wall -Wextra -Werror
CFLAGS ?= -O2 -g
CFLAGS += -std=gnu11 $(WARN) -D_GNU_SOURCE -I$(BUILD) -Ictl -Ibpf -MMD -MP
# one library a line: changes that add one do not collide
LDLIBS := -lbpf
LDLIBS += -lelf
LDLIBS += -lz
LDLIBS += -lnftnl
LDLIBS += -lmnl
LDLIBS += -lsqlite3
LDLIBS += -lcap
LDLIBS += -lseccomp
LDLIBS += -ljson-c
LDLIBS += -lcurl
LDLIBS += -lsystemd
SANFLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	    -fno-omit-frame-pointer
BPF_CFLAGS := -O2 -g -Werror -Wall -target bpf -D__TARGET_ARCH_$(ARCH) \
	      -I/usr/include/$(MULTIARCH) -Ibpf

# the product's programs, and the measuring sticks of the benchmarks
BPF_SRCS := $(wildcard bpf/*.bpf.c) $(wildcard selftests/bench/*.bpf.c)
BPF_OBJS := $(patsubst %.bpf.c,$(BUILD)/%.bpf.o,$(notdir $(BPF_SRCS)))
SKELS := $(patsubst %.bpf.c,$(BUILD)/%.skel.h,$(notdir $(BPF_SRCS)))

CTL_SRCS := $(wildcard ctl/*.c ctl/*/*.c)
CTL_LIB_SRCS := $(filter-out ctl/main.c,$(CTL_SRCS))
CTL_OBJS := $(patsubst ctl/%.c,$(BUILD)/obj/%.o,$(CTL_SRCS))
ASAN_LIB_OBJS := $(patsubst ctl/%.c,$(BUILD)/asan/obj/%.o,$(CTL_LIB_SRCS))

UNIT_SRCS := $(wildcard selftests/unit/test_*.c)
UNIT_BINS := $(patsubst selftests/unit/%.c,$(BUILD)/asan/%,$(UNIT_SRCS))
PROG_SRCS := $(wildcard selftests/prog/test_*.c)
PROG_BINS := $(patsubst selftests/prog/%.c,$(BUILD)/asan/prog_%,$(PROG_SRCS))
TEST_HELPER_SRCS := $(wildcard selftests/lib/*.c)
BENCH_SRCS := $(filter-out %.bpf.c,$(wildcard selftests/bench/*.c))
BENCH_BINS := $(patsubst selftests/bench/%.c,$(BUILD)/bench/%,$(BENCH_SRCS))
FUZZ_SRCS := $(wildcard selftests/fuzz/fuzz_*.c)
FUZZ_BINS := $(patsubst selftests/fuzz/%.c,$(BUILD)/fuzz/%,$(FUZZ_SRCS))
FUZZ_SECONDS ?= 60

.PHONY: all check tests deps print-ldlibs lint bench fuzz install uninstall clean compile_commands.json

all: $(BUILD)/mxwall

$(BUILD) $(BUILD)/bench $(BUILD)/fuzz:
	$(Q)mkdir -p $@

$(BUILD)/%.bpf.o: bpf/%.bpf.c $(wildcard bpf/*.h) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.bpf.o: selftests/bench/%.bpf.c $(wildcard bpf/*.h) | $(BUILD)
	$(call msg,BPF,$@)
	$(Q)$(CLANG) $(BPF_CFLAGS) -c $< -o $@

$(BUILD)/%.skel.h: $(BUILD)/%.bpf.o
	$(call msg,SKEL,$@)
	$(Q)$(BPFTOOL) gen skeleton $< > $@

$(BUILD)/obj/%.o: ctl/%.c $(SKELS)
	$(call msg,CC,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/mxwall: $(CTL_OBJS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LDLIBS) -o $@

# The same sources under ASan/UBSan, as a library for the test binaries.
$(BUILD)/asan/obj/%.o: ctl/%.c $(SKELS)
	$(call msg,CC-SAN,$@)
	$(Q)mkdir -p $(@D)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -c $< -o $@

$(BUILD)/asan/libmxwall.a: $(ASAN_LIB_OBJS)
	$(call msg,AR,$@)
	$(Q)rm -f $@ && ar rcs $@ $^

$(BUILD)/asan/test_%: selftests/unit/test_%.c selftests/unit/test.h $(TEST_HELPER_SRCS) $(BUILD)/asan/libmxwall.a
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -Iselftests/unit -Iselftests/lib $< $(TEST_HELPER_SRCS) \
		$(BUILD)/asan/libmxwall.a $(LDLIBS) -o $@

$(BUILD)/asan/prog_test_%: selftests/prog/test_%.c selftests/unit/test.h $(TEST_HELPER_SRCS) $(BUILD)/asan/libmxwall.a $(BPF_OBJS)
	$(call msg,CC-SAN,$@)
	$(Q)$(CC) $(CFLAGS) $(SANFLAGS) -Iselftests/unit -Iselftests/lib $< $(TEST_HELPER_SRCS) \
		$(BUILD)/asan/libmxwall.a $(LDLIBS) -o $@

$(BUILD)/bench/%: selftests/bench/%.c $(CTL_OBJS) | $(BUILD)/bench
	$(call msg,CC,$@)
	$(Q)$(CC) $(CFLAGS) -Iselftests/unit -Iselftests/lib $< $(TEST_HELPER_SRCS) \
		$(filter-out $(BUILD)/obj/main.o,$(CTL_OBJS)) $(LDLIBS) -o $@

# libFuzzer needs clang; the parsers are linked in from source.
$(BUILD)/fuzz/%: selftests/fuzz/%.c $(CTL_LIB_SRCS) $(SKELS) | $(BUILD)/fuzz
	$(call msg,FUZZ,$@)
	$(Q)$(CLANG) -std=gnu11 -g -O1 -D_GNU_SOURCE -I$(BUILD) -Ictl -Ibpf \
		-fsanitize=fuzzer,address,undefined $< $(CTL_LIB_SRCS) $(LDLIBS) -o $@

tests: $(BUILD)/mxwall $(UNIT_BINS) $(PROG_BINS) $(BPF_OBJS) $(BENCH_BINS)

deps:
	$(Q)scripts/install-deps.sh

# Every C file as .clang-format says; `make format` rewrites them.
FORMAT_SRCS = $(shell git ls-files --cached --others --exclude-standard '*.c' '*.h' 2>/dev/null)
lint:
	$(call msg,LINT,conflict markers)
	$(Q)! git grep -n -E '^(<<<<<<<|>>>>>>>) ' -- . ':!*.ok' ':!*.in' || \
		{ echo "lint: merge conflict markers left in the files above" >&2; exit 1; }
	$(call msg,LINT,clang-format)
	$(Q)clang-format --dry-run --Werror $(FORMAT_SRCS)
	$(call msg,LINT,module rules)
	$(Q)scripts/check-modules.sh

format:
	$(Q)clang-format -i $(FORMAT_SRCS)

# Every test: unit (ASan/UBSan), BPF_PROG_TEST_RUN, parsers, end to end.
# T=PATTERN runs the suites whose name contains PATTERN.
check: deps
	$(Q)$(MAKE) --no-print-directory lint tests
	$(Q)selftests/run.sh $(T)

bench: deps
	$(Q)$(MAKE) --no-print-directory tests
	$(Q)selftests/bench/run.sh

# libFuzzer on the log parsers, then the packet fuzzer against the model
fuzz: $(FUZZ_BINS) $(BUILD)/asan/prog_test_pktfuzz
	$(Q)selftests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BINS)
	$(Q)selftests/fuzz/run_pkt.sh $(FUZZ_SECONDS)

install: $(BUILD)/mxwall
	install -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 \
		$(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(UNITDIR) $(DESTDIR)$(CRONDIR) \
		$(DESTDIR)$(SYSCONFDIR)/mxwall $(DESTDIR)$(COMPLETIONDIR)
	install -m 0755 $(BUILD)/mxwall $(DESTDIR)$(SBINDIR)/mxwall
	install -m 0644 scripts/mxwall.bash-completion \
		$(DESTDIR)$(COMPLETIONDIR)/mxwall
	install -m 0644 docs/mxwall.8 $(DESTDIR)$(MANDIR)/man8/mxwall.8
	install -m 0644 docs/mxwall.conf.5 $(DESTDIR)$(MANDIR)/man5/mxwall.conf.5
	for f in scripts/*.service scripts/*.timer; do \
		[ -e "$$f" ] || continue; \
		sed 's|@SBINDIR@|$(SBINDIR)|g' "$$f" > $(DESTDIR)$(UNITDIR)/$$(basename $$f); \
		chmod 0644 $(DESTDIR)$(UNITDIR)/$$(basename $$f); \
	done
	if [ -e scripts/mxwall.cron ]; then \
		sed 's|@SBINDIR@|$(SBINDIR)|g' scripts/mxwall.cron > $(DESTDIR)$(CRONDIR)/mxwall; \
		chmod 0644 $(DESTDIR)$(CRONDIR)/mxwall; \
	fi
	[ -e $(DESTDIR)$(SYSCONFDIR)/mxwall/mxwall.conf ] || \
		install -m 0644 scripts/mxwall.conf $(DESTDIR)$(SYSCONFDIR)/mxwall/mxwall.conf
	[ -e $(DESTDIR)$(SYSCONFDIR)/mxwall/blocklist ] || \
		install -m 0644 scripts/blocklist $(DESTDIR)$(SYSCONFDIR)/mxwall/blocklist
	if [ "$(CREATE_USER)" = yes ] && ! $(GETENT) passwd mxwall >/dev/null; then \
		$(USERADD) --system --user-group --no-create-home \
			--home-dir /nonexistent --shell /usr/sbin/nologin \
			--comment "mxwall log reader" mxwall; \
	fi

# A throwaway lab: namespaces, a real Postfix, misbehaving clients for a
# minute, then the weekly report and the retry statistics (as root).
.PHONY: demo
demo: deps
	$(Q)$(MAKE) --no-print-directory $(BUILD)/mxwall
	$(Q)scripts/demo.sh $(DEMO_SECONDS)

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/mxwall $(DESTDIR)$(MANDIR)/man8/mxwall.8 \
		$(DESTDIR)$(MANDIR)/man5/mxwall.conf.5 $(DESTDIR)$(CRONDIR)/mxwall \
		$(DESTDIR)$(COMPLETIONDIR)/mxwall
	for f in scripts/*.service scripts/*.timer; do \
		rm -f $(DESTDIR)$(UNITDIR)/$$(basename $$f); done

# the link line, for tests that relink the controller (test_upgrade.sh)
print-ldlibs:
	@echo $(LDLIBS)

compile_commands.json:
	bear -- $(MAKE) -B all

clean:
	rm -rf $(BUILD)

-include $(wildcard $(BUILD)/obj/*.d $(BUILD)/obj/*/*.d $(BUILD)/asan/obj/*.d \
	$(BUILD)/asan/obj/*/*.d $(BUILD)/asan/*.d)
