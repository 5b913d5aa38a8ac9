#!/usr/bin/env bash
# Packet-level end-to-end test: webhook traffic flows exactly as the
# vendor's list says.
#
# Each case runs in its own network namespace (tests/harness.sh), the
# "partner": the example ruleset (TCP to the service port dropped except
# from @docplanner_v4 / @docplanner_v6), a listener on that port, the
# vendor's HTTPS list server on 127.0.0.1 and allowsync.  A second,
# private namespace (an `unshare -n` child) is the "vendor", holding
# several source addresses on the other end of a veth pair.  Connections
# are made from chosen source addresses with a 1 s connect timeout; the
# listener answers with the peer address it saw, so a success proves the
# packet came from that address.  Nothing leaves the two namespaces, and
# both go away with the case.
#
# usage: tests/e2e_packets.sh ./allowsync [case ...]
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/harness.sh
. "$HERE/harness.sh"

PORT=8443
P4=185.10.20.100 P6=2a01:4f8:10::100

# The first list: sources 1 and 2 (and two ranges nobody connects from,
# so that dropping source 1 stays under the shrink guard); source 3 is
# never listed.
LIST1=(185.10.20.1 185.10.20.2 185.10.21.0/24
    2a01:4f8:10::1 2a01:4f8:10::2 2a01:4f8:20::/48)
LIST2=(185.10.20.2 185.10.21.0/24 2a01:4f8:10::2 2a01:4f8:20::/48)

# ------------------------------------------------------------ helpers

# The listener: accept on [::]:PORT (IPv4 too), send the peer address.
LISTENER='
import socket, sys
s = socket.socket(socket.AF_INET6, socket.SOCK_STREAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.bind(("::", int(sys.argv[1])))
s.listen(16)
open(sys.argv[2], "w").close()
while True:
    c, peer = s.accept()
    a = peer[0]
    if a.startswith("::ffff:"):
        a = a[7:]
    c.sendall(a.encode() + b"\n")
    c.close()
'

# The client: from SRC to DST:PORT; exit 0 when connected and the
# listener saw SRC, 1 on a connect timeout, 2 on any other failure.
CLIENT='
import socket, sys
src, dst, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
fam = socket.AF_INET6 if ":" in src else socket.AF_INET
s = socket.socket(fam, socket.SOCK_STREAM)
s.bind((src, 0))
s.settimeout(1)
try:
    s.connect((dst, port))
    got = s.makefile().readline().strip()
except socket.timeout:
    sys.exit(1)
except OSError as e:
    print(e, file=sys.stderr)
    sys.exit(2)
if got != src:
    print("listener saw %s" % got, file=sys.stderr)
    sys.exit(2)
'

# e2e_cleanup: the vendor namespace and the listener go, then what the
# harness cleans up.
e2e_cleanup() {
	local p
	for p in ${VENDOR_PID:-} ${LISTENER_PID:-}; do
		kill "$p" 2>/dev/null
		wait "$p" 2>/dev/null
	done
	stop_server
	rm -rf "$CT"
}

# vendor CMD...: run CMD in the vendor namespace.
vendor() {
	nsenter -t "$VENDOR_PID" -n "$@"
}

# e2e_setup: the vendor namespace and veth pair, addresses, the ruleset
# and the listener.
e2e_setup() {
	local i
	trap e2e_cleanup EXIT
	unshare -n sleep 600 &
	VENDOR_PID=$!
	for i in $(seq 50); do
		[ "$(readlink "/proc/$VENDOR_PID/ns/net")" != \
		    "$(readlink /proc/self/ns/net)" ] && break
		sleep 0.05
	done
	[ "$i" -lt 50 ] || { fail "no vendor namespace"; return 1; }

	if ! { ip link add partner0 type veth peer name vendor0 &&
	    ip link set vendor0 netns "$VENDOR_PID" &&
	    ip addr add "$P4/24" dev partner0 &&
	    ip addr add "$P6/64" dev partner0 nodad &&
	    ip link set partner0 up &&
	    vendor ip link set lo up &&
	    vendor ip link set vendor0 up; }; then
		fail "veth setup"
		return 1
	fi
	for i in 1 2 3; do
		if ! { vendor ip addr add "185.10.20.$i/24" dev vendor0 &&
		    vendor ip addr add "2a01:4f8:10::$i/64" dev vendor0 nodad; }
		then
			fail "vendor address $i"
			return 1
		fi
	done

	nft -f - <<-EOF || { fail "ruleset"; return 1; }
	table inet filter {
		set docplanner_v4 { type ipv4_addr; flags interval; }
		set docplanner_v6 { type ipv6_addr; flags interval; }
		chain input {
			type filter hook input priority 0; policy accept;
			tcp dport $PORT ip saddr @docplanner_v4 accept
			tcp dport $PORT ip6 saddr @docplanner_v6 accept
			tcp dport $PORT drop
		}
	}
	EOF

	python3 -c "$LISTENER" "$PORT" "$CT/listening" &
	LISTENER_PID=$!
	for i in $(seq 50); do
		[ -e "$CT/listening" ] && break
		sleep 0.1
	done
	[ -e "$CT/listening" ] || { fail "listener did not start"; return 1; }
}

# connect SRC: 0 connected, 1 blocked (timed out), 2 anything else.
connect() {
	local dst=$P4
	case $1 in *:*) dst=$P6 ;; esac
	vendor python3 -c "$CLIENT" "$1" "$dst" "$PORT"
}

