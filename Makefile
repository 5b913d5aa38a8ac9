# allowsync - plain Makefile.  Variants are made by re-running make with one
# variable set, e.g. `make check SANITIZE=address,undefined` or `WERROR=1`.

PREFIX		?= /usr/local
SBINDIR		?= $(PREFIX)/sbin
SYSCONFDIR	?= /etc
MANDIR		?= $(PREFIX)/share/man
DOCDIR		?= $(PREFIX)/share/doc/allowsync
DESTDIR		?=

CC		?= cc
PKG_CONFIG	?= pkg-config
VERSION		:= 0.1.0

PKGS		:= libcurl libcjson libnftnl libmnl
PKG_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags $(PKGS))
PKG_LIBS	:= $(shell $(PKG_CONFIG) --libs $(PKGS))
CMOCKA_CFLAGS	:= $(shell $(PKG_CONFIG) --cflags cmocka)
CMOCKA_LIBS	:= $(shell $(PKG_CONFIG) --libs cmocka)

CFLAGS		?= -O2 -g
WARNFLAGS	:= -std=c11 -Wall -Wextra -Wformat=2 -Wshadow -Wpointer-arith \
		   -Wstrict-prototypes -Wmissing-prototypes -Wvla \
		   -Wwrite-strings -Wundef -Wnull-dereference -Wimplicit-fallthrough
ifeq ($(CI),true)
WERROR		?= 1
endif
ifeq ($(WERROR),1)
WARNFLAGS	+= -Werror
endif
HARDEN		:= -fstack-protector-strong -D_FORTIFY_SOURCE=2 -fPIE
ifneq ($(SANITIZE),)
HARDEN		:= -fsanitize=$(SANITIZE) -fno-omit-frame-pointer \
		   -fno-sanitize-recover=all
LDSAN		:= -fsanitize=$(SANITIZE)
endif
# The typical run's memory: packed relative relocations (DT_RELR, glibc
# 2.36, hence the package's libc6 (>= 2.36)) take 16 KiB off the
# binary's resident pages.
SIZELDFLAGS	:= -Wl,-z,pack-relative-relocs
# main() ends with exit_now(), which skips exit handlers; builds whose
# tools report or write their data from one (sanitizers, gcov, llvm-cov,
# gprof) exit normally.
FULL_EXIT	:= $(if $(SANITIZE)$(filter --coverage -coverage \
		   -fprofile-arcs -fprofile-generate% -fprofile-instr-generate% \
		   -fcs-profile-generate% -pg -fsanitize=%,$(CC) $(CFLAGS) \
		   $(LDFLAGS)),1)
ALL_CPPFLAGS	:= -D_GNU_SOURCE -DALLOWSYNC_VERSION='"$(VERSION)"' -Isrc \
		   $(if $(FULL_EXIT),-DALLOWSYNC_FULL_EXIT) $(CPPFLAGS)
ALL_CFLAGS	:= $(WARNFLAGS) $(HARDEN) $(PKG_CFLAGS) $(CFLAGS)
ALL_LDFLAGS	:= -pthread -pie -Wl,-z,relro,-z,now $(SIZELDFLAGS) $(LDSAN) \
		   $(LDFLAGS)

# The internal headers; every object depends on all of them.
HDRS		:= src/allowsync.h src/config.h src/kernel.h src/nftapi.h \
		   src/run.h src/textfast.h

# Build into a directory per variant so sanitizer objects never mix.
comma		:= ,
BUILD		:= build$(if $(SANITIZE),-$(subst $(comma),-,$(SANITIZE)))

