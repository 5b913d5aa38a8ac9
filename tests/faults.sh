#!/usr/bin/env bash
# Fault injection: the real allowsync binary against a test HTTPS server
# that misbehaves on demand (tests/https_server.py, ROOT/<path>.behave)
# and against nftables objects that are missing, wrong or busy.  Every
# case runs in its own network namespace (tests/harness.sh).
#
# Every fault is checked four ways (fault_check): the documented exit
# code; an error line on stderr naming the cause; both kernel sets
# byte-identical before and after (nft -j list set); and the accepted-list
# state files byte-identical, with no new one (.attempt files and the lock
# record attempts and may change).
#
# usage: tests/faults.sh ./allowsync [case ...]
# FAULTS_VERBOSE=1 shows allowsync's stderr for every fault.
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/harness.sh
. "$HERE/harness.sh"

GOOD=(185.10.20.1 185.10.21.0/24 2a01:4f8:10::/48)
NEW=(185.10.20.1 185.10.40.0/24 2a01:4f8:20::/48)

# ------------------------------------------------------------ helpers

# state_hashes: sha256 of every file in the state directory (accepted
# lists, kernel record, include file) but the attempts and the lock.
state_hashes() {
	(cd "$CT/state" 2>/dev/null &&
	    find . -type f ! -name '*.attempt' ! -name lock -print0 |
	    sort -z | xargs -0 -r sha256sum)
}

# fault_record: remember the sets and the state files as they are now.
fault_record() {
	BEFORE=$(snapshot)
	STATE_BEFORE=$(state_hashes)
}

# fault_setup: the sets, a first good sync (state and populated sets),
# then fault_record.
fault_setup() {
	mksets
	serve_list "${GOOD[@]}"
	run 0 --url "$URL"
	expect_eq "$(elems docplanner_v4)" $'185.10.20.1\n185.10.21.0/24' \
	    "setup: v4"
	[ -n "$(state_hashes)" ] || fail "setup: no state written"
	fault_record
}

# misbehave JSON: both documents answer with the behave JSON.
misbehave() {
	printf '%s' "$1" > "$WWW/list.json.behave"
	printf '%s' "$1" > "$WWW/list.txt.behave"
}

# fault_check EXIT REGEX [ARGS...]: run allowsync on $URL with ARGS and
# check the four things.  REGEX (extended, case-insensitive) must match an
# "allowsync:" line on stderr.
fault_check() {
	local want=$1 re=$2
	shift 2
	run "$want" --url "$URL" "$@"
	grep -qiE -- "^allowsync: .*($re)" "$ERR" ||
	    { fail "exit $want: no error line matching /$re/:";
	    sed 's/^/      | /' "$ERR" >&2; }
	expect_eq "$(snapshot)" "$BEFORE" "sets byte-identical"
	expect_eq "$(state_hashes)" "$STATE_BEFORE" "state files unchanged"
	[ -z "${FAULTS_VERBOSE:-}" ] || sed 's/^/      | /' "$ERR" >&2
}

# requests PATH: how many requests the server logged for PATH.
requests() {
	grep -c "\"path\": \"$1\"" "$SERVER_LOG"
}

