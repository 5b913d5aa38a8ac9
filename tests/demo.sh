#!/usr/bin/env bash
# make demo: the whole main job against a built-in stand-in for the vendor.
# A private network namespace gets its own nftables, a local HTTPS server
# with a CA made on the fly serving sample lists, and allowsync syncs the
# sets from it, then syncs again after the "vendor" changed its list.
# Nothing here touches the host's ruleset or needs the internet.
set -eu

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
BIN=$(realpath "${1:-./allowsync}")

if [ "${ALLOWSYNC_DEMO_NS:-}" != 1 ]; then
	# Re-run inside a fresh network namespace (a user namespace too when
	# not root, so no privileges are needed).
	export ALLOWSYNC_DEMO_NS=1
	if [ "$(id -u)" == 0 ]; then
		exec unshare -n bash "$0" "$BIN"
	fi
	exec unshare -rn bash "$0" "$BIN"
fi

# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"
T=$(mktemp -d /tmp/allowsync-demo.XXXXXX)
trap 'stop_server; rm -rf "$T"' EXIT
ip link set lo up

step() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
show() { printf '$ %s\n' "$*"; "$@"; }

step "A CA made on the fly, and the vendor's stand-in on https://127.0.0.1"
mkca "$T/ca"
mkdir -p "$T/www/public/docs"
cat > "$T/www/public/docs/public-ips.json" <<'EOF'
{"API": ["185.10.20.1", "185.10.20.2", "185.10.21.0/24", "185.10.21.128/25",
         "2a01:4f8:10::/48", "2a01:4f8:10:ffff::1"]}
EOF
start_server "$T/www" "$T/ca/server.pem" "$T/ca/server.key"
URL="https://127.0.0.1:$SERVER_PORT/public/docs/public-ips.json"
cat "$T/www/public/docs/public-ips.json"

step "The firewall: an inet table, two interval sets, port 8443 only from them"
nft -f - <<'EOF'
table inet filter {
	set docplanner_v4 { type ipv4_addr; flags interval; }
	set docplanner_v6 { type ipv6_addr; flags interval; }
	chain input {
		type filter hook input priority 0; policy accept;
		tcp dport 8443 ip saddr @docplanner_v4 accept
		tcp dport 8443 ip6 saddr @docplanner_v6 accept
		tcp dport 8443 drop
	}
}
EOF
nft list ruleset

cat > "$T/allowsync.conf" <<EOF
url = $URL
ca-file = $T/ca/ca.pem
state-dir = $T/state
EOF

step "The plan (--dry-run changes nothing)"
show "$BIN" -c "$T/allowsync.conf" --dry-run

step "The sync: one transaction into both sets"
show "$BIN" -c "$T/allowsync.conf"
show nft list set inet filter docplanner_v4
show nft list set inet filter docplanner_v6

step "The vendor changes its list: one address goes, a network comes"
cat > "$T/www/public/docs/public-ips.json" <<'EOF'
{"API": ["185.10.20.1", "185.10.21.0/24", "185.10.40.0/22",
         "2a01:4f8:10::/48", "2a01:4f8:10:ffff::1"]}
EOF
cat "$T/www/public/docs/public-ips.json"
echo "# Additions apply at once; 185.10.20.2 stays until two accepted"
echo "# lists in a row lack it (remove-after = 2)."
show "$BIN" -c "$T/allowsync.conf"

step "The next day (the server answers 304 Not Modified): now it goes"
show "$BIN" -c "$T/allowsync.conf"
show nft list set inet filter docplanner_v4

step "Run again: already in sync, no transaction is sent"
show "$BIN" -c "$T/allowsync.conf"

step "A tampered list is rejected whole; the last accepted list stands in"
echo '{"API": ["185.10.20.1", "0.0.0.0/0"]}' > "$T/www/public/docs/public-ips.json"
echo '0.0.0.0/0' > "$T/www/public/docs/public-ips.txt"
set +e
"$BIN" -c "$T/allowsync.conf"
echo "exit status $? (65: list rejected; the sets keep the cached list)"
set -e
show nft list set inet filter docplanner_v4

step "A reboot or ruleset reload empties the sets; --restore needs no network"
stop_server
show nft flush set inet filter docplanner_v4
set +e
show "$BIN" -c "$T/allowsync.conf" --check
echo "exit status $? (1: drift)"
set -e
show "$BIN" -c "$T/allowsync.conf" --restore
show "$BIN" -c "$T/allowsync.conf" --status
echo "# The include file for /etc/nftables.conf:"
show cat "$T/state/allowsync.nft"

step "Done: the namespace, server and CA are gone; the host was not touched"
