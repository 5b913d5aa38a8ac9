#!/usr/bin/env bash
# The operator's view under attack: --explain, --status --json, metrics
# for every mode, element comments.  Each case is a defect an outside
# review found, and failed on the code it was written against.  Every case runs in its own network namespace with its own
# HTTPS server (tests/harness.sh), so the host's ruleset is never touched.
#
# usage: tests/operator.sh ./allowsync [case ...]
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/harness.sh
. "$HERE/harness.sh"

# json_get FILE EXPR: evaluate the Python expression EXPR over the JSON
# object in FILE (bound to r) and print the result's repr.
# metric NAME FILE: the value of allowsync_NAME (no labels) in FILE.
metric() {
	sed -n "s/^allowsync_$1 //p" "$2"
}

json_get() {
	python3 - "$1" "$2" <<-'PY'
	import json, sys
	r = json.load(open(sys.argv[1]))
	print(repr(eval(sys.argv[2])))
	PY
}

# ------------------------------------------------------------ cases

# MEDIUM.  allowsync(8) itself says a catch-all element (*) "would match
# every address", and the kernel's lookup does match it.  --explain asks
# the kernel with a plain element get, which never returns the catch-all,
# so it answers "not allowed" (exit 1) for an address the set lets in: the
# one case where the operator most needs the truth.
case_explain_catchall_said_not_allowed() {
	mksets
	serve_list 185.10.20.0/24 2a01:4f8:10::/48
	run 0 --url "$URL"
	python3 "$HERE/nlcatchall.py" inet filter docplanner_v4 ||
	    { fail "could not add the catch-all"; return; }
	expect_grep "*" <(nft list set inet filter docplanner_v4) "catch-all in"
	run 0 --url "$URL" --explain 8.8.8.8
	expect_nogrep "not allowed" "$OUT" "answer for an address * matches"
}

# LOW-MEDIUM.  --explain's exit status is documented as 0 allowed, 1 not
# allowed, and 77 as "no permission: CAP_NET_ADMIN is needed"; --status
# exits 77 in the same place.  Run without CAP_NET_ADMIN (a monitoring
# user), --explain cannot read the set, yet exits 1 as if the address had
# been found not allowed: `allowsync --explain A || page "A is blocked"`
# pages for a permission problem.
case_explain_without_cap_net_admin_exits_1() {
	local st=$CT/nobody rc
	mksets
	serve_list 185.10.20.0/24
	run 0 --url "$URL"
	mkdir -m 0755 "$st" && chown nobody "$st"
	setpriv --reuid=nobody --regid=nogroup --clear-groups -- \
	    "$BIN" -c /dev/null --state-dir "$st" --url "$URL" \
	    --explain 185.10.20.7 > "$OUT" 2> "$ERR"
	rc=$?
	expect_grep "CAP_NET_ADMIN" "$ERR" "why the set could not be read"
	expect_eq "$rc" 77 "exit status of --explain without CAP_NET_ADMIN"
}

# LOW-MEDIUM.  After `systemctl restart nftables` with a ruleset that lost
# the set definitions, --explain answers "set ...: does not hold it" for a
# set that does not exist (the element get's ENOENT is read as "not in
# the set"; --json says holds: false, not the null it gives an unreadable
# set) and tells the operator to "run allowsync --restore", which then
# fails with 69 because the table is missing.
case_explain_missing_table_advises_restore() {
	mksets
	serve_list 185.10.20.0/24
	run 0 --url "$URL"
	nft delete table inet filter
	run 1 --url "$URL" --explain 185.10.20.7
	cp "$OUT" "$CT/explain"
	run 1 --url "$URL" --explain 185.10.20.7 --json
	expect_eq "$(json_get "$OUT" 'r["sets"][0].get("holds")')" None \
	    "holds of a set that does not exist"
	run 69 --url "$URL" --restore
	expect_nogrep "does not hold it" "$CT/explain" "a missing set"
	expect_grep "does not exist" "$CT/explain" "what is wrong"
}

