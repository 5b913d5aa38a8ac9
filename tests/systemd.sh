#!/usr/bin/env bash
# tests/systemd.sh - the Debian package under a real systemd as PID 1
# (`make systemd-test`; not in CI: a cold debootstrap takes minutes).
#
# Builds the .deb (make deb), unpacks a minimal Debian 12 (debootstrap
# --variant=minbase, cached as a tarball keyed by its package list),
# installs the package into it, and boots it with systemd-nspawn in a
# private network namespace.  A oneshot unit in the container runs
# tests/systemd/checks.sh against a local HTTPS "vendor" and powers the
# container off; the results come back as a TAP file in the tree.
# Nothing here touches the host's ruleset: every command that runs the
# package's code runs in the container's own network namespace.
#
# Run as root from anywhere.  Installs debootstrap, systemd-container,
# zstd and openssl with apt-get when they are missing; needs what `make
# deb` needs, and the Debian archive (the mirror apt uses here;
# ALLOWSYNC_TEST_MIRROR=URL chooses another) unless the cache is there.
# Environment:
#   ALLOWSYNC_TEST_CACHE	the tarball's directory
#				(default /var/cache/allowsync-tests)
#   BOOT_TIMEOUT		seconds for the boot, the checks and the
#				poweroff (default 300)
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
SUITE=bookworm
CACHE=${ALLOWSYNC_TEST_CACHE:-/var/cache/allowsync-tests}
BOOT_TIMEOUT=${BOOT_TIMEOUT:-300}
# debootstrap, and installing the package with apt's help, get these.
STEP_TIMEOUT=1200
LIBDIR=/usr/local/lib/allowsync-test	# in the container
TAP=allowsync-checks.tap		# at the root of the container
# What the checks need beside the package and its dependencies: systemd as
# init (dbus and nss-systemd, as on any Debian host), nft for the ruleset
# and netbase for the protocol names in it (/etc/protocols), python3 for
# the vendor.
BASE_PKGS=(systemd systemd-sysv dbus libnss-systemd nftables netbase python3)

W='' TREE='' DEB='' TARBALL='' NSPAWN='' INIT=''
pass=0 failed=0
start=$(date +%s)

die() {
	echo "systemd: $*" >&2
	exit 1
}

# log_tail FILE [N]: the last N (30) lines of a log, indented, without
# the console's colours.
log_tail() {
	tail -n "${2:-30}" "$1" | sed 's/\x1b\[[0-9;]*[A-Za-z]//g; s/^/    | /'
}

# since T0: seconds since T0.
since() {
	echo $(( $(date +%s) - $1 ))
}

# result OK DESCRIPTION: a TAP line of the host's own, counted.
result() {
	if [ "$1" = 0 ]; then
		pass=$((pass + 1))
		echo "ok - $2"
	else
		failed=$((failed + 1))
		echo "not ok - $2"
	fi
}