# big_list N FIRST: N distinct, non-adjacent public /32s starting in
# 185.FIRST.0.0, one per line (odd last octets, so nothing merges).
big_list() {
	python3 - "$1" "$2" <<-'EOF'
	import sys
	n, a = int(sys.argv[1]), int(sys.argv[2])
	for i in range(n):
	    b, k = divmod(i, 128)
	    print("185.%d.%d.%d" % (a + b // 256, b % 256, 2 * k + 1))
	EOF
}

# restart_server CERT: the server again on the same port with the
# certificate CERT.pem/.key of the test CA directory.
restart_server() {
	local port=$SERVER_PORT
	stop_server
	start_server "$WWW" "$CA/$1.pem" "$CA/$1.key" "$port" ||
	    fail "restart with $1 on port $port"
}

# ------------------------------------------------------------ HTTP status

case_http_404() {
	fault_setup
	misbehave '{"status": 404}'
	fault_check 75 "HTTP 404"
}

case_http_500() {
	fault_setup
	misbehave '{"status": 500}'
	fault_check 75 "HTTP 500"
}

case_http_503() {
	fault_setup
	misbehave '{"status": 503, "headers": {"Retry-After": "0"}}'
	fault_check 75 "HTTP 503"
}

case_http_429_retry_after() {
	fault_setup
	misbehave '{"status": 429, "headers": {"Retry-After": "2"}}'
	: > "$SERVER_LOG"
	local t0=$SECONDS
	fault_check 75 "HTTP 429" --retries 1 --retry-delay 1
	expect_eq "$(requests /list.json)" 2 "JSON requests (one retry)"
	expect_eq "$(requests /list.txt)" 2 "text requests (one retry)"
	# Retry-After (2 s) is honoured over retry-delay (1 s), per document.
	[ $((SECONDS - t0)) -ge 4 ] ||
	    fail "Retry-After not honoured: $((SECONDS - t0)) s for two retries"
}

# ------------------------------------------------------------ connection

case_connection_refused() {
	fault_setup
	stop_server
	fault_check 75 "refused|couldn't connect"
}

case_never_answers() {
	fault_setup
	serve_list "${NEW[@]}"
	misbehave '{"hang": 8}'
	local t0=$SECONDS
	fault_check 75 "timed out|timeout" --timeout 2
	[ $((SECONDS - t0)) -le 7 ] ||
	    fail "took $((SECONDS - t0)) s with --timeout 2 per document"
}

case_trickled_body() {
	fault_setup
	serve_list "${NEW[@]}"
	misbehave '{"trickle": 0.5}'
	local t0=$SECONDS
	fault_check 75 "timed out|timeout" --timeout 3
	[ $((SECONDS - t0)) -le 9 ] ||
	    fail "took $((SECONDS - t0)) s with --timeout 3 per document"
}

case_body_cut_short() {
	fault_setup
	serve_list "${NEW[@]}"
	misbehave '{"short": 100}'
	fault_check 75 "partial|remaining|closed"
}

# A body delimited by the connection's close is complete only if TLS says
# so: a TCP close without close_notify may be an attacker's truncation (a
# text list cut at a line boundary still parses).  Here the whole list was
# sent; without close_notify it is still refused.
case_close_without_close_notify() {
	fault_setup
	serve_list "${NEW[@]}"
	misbehave '{"no_length": "cut"}'
	fault_check 75 "non-properly terminated|unexpected eof|close.notify"
}

# ------------------------------------------------------------ size

# A valid 10 KB list: only its size is wrong.
serve_big() {
	local l
	l=$(big_list 700 60)
	serve list.txt "$l"$'\n'
	serve list.json "{\"API\": [$(printf '%s' "$l" |
	    sed 's/.*/"&"/' | paste -sd,)]}"
	[ "$(stat -c %s "$WWW/list.json")" -gt 10000 ] || fail "list too small"
}

case_over_max_bytes_with_length() {
	fault_setup
	serve_big
	fault_check 75 "larger than max-bytes" --max-bytes 2048
}

case_over_max_bytes_chunked() {
	fault_setup
	serve_big
	misbehave '{"no_length": "chunked"}'
	fault_check 75 "larger than max-bytes" --max-bytes 2048
}

case_over_max_bytes_until_close() {
	fault_setup
	serve_big
	misbehave '{"no_length": "close"}'
	fault_check 75 "larger than max-bytes" --max-bytes 2048
}

case_gzip_bomb() {
	fault_setup
	# 1 GiB of zeros in 1 MB; the limit counts decoded bytes.
	misbehave '{"gzip_bomb": 1024}'
	fault_check 75 "larger than max-bytes"
}

# ------------------------------------------------------------ redirects

case_redirect_to_http() {
	fault_setup
	misbehave "{\"redirect\": \"http://127.0.0.1:$SERVER_PORT/x\"}"
	fault_check 75 "not https"
	expect_eq "$(requests /x)" 0 "the http:// target was never asked"
}

