#!/usr/bin/env bash
# Integration tests: the real allowsync binary against a real HTTPS server
# on 127.0.0.1 (CA made at test time) and real nftables.  Every case runs
# in its own network namespace (unshare -n), with its own server, so the
# host's ruleset is never touched.
#
# usage: tests/integration.sh ./allowsync [case ...]
# Prints "ok - NAME" / "not ok - NAME" per case and a closing
# "N passed, N failed" line; exits non-zero when any case failed.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"

# ------------------------------------------------------------ helpers

FAILED=0

# fail MSG: record a failed assertion in the current case.
fail() {
	echo "    FAIL: $*" >&2
	FAILED=1
}

# expect_eq ACTUAL EXPECTED WHAT
expect_eq() {
	[ "$1" == "$2" ] || fail "$3: got [$1], expected [$2]"
}

# expect_grep PATTERN FILE WHAT: FILE must contain PATTERN (fixed string).
expect_grep() {
	grep -qF -- "$1" "$2" || { fail "$3: no \"$1\" in $(basename "$2"):";
	    sed 's/^/      | /' "$2" >&2; }
}

# expect_nogrep PATTERN FILE WHAT
expect_nogrep() {
	! grep -qF -- "$1" "$2" || fail "$3: unexpected \"$1\" in $(basename "$2")"
}

# serve NAME CONTENT: publish CONTENT as www/NAME.
serve() {
	printf '%s' "$2" > "$WWW/$1"
}

# serve_list V4_AND_V6_ENTRIES...: publish list.json and list.txt.
serve_list() {
	local json="" e
	for e in "$@"; do json="$json${json:+, }\"$e\""; done
	serve list.json "{\"API\": [$json]}"
	printf '%s\n' "$@" > "$WWW/list.txt"
}

# elems SET: the set's elements, one per line, as nft prints them
# ("a", "a/len", "a-b"), sorted; empty output when the set is empty.
elems() {
	nft -j list set "${FAMILY:-inet}" "${TABLE:-filter}" "$1" |
	python3 -c '
import json, sys
out = []
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        if isinstance(e, dict) and "elem" in e:
            e = e["elem"]["val"]
        if isinstance(e, str):
            out.append(e)
        elif "prefix" in e:
            out.append("%s/%d" % (e["prefix"]["addr"], e["prefix"]["len"]))
        elif "range" in e:
            out.append("%s-%s" % tuple(e["range"]))
print("\n".join(sorted(out)))'
}

# snapshot: both sets as nft prints them, for byte-identical comparisons.
snapshot() {
	nft -j list set inet filter docplanner_v4 2>&1
	nft -j list set inet filter docplanner_v6 2>&1
}

# mksets: the example table and interval sets, empty.
mksets() {
	nft -f - <<-'EOF'
	table inet filter {
		set docplanner_v4 { type ipv4_addr; flags interval; }
		set docplanner_v6 { type ipv6_addr; flags interval; }
	}
	EOF
}

# run EXPECTED_EXIT ARGS...: run allowsync against the test server with
# a clean config; stdout in $OUT, stderr in $ERR.
run() {
	local want=$1 rc
	shift
	"$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --retries 0 \
	    --timeout 10 "$@" > "$OUT" 2> "$ERR"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "allowsync $*: exit $rc, expected $want"
		sed 's/^/      stderr| /' "$ERR" >&2
		sed 's/^/      stdout| /' "$OUT" >&2
	fi
}

# monitor_start / monitor_stop: record every ruleset change meanwhile.
monitor_start() {
	nft monitor > "$CT/monitor" 2>&1 &
	MONITOR_PID=$!
	sleep 0.3
}
monitor_stop() {
	sleep 0.3
	kill "$MONITOR_PID" 2>/dev/null
	wait "$MONITOR_PID" 2>/dev/null
}

# ------------------------------------------------------------ cases

case_first_sync() {
	mksets
	serve_list 185.10.20.1 185.10.21.0/24 2a01:4f8:10::/48 2a01:4f8:11::5
	run 0 --url "$URL"
	expect_eq "$(elems docplanner_v4)" $'185.10.20.1\n185.10.21.0/24' v4
	expect_eq "$(elems docplanner_v6)" $'2a01:4f8:10::/48\n2a01:4f8:11::5' v6
	expect_grep "+ 185.10.21.0/24" "$OUT" "plan"
	expect_grep "+ 2a01:4f8:11::5" "$OUT" "plan"
	expect_grep "applied" "$OUT" "summary"
}