SRCS		:= $(filter-out src/main.c,$(wildcard src/*.c))
OBJS		:= $(SRCS:src/%.c=$(BUILD)/%.o)
LIB		:= $(BUILD)/liballowsync.a
TESTS_SRC	:= $(wildcard tests/test_*.c)
TESTS		:= $(TESTS_SRC:tests/%.c=$(BUILD)/%)

# A sanitizer build keeps its binary in its own directory too.
BIN		:= $(if $(SANITIZE),$(BUILD)/allowsync,allowsync)

.PHONY: all clean check unit integration faults demo install uninstall \
	valgrind ci-extra bench analyze style

all: $(BIN)

$(BIN): $(BUILD)/main.o $(LIB)
	$(CC) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $^ $(PKG_LIBS)

$(BUILD)/%.o: src/%.c $(HDRS) | $(BUILD)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -c -o $@ $<

$(LIB): $(OBJS)
	rm -f $@
	ar rcs $@ $^

$(BUILD):
	mkdir -p $@

# Helpers shared by the unit tests.
$(BUILD)/testutil.o: tests/testutil.c tests/testutil.h $(HDRS) | $(BUILD)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) -c -o $@ $<

$(BUILD)/test_%: tests/test_%.c $(BUILD)/testutil.o $(LIB) $(HDRS) \
    tests/testutil.h
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(CMOCKA_CFLAGS) $(ALL_LDFLAGS) \
	    -o $@ $< $(BUILD)/testutil.o $(LIB) $(CMOCKA_LIBS) $(PKG_LIBS)

unit: $(TESTS)
	@set -e; for t in $(TESTS); do echo "== $$t"; $$t; done

integration: $(BIN)
	tests/integration.sh ./$(BIN)
	tests/sections.sh ./$(BIN)
	tests/policy.sh ./$(BIN)
	tests/operator.sh ./$(BIN)

# Fault injection, and packets through real firewalls: the sets in a
# ruleset of the operator's, and guard mode beside iptables and others.
faults: $(BIN)
	tests/faults.sh ./$(BIN)
	tests/e2e_packets.sh ./$(BIN)
	tests/guard.sh ./$(BIN)
	tests/scale_attack.sh ./$(BIN)

check: unit integration faults

# The integration suite with every allowsync run under valgrind memcheck:
# any error or definite leak makes the run exit 99, which fails its case.
VALGRIND	:= valgrind -q --error-exitcode=99 --leak-check=full \
		   --errors-for-leak-kinds=definite --show-leak-kinds=definite
valgrind: allowsync
	ALLOWSYNC_WRAP="$(VALGRIND)" tests/integration.sh ./allowsync

# The benchmark (not part of CI): allowsync against nft -f and iprange.
BENCH_BINS	:= $(BUILD)/bench_normalise $(BUILD)/bench_setdigest \
		   $(BUILD)/bench_runstat $(BUILD)/bench_curlget
$(BUILD)/bench_%: bench/%.c $(LIB) $(HDRS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) \
	    $(PKG_LIBS)
# The measuring parent links nothing: a forked child starts from its RSS.
$(BUILD)/bench_runstat: bench/runstat.c
	$(CC) -D_GNU_SOURCE $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $<
# The floor under a typical run: a bare libcurl GET (with allowsync's
# global initialisation, and none of its other libraries).
$(BUILD)/bench_curlget: bench/curlget.c $(LIB) $(HDRS)
	$(CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) $(ALL_LDFLAGS) -o $@ $< $(LIB) \
	    $(shell $(PKG_CONFIG) --libs libcurl)
bench: allowsync $(BENCH_BINS)
	bench/run.sh ./allowsync $(BENCH_BINS) $(BENCH_SIZES)

# What CI runs after `make check`: sanitizers, valgrind, static analysis,
# fuzzing and packaging.  Each step prints its own closing line.  The
# benchmark's programs are built (not run), so that they cannot rot.
CI_FUZZ_SECONDS	?= 30
ci-extra: $(BENCH_BINS)
	$(MAKE) check SANITIZE=address,undefined
	$(MAKE) build-thread/allowsync SANITIZE=thread
	tests/scale_attack.sh build-thread/allowsync preload_race \
	    fast_path_race
	$(MAKE) valgrind
	$(MAKE) analyze
	$(MAKE) -j2 fuzz FUZZ_SECONDS=$(CI_FUZZ_SECONDS)
	tests/packaging.sh

demo: allowsync
	tests/demo.sh ./allowsync

# The Debian package under a real systemd as PID 1, in a container booted
# from a cached debootstrap (not in CI: the first debootstrap takes too
# long for it).
.PHONY: systemd-test
systemd-test:
	tests/systemd.sh

# Everything under $(DESTDIR); files in $(SYSCONFDIR) are installed only
# when absent and removed only when unchanged.  The units and the cron
# file name /usr/sbin/allowsync; SBIN_SED points them at $(SBINDIR).
UNITDIR		?= $(PREFIX)/lib/systemd/system
CRONDIR		?= $(SYSCONFDIR)/cron.d
UNITS		:= units/allowsync.service units/allowsync.timer \
		   units/allowsync-restore.service
DOCS		:= README.md docs/nftables.md docs/operations.md \
		   docs/fleet.md docs/guard.md docs/formats.md docs/design.md \
		   docs/performance.md
CRON		:= packaging/cron.d/allowsync
CONF		:= packaging/allowsync.conf
SBIN_SED	:= sed 's|/usr/sbin/allowsync|$(SBINDIR)/allowsync|g'

install: allowsync
	install -d $(DESTDIR)$(SBINDIR)
	install -m 0755 allowsync $(DESTDIR)$(SBINDIR)/allowsync
	install -d -m 0755 $(DESTDIR)$(SYSCONFDIR)/allowsync
	test -e $(DESTDIR)$(SYSCONFDIR)/allowsync/allowsync.conf || \
	    install -m 0644 $(CONF) $(DESTDIR)$(SYSCONFDIR)/allowsync/allowsync.conf
	install -d $(DESTDIR)$(MANDIR)/man5 $(DESTDIR)$(MANDIR)/man8
	install -m 0644 docs/allowsync.conf.5 $(DESTDIR)$(MANDIR)/man5/
	install -m 0644 docs/allowsync.8 $(DESTDIR)$(MANDIR)/man8/
	install -d $(DESTDIR)$(UNITDIR)
	for u in $(UNITS); do \
	    $(SBIN_SED) $$u > $(DESTDIR)$(UNITDIR)/$${u#units/} && \
	    chmod 0644 $(DESTDIR)$(UNITDIR)/$${u#units/} || exit 1; \
	done
	install -d $(DESTDIR)$(DOCDIR)
	install -m 0644 $(DOCS) $(DESTDIR)$(DOCDIR)/
	install -d $(DESTDIR)$(CRONDIR)
	test -e $(DESTDIR)$(CRONDIR)/allowsync || { \
	    $(SBIN_SED) $(CRON) > $(DESTDIR)$(CRONDIR)/allowsync && \
	    chmod 0644 $(DESTDIR)$(CRONDIR)/allowsync; }

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/allowsync
	rm -f $(DESTDIR)$(MANDIR)/man5/allowsync.conf.5
	rm -f $(DESTDIR)$(MANDIR)/man8/allowsync.8
	for u in $(UNITS); do rm -f $(DESTDIR)$(UNITDIR)/$${u#units/}; done
	for d in $(DOCS); do rm -f $(DESTDIR)$(DOCDIR)/$${d##*/}; done
	-rmdir $(DESTDIR)$(DOCDIR) 2>/dev/null
	if $(SBIN_SED) $(CRON) | cmp -s - $(DESTDIR)$(CRONDIR)/allowsync; \
	then rm -f $(DESTDIR)$(CRONDIR)/allowsync; fi
	if cmp -s $(CONF) $(DESTDIR)$(SYSCONFDIR)/allowsync/allowsync.conf; \
	then rm -f $(DESTDIR)$(SYSCONFDIR)/allowsync/allowsync.conf; fi
	-rmdir $(DESTDIR)$(SYSCONFDIR)/allowsync 2>/dev/null

# Static analysis: gcc's analyzer per file with the project's flags and
# warnings as errors, cppcheck, and the layout rules no compiler checks
# (80 columns, tabs for indentation, no trailing blanks, functions under
# 80 lines, files under 1000).  False positives are suppressed inline
# (cppcheck-suppress) with a comment saying why.
ANALYZE_CC	?= gcc
ANALYZE_SRCS	:= $(wildcard src/*.c)

analyze: $(ANALYZE_SRCS:%=analyze-%) style
	cppcheck --quiet --enable=warning,performance,portability \
	    --error-exitcode=1 --inline-suppr -I src src/

.PHONY: $(ANALYZE_SRCS:%=analyze-%)
$(ANALYZE_SRCS:%=analyze-%): analyze-%:
	$(ANALYZE_CC) $(ALL_CPPFLAGS) $(ALL_CFLAGS) -fanalyzer -Werror \
	    -c -o /dev/null $*

style:
	tests/style.sh src/*.c src/*.h tests/*.c tests/*.h fuzz/*.c

clean:
	rm -rf build build-* allowsync
include fuzz/fuzz.mk

include packaging/packaging.mk
