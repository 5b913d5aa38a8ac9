#!/bin/bash
# tests/systemd/checks.sh - the checks tests/systemd.sh runs in the
# container it boots: as root, under systemd as PID 1, with the package
# installed before the boot and the files the checks need in
# /usr/local/lib/allowsync-test.  Writes "ok - NAME" or "not ok - NAME"
# per check (a failed one with its output indented below) and a closing
# TAP plan line ("1..N") to /allowsync-checks.tap, which the
# host reads once the container is down.  The checks build on each other,
# in the order a host goes through: installed, configured, granted,
# reloaded, removed, purged.
set -u

LIB=/usr/local/lib/allowsync-test
CONF=/etc/allowsync/allowsync.conf
STATE=/var/lib/private/allowsync
TEXTFILE=/var/lib/prometheus/node-exporter
PROM=$TEXTFILE/allowsync.prom
GROUP=allowsync-metrics
T=$(mktemp -d)
pass=0 failed=0
CURSOR=

exec >/allowsync-checks.tap 2>&1

ok() {
	pass=$((pass + 1))
	echo "ok - $1"
}
not_ok() {
	failed=$((failed + 1))
	echo "not ok - $1"
	sed 's/^/    | /' "$T/out" | tail -n 30
}

# check DESCRIPTION COMMAND...: passes when COMMAND exits 0; its output
# is shown only when it fails.
check() {
	local d=$1

	shift
	if "$@" >"$T/out" 2>&1; then ok "$d"; else not_ok "$d"; fi
}

# mark: remember where the journal ends; logged UNIT TEXT: UNIT logged TEXT
# since the last mark (the journal may lag behind a unit that just ended).
# Not journalctl -u: a line from the process systemd forked for a command
# that failed before it ran ("Failed at step GROUP") names the unit in
# UNIT=, and gets no _SYSTEMD_UNIT= when the process is gone before
# journald looks at it.
mark() {
	CURSOR=$(journalctl -q -n 1 --show-cursor 2>/dev/null |
	    sed -n 's/^-- cursor: //p')
	[ -n "$CURSOR" ] || { echo "no journal cursor"; return 1; }
}
logged() {
	for _ in $(seq 30); do
		journalctl --sync 2>/dev/null
		journalctl -q -o cat ${CURSOR:+"--after-cursor=$CURSOR"} \
		    "_SYSTEMD_UNIT=$1" + "UNIT=$1" >"$T/journal" 2>&1
		grep -qF -- "$2" "$T/journal" && return 0
		sleep 0.1
	done
	echo "$1 did not log: $2"
	sed 's/^/journal: /' "$T/journal"
	return 1
}

# sd VERB UNIT: systemctl VERB UNIT, with the unit's status and last log
# lines when it fails.  The checks start these units far more often than
# a host does: the start limits (5 in 10 s) are reset first, with any
# failed state, which the checks look at afterwards.
sd() {
	systemctl reset-failed nftables.service allowsync.service \
	    allowsync-restore.service 2>/dev/null
	systemctl "$1" "$2" && return 0
	systemctl status --no-pager -n 20 "$2"
	return 1
}

# status UNIT: the exit status of its last main process.
status() {
	systemctl show -p ExecMainStatus --value "$1"
}

# not_failed UNIT...: none of them failed.
not_failed() {
	if systemctl is-failed --quiet "$@"; then
		systemctl status --no-pager "$@"
		return 1
	fi
}

# settle: wait until systemd has no job left but the checks' own.
settle() {
	for _ in $(seq 100); do
		systemctl list-jobs --no-legend | grep -v allowsync-checks |
		    grep -q . || return 0
		sleep 0.1
	done
	systemctl list-jobs
	return 1
}

# elems SET: its elements, sorted, on one line.
elems() {
	local j

	j=$(nft -j list set inet filter "$1") || return 1
	printf '%s\n' "$j" | python3 -c '
import json, sys
out = []
for o in json.load(sys.stdin)["nftables"]:
	for e in o.get("set", {}).get("elem", []):
		if isinstance(e, dict) and "elem" in e:
			e = e["elem"]["val"]
		if isinstance(e, str):
			out.append(e)
		elif "prefix" in e:
			p = e["prefix"]
			out.append("%s/%d" % (p["addr"], p["len"]))
		elif "range" in e:
			out.append("%s-%s" % tuple(e["range"]))
print(" ".join(sorted(out)))'
}

# want: the sets hold the vendor's list (list.json), nothing else.
want() {
	local v4 v6

	v4=$(elems docplanner_v4) v6=$(elems docplanner_v6)
	echo "docplanner_v4: $v4"
	echo "docplanner_v6: $v6"
	[ "$v4" = "185.10.20.1 185.10.40.0/22" ] && [ "$v6" = "2a02:1234::/48" ]
}

