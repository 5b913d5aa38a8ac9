# Fuzzing; included at the end of the Makefile.
#
#   make fuzz [FUZZ_SECONDS=60]	build every libFuzzer target into
#				build-fuzz/ and run each for that long
#   make fuzz-build		only build them
#
# `make -j2 fuzz` runs two targets at a time.  A crash, leak, sanitizer
# report or broken invariant fails the target; the input that caused it is
# kept as build-fuzz/artifacts/TARGET-crash-... and reproduces with
# `build-fuzz/TARGET FILE`.

FUZZ_CC		?= clang
FUZZ_SECONDS	?= 60
FUZZ_BUILD	:= build-fuzz
FUZZ_SAN	:= -fsanitize=address,undefined -fno-sanitize-recover=all \
		   -fno-omit-frame-pointer
# The text form's fast path from 1 KiB, so that fuzz_text's documents,
# repeated, reach it at little cost.
FUZZ_CFLAGS	:= $(ALL_CPPFLAGS) $(WARNFLAGS) $(PKG_CFLAGS) -O1 -g $(FUZZ_SAN) \
		   -DTEXT_FAST_MIN=1024
FUZZ_OPTS	:= -rss_limit_mb=2048 -timeout=10 -detect_leaks=1 \
		   -close_fd_mask=2
FUZZ_TARGETS	:= fuzz_json fuzz_jsonpath fuzz_text fuzz_prefix fuzz_config \
		   fuzz_normalise

# The stages under test, as an archive so that each target links only the
# objects it uses.  Per target: the other libraries it needs and its input
# bound.
FUZZ_LIB	:= $(FUZZ_BUILD)/liballowsync.a
FUZZ_LIBOBJS	:= $(patsubst %,$(FUZZ_BUILD)/lib/%.o,config keys presets \
		   sections nftname fetch parse textfast jsonpath prefix validate \
		   normalise diff log util)
fuzz_json_LIBS		:= $(shell $(PKG_CONFIG) --libs libcjson)
fuzz_json_LEN		:= 4096
fuzz_jsonpath_LIBS	:= $(fuzz_json_LIBS)
fuzz_jsonpath_LEN	:= 4096
fuzz_text_LIBS		:= $(fuzz_json_LIBS)
fuzz_text_LEN		:= 4096
fuzz_prefix_LEN		:= 256
fuzz_config_LIBS	:= $(shell $(PKG_CONFIG) --libs libcurl libcjson)
fuzz_config_LEN		:= 8192
fuzz_normalise_LEN	:= 2000

.PHONY: fuzz fuzz-build analyze $(FUZZ_TARGETS:%=fuzz-run-%)

fuzz-build: $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%)

fuzz: $(FUZZ_TARGETS:%=fuzz-run-%)
	@echo "== fuzz summary ($(FUZZ_SECONDS) s each)"
	@cat $(FUZZ_TARGETS:%=$(FUZZ_BUILD)/%.summary)

$(FUZZ_BUILD) $(FUZZ_BUILD)/lib $(FUZZ_BUILD)/artifacts:
	mkdir -p $@

# Library objects: instrumented for coverage, but without libFuzzer's main.
$(FUZZ_BUILD)/lib/%.o: src/%.c $(HDRS) | $(FUZZ_BUILD)/lib
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<

$(FUZZ_LIB): $(FUZZ_LIBOBJS)
	rm -f $@
	ar rcs $@ $^

$(FUZZ_BUILD)/%.o: fuzz/%.c fuzz/fuzz.h $(HDRS) | $(FUZZ_BUILD)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Ifuzz -fsanitize=fuzzer -c -o $@ $<

# One target: its binary, and a run that copies the seed corpus to a
# scratch directory (so the repository is never written to) and reduces
# libFuzzer's "Done N runs in S second(s)" to one summary line.
define fuzz_target
$(FUZZ_BUILD)/$(1): $(FUZZ_BUILD)/$(1).o $(FUZZ_BUILD)/fuzz_common.o \
    $(FUZZ_LIB)
	$$(FUZZ_CC) $$(FUZZ_SAN) -fsanitize=fuzzer -o $$@ $$^ $$($(1)_LIBS)

fuzz-run-$(1): $(FUZZ_BUILD)/$(1) | $(FUZZ_BUILD)/artifacts
	@echo "== $(1): $$(FUZZ_SECONDS) s"
	@set -e; w=$$$$(mktemp -d); trap 'rm -rf "$$$$w"' EXIT; \
	mkdir "$$$$w/corpus"; cp fuzz/corpus/$(1)/* "$$$$w/corpus/"; \
	if ! ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	    $(FUZZ_BUILD)/$(1) $$(FUZZ_OPTS) -max_len=$$($(1)_LEN) \
	    -max_total_time=$$(FUZZ_SECONDS) \
	    -artifact_prefix=$(FUZZ_BUILD)/artifacts/$(1)- \
	    "$$$$w/corpus" >"$$$$w/log" 2>&1; then \
		tail -n 50 "$$$$w/log"; \
		echo "$(1): FAILED (input kept in $(FUZZ_BUILD)/artifacts/)"; \
		exit 1; \
	fi; \
	awk '/^Done [0-9]+ runs in/ { print "$(1): " $$$$2 " runs in " \
	    $$$$5 " s" }' "$$$$w/log" >$(FUZZ_BUILD)/$(1).summary; \
	test -s $(FUZZ_BUILD)/$(1).summary || { tail -n 20 "$$$$w/log"; \
	    echo "$(1): no run count in libFuzzer's output"; exit 1; }; \
	cat $(FUZZ_BUILD)/$(1).summary
endef
$(foreach t,$(FUZZ_TARGETS),$(eval $(call fuzz_target,$(t))))