# need_tools: install what provides a missing tool, with apt-get.
need_tools() {
	local t pkg missing=()

	for t in debootstrap:debootstrap systemd-nspawn:systemd-container \
	    zstd:zstd openssl:openssl; do
		pkg=${t#*:}
		command -v "${t%%:*}" >/dev/null || missing+=("$pkg")
	done
	[ "${#missing[@]}" = 0 ] && return 0
	echo "systemd: apt-get install ${missing[*]}"
	{ apt-get update -q && apt-get install -y -q "${missing[@]}"; } \
	    >"$W/apt.log" 2>&1 ||
	    { log_tail "$W/apt.log"; die "cannot install ${missing[*]}"; }
}

# --- the package -----------------------------------------------------------

build_deb() {
	local t0

	t0=$(date +%s)
	rm -f build/allowsync_*.deb
	make deb >"$W/deb.log" 2>&1 ||
	    { log_tail "$W/deb.log"; die "make deb failed"; }
	DEB=$(ls build/allowsync_*.deb)
	echo "systemd: $DEB built in $(since "$t0") s"
}

# deb_depends: the package's dependencies, without versions or
# alternatives, one a line.
deb_depends() {
	dpkg-deb -f "$DEB" Depends Pre-Depends Recommends |
	    sed 's/^[A-Za-z-]*: *//' | tr ',' '\n' |
	    sed 's/|.*//; s/(.*)//; s/:any//; s/[[:space:]]//g' | sed '/^$/d'
}

# --- the tree --------------------------------------------------------------

# apt_mirror: the URIs apt uses for SUITE itself (deb822 or one-line
# sources), the first first.
apt_mirror() {
	local f

	for f in /etc/apt/sources.list.d/*.sources; do
		[ -f "$f" ] || continue
		awk -v s="$SUITE" '
		function flush() { if (u != "" && hit) print u }
		/^[[:space:]]*$/ { flush(); u = ""; hit = 0; next }
		$1 == "URIs:" { u = $2 }
		$1 == "Suites:" {
			for (i = 2; i <= NF; i++)
				if ($i == s)
					hit = 1
		}
		END { flush() }' "$f"
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

# make_tarball PKGS: debootstrap SUITE with PKGS into TREE and pack it as
# TARBALL; older tarballs of other package lists go.
make_tarball() {
	local pkgs=$1 mirror t0

	t0=$(date +%s)
	mirror=${ALLOWSYNC_TEST_MIRROR:-$(apt_mirror | head -n 1)}
	mirror=${mirror:-http://deb.debian.org/debian}
	echo "systemd: debootstrap $SUITE from $mirror: $pkgs"
	timeout "$STEP_TIMEOUT" debootstrap --variant=minbase \
	    --include="$pkgs" "$SUITE" "$TREE" "$mirror" \
	    >"$W/debootstrap.log" 2>&1 ||
	    { log_tail "$W/debootstrap.log"; die "debootstrap failed"; }
	rm -rf "$TREE"/var/cache/apt/archives/*.deb \
	    "$TREE"/var/lib/apt/lists/* "$TREE"/var/log/*
	mkdir -p "$CACHE"
	if ! tar -C "$TREE" --numeric-owner --xattrs --xattrs-include='*' \
	    -cf - . | zstd -q -T0 -o "$W/tree.tar.zst" ||
	    ! mv "$W/tree.tar.zst" "$TARBALL"; then
		die "cannot write $TARBALL"
	fi
	find "$CACHE" -maxdepth 1 -name "$SUITE-minbase-*.tar.zst" \
	    ! -name "${TARBALL##*/}" -delete
	echo "systemd: debootstrap and cache in $(since "$t0") s:" \
	    "$TARBALL ($(du -h "$TARBALL" | cut -f 1))"
	rm -rf --one-file-system "$TREE"
}

# unpack_tree: a fresh TREE from TARBALL, made first if missing.
unpack_tree() {
	local pkgs key

	pkgs=$({ printf '%s\n' "${BASE_PKGS[@]}"; deb_depends; } |
	    sort -u | paste -sd, -)
	key=$(printf '%s %s minbase %s\n' "$SUITE" \
	    "$(dpkg --print-architecture)" "$pkgs" | sha256sum | cut -c 1-12)
	TARBALL=$CACHE/$SUITE-minbase-$key.tar.zst
	[ -s "$TARBALL" ] || make_tarball "$pkgs"
	mkdir "$TREE" || exit 1
	zstd -q -d -c "$TARBALL" |
	    tar -C "$TREE" --numeric-owner --xattrs --xattrs-include='*' \
	    -xf - || die "cannot unpack $TARBALL"
	# mktemp's 0700 would make every DynamicUser= unit fail with
	# 200/CHDIR: the dynamic user could not reach its own directories.
	chmod 0755 "$TREE"
}

# --- what the checks need --------------------------------------------------

# stage_files: the test CA and server, the checks, the package, the
# ruleset and the vendor's list into LIBDIR; the checks' unit enabled.
stage_files() {
	local l=$TREE$LIBDIR units=$TREE/etc/systemd/system

	mkdir -p "$l"
	# shellcheck source=tests/lib.sh
	. tests/lib.sh
	mkca "$W/ca" || die "cannot make the test CA"
	cp "$W/ca/ca.pem" "$W/ca/server.pem" "$W/ca/server.key" \
	    tests/https_server.py tests/systemd/checks.sh "$l/" &&
	cp "$DEB" "$l/allowsync.deb" &&
	chmod 0755 "$l/checks.sh" || die "cannot copy into $l"
	# The ruleset of docs/nftables.md, as the operator would copy it.
	awk '/^```$/ && f { exit }
	    f { print }
	    /^#!\/usr\/sbin\/nft -f$/ { f = 1 }' docs/nftables.md \
	    >"$l/nftables.conf"
	echo '{"API": ["185.10.20.1", "185.10.40.0/22", "2a02:1234::/48"]}' \
	    >"$l/list.json"
	cp tests/systemd/allowsync-checks.service "$units/" &&
	ln -s /etc/systemd/system/allowsync-checks.service \
	    "$units/multi-user.target.wants/" || die "cannot enable the checks"
}

