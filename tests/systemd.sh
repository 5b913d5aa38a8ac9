#!/usr/bin/env bash
# tests/systemd.sh - the Debian package under a real systemd as PID 1
# (`make systemd-test`; not in CI: a cold debootstrap takes a minute or
# more).
#
# Builds the .deb (make deb), unpacks a minimal Debian 12 (debootstrap
# --variant=minbase, cached as a tarball keyed by its package list),
# installs the package into it offline, and boots it with systemd-nspawn
# in a private network namespace.  A oneshot unit in the container runs
# tests/systemd/checks.sh against a local HTTPS "vendor" and powers the
# container off; the results come back in a file of the tree.  Nothing
# here touches the host's ruleset.
#
# Run as root from anywhere.  Needs debootstrap, systemd-container, zstd,
# openssl and what `make deb` needs, and the Debian archive (the mirror
# apt uses here; ALLOWSYNC_TEST_MIRROR=URL chooses another) unless the
# cache is there.  Environment:
#   ALLOWSYNC_TEST_CACHE	the tarball's directory
#				(default /var/cache/allowsync-tests)
#   BOOT_TIMEOUT		seconds for the boot, the checks and the
#				poweroff (default 300)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
SUITE=bookworm
CACHE=${ALLOWSYNC_TEST_CACHE:-/var/cache/allowsync-tests}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
LIBDIR=/usr/local/lib/allowsync-test	# in the container
TAP=allowsync-checks.tap		# at the root of the container
# What the checks need beside the package and its dependencies: systemd as
# init (dbus and nss-systemd, as on any Debian host), nft for the ruleset
# and netbase for the protocol names in it (/etc/protocols), python3 for
# the vendor.
BASE_PKGS=(systemd systemd-sysv dbus libnss-systemd nftables netbase python3)

W='' NSPAWN='' INIT=''
start=$(date +%s)

cleanup() {
	stop_container
	[ -z "$W" ] || rm -rf --one-file-system "$W"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

die() {
	echo "systemd: $*" >&2
	exit 1
}

# log_tail FILE: the end of a log, indented.
log_tail() {
	tail -n "${2:-30}" "$1" | sed 's/^/    | /'
}

if [ "$(id -u)" != 0 ]; then
	die "must run as root"
fi
for t in debootstrap systemd-nspawn zstd openssl dpkg-deb; do
	command -v "$t" >/dev/null || die "needs $t"
done

W=$(mktemp -d /var/tmp/allowsync-systemd.XXXXXX) || exit 1
TREE=$W/tree

# --- the package -----------------------------------------------------------
t0=$(date +%s)
rm -f build/allowsync_*.deb
make deb >"$W/deb.log" 2>&1 || { log_tail "$W/deb.log"; die "make deb failed"; }
DEB=$(ls build/allowsync_*.deb)
echo "systemd: $DEB built in $(( $(date +%s) - t0 )) s"

# The package's dependencies, without versions or alternatives.
deb_depends() {
	dpkg-deb -f "$DEB" Depends Pre-Depends Recommends |
	    sed 's/^[A-Za-z-]*: *//' | tr ',' '\n' |
	    sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | sed '/^$/d'
}
PKGS=$({ printf '%s\n' "${BASE_PKGS[@]}"; deb_depends; } | sort -u | paste -sd, -)

# --- the tree --------------------------------------------------------------
# The first URI apt uses for SUITE itself (deb822 or one-line sources).
apt_mirror() {
	local f

	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '
		function flush() { if (u != "" && hit) { print u; done = 1 } }
		done { exit }
		/^[[:space:]]*$/ { flush(); u = ""; hit = 0; next }
		$1 == "URIs:" { u = $2 }
		$1 == "Suites:" { for (i = 2; i <= NF; i++) if ($i == s) hit = 1 }
		END { if (!done) flush() }' "$f"
	done
	for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '$1 == "deb" {
			i = 2
			if ($i ~ /^\[/) while ($i !~ /\]$/ && i < NF) i++
			if ($i ~ /^\[/ || $i ~ /\]$/) i++
			if ($(i + 1) == s) print $i
		}' "$f"
	done
}

ARCH=$(dpkg --print-architecture)
KEY=$(printf '%s %s minbase %s\n' "$SUITE" "$ARCH" "$PKGS" | sha256sum |
    cut -c 1-12)
TARBALL=$CACHE/$SUITE-minbase-$KEY.tar.zst

if [ ! -s "$TARBALL" ]; then
	MIRROR=${ALLOWSYNC_TEST_MIRROR:-$(apt_mirror | head -n 1)}
	MIRROR=${MIRROR:-http://deb.debian.org/debian}
	echo "systemd: debootstrap $SUITE from $MIRROR: $PKGS"
	t0=$(date +%s)
	debootstrap --variant=minbase --include="$PKGS" "$SUITE" "$TREE" \
	    "$MIRROR" >"$W/debootstrap.log" 2>&1 ||
	    { log_tail "$W/debootstrap.log"; die "debootstrap failed"; }
	rm -rf "$TREE"/var/cache/apt/archives/*.deb \
	    "$TREE"/var/lib/apt/lists/* "$TREE"/var/log/*
	mkdir -p "$CACHE"
	if ! tar -C "$TREE" --numeric-owner --xattrs --xattrs-include='*' \
	    -cf - . | zstd -q -T0 -o "$W/tree.tar.zst" ||
	    ! mv "$W/tree.tar.zst" "$TARBALL"; then
		die "cannot write $TARBALL"
	fi
	# Trees of other package lists are of no more use.
	find "$CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar.zst" \
	    ! -name "${TARBALL##*/}" -delete
	echo "systemd: debootstrap and cache in $(( $(date +%s) - t0 )) s:" \
	    "$TARBALL ($(du -h "$TARBALL" | cut -f 1))"
	rm -rf --one-file-system "$TREE"
