# shellcheck shell=bash
# Network fixtures for the packet-level tests (tests/e2e_packets.sh,
# tests/guard.sh), sourced after tests/harness.sh.  Inside a case's own
# namespace (the "partner"), net_up makes a second, private namespace (an
# `unshare -n` child), the "vendor", on the other end of a veth pair,
# holding several source addresses; listen starts a listener that answers
# with the peer address it saw, so a connection that succeeds proves the
# packet came from that address.  Nothing leaves the namespaces, and they
# go away with the case (net_down, called from the case's EXIT trap).

P4=185.10.20.100 P6=2a01:4f8:10::100

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
s.settimeout(0.5)
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

NET_PIDS=()

# net_down: every namespace and listener net_up and listen started, then
# what the harness cleans up.
net_down() {
	local p
	for p in "${NET_PIDS[@]}"; do
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

# new_netns: start a namespace that lives until the case ends; its pid
# in NETNS_PID.
new_netns() {
	local i
	unshare -n sleep 600 &
	NETNS_PID=$!
	NET_PIDS+=("$NETNS_PID")
	for i in $(seq 50); do
		[ "$(readlink "/proc/$NETNS_PID/ns/net")" != \
		    "$(readlink /proc/self/ns/net)" ] && return 0
		sleep 0.05
	done
	fail "no namespace"
	return 1
}

# net_up: the vendor namespace and veth pair, and sources 1 to 3
# (185.10.20.N, 2a01:4f8:10::N) on the vendor's side.
net_up() {
	local i
	trap net_down EXIT
	new_netns || return 1
	VENDOR_PID=$NETNS_PID
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
}

# listen PORT [CMD...]: a listener on PORT, in this namespace or run
# through CMD (e.g. nsenter into another).
listen() {
	local port=$1 i
	shift
	rm -f "$CT/listening.$port"
	"$@" python3 -c "$LISTENER" "$port" "$CT/listening.$port" &
	NET_PIDS+=($!)
	for i in $(seq 50); do
		[ -e "$CT/listening.$port" ] && return 0
		sleep 0.1
	done
	fail "listener on $port did not start"
	return 1
}

# connect SRC PORT: from the vendor's SRC to the partner; 0 connected,
# 1 blocked (timed out), 2 anything else.
connect() {
	local dst=$P4
	case $1 in *:*) dst=$P6 ;; esac
	vendor python3 -c "$CLIENT" "$1" "$dst" "$2"
}

# allowed PORT SRC... / blocked PORT SRC...: each source gets through to
# PORT, or not.  $STEP names the step in failures.
allowed() {
	local port=$1 s rc
	shift
	for s in "$@"; do
		connect "$s" "$port"
		rc=$?
		[ "$rc" == 0 ] ||
		    fail "${STEP:-}: $s should reach port $port (got $rc)"
	done
}
blocked() {
	local port=$1 s rc
	shift
	for s in "$@"; do
		connect "$s" "$port"
		rc=$?
		[ "$rc" == 1 ] ||
		    fail "${STEP:-}: $s should not reach port $port (got $rc)"
	done
}