# nspawn ARGS...: a command in the container, in its own network
# namespace, so that no maintainer script can reach the host's ruleset.
nspawn() {
	timeout "$STEP_TIMEOUT" systemd-nspawn -q --pipe --private-network \
	    --register=no --keep-unit -D "$TREE" "$@"
}

# install_deb: dpkg -i before the boot, as a fresh host would get it.  The
# tarball holds the dependencies; should they have moved on, apt fetches
# them from the archive (the one step with the host's network, and it
# only downloads) and installs them offline.
install_deb() {
	nspawn dpkg -i "$LIBDIR/allowsync.deb" >"$W/dpkg.log" 2>&1 &&
	    return 0
	echo "systemd: dpkg -i failed; apt-get -f install"
	timeout "$STEP_TIMEOUT" systemd-nspawn -q --pipe --register=no \
	    --keep-unit -D "$TREE" sh -c \
	    'apt-get update -q && apt-get -f install -y -q --download-only' \
	    >>"$W/dpkg.log" 2>&1 &&
	nspawn apt-get -f install -y -q --no-download >>"$W/dpkg.log" 2>&1 ||
	    { log_tail "$W/dpkg.log"; die "cannot install the package"; }
}

# --- boot ------------------------------------------------------------------

# stop_container: power the container off, or kill it.  Killing its PID 1
# ends every process in it (the vendor too); nspawn's death alone would
# not.
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
	NSPAWN=
	# Still a PID namespace's init: not a number used again since.
	if [ -n "$INIT" ] &&
	    grep -q "^NSpid:[[:space:]]*${INIT}[[:space:]]*1$" \
	    "/proc/$INIT/status" 2>/dev/null; then
		kill -KILL "$INIT" 2>/dev/null
	fi
}

# boot: boot the tree and wait for the checks to power it off; 1 if it
# was still up after BOOT_TIMEOUT s.
boot() {
	local t0 rc=1

	t0=$(date +%s)
	systemd-nspawn -q --private-network --register=no --keep-unit \
	    -D "$TREE" -b >"$W/console.log" 2>&1 &
	NSPAWN=$!
	while [ "$(since "$t0")" -lt "$BOOT_TIMEOUT" ]; do
		[ -n "$INIT" ] ||
		    INIT=$(awk '{ print $1 }' \
		    "/proc/$NSPAWN/task/$NSPAWN/children" 2>/dev/null)
		if ! kill -0 "$NSPAWN" 2>/dev/null; then
			rc=0
			break
		fi
		sleep 0.5
	done
	stop_container
	echo "systemd: boot, checks and poweroff in $(since "$t0") s"
	return $rc
}

# report TIMED_OUT: the container's TAP lines and the host's own, counted.
report() {
	local tap=$TREE/$TAP

	result "$1" "the container powered itself off within $BOOT_TIMEOUT s"
	if [ ! -s "$tap" ]; then
		result 1 "the checks ran and wrote /$TAP"
		return
	fi
	grep -v '^1\.\.' "$tap"
	pass=$((pass + $(grep -c '^ok - ' "$tap")))
	failed=$((failed + $(grep -c '^not ok - ' "$tap")))
	grep -q '^1\.\.[0-9]' "$tap" ||
	    result 1 "the checks ran to the end (no plan line)"
}

cleanup() {
	stop_container
	[ -z "$W" ] || rm -rf --one-file-system "$W"
}

main() {
	local timed_out=0

	[ "$(id -u)" = 0 ] || die "must run as root"
	W=$(mktemp -d /var/tmp/allowsync-systemd.XXXXXX) || exit 1
	TREE=$W/tree
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	need_tools
	build_deb
	unpack_tree
	stage_files
	install_deb
	boot || timed_out=1
	report "$timed_out"
	if [ "$failed" != 0 ]; then
		echo "    the container's console:"
		log_tail "$W/console.log" 40
	fi
	echo "systemd: $(since "$start") s in all"
	echo "systemd: $pass passed, $failed failed"
	[ "$failed" = 0 ]
}

main "$@"