case_update() {
	mksets
	serve_list 185.10.20.1 185.10.21.0/24 2a01:4f8:10::/48
	run 0 --url "$URL"
	serve_list 185.10.20.1 185.10.30.0/24 2a01:4f8:20::/48
	run 0 --url "$URL"
	expect_eq "$(elems docplanner_v4)" $'185.10.20.1\n185.10.30.0/24' v4
	expect_eq "$(elems docplanner_v6)" "2a01:4f8:20::/48" v6
	expect_grep "- 185.10.21.0/24" "$OUT" "removal"
	expect_grep "+ 185.10.30.0/24" "$OUT" "addition"
	expect_grep "- 2a01:4f8:10::/48" "$OUT" "v6 removal"
	expect_nogrep "185.10.20.1" "$OUT" "unchanged entry in plan"
}

case_second_run_sends_nothing() {
	mksets
	serve_list 185.10.20.1 2a01:4f8:10::/48
	run 0 --url "$URL"
	monitor_start
	run 0 --url "$URL" --json
	monitor_stop
	expect_eq "$(grep -c . "$CT/monitor")" 0 "ruleset events"
	python3 - "$OUT" <<-'EOF' || fail "JSON report"
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["result"] == "in sync, nothing to do", r
	assert r["generation"]["before"] == r["generation"]["after"], r
	assert r["ipv4"]["add"] == [] and r["ipv4"]["remove"] == [], r
	assert r["sources"][0]["document"] == "json", r
	EOF
}

case_invalid_json_uses_text() {
	mksets
	serve_list 185.10.20.1
	# The vendor's own documentation example has a trailing comma.
	serve list.json '{"API": ["185.10.20.1", "185.10.20.2",]}'
	printf '185.10.20.1\n185.10.20.2\n' > "$WWW/list.txt"
	run 0 --url "$URL" --json
	expect_eq "$(elems docplanner_v4)" "185.10.20.1-185.10.20.2" v4
	expect_grep "not valid JSON" "$ERR" "why JSON failed"
	expect_grep "trying the text form" "$ERR" "fallback logged"
	expect_grep '"document":"text"' "$OUT" "document reported"
}

case_both_documents_rejected() {
	mksets
	nft add element inet filter docplanner_v4 '{ 185.1.1.1 }'
	local before
	before=$(snapshot)
	serve list.json '{"API": ["0.0.0.0/0"]}'
	serve list.txt $'0.0.0.0/0\n'
	run 65 --url "$URL"
	expect_eq "$(snapshot)" "$before" "sets unchanged"
	expect_grep "/0 is never allowed" "$ERR" "rule named"
	expect_grep "sets left unchanged" "$ERR" "outcome"
}

case_both_documents_unreachable() {
	mksets
	nft add element inet filter docplanner_v4 '{ 185.1.1.1 }'
	local before
	before=$(snapshot)
	run 75 --url "https://127.0.0.1:$SERVER_PORT/missing.json"
	expect_eq "$(snapshot)" "$before" "sets unchanged"
	expect_grep "HTTP 404" "$ERR" "status named"
	stop_server
	run 75 --url "$URL"
	expect_eq "$(snapshot)" "$before" "sets unchanged (refused)"
}

case_html_page() {
	mksets
	serve list.json '<html><body>Please log in</body></html>'
	serve list.txt '<html><body>Please log in</body></html>'
	run 65 --url "$URL"
	expect_grep "looks like HTML" "$ERR" "captive portal named"
	expect_eq "$(elems docplanner_v4)" "" "v4 untouched"
}

case_dry_run_changes_nothing() {
	mksets
	nft add element inet filter docplanner_v4 '{ 185.1.1.1 }'
	local before
	before=$(snapshot)
	serve_list 185.10.20.1 2a01:4f8:10::/48
	monitor_start
	run 0 --url "$URL" --dry-run
	monitor_stop
	expect_eq "$(snapshot)" "$before" "sets unchanged"
	expect_eq "$(grep -c . "$CT/monitor")" 0 "ruleset events"
	expect_grep "+ 185.10.20.1" "$OUT" "plan addition"
	expect_grep "- 185.1.1.1" "$OUT" "plan removal"
	expect_grep "dry run" "$OUT" "summary"
}