# flush_sets: empty both sets, as someone's nft command would.
flush_sets() {
	nft flush set inet filter docplanner_v4 &&
	nft flush set inet filter docplanner_v6 &&
	[ -z "$(elems docplanner_v4)" ] && [ -z "$(elems docplanner_v6)" ]
}

# --- installed, not configured ---------------------------------------------

# skipped UNIT: starting UNIT succeeds, its ExecCondition= skipped the run
# and said why.
skipped() {
	mark || return 1
	sd start "$1" || return 1
	not_failed "$1" || return 1
	[ "$(systemctl show -p Result --value "$1")" = exec-condition ] ||
	    { systemctl show -p Result "$1"; return 1; }
	logged "$1" "not configured: $CONF names no source"
}

booted_skipped() {
	CURSOR=
	not_failed allowsync-restore.service &&
	logged allowsync-restore.service "not configured: $CONF names no source"
}
check "boot: allowsync-restore.service was skipped, not failed" \
    booted_skipped
check "not configured: systemctl start allowsync.service skips the run" \
    skipped allowsync.service
check "not configured: systemctl start allowsync-restore.service skips it" \
    skipped allowsync-restore.service

nftables_unconfigured() {
	sd restart nftables.service &&
	sd reload nftables.service && settle &&
	not_failed allowsync.service allowsync-restore.service
}
check "not configured: nftables restart and reload fail no allowsync unit" \
    nftables_unconfigured

timer_on() {
	systemctl is-enabled allowsync.timer | grep -qx enabled &&
	systemctl is-active allowsync.timer
}
check "allowsync.timer is enabled and active" timer_on

no_failed_units() {
	local f

	f=$(systemctl list-units --failed --no-legend --plain)
	[ -z "$f" ] || { echo "failed: $f"; return 1; }
}
check "not configured: no unit of the system failed" no_failed_units

# --- configured --------------------------------------------------------------

# The vendor: list.json over HTTPS on 127.0.0.1, with the test CA.
vendor() {
	mkdir -p /srv/vendor && cp "$LIB/list.json" /srv/vendor/ &&
	python3 "$LIB/https_server.py" --root /srv/vendor \
	    --cert "$LIB/server.pem" --key "$LIB/server.key" \
	    --port-file "$T/port" --log "$T/requests.log" &
	for _ in $(seq 50); do
		[ -s "$T/port" ] && PORT=$(cat "$T/port") && return 0
		sleep 0.1
	done
	return 1
}
check "the vendor serves list.json on https://127.0.0.1" vendor

# The ruleset of docs/nftables.md with the include, the directory of
# Debian's prometheus-node-exporter as it ships it, and a source.
configure() {
	install -m 0755 "$LIB/nftables.conf" /etc/nftables.conf &&
	install -d -m 0755 -o root -g root /var/lib/prometheus "$TEXTFILE" &&
	cat >"$CONF" <<-EOF &&
	url = https://127.0.0.1:$PORT/list.json
	ca-file = $LIB/ca.pem
	metrics-file = $PROM
	EOF
	sd restart nftables.service &&
	nft list set inet filter docplanner_v4 >/dev/null
}
check "configured: the ruleset of docs/nftables.md loads (restart nftables)" \
    configure

# A make install from source without the group (operations.md): systemd
# cannot spawn the ExecCondition=, so the run is skipped, not failed, and
# the journal says why.  The group comes back as the package makes it.
no_group() {
	local rc=0

	groupdel "$GROUP" || return 1
	mark && sd start allowsync.service || rc=1
	not_failed allowsync.service || rc=1
	systemctl show -p Result allowsync.service |
	    grep -qx Result=exec-condition || rc=1
	logged allowsync.service "Failed at step GROUP spawning" || rc=1
	addgroup --system --quiet "$GROUP" || rc=1
	return $rc
}
check "without the group $GROUP the run is skipped, not failed" no_group

# No saved list yet: --restore exits 66, which the unit counts as success.
restore_first() {
	sd start allowsync-restore.service &&
	not_failed allowsync-restore.service &&
	[ "$(status allowsync-restore.service)" = 66 ]
}
check "no state yet: allowsync-restore.service exits 66, not failed" \
    restore_first

no_grant() {
	mark || return 1
	if sd start allowsync.service; then
		echo "allowsync.service succeeded"
		return 1
	fi
	systemctl is-failed --quiet allowsync.service &&
	[ "$(status allowsync.service)" = 73 ] &&
	logged allowsync.service \
	    "$PROM: cannot create a temporary file: Permission denied"
}
check "no grant: allowsync.service fails, exit 73, naming the metrics file" \
    no_grant
