#!/usr/bin/env bash
# What the policy does with each class of entry (private, special, wide:
# reject, skip, allow), through the real binary, a real HTTPS server and
# real nftables, each case in its own network namespace.  The Docplanner
# cases go through --locale pl: www.znanylekarz.pl resolves to the test
# server through an /etc/hosts bind-mounted in a mount namespace of the
# run, with a certificate for that name from the test CA.
#
# usage: tests/policy.sh ./allowsync [case ...]
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/harness.sh
. "$HERE/harness.sh"

# The vendor's example (docs: {"API": ["10.0.xxx.xx", "10.10.xxx.xx",
# "172.20.xxx.xxx", "172.31.xxx.xxx",]}) with digits for the masked
# octets, and one public address beside it.
GUIDE=(10.0.12.34 10.10.12.34 172.20.123.123 172.31.123.123)
PUBLIC=185.10.20.1
DP=public/docs/public-ips

# vendor_up: the test server as https://www.znanylekarz.pl on port 443.
vendor_up() {
	stop_server
	_mkleaf "$CA" "$CT/dp" www.znanylekarz.pl 'DNS:www.znanylekarz.pl' ||
	    { fail "certificate"; return 1; }
	mkdir -p "$WWW/public/docs"
	start_server "$WWW" "$CT/dp.pem" "$CT/dp.key" 443 ||
	    { fail "server on 443"; return 1; }
	printf '127.0.0.1 www.znanylekarz.pl\n' > "$CT/hosts"
}

# publish JSON TEXT: the market's JSON and text forms.
publish() {
	printf '%s' "$1" > "$WWW/$DP.json"
	printf '%s' "$2" > "$WWW/$DP.txt"
}

# json_of ENTRIES...: {"API": [...]}, with a trailing comma when COMMA=1.
json_of() {
	local json="" e
	for e in "$@"; do json="$json${json:+, }\"$e\""; done
	printf '{"API": [%s%s]}' "$json" "${COMMA:+,}"
}

# runp EXPECTED_EXIT ARGS...: allowsync --locale pl, with the hosts file.
runp() {
	local want=$1 rc
	shift
	unshare -m bash -c 'mount --bind "$1" /etc/hosts && shift &&
	    exec "$@"' - "$CT/hosts" "$BIN" -c "$CT/empty.conf" \
	    --ca-file "$CA/ca.pem" --retries 0 --timeout 10 \
	    --state-dir "$CT/state" --locale pl "$@" > "$OUT" 2> "$ERR"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "allowsync --locale pl $*: exit $rc, expected $want"
		sed 's/^/      stderr| /' "$ERR" >&2
	fi
}

# The guide's example, JSON and text, through locale: the defaults skip
# the private entries and apply the public one.
guide_default() {
	mksets
	vendor_up || return
	publish "$(json_of "${GUIDE[@]}" "$PUBLIC")" \
	    "$(printf '%s\n' "${GUIDE[@]}" "$PUBLIC")"
	runp 0 --json
	cp "$ERR" "$CT/sync.err"
	expect_eq "$(elems docplanner_v4)" "$PUBLIC" "public entry applied"
	expect_grep "skipped 4 private entries (private = skip): 10.0.12.34, \
10.10.12.34, 172.20.123.123, ..." "$ERR" "one warning"
	python3 - "$OUT" <<-'EOF' || fail "JSON report"
	import json, sys
	r = json.load(open(sys.argv[1]))
	s = r["sources"][0]["skipped"]["private"]
	assert s["count"] == 4 and s["first"].startswith("10.0.12.34"), r
	EOF
	runp 0 --status
	expect_grep "skipped by the policy: 4 private (10.0.12.34" "$OUT" \
	    "--status"
}

case_guide_json_default_skips_private() {
	guide_default
	expect_nogrep "trying the text form" "$CT/sync.err" "the JSON form read"
}

# The vendor's own example has a trailing comma: invalid JSON, so the text
# form is read, with the same result.
case_guide_trailing_comma_default_skips_private() {
	COMMA=1 guide_default
	expect_grep "not valid JSON" "$CT/sync.err" "JSON refused"
	expect_grep "trying the text form" "$CT/sync.err" "text form read"
}

