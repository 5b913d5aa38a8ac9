#!/usr/bin/env bash
# tests/packaging.sh - check what allowsync ships: man pages, systemd units,
# the unprivileged run with only CAP_NET_ADMIN, the Debian package, the RPM
# spec and make install/uninstall.
#
# Run as root from the top of the tree, after `make`.  Needs (Debian):
#   debhelper lintian mandoc man-db rpm strace systemd nftables util-linux
#   python3
# plus the build dependencies.  Touches nftables only inside a private
# network namespace.  Installs and purges the allowsync package, so it
# refuses that part when allowsync is already installed on this host.
set -uo pipefail

cd "$(dirname "$0")/.." || exit 1
TOP=$PWD
BIN=$TOP/allowsync
pass=0 failed=0 skipped=0
purge=0
# The package makes the group and purge keeps it; a group this test made
# goes with the test.
GROUP=allowsync-metrics
delgroup=0

T=$(mktemp -d /tmp/allowsync-pkg.XXXXXX) || exit 1
chmod 0755 "$T"

cleanup() {
	# The package's prerm runs allowsync --uninstall: in a namespace.
	if [ "$purge" = 1 ]; then
		unshare -n dpkg --purge allowsync >/dev/null 2>&1
	fi
	if [ "$delgroup" = 1 ]; then
		groupdel "$GROUP" >/dev/null 2>&1
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

ok() { pass=$((pass + 1)); echo "ok - $1"; }
skip() { skipped=$((skipped + 1)); echo "skip - $1"; }
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	[ -s "$T/out" ] && sed 's/^/    | /' "$T/out" | tail -n 40
}

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0.
check() {
	local d=$1
	shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; fi
}

# quiet DESCRIPTION COMMAND...: passes when COMMAND exits 0 and prints
# nothing at all (systemd-analyze verify warns without failing).
quiet() {
	local d=$1
	shift
	if "$@" >"$T/out" 2>&1 && [ ! -s "$T/out" ]; then
		ok "$d"
	else
		not_ok "$d"
	fi
}

if [ "$(id -u)" != 0 ]; then
	echo "packaging: must run as root" >&2
	exit 1
fi
make -s allowsync >"$T/out" 2>&1 || { cat "$T/out"; exit 1; }
VERSION=$(dpkg-parsechangelog -l packaging/debian/changelog -S Version)

# --- man pages -------------------------------------------------------------
for m in docs/allowsync.8 docs/allowsync.conf.5; do
	check "mandoc -T lint $m: no warnings" mandoc -T lint -W warning "$m"
done

# Every option in --help is documented in allowsync(8).
opts_documented() {
	local o rc=0

	for o in $("$BIN" --help | grep -o -- '--[a-z][a-z0-9-]*' | sort -u); do
		grep -q -- "^\.It .*Fl Fl ${o#--}\b" docs/allowsync.8 ||
		    { echo "allowsync.8 lacks $o"; rc=1; }
	done
	return $rc
}
check "allowsync(8) documents every option of --help" opts_documented

