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

# shellcheck source=tests/net.sh
. "$HERE/net.sh"

PORT=8443

# The first list: sources 1 and 2 (and two ranges nobody connects from,
# so that dropping source 1 stays under the shrink guard); source 3 is
# never listed.
LIST1=(185.10.20.1 185.10.20.2 185.10.21.0/24
    2a01:4f8:10::1 2a01:4f8:10::2 2a01:4f8:20::/48)
LIST2=(185.10.20.2 185.10.21.0/24 2a01:4f8:10::2 2a01:4f8:20::/48)

# ------------------------------------------------------------ helpers

# e2e_setup: the vendor namespace and veth pair, the ruleset and the
# listener.
e2e_setup() {
	net_up || return 1
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
	listen "$PORT"
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
	blocked "$PORT" 185.10.20.1 2a01:4f8:10::1
	STEP="after the first sync"
	sync_to "${LIST1[@]}"
	allowed "$PORT" 185.10.20.1 185.10.20.2 2a01:4f8:10::1 2a01:4f8:10::2
	blocked "$PORT" 185.10.20.3 2a01:4f8:10::3
}

# Step 2: a source the list drops is blocked once remove-after (2) runs
# in a row lacked it, and not before.
case_dropped_source_blocked() {
	e2e_setup || return
	sync_to "${LIST1[@]}"
	STEP="first run without source 1"
	sync_to "${LIST2[@]}"
	expect_grep "185.10.20.1" "$CT"/state/source-*.state "pending entry"
	allowed "$PORT" 185.10.20.1 2a01:4f8:10::1 185.10.20.2 2a01:4f8:10::2
	STEP="second run without source 1"
	sync_to "${LIST2[@]}"
	expect_grep "- 185.10.20.1" "$OUT" "removal planned"
	blocked "$PORT" 185.10.20.1 2a01:4f8:10::1 185.10.20.3 2a01:4f8:10::3
	allowed "$PORT" 185.10.20.2 2a01:4f8:10::2
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
	blocked "$PORT" 185.10.20.2 2a01:4f8:10::2
	STEP="after --restore"
	run 0 --url "$URL" --restore
	allowed "$PORT" 185.10.20.2 2a01:4f8:10::2
	blocked "$PORT" 185.10.20.1 2a01:4f8:10::1 185.10.20.3 2a01:4f8:10::3
}

harness_main "$@"