case_guide_private_allow() {
	mksets
	vendor_up || return
	publish "$(COMMA=1 json_of "${GUIDE[@]}" "$PUBLIC")" \
	    "$(printf '%s\n' "${GUIDE[@]}" "$PUBLIC")"
	runp 0 --private allow
	expect_eq "$(elems docplanner_v4)" "$(printf '%s\n' 10.0.12.34 \
	    10.10.12.34 172.20.123.123 172.31.123.123 "$PUBLIC" | sort)" \
	    "every entry applied"
	runp 0 --allow-private
	expect_eq "$(elems docplanner_v4 | wc -l)" 5 "allow-private alias"
}

case_guide_private_reject_uses_cache() {
	mksets
	vendor_up || return
	publish "$(json_of "$PUBLIC")" "$PUBLIC"
	runp 0
	publish "$(json_of "${GUIDE[@]}" 185.10.20.2)" \
	    "$(printf '%s\n' "${GUIDE[@]}" 185.10.20.2)"
	runp 65 --private reject
	expect_grep "private address space (private = reject)" "$ERR" "why"
	expect_grep "using the cached list" "$ERR" "cache stands in"
	expect_eq "$(elems docplanner_v4)" "$PUBLIC" "cached list kept"
}

# Every entry skipped: the list is rejected, never applied empty.
case_all_skipped_rejected() {
	mksets
	nft add element inet filter docplanner_v4 "{ $PUBLIC }"
	vendor_up || return
	publish "$(json_of "${GUIDE[@]}")" "$(printf '%s\n' "${GUIDE[@]}")"
	runp 65
	expect_grep "no usable entries: every entry was skipped" "$ERR" "why"
	expect_eq "$(elems docplanner_v4)" "$PUBLIC" "sets untouched"
}

# Another vendor (url) keeps the strict default; special and wide skip
# when told, /0 rejects whatever the keys say.
case_classes_by_url() {
	mksets
	serve_list "$PUBLIC" 10.0.12.34
	run 65 --url "$URL"
	expect_grep "private address space (private = reject)" "$ERR" \
	    "url: strict default"
	serve_list "$PUBLIC" 127.0.0.1 fe80::1 192.0.2.0/24
	run 65 --url "$URL"
	run 0 --url "$URL" --special skip
	expect_grep "skipped 3 special entries (special = skip)" "$ERR" \
	    "special skipped"
	expect_eq "$(elems docplanner_v4)" "$PUBLIC" "public applied"
	serve_list "$PUBLIC" 186.0.0.0/8
	run 65 --url "$URL"
	run 0 --url "$URL" --wide skip
	expect_grep "skipped 1 wide entry (wide = skip): 186.0.0.0/8" "$ERR" \
	    "wide skipped"
	serve_list "$PUBLIC" 0.0.0.0/0
	run 65 --url "$URL" --wide skip --special skip --private allow \
	    --lenient
	expect_grep "/0 is never allowed" "$ERR" "/0 always rejects"
	run 78 --url "$URL" --special allow
	run 78 --url "$URL" --private maybe
}

# ------------------------------------------------ attack tests (issue 16)

# runf EXPECTED_EXIT CONF ARGS...: allowsync -c CONF (no --locale: the
# sources are the file's), with the hosts file of vendor_up.
runf() {
	local want=$1 conf=$2 rc
	shift 2
	unshare -m bash -c 'mount --bind "$1" /etc/hosts && shift &&
	    exec "$@"' - "$CT/hosts" "$BIN" -c "$conf" \
	    --ca-file "$CA/ca.pem" --retries 0 --timeout 10 \
	    --state-dir "$CT/state" "$@" > "$OUT" 2> "$ERR"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "allowsync -c $(basename "$conf") $*: exit $rc, expected $want"
		sed 's/^/      stderr| /' "$ERR" >&2
	fi
}