# LOW.  --explain finds "skipped by the policy" by looking for the
# address's own text among the skipped entries the attempt file names, so
# an address inside a skipped range (the vendor lists 10.1.2.0/24), or an
# IPv6 entry the vendor wrote in capitals (FD00::1), is reported as "not
# listed" although the vendor listed it and the policy skipped it
# (allowsync(8): "or that the policy skipped it").
case_explain_skipped_range_said_not_listed() {
	mksets
	serve_list 185.10.20.0/24 10.1.2.0/24 FD00::1 2a01:4f8:10::/48
	run 0 --url "$URL" --private skip
	expect_grep "10.1.2.0/24" "$OUT" "skipped line of the plan"
	run 1 --url "$URL" --private skip --explain 10.1.2.3 --json
	expect_eq "$(json_get "$OUT" '"skipped" in r["sources"][0]')" True \
	    "10.1.2.3 (in the skipped 10.1.2.0/24) reported as skipped"
	run 1 --url "$URL" --private skip --explain fd00::1 --json
	expect_eq "$(json_get "$OUT" '"skipped" in r["sources"][0]')" True \
	    "fd00::1 (listed as FD00::1) reported as skipped"
}

# LOW.  allowsync(8): "Untrusted text is escaped before it is logged, so
# a hostile list cannot write terminal escapes or fake log lines", and
# --section escapes its argument ("\x1b").  --explain is meant for an
# address pasted from a webhook's logs or headers, yet echoes it raw in
# its error: an ESC sequence reaches the terminal and an embedded newline
# forges a second log line (in the journal too).
case_explain_argument_logged_raw() {
	run 64 --url "$URL" --explain $'1.2.3.4\e[2J'
	expect_nogrep $'\e' "$ERR" "raw ESC in the log"
	run 64 --url "$URL" --explain $'1.2.3.4\nallowsync: forged line'
	expect_eq "$(grep -c . "$ERR")" 1 "log lines for one error"
}

# LOW.  allowsync(8): --explain exits "64 for a malformed address".  An
# empty one (a script's unset variable: --explain "$ADDR") exits 78, a
# configuration error, with a message about a path: the option is
# checked as a file path (check_path) before it is parsed as an address.
case_explain_empty_address_exit_78() {
	mksets
	serve_list 185.10.20.0/24
	run 0 --url "$URL"
	run 64 --url "$URL" --explain ""
	expect_nogrep "path" "$ERR" "message about an address"
}

# LOW-MEDIUM.  allowsync(8) and formats.md: --dry-run "writes no
# metrics".  With a configuration error it does: the recovery pass after
# the error reads only json, metrics-file and state-dir from the command
# line, so a --dry-run in the file's error path (or after a bad option)
# is forgotten.  The sync's block is overwritten with exit code 78 and a
# new last-run time, and --json reports dry_run: false.  An operator
# trying a config edit with --dry-run sets off the sync alert.
case_dry_run_config_error_writes_sync_metrics() {
	local prom=$CT/metrics.prom rc
	printf 'url = %s\nmetrics-file = %s\nstate-dir = %s\nmin-prefix4 = 99\n' \
	    "$URL" "$prom" "$CT/state" > "$CT/bad.conf"
	"$BIN" -c "$CT/bad.conf" --ca-file "$CA/ca.pem" --dry-run --json \
	    > "$OUT" 2> "$ERR"
	rc=$?
	expect_eq "$rc" 78 "exit status"
	expect_eq "$(json_get "$OUT" 'r["dry_run"]')" True "dry_run in --json"
	[ ! -e "$prom" ] || { fail "a dry run wrote the metrics file:";
	    grep -v '^#' "$prom" | sed 's/^/      | /' >&2; }
	rm -f "$prom"
	printf 'url = %s\nmetrics-file = %s\nstate-dir = %s\n' \
	    "$URL" "$prom" "$CT/state" > "$CT/good.conf"
	"$BIN" -c "$CT/good.conf" --min-prefix4 99 --dry-run > "$OUT" 2> "$ERR"
	[ ! -e "$prom" ] || fail "a dry run with a bad option wrote metrics"
}

