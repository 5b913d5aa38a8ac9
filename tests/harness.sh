# The test harness shared by tests/integration.sh and tests/faults.sh:
# assertion helpers, fixtures, and a driver that runs every case_NAME
# function of the sourcing script in its own network namespace (unshare
# -n) with its own HTTPS server, so the host's ruleset is never touched.
#
# A test script sources tests/lib.sh and this file, defines case_NAME
# functions, and ends with: harness_main "$@"
# usage of such a script: SCRIPT ./allowsync [case ...]
# It prints "ok - NAME" / "not ok - NAME" per case and a closing
# "SCRIPT: N passed, N failed" line, and exits non-zero on any failure.

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

# serve_many N: publish list.json holding the N addresses from 185.10.0.0
# on (up to 65536), a list big enough for a state file of 1 MiB or more
# from 50000 on (preload.c).
serve_many() {
	python3 -c 'import json, sys; print(json.dumps({"API": ["185.10.%d.%d" %
	    (i // 256, i % 256) for i in range(int(sys.argv[1]))]}))' "$1" \
	    > "$WWW/list.json"
}

# serve_many_text N: publish list.txt holding N entries, one a line: the
# addresses from 185.10.0.0 up, and every tenth an IPv6 /64 instead.
serve_many_text() {
	python3 -c 'import sys; print("\n".join("2a01:4f8:%x:%x::/64" %
	    (i >> 16, i & 0xffff) if i % 10 == 9 else "185.%d.%d.%d" %
	    (10 + i // 65536, i // 256 % 256, i % 256)
	    for i in range(int(sys.argv[1]))))' "$1" > "$WWW/list.txt"
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
	# ALLOWSYNC_WRAP runs the binary under a checker (make valgrind).
	${ALLOWSYNC_WRAP:-} "$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" \
	    --retries 0 --timeout 10 --state-dir "$CT/state" "$@" \
	    > "$OUT" 2> "$ERR"
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

# harness_main ARGS: run the cases (all, or those named) and report.
harness_main() {
	local pass=0 failn=0 c name cases
	name=$(basename "$0" .sh)
	if [ "${1:-}" == "--case" ]; then
		BIN=$2 T=$3 CA=$3/ca
		run_case "$4"
	fi
	BIN=$(realpath "${1:?usage: $name.sh ./allowsync [case ...]}")
	shift
	if [ "$(id -u)" != 0 ]; then
		echo "$name: run as root: every case needs its own network" \
		    "namespace" >&2
		exit 1
	fi
	T=$(mktemp -d "/tmp/allowsync-$name.XXXXXX")
	trap 'rm -rf "$T"' EXIT
	mkca "$T/ca" || exit 1
	if [ $# -gt 0 ]; then
		cases=("$@")
	else
		mapfile -t cases < <(declare -F | awk '{print $3}' |
		    sed -n 's/^case_//p')
	fi
	for c in "${cases[@]}"; do
		if timeout "${CASE_TIMEOUT:-300}" unshare -n bash "$0" --case \
		    "$BIN" "$T" "$c"; then
			echo "ok - $c"
			pass=$((pass + 1))
		else
			echo "not ok - $c"
			failn=$((failn + 1))
		fi
	done
	echo "$name: $pass passed, $failn failed"
	[ "$failn" == 0 ]
}