# Finding 1: the Docplanner default (private = skip) is decided from a
# pointer into the config parser's dead line buffer, so locale in a
# config file gets it only when its line is the file's last.  A file as
# operators write it (locale, then anything: a comment, a key, a
# section) rejects the guide's example instead of applying its public
# entry.
case_attack_locale_in_config_file() {
	local conf
	mksets
	vendor_up || return
	publish "$(json_of "${GUIDE[@]}" "$PUBLIC")" \
	    "$(printf '%s\n' "${GUIDE[@]}" "$PUBLIC")"
	for conf in 'locale = pl\n# Docplanner webhooks\n' \
	    'locale = pl\ntimeout = 30\n' '[dp]\nlocale = pl\nretries = 0\n' \
	    'locale = pl\n[dp]\n'; do
		# shellcheck disable=SC2059
		printf "$conf" > "$CT/dp.conf"
		rm -rf "$CT/state"
		nft flush set inet filter docplanner_v4
		runf 0 "$CT/dp.conf"
		expect_eq "$(elems docplanner_v4)" "$PUBLIC" \
		    "public entry applied with: $(tr '\n' '|' < "$CT/dp.conf")"
		expect_grep "skipped 4 private entries (private = skip)" \
		    "$ERR" "private skipped with: $(tr '\n' '|' < "$CT/dp.conf")"
	done
}

# Finding 2: with one family switched off, a list that mixes both
# families and whose every entry of the other family the policy skipped
# is accepted empty: the source's entries leave the set, exit 0.  It
# should be rejected (65) with the cache standing in, as an all-skipped
# list of one family is.
case_attack_mixed_family_all_skipped() {
	local a="https://127.0.0.1:$SERVER_PORT/a.json"
	local b="https://127.0.0.1:$SERVER_PORT/b.json"
	mksets
	serve a.json '{"API": ["185.10.20.1", "185.10.20.2", "185.10.20.3"]}'
	serve b.json '{"API": ["185.10.30.1"]}'
	run 0 --url "$a" --url "$b" --private skip --set6 ""
	expect_eq "$(elems docplanner_v4 | wc -l)" 2 "both sources applied"
	serve b.json '{"API": ["10.0.12.34", "172.20.123.123", "2a00:1450::1"]}'
	run 65 --url "$a" --url "$b" --private skip --set6 ""
	run 65 --url "$a" --url "$b" --private skip --set6 ""
	expect_eq "$(elems docplanner_v4 | grep -c 185.10.30.1)" 1 \
	    "b's cached entry kept after two runs (remove-after 2)"
	run 0 --url "$a" --url "$b" --private skip --set6 "" --status
	expect_nogrep "json document, 0 entries" "$OUT" \
	    "no empty list accepted for b"
}

# Finding 3: --restore goes on "without the bad ones" when a static
# entry is bad, but a static /0 now fails the lenient second pass too, so
# every static entry is left out of the restored sets (before issue 16
# the good ones were restored).
case_attack_restore_static_zero() {
	mksets
	serve_list "$PUBLIC"
	printf 'url = %s\nstatic = 185.99.0.1\nstatic = 185.99.0.2\n' \
	    "$URL" > "$CT/s.conf"
	"$BIN" -c "$CT/s.conf" --ca-file "$CA/ca.pem" --retries 0 \
	    --state-dir "$CT/state" > "$OUT" 2> "$ERR" || fail "first sync"
	printf 'static = 0.0.0.0/0\n' >> "$CT/s.conf"
	# A reboot: the sets come back empty.
	nft flush set inet filter docplanner_v4
	"$BIN" -c "$CT/s.conf" --state-dir "$CT/state" --restore \
	    > "$OUT" 2> "$ERR"
	expect_eq "$?" 78 "restore exit (a bad static entry)"
	expect_grep "going on without the bad ones" "$ERR" "said"
	expect_eq "$(elems docplanner_v4)" "$(printf '%s\n' \
	    185.10.20.1 185.99.0.1-185.99.0.2)" "good statics restored"
}