# LOW.  allowsync(8), --status --json: "sources (each with last_attempt
# and last_success, null when there has been none)".  last_success is
# null before the first attempt, but last_attempt is an empty object {},
# so `.last_attempt == null` (jq) never fires and `.last_attempt.time`
# is silently missing instead.
case_status_json_last_attempt_not_null() {
	mksets
	run 0 --url "$URL" --status --json
	expect_eq "$(json_get "$OUT" 'r["sources"][0]["last_success"]')" \
	    None "last_success before any attempt"
	expect_eq "$(json_get "$OUT" 'r["sources"][0]["last_attempt"]')" \
	    None "last_attempt before any attempt"
}

# LOW.  allowsync.conf(5), annotate: every element gets a comment naming
# where it came from, "without sections the host of the source's URL".
# A file:// URL (documented for mirrors and air-gapped hosts) has no
# host, so its label is "": its ranges get no comment at all, and a range
# a static entry holds too gets the comment "static, " (a dangling
# separator), in the kernel and in the include file.
case_file_url_comment_static_dangling() {
	local el
	mksets
	serve_list 185.10.20.0/24 185.10.30.0/24
	run 0 --url "file://$WWW/list.json" --static 185.10.20.5
	el=$(nft -j list set inet filter docplanner_v4 | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        if isinstance(e, dict) and "elem" in e:
            v = e["elem"]["val"]
            print("%s/%d" % (v["prefix"]["addr"], v["prefix"]["len"]),
                  repr(e["elem"].get("comment")))
        else:
            print(e if isinstance(e, str) else
                  "%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"]), None)')
	echo "$el" > "$CT/elems"
	expect_nogrep "'static, '" "$CT/elems" "comment of a range static holds"
	expect_nogrep "185.10.30.0/24 None" "$CT/elems" "a range with no comment"
	expect_nogrep 'comment "static, "' "$CT/state/allowsync.nft" \
	    "include file"
}

# LOW.  A sync whose metrics-file cannot be written exits 73 (allowsync(8),
# EXIT STATUS), but the block it keeps in the state directory records
# exit code 0 and a last success.  The next --restore or --check that can
# write the file publishes allowsync_exit_code 0 ("the last sync's exit
# status", formats.md) for the sync whose unit failed.
case_metrics_73_recorded_as_exit_0() {
	local dir=$CT/textfile
	mksets
	serve_list 185.10.20.0/24
	run 73 --url "$URL" --metrics-file "$dir/allowsync.prom"
	mkdir "$dir"
	run 0 --url "$URL" --metrics-file "$dir/allowsync.prom" --check
	expect_grep "allowsync_exit_code 73" "$dir/allowsync.prom" \
	    "the last sync's exit status"
}

# LOW.  --explain uses no network (allowsync(8)), and the configuration
# check skips the ca-file for every mode that does not fetch ("--restore
# must bring the sets back at boot whatever became of it"; --check and
# --status too), but not for --explain: with the mirror's CA file gone,
# "is this address allowed?" fails with 78 instead of answering.
case_explain_needs_ca_file() {
	local rc
	mksets
	serve_list 185.10.20.0/24
	run 0 --url "$URL"
	"$BIN" -c "$CT/empty.conf" --state-dir "$CT/state" --url "$URL" \
	    --ca-file "$CT/gone.pem" --status > "$OUT" 2> "$ERR"
	expect_eq "$?" 0 "--status with the CA file gone"
	"$BIN" -c "$CT/empty.conf" --state-dir "$CT/state" --url "$URL" \
	    --ca-file "$CT/gone.pem" --explain 185.10.20.7 > "$OUT" 2> "$ERR"
	rc=$?
	expect_eq "$rc" 0 "--explain with the CA file gone"
	expect_grep "allowed" "$OUT" "the answer"
}