# allowed SRC... / blocked SRC...: assert each source gets through or not.
allowed() {
	local s rc
	for s in "$@"; do
		connect "$s"
		rc=$?
		[ "$rc" == 0 ] || fail "$STEP: $s should get through (got $rc)"
	done
}
blocked() {
	local s rc
	for s in "$@"; do
		connect "$s"
		rc=$?
		[ "$rc" == 1 ] || fail "$STEP: $s should be blocked (got $rc)"
	done
}

# sync_to LIST...: serve the list and sync to it.
sync_to() {
	serve_list "$@"
	run 0 --url "$URL"
}

# ------------------------------------------------------------ cases

# Step 1: listed sources get through, unlisted ones do not.
case_listed_sources_only() {
	e2e_setup || return
	STEP="before any sync"
	blocked 185.10.20.1 2a01:4f8:10::1
	STEP="after the first sync"
	sync_to "${LIST1[@]}"
	allowed 185.10.20.1 185.10.20.2 2a01:4f8:10::1 2a01:4f8:10::2
	blocked 185.10.20.3 2a01:4f8:10::3
}

# Step 2: a source the list drops is blocked once remove-after (2) runs
# in a row lacked it, and not before.
case_dropped_source_blocked() {
	e2e_setup || return
	sync_to "${LIST1[@]}"
	STEP="first run without source 1"
	sync_to "${LIST2[@]}"
	expect_grep "185.10.20.1" "$CT"/state/source-*.state "pending entry"
	allowed 185.10.20.1 2a01:4f8:10::1 185.10.20.2 2a01:4f8:10::2
	STEP="second run without source 1"
	sync_to "${LIST2[@]}"
	expect_grep "- 185.10.20.1" "$OUT" "removal planned"
	blocked 185.10.20.1 2a01:4f8:10::1 185.10.20.3 2a01:4f8:10::3
	allowed 185.10.20.2 2a01:4f8:10::2
}

# Step 3: a flushed set (a ruleset reload) blocks everyone; --restore,
# with no network, lets the listed sources through again.
case_restore_after_flush() {
	e2e_setup || return
	sync_to "${LIST1[@]}"
	sync_to "${LIST2[@]}"
	sync_to "${LIST2[@]}"
	stop_server
	nft flush set inet filter docplanner_v4
	nft flush set inet filter docplanner_v6
	STEP="after the flush"
	blocked 185.10.20.2 2a01:4f8:10::2
	STEP="after --restore"
	run 0 --url "$URL" --restore
	allowed 185.10.20.2 2a01:4f8:10::2
	blocked 185.10.20.1 2a01:4f8:10::1 185.10.20.3 2a01:4f8:10::3
}

harness_main "$@"