# Finding 4: on a 304 (the steady state of an unchanged list) the entries
# the policy skips vanish from --json (sources[].skipped), from the plan's
# "skipped from" line and from the metric allowsync_entries_skipped,
# though the document re-accepted is the same and --status still names
# them.  A 304 re-accepts the list "as it was": skipped as it was too.
case_attack_skipped_after_304() {
	mksets
	serve_list "$PUBLIC" 10.0.12.34
	run 0 --url "$URL" --private skip --json --metrics-file "$CT/m.prom"
	expect_grep 'class="private"} 1' "$CT/m.prom" "metric on a 200"
	run 0 --url "$URL" --private skip --json --metrics-file "$CT/m.prom"
	python3 - "$OUT" <<-'EOF' || fail "JSON report of the 304 run"
	import json, sys
	r = json.load(open(sys.argv[1]))
	s = r["sources"][0]
	assert s["not_modified"], s
	assert s.get("skipped", {}).get("private", {}).get("count") == 1, s
	EOF
	expect_grep 'class="private"} 1' "$CT/m.prom" "metric on a 304"
	run 0 --url "$URL" --private skip
	expect_grep "skipped from $URL: 1 private (10.0.12.34)" "$OUT" \
	    "plan on a 304"
	run 0 --url "$URL" --private skip --status
	expect_grep "skipped by the policy: 1 private (10.0.12.34)" "$OUT" \
	    "--status on a 304 (holds today)"
}

# Finding 5: the packaged /etc/allowsync/allowsync.conf was not updated.
# Its policy block still shows "#allow-private = no" as a default and
# none of private, special, wide; an operator who uncomments the
# documented defaults (as one does to pin them) turns a market's
# private = skip into private = reject, and the guide's list is refused.
# (locale = pl is appended last, as tests/packaging.sh does, which keeps
# finding 1 out of this case.)
case_attack_packaged_conf_defaults() {
	mksets
	vendor_up || return
	publish "$(json_of "${GUIDE[@]}" "$PUBLIC")" \
	    "$(printf '%s\n' "${GUIDE[@]}" "$PUBLIC")"
	sed -n '/^# --- Validation policy/,/^#lenient/p' \
	    "$HERE/../packaging/allowsync.conf" |
	    sed -E 's/^#([a-z0-9-]+ = )/\1/' > "$CT/pkg.conf"
	printf 'locale = pl\n' >> "$CT/pkg.conf"
	runf 0 "$CT/pkg.conf"
	expect_eq "$(elems docplanner_v4)" "$PUBLIC" \
	    "the packaged defaults, uncommented, change nothing"
}

# Finding 5, continued: the metric and the JSON field that report skipped
# entries are in the tables that list them (docs/formats.md).
case_attack_skipped_documented() {
	local f
	expect_grep "allowsync_entries_skipped" "$HERE/../docs/formats.md" \
	    "metrics table"
	grep '^| `sources\[\]`' "$HERE/../docs/formats.md" > "$CT/json-row"
	expect_grep "skipped" "$CT/json-row" "formats.md --json sources[] row"
	expect_grep "private" "$HERE/../packaging/allowsync.conf" \
	    "packaged config names the private key"
}

# Finding 7: a static entry (the operator's own, "always in the sets")
# of a class the policy skips is validated like a fetched one: beside
# another static entry it is left out with a warning (logged twice, as
# the statics are validated twice a run) and the run exits 0; alone, the
# run fails with 78 "no usable entries: every entry was skipped".  The
# same line gets two different outcomes, and in one of them the entry
# the operator wrote is quietly missing from the sets.
case_attack_static_of_skipped_class() {
	local rc_two rc_one
	mksets
	serve_list "$PUBLIC"
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --retries 0 \
	    --state-dir "$CT/state" --url "$URL" --private skip \
	    --static 10.1.2.3 --static 185.99.0.1 > "$OUT" 2> "$ERR"
	rc_two=$?
	# Refused, with one line that says why and what to do.
	expect_eq "$rc_two" 78 "a static entry of a skipped class is refused"
	expect_eq "$(grep -c 'a static entry is never skipped' "$ERR")" 1 \
	    "one error a run"
	expect_grep 'set private = allow' "$ERR" "names the fix"
	expect_eq "$(elems docplanner_v4)" "" "nothing applied"
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --retries 0 \
	    --state-dir "$CT/state" --url "$URL" --private skip \
	    --static 10.1.2.3 > "$OUT" 2> "$ERR"
	rc_one=$?
	expect_eq "$rc_one" "$rc_two" \
	    "same static entry, same outcome, with or without another"
}

harness_main "$@"