# LOW.  Issue 14: "--json on a config error prints an object with the
# error too, rather than nothing", and a sync, --check or --restore does.
# --status --json and --explain --json, the two a monitoring script
# parses, print nothing at all on a configuration error: the script sees
# empty output and a JSON parse error instead of the reason.
case_status_json_config_error_prints_nothing() {
	local mode
	printf 'url = %s\nstate-dir = %s\nbogus = 1\n' "$URL" "$CT/state" \
	    > "$CT/bad.conf"
	for mode in --status "--explain=185.10.20.7"; do
		"$BIN" -c "$CT/bad.conf" "$mode" --json > "$OUT" 2> "$ERR"
		expect_eq "$?" 78 "$mode: exit status"
		python3 -c 'import json, sys; assert json.load(open(sys.argv[1]))["error"]' \
		    "$OUT" 2> /dev/null || fail "$mode --json: no JSON object" \
		    "with the error on standard output"
	done
}

# MEDIUM.  A plan written to a full disk (a cron job's `allowsync >
# /var/log/allowsync.plan`) was lost without a word: every write failed,
# and the run still exited 0.  So was the --json object a monitoring
# script waits for.
case_stdout_write_error_exits_74() {
	mksets
	serve_list 185.10.20.0/24 2a01:4f8:10::/48
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" --metrics-file "$CT/m.prom" \
	    > /dev/full 2> "$ERR"
	expect_eq "$?" 74 "exit status with the plan unwritable"
	expect_grep "standard output: No space left on device" "$ERR" \
	    "the error"
	expect_grep "allowsync_exit_code 74" "$CT/m.prom" "the metrics"
	expect_grep "185.10.20.0/24" <(elems docplanner_v4) "the sync applied"
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" --json > /dev/full 2> "$ERR"
	expect_eq "$?" 74 "exit status with the JSON unwritable"
	expect_eq "$(grep -c "standard output" "$ERR")" 1 "errors said"
	# Bigger than stdio's buffer: the write fails inside a printf.
	"$BIN" --help > /dev/full 2> "$ERR"
	expect_eq "$?" 74 "exit status with --help unwritable"
	expect_grep "standard output: No space left on device" "$ERR" \
	    "the reason of a failure inside a printf"
	run 0 --url "$URL"
	expect_grep "in sync" "$OUT" "the next run"
}

# MEDIUM.  A --json object lost to a full disk exited 74, but the metrics,
# written before the object was, said 0 and a new last success: the
# alert on allowsync_exit_code never fired.  They now say 74, and the
# last success stays the one before the run.
case_json_lost_metrics_say_74() {
	local m="$CT/m.prom" before
	mksets
	serve_list 185.10.20.0/24
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" --json --metrics-file "$m" \
	    > /dev/full 2> "$ERR"
	expect_eq "$?" 74 "exit status, first run"
	expect_eq "$(metric exit_code "$m")" 74 "the metrics, first run"
	expect_eq "$(metric last_success_timestamp_seconds "$m")" 0 \
	    "no last success, first run"
	run 0 --url "$URL" --metrics-file "$m"
	before=$(metric last_success_timestamp_seconds "$m")
	sleep 1.1
	serve_list 185.10.20.0/24 185.10.30.0/24
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" --json --metrics-file "$m" \
	    > /dev/full 2> "$ERR"
	expect_eq "$?" 74 "exit status, second run"
	expect_eq "$(metric exit_code "$m")" 74 "the metrics, second run"
	expect_eq "$(metric last_success_timestamp_seconds "$m")" "$before" \
	    "the last success before the run"
	expect_grep "185.10.30.0/24" <(elems docplanner_v4) "the sync applied"
	expect_eq "$(grep -c "standard output" "$ERR")" 1 "errors said"
}