case_create() {
	serve_list 185.10.20.1 2a01:4f8:10::/48
	run 69 --url "$URL"
	run 0 --url "$URL" --create
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" v4
	expect_eq "$(elems docplanner_v6)" "2a01:4f8:10::/48" v6
	nft list set inet filter docplanner_v4 > "$CT/set4"
	expect_grep "type ipv4_addr" "$CT/set4" "v4 key type"
	expect_grep "flags interval" "$CT/set4" "v4 interval"
	nft list set inet filter docplanner_v6 > "$CT/set6"
	expect_grep "type ipv6_addr" "$CT/set6" "v6 key type"
	expect_eq "$(nft list ruleset | grep -c chain)" 0 "no chains created"
	# Idempotent: the objects exist now.
	run 0 --url "$URL" --create
}

case_missing_set() {
	nft add table inet filter
	nft add set inet filter docplanner_v4 '{ type ipv4_addr; flags interval; }'
	serve_list 185.10.20.1 2a01:4f8:10::/48
	run 69 --url "$URL"
	expect_grep "docplanner_v6" "$ERR" "set named"
	expect_grep "nft add set inet filter docplanner_v6" "$ERR" "fix shown"
	expect_eq "$(elems docplanner_v4)" "" "v4 untouched"
	nft delete table inet filter
	run 69 --url "$URL"
	expect_grep "nft add table inet filter" "$ERR" "table fix shown"
}