# --- systemd units ---------------------------------------------------------
# verify needs ExecStart= to exist and the Documentation= man pages to be
# found: verify copies that point at the built binary, with MANPATH set.
mkdir -p "$T/units" "$T/man/man5" "$T/man/man8"
cp docs/allowsync.8 "$T/man/man8/"
cp docs/allowsync.conf.5 "$T/man/man5/"
for u in units/*; do
	sed "s|/usr/sbin/allowsync|$BIN|g" "$u" >"$T/units/${u#units/}"
done
quiet "systemd-analyze verify: all units" env MANPATH="$T/man" \
    systemd-analyze verify "$T"/units/allowsync.service \
    "$T"/units/allowsync.timer "$T"/units/allowsync-restore.service

exposure() {
	local u=$1 score

	score=$(systemd-analyze security --offline=yes "$u" 2>&1 |
	    sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
	echo "$u: exposure $score"
	[ -n "$score" ] && awk -v s="$score" 'BEGIN { exit !(s <= 2.0) }'
}
for u in units/allowsync.service units/allowsync-restore.service; do
	if exposure "$u" >"$T/out" 2>&1; then
		ok "$(cat "$T/out") <= 2.0"
	else
		not_ok "systemd-analyze security $u <= 2.0"
	fi
done

# The directives the service must carry, and those it must not.
has_directives() {
	local f=$1 d rc=0

	for d in Type=oneshot DynamicUser=yes \
	    'ExecCondition=/usr/sbin/allowsync --is-configured$' \
	    SupplementaryGroups=allowsync-metrics \
	    ReadWritePaths=-/var/lib/prometheus/node-exporter \
	    CapabilityBoundingSet=CAP_NET_ADMIN \
	    AmbientCapabilities=CAP_NET_ADMIN StateDirectory=allowsync \
	    StateDirectoryMode=0700 NoNewPrivileges=yes ProtectSystem=strict \
	    ProtectHome=yes PrivateTmp=yes PrivateDevices=yes \
	    ProtectKernelTunables=yes ProtectKernelModules=yes \
	    ProtectKernelLogs=yes ProtectControlGroups=yes ProtectClock=yes \
	    ProtectHostname=yes RestrictNamespaces=yes RestrictRealtime=yes \
	    RestrictSUIDSGID=yes LockPersonality=yes \
	    MemoryDenyWriteExecute=yes SystemCallArchitectures=native \
	    SystemCallFilter=@system-service UMask=0077 TimeoutStartSec=; do
		grep -q "^$d" "$f" || { echo "$f lacks $d"; rc=1; }
	done
	if grep -q '^PrivateNetwork=\|^PrivateUsers=' "$f"; then
		echo "$f sets PrivateNetwork= or PrivateUsers="
		rc=1
	fi
	return $rc
}
# The hardening block (from "# Hardening" to the next blank line) sorted.
sorted_hardening() {
	awk '/^# Hardening/ { f = 1; next } f && /^$/ { exit }
	    f && !/^#/' "$1" | LC_ALL=C sort -c
}
for u in units/allowsync.service units/allowsync-restore.service; do
	check "$u: required hardening present" has_directives "$u"
	check "$u: hardening directives sorted" sorted_hardening "$u"
done
check "allowsync.service: the four address families" grep -qx \
    'RestrictAddressFamilies=AF_UNIX AF_INET AF_INET6 AF_NETLINK' \
    units/allowsync.service
check "allowsync.service: after network-online and nftables" grep -qx \
    'After=network-online.target nftables.service allowsync-restore.service' \
    units/allowsync.service
timer_ok() {
	grep -qx 'OnCalendar=daily' units/allowsync.timer &&
	grep -qx 'RandomizedDelaySec=1h' units/allowsync.timer &&
	grep -qx 'Persistent=true' units/allowsync.timer
}
check "allowsync.timer: daily, randomised, persistent" timer_ok
restore_ok() {
	local u=units/allowsync-restore.service

	grep -qx 'ExecStart=/usr/sbin/allowsync --restore' $u &&
	grep -qx 'ExecReload=/usr/sbin/allowsync --restore' $u &&
	grep -qx 'RemainAfterExit=yes' $u &&
	grep -qx 'PartOf=nftables.service firewalld.service' $u &&
	grep -qx 'ReloadPropagatedFrom=nftables.service firewalld.service' $u &&
	grep -qx 'After=nftables.service firewalld.service' $u
}
check "allowsync-restore.service: follows nftables and firewalld" restore_ok

# --- cron ------------------------------------------------------------------
cron_ok() {
	local f=packaging/cron.d/allowsync cmd

	grep -q '^[0-9].*allowsync --quiet; }$' $f &&
	grep -q '^@reboot.*allowsync --quiet --restore$' $f &&
	grep -q 'shuf -i 0-3600 -n 1' $f || return 1
	# The command fields must parse under a plain POSIX sh.
	while read -r cmd; do
		dash -n -c "$cmd" || return 1
	done < <(awk '/^[0-9]/ { $1 = $2 = $3 = $4 = $5 = $6 = ""; print }
	    /^@reboot/ { $1 = $2 = ""; print }' $f)
}
check "cron.d/allowsync: daily with random sleep, @reboot restore, POSIX sh" \
    cron_ok

# --- unprivileged, CAP_NET_ADMIN only, in a private netns ------------------
# The example ruleset of docs/nftables.md, its include pointed at our state.
mkdir -p "$T/state"
chown 65534:65534 "$T/state"
chmod 0700 "$T/state"
awk '/^```$/ && f { exit } f { print } /^#!\/usr\/sbin\/nft -f$/ { f = 1 }' \
    docs/nftables.md |
    sed "s|/var/lib/allowsync/|$T/state/|" >"$T/ruleset.nft"
printf '{"API": ["185.10.20.1", "185.10.40.0/22", "2a02:1234::/48"]}\n' \
    >"$T/list.json"
: >"$T/empty.conf"
chmod 0644 "$T/list.json" "$T/empty.conf" "$T/ruleset.nft"
ARGS=(-c "$T/empty.conf" --url "file://$T/list.json")
# Not "--help | grep -q" under pipefail: grep leaving early fails the pipe.
"$BIN" --help >"$T/help"
if grep -q -- --state-dir "$T/help"; then
	ARGS+=(--state-dir "$T/state")
	has_state=1
else
	has_state=0
fi
HAS_RESTORE=0
grep -q -- --restore "$T/help" && HAS_RESTORE=1
export BIN T HAS_RESTORE has_state
export ARGS_STR="${ARGS[*]}"

# Runs inside `unshare -n`: prints one "ok"/"not ok" line per step.
netns_steps() {
	local -a args
	read -r -a args <<<"$ARGS_STR"
	local unpriv=(setpriv --reuid=65534 --regid=65534 --clear-groups
	    --inh-caps=+net_admin --ambient-caps=+net_admin
	    '--bounding-set=-all,+net_admin')
	local nopriv=(setpriv --reuid=65534 --regid=65534 --clear-groups
	    --inh-caps=-all --bounding-set=-all)

	elements() {
		nft -j list set inet filter "$1" | python3 -c '
import json, sys
for o in json.load(sys.stdin)["nftables"]:
    for e in o.get("set", {}).get("elem", []):
        if isinstance(e, dict) and "elem" in e:
            e = e["elem"]["val"]    # an element with a comment
        p = e.get("prefix") if isinstance(e, dict) else None
        print("%s/%d" % (p["addr"], p["len"]) if p else e)'
	}
	want() {
		[ "$(elements docplanner_v4 | sort | tr '\n' ' ')" = \
		    "185.10.20.1 185.10.40.0/22 " ] &&
		[ "$(elements docplanner_v6 | tr '\n' ' ')" = \
		    "2a02:1234::/48 " ]
	}
	step() {
		local d=$1
		shift
		if "$@" >>"$T/netns.log" 2>&1; then echo "ok - $d"
		else echo "not ok - $d"; fi
	}

	step "docs/nftables.md ruleset passes nft -c -f" \
	    nft -c -f "$T/ruleset.nft"
	nft -f "$T/ruleset.nft" >>"$T/netns.log" 2>&1
	step "unprivileged run without CAP_NET_ADMIN exits 77" \
	    sh -c '"$@"; [ $? -eq 77 ]' sh "${nopriv[@]}" "$BIN" "${args[@]}"
	local trace=()
	command -v strace >/dev/null &&
	    trace=(strace -f -qq -o "$T/trace.sync")
	step "uid 65534 with only CAP_NET_ADMIN syncs the sets" \
	    "${trace[@]}" "${unpriv[@]}" "$BIN" "${args[@]}"
	step "the kernel sets hold the list (nft -j list set)" want
	[ "$has_state" = 1 ] || return 0
	step "the include file was written by the unprivileged run" \
	    test -s "$T/state/allowsync.nft"
	step "ruleset reload (flush ruleset + include) brings the list back" \
	    sh -c 'nft -f "$1" && nft -c -f "$1"' sh "$T/ruleset.nft"
	step "after the reload the sets hold the list" want
	[ "$HAS_RESTORE" = 1 ] || return 0
	nft flush set inet filter docplanner_v4 >>"$T/netns.log" 2>&1
	nft flush set inet filter docplanner_v6 >>"$T/netns.log" 2>&1
	[ ${#trace[@]} = 0 ] || trace=(strace -f -qq -o "$T/trace.restore")
	step "unprivileged --restore after nft flush set" \
	    "${trace[@]}" "${unpriv[@]}" "$BIN" "${args[@]}" --restore
	step "after --restore the sets hold the list" want
}
export -f netns_steps
: >"$T/netns.log"
while read -r line; do
	case $line in
	"ok - "*) ok "${line#ok - }" ;;
	*)
		: >"$T/out"
		not_ok "${line#not ok - }"
		sed 's/^/    | /' "$T/netns.log" | tail -n 20
		;;
	esac
done < <(unshare -n bash -c netns_steps 2>&1)
[ "$has_state" = 1 ] || skip "state directory steps: no --state-dir yet"

# The system calls those runs made (from the exec of allowsync on) must all
# pass the units' SystemCallFilter=, or the service fails where the tests
# above pass.
expand_filter() {
	local g item

	for g; do
		systemd-analyze syscall-filter "$g" |
		    awk 'NR > 1 && $1 !~ /^#/ { print $1 }' |
		    while read -r item; do
			case $item in
			@*) expand_filter "$item" ;;
			*) echo "$item" ;;
			esac
		done
	done
}
syscalls_allowed() {
	local bad

	expand_filter @system-service | sort -u >"$T/allow"
	expand_filter @privileged @resources | sort -u >"$T/deny"
	comm -23 "$T/allow" "$T/deny" >"$T/allowed"
	awk -v x="execve(\"$BIN\"" 'index($0, x) { f = 1 } f' "$1" |
	    sed -n 's/^[0-9][0-9]* *\([a-z0-9_]*\)(.*/\1/p' | sort -u >"$T/used"
	[ -s "$T/used" ] || { echo "no system calls traced in $1"; return 1; }
	bad=$(comm -23 "$T/used" "$T/allowed")
	[ -z "$bad" ] || { echo "filtered out: $bad"; return 1; }
}
for t in sync restore; do
	if [ -s "$T/trace.$t" ]; then
		check "every system call of the $t run passes SystemCallFilter=" \
		    syscalls_allowed "$T/trace.$t"
	else
		skip "system calls of the $t run: no strace or no trace"
	fi