case_redirect_loop() {
	fault_setup
	printf '{"redirect": "https://127.0.0.1:%s/list.txt"}' \
	    "$SERVER_PORT" > "$WWW/list.json.behave"
	printf '{"redirect": "https://127.0.0.1:%s/list.json"}' \
	    "$SERVER_PORT" > "$WWW/list.txt.behave"
	fault_check 75 "too many redirects"
}

# ------------------------------------------------------------ TLS
# The patterns hold for libcurl's OpenSSL backend (its own words) and its
# GnuTLS backend (allowsync's words for the GnuTLS status bits).

case_tls_unknown_ca() {
	fault_setup
	fault_check 75 "unable to get local issuer|issuer is not trusted" \
	    --ca-file "$CA/otherca.pem"
}

case_tls_wrong_name() {
	fault_setup
	restart_server wrongname
	fault_check 75 "subject name matches|host name"
}

case_tls_self_signed() {
	fault_setup
	restart_server selfsigned
	fault_check 75 "self.signed certificate"
}

case_tls_expired() {
	fault_setup
	restart_server expired
	fault_check 75 "certificate has expired"
}

# ------------------------------------------------------------ content

case_empty_200() {
	fault_setup
	serve list.json ""
	serve list.txt ""
	fault_check 65 "empty|no entries"
}

case_html_200() {
	fault_setup
	serve list.json $'<!DOCTYPE html>\n<html><body>Log in</body></html>\n'
	serve list.txt $'<!DOCTYPE html>\n<html><body>Log in</body></html>\n'
	fault_check 65 "looks like HTML|not valid JSON"
	expect_grep "looks like HTML" "$ERR" "text form named as HTML"
}