case_wrong_set_type() {
	nft -f - <<-'EOF'
	table inet filter {
		set docplanner_v4 { type ipv6_addr; flags interval; }
		set docplanner_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	serve_list 185.10.20.1
	run 69 --url "$URL"
	nft delete table inet filter
	nft -f - <<-'EOF'
	table inet filter {
		set docplanner_v4 { type ipv4_addr; }
		set docplanner_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	run 69 --url "$URL"
	expect_grep "interval" "$ERR" "interval flag named"
}

case_http_url() {
	run 78 --url "http://127.0.0.1:$SERVER_PORT/list.json"
	expect_grep "https" "$ERR" "why"
	printf 'url = http://www.example.com/ips.json\n' > "$CT/http.conf"
	"$BIN" -c "$CT/http.conf" > "$OUT" 2> "$ERR"
	expect_eq "$?" 78 "exit from config file"
	expect_grep "http.conf: line 1" "$ERR" "file and line"
}

case_no_source() {
	run 78
	expect_grep "--locale" "$ERR" "how to choose"
}

case_foreign_element_removed() {
	mksets
	nft add element inet filter docplanner_v4 '{ 185.99.0.0/16 }'
	serve_list 185.10.20.1 2a01:4f8:10::/48
	run 0 --url "$URL"
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" v4
	expect_grep "185.99.0.0/16" "$ERR" "removal logged"
}

case_overlaps_merged() {
	mksets
	serve_list 185.10.20.0/24 185.10.20.128/25 185.10.21.0/24 \
	    185.10.22.0/24 185.10.30.7 185.10.30.7 185.10.30.8 \
	    185.10.40.0/24 185.10.41.0/24 2a01:4f8:10::/48 \
	    2a01:4f8:10:1::/64 2a01:4f8:11::/48 2a01:4f8:12::/48
	run 0 --url "$URL"
	expect_eq "$(elems docplanner_v4)" $'185.10.20.0-185.10.22.255\n185.10.30.7-185.10.30.8\n185.10.40.0/23' v4
	expect_eq "$(elems docplanner_v6)" "2a01:4f8:10::-2a01:4f8:12:ffff:ffff:ffff:ffff:ffff" v6
	# nft -f accepts what the kernel holds: the sets reload cleanly.
	nft list ruleset > "$CT/rs"
	nft -c -f "$CT/rs" || fail "ruleset does not reload"
}

case_policy_rejects_whole_list() {
	mksets
	serve list.json '{"API": ["185.10.20.1", "127.0.0.1"]}'
	serve list.txt $'185.10.20.1\n127.0.0.1\n'
	run 65 --url "$URL"
	expect_grep '"127.0.0.1"' "$ERR" "entry named"
	expect_grep "API[1]" "$ERR" "index named"
	expect_grep "line 2" "$ERR" "line named"
	expect_eq "$(elems docplanner_v4)" "" "nothing applied"
	run 0 --url "$URL" --lenient
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" "lenient drops"
}

case_family_disabled() {
	mksets
	serve_list 185.10.20.1 2a01:4f8:10::/48 2a01:4f8:11::/48
	run 0 --url "$URL" --set6=
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" v4
	expect_eq "$(elems docplanner_v6)" "" "v6 untouched"
	expect_eq "$(grep -c "IPv6" "$ERR")" 1 "one warning"
}

case_union_and_static() {
	mksets
	serve_list 185.10.20.1
	serve other.json '{"API": ["2a01:4f8:10::/48"]}'
	printf 'static = 185.50.0.0/24\n' > "$CT/static.conf"
	"$BIN" -c "$CT/static.conf" --ca-file "$CA/ca.pem" --url "$URL" \
	    --url "https://127.0.0.1:$SERVER_PORT/other.json" > "$OUT" 2> "$ERR"
	expect_eq "$?" 0 exit
	expect_eq "$(elems docplanner_v4)" $'185.10.20.1\n185.50.0.0/24' v4
	expect_eq "$(elems docplanner_v6)" "2a01:4f8:10::/48" v6
	printf 'static = 10.0.0.1\n' > "$CT/static.conf"
	"$BIN" -c "$CT/static.conf" --ca-file "$CA/ca.pem" --url "$URL" \
	    > "$OUT" 2> "$ERR"
	expect_eq "$?" 78 "bad static is a config error"
	expect_grep "static.conf" "$ERR" "file named"
}

case_json_report() {
	mksets
	serve_list 185.10.20.1 2a01:4f8:10::/48
	run 0 --url "$URL" --json --dry-run
	python3 - "$OUT" <<-'EOF' || fail "JSON report"
	import json, sys
	r = json.load(open(sys.argv[1]))
	assert r["dry_run"] is True and r["exit_code"] == 0, r
	assert r["ipv4"]["add"] == ["185.10.20.1"], r
	assert r["ipv6"]["add"] == ["2a01:4f8:10::/48"], r
	assert r["ipv4"]["set"] == "docplanner_v4", r
	assert r["sources"][0]["status"] == "ok", r
	EOF
}

case_no_permission() {
	mksets
	serve_list 185.10.20.1
	local before
	before=$(snapshot)
	setpriv --bounding-set=-net_admin --inh-caps=-net_admin "$BIN" \
	    -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --url "$URL" \
	    > "$OUT" 2> "$ERR"
	expect_eq "$?" 77 "exit without CAP_NET_ADMIN"
	expect_grep "CAP_NET_ADMIN" "$ERR" "capability named"
	expect_eq "$(snapshot)" "$before" "sets unchanged"
}

# ------------------------------------------------------------ driver

# Run one case inside the current (fresh) network namespace.
run_case() {
	local name=$1
	CT=$(mktemp -d "$T/$name.XXXXXX")
	WWW=$CT/www OUT=$CT/stdout ERR=$CT/stderr
	mkdir -p "$WWW"
	: > "$CT/empty.conf"
	ip link set lo up
	trap 'stop_server; kill "${MONITOR_PID:-}" 2>/dev/null; rm -rf "$CT"' EXIT
	start_server "$WWW" "$CA/server.pem" "$CA/server.key" || exit 1
	URL="https://127.0.0.1:$SERVER_PORT/list.json"
	"case_$name"
	exit "$FAILED"
}

if [ "${1:-}" == "--case" ]; then
	BIN=$2 T=$3 CA=$3/ca
	run_case "$4"
fi

BIN=$(realpath "${1:?usage: integration.sh ./allowsync [case ...]}")
shift
if [ "$(id -u)" != 0 ]; then
	echo "integration: run as root: every case needs its own network namespace" >&2
	exit 1
fi
T=$(mktemp -d /tmp/allowsync-it.XXXXXX)
trap 'rm -rf "$T"' EXIT
mkca "$T/ca" || exit 1

if [ $# -gt 0 ]; then
	cases=("$@")
else
	mapfile -t cases < <(declare -F | awk '{print $3}' | sed -n 's/^case_//p')
fi
pass=0 failn=0
for c in "${cases[@]}"; do
	if timeout 120 unshare -n bash "$0" --case "$BIN" "$T" "$c"; then
		echo "ok - $c"
		pass=$((pass + 1))
	else
		echo "not ok - $c"
		failn=$((failn + 1))
	fi
done
echo "integration: $pass passed, $failn failed"
[ "$failn" == 0 ]