# MEDIUM.  A reader that goes away (`allowsync -v 2>&1 | head -1`, a
# pager closed early) killed the run with SIGPIPE at its next write: at
# the first log line, before the fetch, nothing applied and the run's
# own exit code lost (141, not a sysexits code).  Now the sync goes on,
# and exits 74 for the output it could not write.
case_reader_gone_kills_run() {
	local rc
	mksets
	serve_list 185.10.20.0/24 2a01:4f8:10::/48
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" -v 2>&1 | true
	rc=${PIPESTATUS[0]}
	expect_eq "$rc" 74 "exit status with the reader gone"
	expect_grep "185.10.20.0/24" <(elems docplanner_v4) "the sync applied"
	run 0 --url "$URL" -v < /dev/null
	expect_grep "not dumping" "$ERR" "the kernel record of that run"
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" <&- > "$OUT" 2> "$ERR"
	expect_eq "$?" 0 "exit status with standard input closed"
	expect_grep "in sync" "$OUT" "the run with standard input closed"
}

# MEDIUM.  Run with standard error closed (`allowsync 2>&-`, by hand or
# from a careless wrapper), the state lock took descriptor 2 and every log
# line of the run was written into it; with both closed, the netlink
# socket took it and the log lines went to the kernel as messages.
case_closed_stderr_logs_into_lock() {
	local f how args
	mksets
	args="--url $URL -v --remove-after 1 --max-remove-percent 100"
	for how in 2 1 12; do
		serve_list 185.10.20.0/24 "2a01:4f8:1$how::/48"
		# shellcheck disable=SC2086
		case $how in
		1) "$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" \
		    --state-dir "$CT/state" $args >&- 2> /dev/null ;;
		2) "$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" \
		    --state-dir "$CT/state" $args 2>&- ;;
		*) "$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" \
		    --state-dir "$CT/state" $args >&- 2>&- ;;
		esac > /dev/null
		expect_eq "$?" 0 "exit status with $how closed"
		for f in "$CT"/state/*; do
			expect_nogrep "form accepted" "$f" "$how closed: log in $f"
			expect_nogrep "+ 185.10.20.0/24" "$f" \
			    "$how closed: plan in $f"
		done
		expect_eq "$(elems docplanner_v6)" "2a01:4f8:1$how::/48" \
		    "$how closed: the sync applied"
	done
	# shellcheck disable=SC2086
	run 0 $args --status
	expect_nogrep "corrupt" "$ERR" "the state read back"
	# shellcheck disable=SC2086
	run 0 $args
	expect_grep "in sync" "$OUT" "the next run"
}

# LOW.  A static entry of a disabled family ("static = 2a01:..." with
# set6 empty) was warned about three times in every run, at the default
# level: the statics were validated, and logged, for the config check,
# for the kernel record's prev and for the list.  Once a run is enough.
case_static_warning_said_three_times() {
	mksets
	serve_list 185.10.20.0/24
	printf 'static = 185.10.30.0/24\nstatic = 2a01:4f8:20::/48\n' \
	    > "$CT/s.conf"
	"$BIN" -c "$CT/s.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" --set6= > "$OUT" 2> "$ERR"
	expect_eq "$?" 0 "exit status of the first run"
	expect_eq "$(grep -c "s.conf: skipping 1 IPv6 entry:" "$ERR")" 1 \
	    "warnings about the static entry, first run"
	"$BIN" -c "$CT/s.conf" --ca-file "$CA/ca.pem" --state-dir \
	    "$CT/state" --url "$URL" --set6= > "$OUT" 2> "$ERR"
	expect_eq "$?" 0 "exit status of the second run"
	expect_eq "$(grep -c "s.conf: skipping 1 IPv6" "$ERR")" 1 \
	    "warnings about the static entry, second run"
	expect_grep "185.10.30.0/24" <(elems docplanner_v4) "the static entry"
	expect_grep "in sync" "$OUT" "the second run"
}

harness_main "$@"