# Each JSON shape with the text form missing (404), then with the same
# bytes as the text form.  format auto reads a body that does not start
# with { or [ as text.
case_json_wrong_shapes() {
	fault_setup
	local deep shapes i
	deep=$(printf '%*s' 100000 '' | tr ' ' '[')
	shapes=(
	    '["185.10.20.1"]'			'top level is not an object'
	    '"185.10.20.1"'			'not an IP address|malformed'
	    '185'				'not an IP address|malformed'
	    'null'				'not an IP address|malformed'
	    '{"api": ["185.10.20.1"]}'		'no key "API"'
	    '{}'				'no key "API"'
	    '{"API": "185.10.20.1"}'		'API is not an array'
	    '{"API": {"a": "185.10.20.1"}}'	'API is not an array'
	    '{"API": null}'			'API is not an array'
	    '{"API": [185, 10, 20, 1]}'		'API\[0\] is not a string'
	    '{"API": ["185.10.20.1", 3232235777]}' 'API\[1\] is not a string'
	    '{"API": [["185.10.20.1"]]}'	'API\[0\] is not a string'
	    '{"API": ["185.10.20.1", {"ip": "1.2.3.4"}]}'
						'API\[1\] is not a string'
	    '{"API": ["185.10.20.1"], "API": ["0.0.0.0/0"]}'
						'more than once'
	    '{"API": []}'			'selects nothing'
	    "{\"API\": $deep"			'not valid JSON'
	    "$deep"				'not valid JSON'
	)
	rm -f "$WWW/list.txt"
	for ((i = 0; i < ${#shapes[@]}; i += 2)); do
		serve list.json "${shapes[i]}"
		fault_check 65 "${shapes[i + 1]}"
		[ "$FAILED" == 0 ] || { echo "    shape: ${shapes[i]:0:60}" >&2;
		    return; }
	done
	for ((i = 0; i < ${#shapes[@]}; i += 2)); do
		serve list.json "${shapes[i]}"
		serve list.txt "${shapes[i]}"
		fault_check 65 "${shapes[i + 1]}"
		[ "$FAILED" == 0 ] || { echo "    shape: ${shapes[i]:0:60}" >&2;
		    return; }
	done
}

# Each hostile text line (JSON missing), between two good lines.  The
# lines are printf %b strings (\0NNN is octal).
case_text_hostile_lines() {
	fault_setup
	local long lines i
	long=$(printf '%*s' 300 '' | tr ' ' '1')
	lines=(
	    '185.10.20.7\0'			'NUL'
	    '185.10.2\00000.7'			'NUL'
	    '185.10.20.7\001'			'control character'
	    '185.10.20.7\0177'			'control character'
	    '185.10.20.\00137'			'control character'
	    '185.10.20.7\r\r'			'control character'
	    '\033[31m185.10.20.7\033[0m'	'control character'
	    '185.10.20.7\033]0;owned\007'	'control character'
	    '185.10.20.7 \0302\0240'		'non-ASCII'
	    "185.10.20.$long"			'longer than'
	    '010.1.1.1'				'"010\.1\.1\.1"'
	    '185.010.20.7'			'"185\.010\.20\.7"'
	    '1.2.3.4/33'			'"1\.2\.3\.4/33"'
	    '185.10.20.0/033'			'"185\.10\.20\.0/033"'
	    '2a01:4f8:10::1%eth0'		'"2a01:4f8:10::1%eth0"'
	    'fe80::1%eth0'			'"fe80::1%eth0"'
	    '185.10.20.7 185.10.20.8'		'"185\.10\.20\.7 185\.10\.20\.8"'
	    '185.10.20.1/24'			'"185\.10\.20\.1/24"'
	    '0x7f.1.1.1'			'"0x7f\.1\.1\.1"'
	    '185.10.20'				'"185\.10\.20"'
	)
	rm -f "$WWW/list.json"
	for ((i = 0; i < ${#lines[@]}; i += 2)); do
		printf '185.10.20.1\n%b\n2a01:4f8:10::/48\n' "${lines[i]}" \
		    > "$WWW/list.txt"
		fault_check 65 "line 2: .*${lines[i + 1]}"
		[ "$FAILED" == 0 ] || { echo "    line: ${lines[i]:0:60}" >&2;
		    return; }
	done
}

# Policy violations, each alone in an otherwise good list, as JSON and
# as text.
case_policy_violations() {
	fault_setup
	local bad i
	bad=(
	    0.0.0.0/0		'/0 is never allowed'
	    ::/0		'/0 is never allowed'
	    127.0.0.1		'loopback'
	    ::1			'loopback'
	    185.0.0.0/8		'wider than min-prefix4'
	    2a00::/12		'wider than min-prefix6'
	    0.0.0.0		'unspecified'
	    10.1.2.3		'private'
	    169.254.1.1		'link-local'
	    224.0.0.1		'multicast'
	    255.255.255.255	'broadcast|240'
	    192.0.2.1		'documentation'
	    2001:db8::1		'documentation'
	    ::ffff:127.0.0.1	'loopback'
	)
	for ((i = 0; i < ${#bad[@]}; i += 2)); do
		serve_list 185.10.20.1 "${bad[i]}" 2a01:4f8:10::/48
		fault_check 65 "${bad[i + 1]}"
		grep -qF "\"${bad[i]}\"" "$ERR" ||
		    fail "entry ${bad[i]} not quoted in the error"
		[ "$FAILED" == 0 ] || return
	done
}

case_over_max_entries() {
	fault_setup
	local l
	mapfile -t l < <(big_list 9 70)
	serve_list "${l[@]}" 185.10.20.1 2a01:4f8:10::/48
	fault_check 65 "more than max-entries = 10 \(set max-entries = 11 to accept it\)" --max-entries 10
	# Ten is within the limit.
	serve_list "${l[@]:1}" 185.10.20.1 2a01:4f8:10::/48
	run 0 --url "$URL" --max-entries 10
}

# Terminal escapes and a fake log line in the list must reach stderr
# escaped, never raw; under systemd (JOURNAL_STREAM) too.
case_escaped_output() {
	fault_setup
	rm -f "$WWW/list.json"
	printf '185.10.20.1\x1b[2J\rallowsync: fake\n' > "$WWW/list.txt"
	fault_check 65 'line 1: control character 0x1b'
	no_raw_bytes
	# A JSON string may hold any byte, newline included: the entry is
	# quoted with its escape sequence and its fake log line escaped.
	serve list.json \
	    '{"API": ["185.10.20.1\u001b[2J\r\n<0>allowsync: fake\u0007"]}'
	fault_check 65 '"185\.10\.20\.1\\x1b\[2J\\x0d\\x0a<0>allowsync: fake\\x07"'
	no_raw_bytes
	# Under the journal every line carries its own priority prefix.
	: > "$ERR"
	JOURNAL_STREAM=$(stat -c %d:%i "$ERR") run 65 --url "$URL"
	expect_grep '<3>https://' "$ERR" "journal priority prefix"
	expect_eq "$(grep -cvE '^<[0-7]>' "$ERR")" 0 "lines without a prefix"
	expect_grep '\x1b[2J\x0d\x0a<0>allowsync: fake' "$ERR" "escaped entry"
	no_raw_bytes
	expect_eq "$(snapshot)" "$BEFORE" "sets byte-identical"
	expect_eq "$(state_hashes)" "$STATE_BEFORE" "state files unchanged"
}

# no_raw_bytes: no ESC, CR, BEL or other control byte but newline in $ERR,
# and no line that a fake entry started.
no_raw_bytes() {
	expect_eq "$(grep -c $'\x1b' "$ERR")" 0 "raw ESC on stderr"
	expect_eq "$(grep -c $'\r' "$ERR")" 0 "raw CR on stderr"
	expect_eq "$(tr -d -c '\000-\011\013-\037\177' < "$ERR" | wc -c)" 0 \
	    "control bytes on stderr"
	expect_eq "$(grep -cE '^(<[0-7]>)?allowsync: fake' "$ERR")" 0 \
	    "a fake log line of its own"
}

# ------------------------------------------------------------ kernel side

case_table_missing() {
	fault_setup
	serve_list "${NEW[@]}"
	nft delete table inet filter
	fault_record
	fault_check 69 "nft add table inet filter"
}

case_set_missing() {
	fault_setup
	serve_list "${NEW[@]}"
	nft delete set inet filter docplanner_v6
	fault_record
	fault_check 69 "docplanner_v6"
}

case_set_wrong_key_type() {
	fault_setup
	serve_list "${NEW[@]}"
	nft delete set inet filter docplanner_v4
	nft add set inet filter docplanner_v4 '{ type ipv6_addr; flags interval; }'
	nft add element inet filter docplanner_v4 '{ 2a01:4f8:99::/48 }'
	fault_record
	fault_check 69 "docplanner_v4"
}

case_hash_set_given_prefix() {
	fault_setup
	serve_list "${NEW[@]}"
	nft delete set inet filter docplanner_v4
	nft add set inet filter docplanner_v4 '{ type ipv4_addr; }'
	nft add element inet filter docplanner_v4 '{ 185.10.20.1 }'
	fault_record
	fault_check 69 "interval"
}

case_no_cap_net_admin() {
	fault_setup
	serve_list "${NEW[@]}"
	local drop="setpriv --bounding-set=-net_admin --inh-caps=-net_admin"
	ALLOWSYNC_WRAP="$drop ${ALLOWSYNC_WRAP:-}" fault_check 77 "CAP_NET_ADMIN"
	# The same list is applied once the capability is there.
	run 0 --url "$URL" --max-remove-percent 100
	expect_grep "+ 185.10.40.0/24" "$OUT" "applied with the capability"
}

# A table another process created with flags owner (as firewalld 2.x
# does) refuses every change from anyone else: say so, and touch nothing.
case_table_owned_by_another() {
	fault_setup
	serve_list "${NEW[@]}"
	nft delete table inet filter
	mkfifo "$CT/nft.in"
	nft -i < "$CT/nft.in" > /dev/null 2>&1 &
	local holder=$!
	exec 7> "$CT/nft.in"
	printf '%s\n' 'add table inet filter { flags owner; }' \
	    'add set inet filter docplanner_v4 { type ipv4_addr; flags interval; }' \
	    'add set inet filter docplanner_v6 { type ipv6_addr; flags interval; }' \
	    'add element inet filter docplanner_v4 { 185.1.1.1 }' >&7
	sleep 0.5
	nft list table inet filter | grep -q "flags owner" ||
	    fail "no owned table"
	fault_record
	fault_check 69 "table inet filter is owned by another process \(firewalld\?\): use guard mode or a table of your own"
	expect_nogrep "CAP_NET_ADMIN" "$ERR" "not a permission problem"
	# Reading it is allowed: --check and --status work.
	run 1 --url "$URL" --check
	expect_nogrep "owned" "$ERR" "check reads an owned table"
	run 0 --url "$URL" --status
	exec 7>&-
	wait "$holder"
}

# A set with a size limit that the list outgrows: the kernel's ENFILE is
# named for what it is.
case_set_full() {
	fault_setup
	nft delete set inet filter docplanner_v4
	nft add set inet filter docplanner_v4 '{ type ipv4_addr; flags interval; size 2; }'
	nft add element inet filter docplanner_v4 '{ 185.10.20.1 }'
	serve_list 185.10.20.1 185.10.30.1 185.10.40.1 185.10.50.1
	fault_record
	fault_check 69 "set inet filter docplanner_v4 is full: its size limit is 2"
}

# The lines allowsync logs (-vv) once it has the ruleset generation and
# the sets' contents, read or known from its last run, before it plans,
# builds and sends its batch.
READ_DONE='docplanner_v4: [0-9]+ elements|not dumping the sets'

# race_run COMMITS ARGS...: run allowsync -vv and, each time it logs
# READ_DONE (its plan not yet committed), commit an unrelated change at
# once (add or delete table inet churn, through an `nft -i` started
# beforehand), COMMITS times at most.  Exit status in $RC.
race_run() {
	local max=$1 wrap
	shift
	read -ra wrap <<< "${ALLOWSYNC_WRAP:-}"
	python3 - "$ERR" "$OUT" "$max" "$READ_DONE" "${wrap[@]}" \
	    "$BIN" -c "$CT/empty.conf" --ca-file "$CA/ca.pem" --retries 0 \
	    --state-dir "$CT/state" -vv "$@" <<-'EOF'
	import re, subprocess, sys, time
	err, out, left, pat = sys.argv[1], sys.argv[2], int(sys.argv[3]), \
	    re.compile(sys.argv[4])
	nft = subprocess.Popen(["nft", "-i"], stdin=subprocess.PIPE,
	    stdout=subprocess.DEVNULL, text=True)
	seen, text, add, end = 0, "", True, time.time() + 60
	with open(err, "w") as e, open(out, "w") as o, open(err) as f:
	    run = subprocess.Popen(sys.argv[5:], stdout=o, stderr=e)
	    while run.poll() is None and time.time() < end:
	        text += f.read()
	        n = len(pat.findall(text))
	        while seen < n:
	            seen += 1
	            if left > 0:
	                left -= 1
	                nft.stdin.write("%s table inet churn\n" %
	                    ("add" if add else "delete"))
	                nft.stdin.flush()
	                add = not add
	        time.sleep(0.0005)
	nft.stdin.close()
	nft.wait()
	sys.exit(run.wait())
	EOF
	RC=$?
}

# Unrelated commits land between allowsync's read of the sets and its
# commit while it replaces 20000 /32s by 20000 others: the generation-id
# check must refuse the batch, the run re-reads and retries, and the sets
# end up exactly as listed.  Two commits per run, so it must succeed
# (allowsync gives up after six attempts).  Odd runs follow an unrelated
# commit, so they dump the sets; even runs may plan from the record of
# the previous run instead, and are raced there.
case_concurrent_commits() {
	mksets
	local a b i want other races=0 tries=0 runs=4 skipped=0 n
	a=$(big_list 20000 20)
	b=$(big_list 20000 40)
	serve list.json '{"API": []}'
	serve list.txt "$a"$'\n'
	run 0 --url "$URL" --max-entries 100000
	for i in $(seq "$runs"); do
		if [ $((i % 2)) == 1 ]; then
			want=$b other=$a
			nft add table inet churn && nft delete table inet churn
		else
			want=$a other=$b
		fi
		serve list.txt "$want"$'\n'
		race_run 2 --url "$URL" --max-entries 100000 --remove-after 1 \
		    --max-remove-percent 100
		expect_eq "$RC" 0 "run $i exit"
		n=$(grep -c "ruleset changed during the run" "$ERR")
		tries=$((tries + n))
		[ "$n" -gt 0 ] && races=$((races + 1))
		grep -q "not dumping the sets" "$ERR" && skipped=$((skipped + 1))
		[ "$FAILED" == 0 ] || { grep -v removed "$ERR" >&2; break; }
	done
	expect_eq "$(elems docplanner_v4 | sha256sum)" \
	    "$(sort <<< "$want" | sha256sum)" "final set is exactly the list"
	expect_eq "$(elems docplanner_v4 | wc -l)" 20000 "final set size"
	nft get element inet filter docplanner_v4 \
	    "{ $(head -n 1 <<< "$want"), $(tail -n 1 <<< "$want") }" \
	    > /dev/null 2>&1 || fail "first or last listed address missing"
	! nft get element inet filter docplanner_v4 \
	    "{ $(head -n 1 <<< "$other") }" > /dev/null 2>&1 ||
	    fail "an address of the previous list is still there"
	echo "    concurrent_commits: $races of $runs runs had their commit" \
	    "refused ($tries refusals in all) and retried; $skipped planned" \
	    "from the last run's record" >&2
	[ "$races" -gt 0 ] || fail "the generation-id retry never ran"
}

# ------------------------------------------------------------ validators

# raw_bytes FILE...: the lines of FILE holding a byte outside printable
# ASCII (ESC, DEL, 0x80 and above; tabs too), counted.
raw_bytes() {
	LC_ALL=C grep -chP '[^\x20-\x7e]' "$@" | awk '{n += $1} END {print n}'
}

# An ETag or Last-Modified with bytes past ASCII or a terminal escape is
# dropped on receipt, like one with control bytes, and such a value in a
# state file is ignored when it is read: the state file and --status never
# carry it, it is never sent back, and the runs still succeed.
case_validator_raw_bytes() {
	mksets
	serve_list "${GOOD[@]}"
	# The server writes header values as latin-1: \u00ff goes out as 0xff.
	printf '%s' '{"headers": {"ETag": "\"\u00ff\u001b[31m\"",
	    "Last-Modified": "Sat, 01 Jan 2000 00:00:00 GMT\u00e9"}}' \
	    > "$WWW/list.json.behave"
	curl -sS -D - -o /dev/null --cacert "$CA/ca.pem" "$URL" |
	    tr -d '\r' > "$CT/headers"
	expect_eq "$(raw_bytes "$CT/headers")" 2 "server sent raw bytes"
	run 0 --url "$URL"
	expect_eq "$(elems docplanner_v4)" $'185.10.20.1\n185.10.21.0/24' v4
	expect_eq "$(raw_bytes "$CT"/state/source-*)" 0 "raw bytes in the state"
	expect_grep "etag -" "$CT"/state/source-*.state "etag dropped"
	expect_grep "last-modified -" "$CT"/state/source-*.state \
	    "last-modified dropped"
	run 0 --url "$URL" --status
	expect_eq "$(raw_bytes "$OUT" "$ERR")" 0 "raw bytes from --status"
	# A stored value with such bytes counts as absent.
	python3 - "$CT"/state/source-*.state <<-'EOF'
	import sys
	p = sys.argv[1]
	t = open(p, "rb").read()
	t = t.replace(b"etag -\n", b'etag "\xff\x1b[31m"\n')
	t = t.replace(b"last-modified -\n", b"last-modified \xe9\x1b[2J\n")
	open(p, "wb").write(t)
	EOF
	expect_eq "$(raw_bytes "$CT"/state/source-*.state)" 2 "bytes planted"
	run 0 --url "$URL" --status
	expect_eq "$(raw_bytes "$OUT" "$ERR")" 0 "raw bytes from --status"
	expect_grep ", etag -" "$OUT" "stored etag ignored"
	expect_grep "json document, 3 entries" "$OUT" "list still usable"
	: > "$SERVER_LOG"
	run 0 --url "$URL"
	expect_nogrep "If-None-Match" "$SERVER_LOG" "etag sent back"
	expect_nogrep "If-Modified-Since" "$SERVER_LOG" "date sent back"
	expect_eq "$(raw_bytes "$CT"/state/source-* "$OUT" "$ERR")" 0 \
	    "raw bytes after the run"
}

# ------------------------------------------------------------ attack (issue 10 review)

# The attempt file lies in the state directory, which the service's user
# owns.  Its result, error and json-rejected values were printed by
# --status exactly as read: terminal escapes (window title, screen
# clearing, hyperlinks) planted there reached the terminal of the root
# who ran --status.  Like the validators, they must come out escaped or
# not at all.
case_status_attempt_raw_bytes() {
	mksets
	serve_list "${GOOD[@]}"
	run 0 --url "$URL"
	local f
	f=$(echo "$CT"/state/source-*.attempt)
	printf 'url %s\nattempt 2026-01-01T00:00:00Z\nresult \033]0;owned\007ok\nerror \033[2J\033]8;;https://evil.example/\033\\click\njson-rejected \377\033[31mred\n' \
	    "$URL" > "$f"
	expect_eq "$(raw_bytes "$f")" 3 "bytes planted"
	run 0 --url "$URL" --status
	expect_eq "$(raw_bytes "$OUT" "$ERR")" 0 "raw bytes from --status"
}

# The attempt file is read whole by every mode, --restore at boot
# included, with no bound: a sparse file of tens of GiB (no disk space
# used) kept --restore reading zeros for minutes, past the restore unit's
# TimeoutStartSec=2min, so the sets were not restored.  A state file that
# is not what this program writes must be given up on at once.
case_huge_attempt_file() {
	fault_setup
	truncate -s 64G "$CT"/state/source-*.attempt
	nft flush set inet filter docplanner_v4
	nft flush set inet filter docplanner_v6
	stop_server
	local start rc
	start=$(date +%s)
	timeout 30 "$BIN" -c "$CT/empty.conf" --url "$URL" \
	    --state-dir "$CT/state" --restore > "$OUT" 2> "$ERR"
	rc=$?
	expect_eq "$rc" 0 "restore exit (124: killed after 30 s)"
	expect_eq "$(snapshot)" "$BEFORE" "sets restored"
	echo "    huge_attempt_file: restore took $(( $(date +%s) - start )) s" >&2
}

# Review finding: --create on a table another process owns (flags
# owner) that lacks one of the sets.  The NEWSET is refused by the kernel
# with EPERM, which was reported as "permission denied (CAP_NET_ADMIN
# needed)" and exit 77, though the run has the capability: the table is
# owned, and that is exit 69 with the "owned by another process" line,
# as without --create.
case_create_in_owned_table() {
	serve_list "${NEW[@]}"
	mkfifo "$CT/nft.in"
	nft -i < "$CT/nft.in" > /dev/null 2>&1 &
	local holder=$!
	exec 7> "$CT/nft.in"
	printf '%s\n' 'add table inet filter { flags owner; }' \
	    'add set inet filter docplanner_v4 { type ipv4_addr; flags interval; }' >&7
	sleep 0.5
	nft list table inet filter | grep -q "flags owner" ||
	    fail "no owned table"
	fault_record
	fault_check 69 "table inet filter is owned by another process" --create
	expect_nogrep "CAP_NET_ADMIN" "$ERR" "not a permission problem"
	exec 7>&-
	wait "$holder"
}

harness_main "$@"