done

# --- Debian package --------------------------------------------------------
# dpkg-shlibdeps sees symbol versions, not GLIBC_ABI_DT_RELR (glibc 2.36).
deb_relr_depends() {
	! readelf -V "$T/debx/usr/sbin/allowsync" | grep -q GLIBC_ABI_DT_RELR ||
	    dpkg-deb -f "$DEB" Depends | grep -q 'libc6 (>= 2\.3[6-9]'
}
# More than the C runtime's few bytes of .eh_frame: gdb, perf and a core
# dump's stack need them, debug symbols or not.
deb_unwind_tables() {
	local size

	size=$(readelf -SW "$T/debx/usr/sbin/allowsync" |
	    sed -n 's/.* \.eh_frame  *PROGBITS  *[0-9a-f]*  *[0-9a-f]*  *\([0-9a-f]*\) .*/\1/p')
	[ -n "$size" ] && [ $((16#$size)) -gt 4096 ]
}

rm -f build/allowsync_*.deb
check "make deb" make deb
DEB=$(ls build/allowsync_"$VERSION"_*.deb 2>/dev/null | head -n 1)
if [ -n "$DEB" ]; then
	echo "    $DEB: $(stat -c %s "$DEB") bytes"
	lintian "$DEB" >"$T/lintian" 2>/dev/null
	echo "    lintian: $(grep -c '^E:' "$T/lintian") errors," \
	    "$(grep -c '^W:' "$T/lintian") warnings," \
	    "$(grep -c '^I:' "$T/lintian") info"
	sed 's/^/    | /' "$T/lintian"
	check "lintian: no errors" lintian --fail-on error "$DEB"
	check "deb ships /etc/allowsync/allowsync.conf as a conffile" \
	    sh -c 'dpkg-deb -I "$1" conffiles |
	    grep -qx /etc/allowsync/allowsync.conf' sh "$DEB"
	dpkg-deb -x "$DEB" "$T/debx"
	check "deb: libc6 (>= 2.36) when the binary needs DT_RELR" \
	    deb_relr_depends
	check "deb: the binary keeps its unwind tables (crash stacks)" \
	    deb_unwind_tables
fi

DEB_FILES="/usr/sbin/allowsync /etc/allowsync/allowsync.conf
/lib/systemd/system/allowsync.service /lib/systemd/system/allowsync.timer
/lib/systemd/system/allowsync-restore.service
/usr/share/man/man8/allowsync.8.gz /usr/share/man/man5/allowsync.conf.5.gz
/usr/share/doc/allowsync/nftables.md.gz
/usr/share/doc/allowsync/operations.md.gz
/usr/share/doc/allowsync/fleet.md.gz /usr/share/doc/allowsync/guard.md.gz
/usr/share/doc/allowsync/formats.md.gz /usr/share/doc/allowsync/design.md.gz
/usr/share/doc/allowsync/performance.md.gz
/etc/cron.d/allowsync"
TIMER_LINK=/etc/systemd/system/timers.target.wants/allowsync.timer

files_present() {
	local f rc=0

	for f in $DEB_FILES; do
		[ -e "$f" ] || { echo "missing $f"; rc=1; }
	done
	return $rc
}
files_absent() {
	local f rc=0

	for f in $DEB_FILES $TIMER_LINK /etc/allowsync; do
		if [ -e "$f" ] || [ -L "$f" ]; then echo "left $f"; rc=1; fi
	done
	return $rc
}
timer_enabled() {
	if [ -d /run/systemd/system ]; then
		systemctl is-enabled allowsync.timer
	else
		[ -L "$TIMER_LINK" ]
	fi
}

if [ -z "$DEB" ]; then
	skip "dpkg -i: no package built"
elif dpkg-query -W -f '${Status}' allowsync 2>/dev/null | grep -q installed ||
    [ -e /usr/sbin/allowsync ] || [ -e /etc/allowsync ]; then
	skip "dpkg -i: allowsync is already on this host; not touching it"
else
	purge=1
	getent group "$GROUP" >/dev/null || delgroup=1
	check "dpkg -i $DEB" dpkg -i "$DEB"
	check "dpkg -i made the system group $GROUP" \
	    sh -c 'gid=$(getent group "$1" | cut -d: -f3) &&
	    [ -n "$gid" ] && [ "$gid" -lt 1000 ]' sh "$GROUP"
	check "installed allowsync --version" \
	    sh -c '/usr/sbin/allowsync --version | grep -q "$1"' sh "$VERSION"
	check "installed allowsync --help" \
	    sh -c '/usr/sbin/allowsync --help | grep -q "^usage: allowsync"'
	check "files land where they should" files_present
	check "allowsync.timer enabled on install" timer_enabled
	check "man allowsync finds the page" \
	    sh -c 'man -w allowsync && man -w 5 allowsync.conf'
	check "remove and purge take the guard table and the state" \
	    unshare -n sh -c '
	    mkdir -p /var/lib/allowsync &&
	    /usr/sbin/allowsync -c "$T/empty.conf" --url "file://$T/list.json" \
	        --guard-ports tcp/8443 >/dev/null &&
	    nft list table inet allowsync >/dev/null &&
	    [ -s /var/lib/allowsync/allowsync.nft ] &&
	    dpkg --purge allowsync &&
	    ! nft list table inet allowsync 2>/dev/null &&
	    [ ! -e /var/lib/allowsync ] && [ ! -e /var/lib/private/allowsync ]'
	purge=0
	check "purge leaves nothing behind" files_absent
	check "purge keeps the group $GROUP" getent group "$GROUP"
fi

# --- RPM spec --------------------------------------------------------------
check "rpmspec -P packaging/rpm/allowsync.spec" \
    rpmspec -P packaging/rpm/allowsync.spec
check "RPM spec version matches" sh -c \
    'rpmspec -q --qf "%{VERSION}\n" --srpm "$1" | grep -qx "$2"' \
    sh packaging/rpm/allowsync.spec "$VERSION"

# --- make install / uninstall ----------------------------------------------
D=$T/root
INST=(DESTDIR="$D" PREFIX=/usr)
installed_ok() {
	local f rc=0

	for f in usr/sbin/allowsync etc/allowsync/allowsync.conf \
	    etc/cron.d/allowsync usr/lib/systemd/system/allowsync.service \
	    usr/lib/systemd/system/allowsync.timer \
	    usr/lib/systemd/system/allowsync-restore.service \
	    usr/share/man/man8/allowsync.8 \
	    usr/share/man/man5/allowsync.conf.5 \
	    usr/share/doc/allowsync/README.md; do
		[ -f "$D/$f" ] || { echo "missing $f"; rc=1; }
	done
	# Nothing may land outside DESTDIR: all of it is under $D.
	return $rc
}
no_files_left() {
	local left

	left=$(find "$D" ! -type d)
	[ -z "$left" ] || { echo "left: $left"; return 1; }
}
check "make install DESTDIR PREFIX=/usr" make -s install "${INST[@]}"
check "make install: files in place" installed_ok
check "installed units name PREFIX's binary" grep -qx \
    'ExecStart=/usr/sbin/allowsync' \
    "$D/usr/lib/systemd/system/allowsync.service"
check "make uninstall" make -s uninstall "${INST[@]}"
check "make uninstall leaves no files" no_files_left

keep_config() {
	make -s install "${INST[@]}" &&
	echo 'locale = pl' >>"$D/etc/allowsync/allowsync.conf" &&
	make -s install "${INST[@]}" &&
	tail -n 1 "$D/etc/allowsync/allowsync.conf" | grep -qx 'locale = pl' &&
	make -s uninstall "${INST[@]}" &&
	# An edited config is the operator's: uninstall keeps it.
	[ "$(find "$D" ! -type d)" = "$D/etc/allowsync/allowsync.conf" ]
}
check "second make install keeps an edited config; uninstall too" keep_config

prefix_units() {
	local P=$T/local

	make -s install DESTDIR="$P" PREFIX=/usr/local &&
	grep -qx 'ExecStart=/usr/local/sbin/allowsync' \
	    "$P/usr/local/lib/systemd/system/allowsync.service" &&
	grep -q '/usr/local/sbin/allowsync --quiet --restore$' \
	    "$P/etc/cron.d/allowsync" &&
	make -s uninstall DESTDIR="$P" PREFIX=/usr/local &&
	[ -z "$(find "$P" ! -type d)" ]
}
check "PREFIX=/usr/local: units and cron point at /usr/local/sbin" \
    prefix_units

echo "packaging: $pass passed, $failed failed, $skipped skipped"
[ "$failed" = 0 ]