check "no grant: the sets hold the list all the same" want

grant() {
	chgrp "$GROUP" "$TEXTFILE" && chmod g+w "$TEXTFILE" &&
	systemctl reset-failed allowsync.service &&
	sd start allowsync.service &&
	not_failed allowsync.service &&
	[ "$(status allowsync.service)" = 0 ]
}
check "after chgrp $GROUP and chmod g+w: allowsync.service succeeds" grant
check "the sets hold the list" want

# The state directory is the dynamic user's (systemd's range for them is
# 61184-65519), and so is the metrics file that run wrote.
dynamic_user() {
	local uid

	uid=$(stat -c %u "$STATE")
	ls -ld "$STATE" /var/lib/allowsync "$PROM"
	[ "$uid" -ge 61184 ] && [ "$uid" -le 65519 ] &&
	[ "$(readlink /var/lib/allowsync)" = private/allowsync ] &&
	[ "$(stat -c %u "$PROM")" = "$uid" ]
}
check "the run was a dynamic user's (owner of $STATE and the metrics)" \
    dynamic_user

metrics() {
	ls -l "$PROM" && grep '^allowsync_exit_code' "$PROM"
	[ "$(stat -c %a "$PROM")" = 644 ] &&
	grep -qx 'allowsync_exit_code 0' "$PROM"
}
check "metrics: $PROM, mode 0644, allowsync_exit_code 0" metrics

# --- reloads and restores ----------------------------------------------------

restore_active() {
	settle && not_failed allowsync-restore.service &&
	systemctl is-active allowsync-restore.service
}
restart_nftables() {
	flush_sets && sd restart nftables.service && want
}
check "systemctl restart nftables: the sets hold the list right after it" \
    restart_nftables
check "... and allowsync-restore.service followed it (active, not failed)" \
    restore_active
by_hand() {
	flush_sets && nft -f /etc/nftables.conf && want
}
check "nft -f /etc/nftables.conf by hand: the include brings the list back" \
    by_hand

restore_restart() {
	flush_sets && sd restart allowsync-restore.service &&
	[ "$(status allowsync-restore.service)" = 0 ] && want
}
check "nft flush set, systemctl restart allowsync-restore.service: restored" \
    restore_restart
restore_reload() {
	flush_sets && sd reload allowsync-restore.service && want
}
check "nft flush set, systemctl reload allowsync-restore.service: restored" \
    restore_reload

# A configuration that names a source but is broken passes the condition,
# so that the run fails loudly.
broken() {
	local rc=0

	cp "$CONF" "$T/good.conf"
	echo 'no-such-key = 1' >>"$CONF"
	if sd start allowsync.service; then
		echo "allowsync.service succeeded"
		rc=1
	fi
	[ "$(status allowsync.service)" = 78 ] || rc=1
	systemctl is-failed --quiet allowsync.service || rc=1
	cp "$T/good.conf" "$CONF"
	systemctl reset-failed allowsync.service
	sd start allowsync.service || rc=1
	return $rc
}
check "a broken configuration fails allowsync.service with 78" broken

# --- remove, reinstall, purge ----------------------------------------------

removed() {
	apt-get remove -y -q allowsync || return 1
	ls -la "$STATE" /var/lib/allowsync
	[ ! -e /usr/sbin/allowsync ] && [ -f "$CONF" ] &&
	[ -L /var/lib/allowsync ] && [ -d "$STATE" ] &&
	compgen -G "$STATE/source-*.state" >/dev/null
}
check "apt-get remove: the program goes; the state and the config stay" \
    removed

reinstalled() {
	dpkg -i "$LIB/allowsync.deb" &&
	systemctl is-active allowsync.timer &&
	flush_sets && sd restart allowsync-restore.service &&
	[ "$(status allowsync-restore.service)" = 0 ] && want &&
	sd start allowsync.service && [ "$(status allowsync.service)" = 0 ]
}
check "dpkg -i again: the timer is on, the kept state restores, a sync works" \
    reinstalled

purged() {
	apt-get purge -y -q allowsync || return 1
	ls -d "$STATE" /var/lib/allowsync /etc/allowsync 2>&1
	[ ! -e "$STATE" ] && [ ! -L /var/lib/allowsync ] &&
	[ ! -e /var/lib/allowsync ] && [ ! -e /etc/allowsync ]
}
check "apt-get purge: $STATE, /var/lib/allowsync, /etc/allowsync gone" \
    purged
check "the purge keeps the group $GROUP" getent group "$GROUP"
check "after the purge the ruleset still loads (restart nftables)" \
    sd restart nftables.service
check "no unit of the system failed" no_failed_units

echo "1..$((pass + failed))"
[ "$failed" = 0 ]