fi
mkdir "$TREE"
zstd -q -d -c "$TARBALL" |
    tar -C "$TREE" --numeric-owner --xattrs --xattrs-include='*' -xf - ||
    die "cannot unpack $TARBALL"
# mktemp's 0700 would make every DynamicUser= unit fail with 200/CHDIR.
chmod 0755 "$TREE"

# --- what the checks need --------------------------------------------------
L=$TREE$LIBDIR
mkdir -p "$L"
# shellcheck source=tests/lib.sh
. tests/lib.sh
mkca "$W/ca" || die "cannot make the test CA"
cp "$W/ca/ca.pem" "$W/ca/server.pem" "$W/ca/server.key" "$L/"
cp tests/https_server.py tests/systemd/checks.sh "$DEB" "$L/"
mv "$L/${DEB##*/}" "$L/allowsync.deb"
# The ruleset of docs/nftables.md, as the operator would copy it.
awk '/^```$/ && f { exit } f { print } /^#!\/usr\/sbin\/nft -f$/ { f = 1 }' \
    docs/nftables.md >"$L/nftables.conf"
printf '{"API": ["185.10.20.1", "185.10.40.0/22", "2a02:1234::/48"]}\n' \
    >"$L/list.json"
chmod 0755 "$L/checks.sh"
cp tests/systemd/allowsync-checks.service "$TREE/etc/systemd/system/"
ln -s /etc/systemd/system/allowsync-checks.service \
    "$TREE/etc/systemd/system/multi-user.target.wants/"

# Offline, before the boot, as a fresh host would get it; in a container
# all the same, so no maintainer script can reach the host.
NSPAWN_ARGS=(-q --private-network --register=no --keep-unit -D "$TREE")
systemd-nspawn "${NSPAWN_ARGS[@]}" dpkg -i "$LIBDIR/allowsync.deb" \
    >"$W/dpkg.log" 2>&1 || { log_tail "$W/dpkg.log"; die "dpkg -i failed"; }

# --- boot ------------------------------------------------------------------
# stop_container: power the container off, or kill it.  Killing its PID 1
# ends every process in it; nspawn's death alone would not.
stop_container() {
	[ -n "$NSPAWN" ] || return 0
	if kill -0 "$NSPAWN" 2>/dev/null; then
		kill -TERM "$NSPAWN" 2>/dev/null
		for _ in $(seq 20); do
			kill -0 "$NSPAWN" 2>/dev/null || break
			sleep 0.5
		done
		kill -KILL "$NSPAWN" 2>/dev/null
	fi
	wait "$NSPAWN" 2>/dev/null
	if [ -n "$INIT" ] && grep -q "^NSpid:[[:space:]]*${INIT}[[:space:]]*1$" \
	    "/proc/$INIT/status" 2>/dev/null; then
		kill -KILL "$INIT" 2>/dev/null
	fi
	NSPAWN=
}

t0=$(date +%s)
systemd-nspawn "${NSPAWN_ARGS[@]}" -b >"$W/console.log" 2>&1 &
NSPAWN=$!
timed_out=1
while [ $(( $(date +%s) - t0 )) -lt "$BOOT_TIMEOUT" ]; do
	[ -n "$INIT" ] ||
	    INIT=$(awk '{ print $1 }' \
	    "/proc/$NSPAWN/task/$NSPAWN/children" 2>/dev/null)
	if ! kill -0 "$NSPAWN" 2>/dev/null; then
		timed_out=0
		break
	fi
	sleep 0.5
done
stop_container
echo "systemd: boot, checks and poweroff in $(( $(date +%s) - t0 )) s"

failed=0
if [ -s "$TREE/$TAP" ]; then
	cat "$TREE/$TAP"
	grep -q '^not ok - ' "$TREE/$TAP" && failed=1
	grep -q '^checks: ' "$TREE/$TAP" ||
	    { echo "not ok - the checks ran to the end"; failed=1; }
else
	echo "not ok - the checks ran and wrote $TAP"
	failed=1
fi
if [ "$timed_out" = 1 ]; then
	echo "not ok - the container was down within $BOOT_TIMEOUT s"
	failed=1
fi
if [ "$failed" = 1 ]; then
	echo "    the container's console:"
	log_tail "$W/console.log" 40
fi
echo "systemd: $([ "$failed" = 0 ] && echo passed || echo FAILED)" \
    "in $(( $(date +%s) - start )) s"
[ "$failed" = 0 ]
