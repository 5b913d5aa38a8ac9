#!/usr/bin/env bash
# Sections and presets against the real allowsync binary, a real HTTPS
# server on 127.0.0.1 and real nftables, each case in its own network
# namespace (tests/harness.sh): several vendors in one transaction, sets
# shared between sections, a section standing on its cache, the upgrade
# from a state directory without sections, --section, and every preset
# against a copy of its vendor's real list (tests/data/vendor-lists),
# checked against an independent computation.
#
# usage: tests/sections.sh ./allowsync [case ...]
set -u

HERE=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
# shellcheck source=tests/lib.sh
. "$HERE/lib.sh"
# shellcheck source=tests/harness.sh
. "$HERE/harness.sh"

VENDOR=$HERE/data/vendor-lists

# conf TEXT: the config file of the next runs ($CT/s.conf).  The cases
# write URLs as ${URL%/list.json}/NAME: the test server's.
conf() {
	printf '%s\n' "$1" > "$CT/s.conf"
}

# runc EXPECTED_EXIT ARGS...: run with $CT/s.conf.
runc() {
	local want=$1 rc
	shift
	"$BIN" -c "$CT/s.conf" --ca-file "$CA/ca.pem" --retries 0 \
	    --timeout 10 --state-dir "$CT/state" "$@" > "$OUT" 2> "$ERR"
	rc=$?
	if [ "$rc" != "$want" ]; then
		fail "allowsync $*: exit $rc, expected $want"
		sed 's/^/      stderr| /' "$ERR" >&2
		sed 's/^/      stdout| /' "$OUT" >&2
	fi
}

# elemsof FAMILY TABLE SET
elemsof() {
	FAMILY=$1 TABLE=$2 elems "$3"
}

# json EXPR...: python assertions over the JSON report in $OUT (r).
json() {
	python3 - "$OUT" "$@" <<-'EOF' || fail "JSON report: $*"
	import json, sys
	r = json.load(open(sys.argv[1]))
	for expr in sys.argv[2:]:
	    assert eval(expr), (expr, r)
	EOF
}

# Three vendors, three tables and set pairs, one transaction.
three_vendors() {
	conf "[docplanner]
url = ${URL%/list.json}/dp.json

[stripe]
url = ${URL%/list.json}/stripe.json
json-keys = WEBHOOKS
table = pay
set4 = stripe_v4
set6 =

[cloudflare]
url = ${URL%/list.json}/cf-v4
url = ${URL%/list.json}/cf-v6
table = cdn
family = inet
set4 = cf_v4
set6 = cf_v6
min-prefix4 = 12
min-prefix6 = 29"
}

case_three_sections_one_transaction() {
	mksets
	nft -f - <<-'EOF'
	table inet pay {
		set stripe_v4 { type ipv4_addr; flags interval; }
	}
	table inet cdn {
		set cf_v4 { type ipv4_addr; flags interval; }
		set cf_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	serve dp.json '{"API": ["185.10.20.1", "2a01:4f8:10::/48"]}'
	serve stripe.json '{"WEBHOOKS": ["3.18.12.63", "54.187.174.169"]}'
	serve cf-v4 $'173.245.48.0/20\n104.16.0.0/13'
	serve cf-v6 '2606:4700::/32'
	three_vendors
	monitor_start
	runc 0 --json
	monitor_stop
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" "docplanner v4"
	expect_eq "$(elems docplanner_v6)" "2a01:4f8:10::/48" "docplanner v6"
	expect_eq "$(elemsof inet pay stripe_v4)" \
	    $'3.18.12.63\n54.187.174.169' "stripe"
	expect_eq "$(elemsof inet cdn cf_v4)" \
	    $'104.16.0.0/13\n173.245.48.0/20' "cloudflare v4"
	expect_eq "$(elemsof inet cdn cf_v6)" "2606:4700::/32" "cloudflare v6"
	json 'r["generation"]["after"] == r["generation"]["before"] + 1' \
	    'len(r["sections"]) == 3 and len(r["targets"]) == 3' \
	    'all(s["exit_code"] == 0 for s in r["sections"])' \
	    '[s["section"] for s in r["sources"]] == ["docplanner", "stripe", "cloudflare", "cloudflare"]' \
	    'r["targets"][2]["ipv4"]["desired"] == 2'
	# One commit: every element, then one new generation.
	expect_eq "$(grep -c '^add element' "$CT/monitor")" 7 "elements added"
	expect_eq "$(grep -c '^# new generation' "$CT/monitor")" 1 \
	    "one transaction"
	# Per-section state files, one per source.
	expect_eq "$(ls "$CT/state" | grep -c '\.state$')" 5 \
	    "state files (4 sources + kernel)"
	# The include holds all three targets.
	expect_grep "add element inet pay stripe_v4" "$CT/state/allowsync.nft" \
	    "include: stripe"
	expect_grep "add element inet cdn cf_v6" "$CT/state/allowsync.nft" \
	    "include: cloudflare"
	runc 0
	expect_eq "$(grep -c ': in sync, nothing to do' "$OUT")" 3 \
	    "second run: three targets in sync"
	runc 0 --status
	expect_grep "section stripe" "$OUT" "status names sections"
	expect_grep "kernel: inet cdn cf_v4 2 ranges" "$OUT" "status target"
}

# A kernel refusal of one target refuses all: nothing half-applied.
case_one_transaction_all_or_nothing() {
	mksets
	nft -f - <<-'EOF'
	table inet pay {
		set stripe_v4 { type ipv4_addr; flags interval; size 1; }
	}
	table inet cdn {
		set cf_v4 { type ipv4_addr; flags interval; }
		set cf_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	serve dp.json '{"API": ["185.10.20.1"]}'
	serve stripe.json '{"WEBHOOKS": ["3.18.12.63", "54.187.174.169"]}'
	serve cf-v4 '173.245.48.0/20'
	serve cf-v6 '2606:4700::/32'
	three_vendors
	runc 69
	expect_grep "set inet pay stripe_v4 is full" "$ERR" "full set named"
	expect_eq "$(elems docplanner_v4)" "" "docplanner untouched"
	expect_eq "$(elemsof inet cdn cf_v4)" "" "cloudflare untouched"
}

# Two sections naming the same sets fill them with their union.
case_two_sections_one_pair() {
	mksets
	serve a.json '{"API": ["185.10.20.1", "2a01:4f8:10::/48"]}'
	serve b.json '{"hooks": ["192.30.252.0/22"]}'
	conf "[a]
url = ${URL%/list.json}/a.json
remove-after = 1
[b]
url = ${URL%/list.json}/b.json
json-path = hooks[]
remove-after = 1"
	runc 0
	expect_eq "$(elems docplanner_v4)" $'185.10.20.1\n192.30.252.0/22' \
	    "union"
	# b drops its entry: a's stay.
	serve b.json '{"hooks": ["140.82.112.0/20"]}'
	runc 0 --max-remove-percent 100
	expect_eq "$(elems docplanner_v4)" $'140.82.112.0/20\n185.10.20.1' \
	    "b replaced, a kept"
	# Only b runs; a's list (saved) stays in the shared set.
	serve a.json '{"API": ["185.10.99.1"]}'
	serve b.json '{"hooks": ["143.55.64.0/20"]}'
	: > "$SERVER_LOG"
	runc 0 --section b --max-remove-percent 100 --json
	expect_eq "$(elems docplanner_v4)" $'143.55.64.0/20\n185.10.20.1' \
	    "--section b: a's saved list kept"
	expect_nogrep "/a.json" "$SERVER_LOG" "a not fetched"
	json 'r["sections"][0]["selected"] == False' \
	    '"exit_code" not in r["sections"][0]' \
	    '[s["section"] for s in r["sources"]] == ["b"]'
}

# A section with static entries and no list of its own (its fetch fails)
# shares the set pair: what the last run left is its statics and the
# other's list, so the kernel record still proves the sets, and the next
# run does not dump them.
case_static_only_section_keeps_record() {
	mksets
	serve a.json '{"API": ["185.10.20.0/24", "185.10.30.1"]}'
	conf "[a]
url = ${URL%/list.json}/a.json
[b]
url = ${URL%/list.json}/missing.json
static = 185.10.60.1"
	runc 75 -v
	expect_eq "$(elems docplanner_v4)" \
	    $'185.10.20.0/24\n185.10.30.1\n185.10.60.1' "list and statics"
	runc 75 -v
	expect_grep "not dumping the sets" "$ERR" "the record holds"
	expect_eq "$(elems docplanner_v4)" \
	    $'185.10.20.0/24\n185.10.30.1\n185.10.60.1' "sets unchanged"
}

# A section that fails stands on its cache; the others move on.
# Element comments name the section; a range two sections share names
# both, and a --section run of one keeps the other's name on it.
case_comments_name_sections() {
	mksets
	serve a.json '{"API": ["185.10.20.0/24", "185.10.30.1"]}'
	serve b.json '{"API": ["185.10.20.128/25", "185.10.40.1"]}'
	conf "[a]
url = ${URL%/list.json}/a.json
static = 185.10.50.1
[b]
url = ${URL%/list.json}/b.json"
	runc 0
	nft -j list set inet filter docplanner_v4 > "$CT/set.json"
	python3 - "$CT/set.json" <<-'EOF' || fail "comments"
		import json, sys
		got = {}
		for o in json.load(open(sys.argv[1]))["nftables"]:
		    for e in o.get("set", {}).get("elem", []):
		        v = e["elem"]["val"]
		        if isinstance(v, dict):
		            v = "%s/%d" % (v["prefix"]["addr"], v["prefix"]["len"])
		        got[v] = e["elem"].get("comment")
		want = {"185.10.20.0/24": "a, b", "185.10.30.1": "a",
		        "185.10.40.1": "b", "185.10.50.1": "static"}
		assert got == want, got
	EOF
	runc 0 --section b
	expect_grep "nothing to do" "$OUT" "--section keeps the names"
}

case_failing_section_uses_cache() {
	mksets
	nft -f - <<-'EOF'
	table inet pay {
		set stripe_v4 { type ipv4_addr; flags interval; }
	}
	table inet cdn {
		set cf_v4 { type ipv4_addr; flags interval; }
		set cf_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	serve dp.json '{"API": ["185.10.20.1"]}'
	serve stripe.json '{"WEBHOOKS": ["3.18.12.63"]}'
	serve cf-v4 '173.245.48.0/20'
	serve cf-v6 '2606:4700::/32'
	three_vendors
	runc 0
	printf '{"status": 503}' > "$WWW/stripe.json.behave"
	printf '{"status": 503}' > "$WWW/stripe.txt.behave"
	serve dp.json '{"API": ["185.10.20.1", "185.10.20.2"]}'
	serve cf-v4 $'173.245.48.0/20\n103.21.244.0/22'
	runc 75 --json
	expect_eq "$(elemsof inet pay stripe_v4)" "3.18.12.63" "stripe cached"
	expect_eq "$(elems docplanner_v4)" "185.10.20.1-185.10.20.2" \
	    "docplanner updated"
	expect_eq "$(elemsof inet cdn cf_v4)" \
	    $'103.21.244.0/22\n173.245.48.0/20' "cloudflare updated"
	json '[s["exit_code"] for s in r["sections"]] == [0, 75, 0]' \
	    'r["exit_code"] == 75' \
	    '[s["cached"] for s in r["sources"]] == [False, True, False, False]'
	expect_grep "using the cached list" "$ERR" "cache named"
	# A section with neither list nor cache leaves its sets alone.
	rm "$CT"/state/*
	nft flush set inet pay stripe_v4
	runc 75
	expect_eq "$(elemsof inet pay stripe_v4)" "" "no list, no change"
	expect_grep "inet pay: no section that fills it has a fresh or" \
	    "$ERR" "why named"
	expect_eq "$(elemsof inet cdn cf_v4)" \
	    $'103.21.244.0/22\n173.245.48.0/20' "others applied"
}

# The state directory of a version without sections: the same config
# keeps its cached list, and so does that config moved into a section.
case_sectionless_upgrade() {
	mksets
	local url=$URL f
	mkdir -p "$CT/state"
	chmod 700 "$CT/state"
	# As the version before sections wrote it (no reader line).
	f=$(python3 -c '
import sys
h = 0xcbf29ce484222325
for c in sys.argv[1].encode():
    h = ((h ^ c) * 0x100000001b3) % (1 << 64)
print("source-%016x.state" % h)' "$url")
	cat > "$CT/state/$f" <<-EOF
	# allowsync source state; written by allowsync, see README.md
	version 1
	url $url
	document json
	etag -
	last-modified Mon, 30 Nov 2026 06:00:00 GMT
	fetched 2026-11-30T06:00:00Z
	accepted 2026-11-30T06:00:00Z
	entry 185.10.20.1
	entry 2a01:4f8:10::/48
	end 2 0
	EOF
	stop_server
	run 75 --url "$url"
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" "cached list applied"
	expect_eq "$(elems docplanner_v6)" "2a01:4f8:10::/48" "v6 too"
	nft flush set inet filter docplanner_v4
	conf "[docplanner]
url = $url"
	runc 75
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" \
	    "in a section: the same cached list"
	nft flush set inet filter docplanner_v4
	runc 0 --restore
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" "restore from it"
}

# Bad input in a sectioned file: one line naming file and line, 78.
case_bad_sections() {
	conf "[docplanner]
url = ${URL%/list.json}/dp.json
state-dir = /tmp"
	runc 78
	expect_grep "s.conf: line 3: state-dir: is program-wide" "$ERR" \
	    "program-wide key"
	conf "[Docplanner]"
	runc 78
	expect_grep "s.conf: line 1: section:" "$ERR" "bad name"
	conf "[a]
preset = stripe
"
	runc 78
	expect_grep "unknown preset (one of docplanner-CC github-hooks" "$ERR" \
	    "presets listed"
	conf "[a]
url = ${URL%/list.json}/dp.json
json-path = prefixes[service=X"
	runc 78
	expect_grep "s.conf: line 3: json-path:" "$ERR" "bad path"
	conf "[a]
url = ${URL%/list.json}/dp.json
[b]
url = ${URL%/list.json}/dp.json
set6 = other"
	runc 78
	expect_grep "sections [a] (line 1) and [b] (line 3) share a set" \
	    "$ERR" "both sections named"
	expect_eq "$(grep -c . "$ERR")" 1 "one line"
	conf "[a]
url = ${URL%/list.json}/dp.json"
	runc 64 --url "${URL%/list.json}/x.json"
}

# check_sets PYTHON: PYTHON prints the expected elements of the IPv4 set,
# then a line "--", then the IPv6 set's; compared after merging both
# sides into address ranges.
check_sets() {
	python3 - "$VENDOR" "$(elems docplanner_v4)" "$(elems docplanner_v6)" \
	    "$1" <<-'EOF' || fail "kernel differs from the vendor's list"
	import ipaddress, sys
	vendor, k4, k6, code = sys.argv[1:5]
	env = {"V": vendor, "json": __import__("json"), "out": []}
	exec(code, env)
	want4 = [x for x in env["out"] if ":" not in x]
	want6 = [x for x in env["out"] if ":" in x]
	def ranges(items):
	    rs = []
	    for x in items:
	        x = x.strip()
	        if not x:
	            continue
	        if "-" in x:
	            a, b = x.split("-")
	            rs.append((int(ipaddress.ip_address(a)),
	                       int(ipaddress.ip_address(b))))
	        else:
	            n = ipaddress.ip_network(x, strict=True)
	            rs.append((int(n[0]), int(n[-1])))
	    rs.sort()
	    merged = []
	    for a, b in rs:
	        if merged and a <= merged[-1][1] + 1:
	            merged[-1] = (merged[-1][0], max(merged[-1][1], b))
	        else:
	            merged.append((a, b))
	    return merged
	ok = True
	for fam, want, got in (("v4", want4, k4), ("v6", want6, k6)):
	    w, g = ranges(want), ranges(got.split("\n"))
	    if w != g or not w:
	        print("%s: kernel %d ranges, vendor %d" % (fam, len(g), len(w)))
	        ok = False
	sys.exit(0 if ok else 1)
	EOF
}

case_preset_github_hooks() {
	mksets
	cp "$VENDOR/github-meta-2025-07-25.json" "$WWW/meta"
	conf "preset = github-hooks
url = ${URL%/list.json}/meta"
	runc 0
	check_sets 'out += json.load(open(V + "/github-meta-2025-07-25.json"))["hooks"]'
}

case_preset_stripe_webhooks() {
	mksets
	cp "$VENDOR/stripe-ips_webhooks.json" "$WWW/ips_webhooks.json"
	conf "preset = stripe-webhooks
url = ${URL%/list.json}/ips_webhooks.json
set6 ="
	runc 0
	expect_eq "$(elems docplanner_v4 | wc -l)" 12 "twelve addresses"
	python3 - "$VENDOR" "$(elems docplanner_v4)" <<-'EOF' ||
	import json, sys
	want = sorted(json.load(open(sys.argv[1] + "/stripe-ips_webhooks.json"))["WEBHOOKS"])
	got = sorted(sys.argv[2].split("\n"))
	assert want == got, (want, got)
	EOF
	    fail "stripe set differs from the list"
}

case_preset_cloudflare() {
	mksets
	cp "$VENDOR/cloudflare-ips-v4.txt" "$WWW/ips-v4"
	cp "$VENDOR/cloudflare-ips-v6.txt" "$WWW/ips-v6"
	conf "preset = cloudflare
url = ${URL%/list.json}/ips-v4
url = ${URL%/list.json}/ips-v6"
	runc 0
	check_sets 'out += open(V + "/cloudflare-ips-v4.txt").read().split() + open(V + "/cloudflare-ips-v6.txt").read().split()'
}

case_preset_fastly() {
	mksets
	cp "$VENDOR/fastly-public-ip-list.json" "$WWW/public-ip-list"
	conf "preset = fastly
url = ${URL%/list.json}/public-ip-list"
	runc 0
	check_sets 'd = json.load(open(V + "/fastly-public-ip-list.json")); out += d["addresses"] + d["ipv6_addresses"]'
}

case_preset_aws_cloudfront_origin() {
	mksets
	cp "$VENDOR/aws-ip-ranges.json" "$WWW/ip-ranges.json"
	conf "preset = aws-cloudfront-origin
url = ${URL%/list.json}/ip-ranges.json"
	runc 0
	check_sets 'd = json.load(open(V + "/aws-ip-ranges.json")); out += [p["ip_prefix"] for p in d["prefixes"] if p["service"] == "CLOUDFRONT_ORIGIN_FACING"] + [p["ipv6_prefix"] for p in d["ipv6_prefixes"] if p["service"] == "CLOUDFRONT_ORIGIN_FACING"]'
	# The defaults refuse it: the preset's policy is what lets it in.
	conf "url = ${URL%/list.json}/ip-ranges.json
json-path = prefixes[service=CLOUDFRONT_ORIGIN_FACING].ip_prefix"
	runc 75
	expect_grep "larger than max-bytes" "$ERR" "default max-bytes"
}

# Every preset of --list-presets has a case here.
case_list_presets() {
	runc 0 --list-presets
	local p
	for p in $(grep -v '^ ' "$OUT" | sed 's/-CC$//'); do
		[ "$p" == docplanner ] && continue
		declare -F "case_preset_${p//-/_}" > /dev/null ||
		    fail "preset $p has no test"
	done
	expect_grep "json-path = hooks[]" "$OUT" "what github-hooks fills in"
}


# Attack (issue 13 review): a url in a section must override the url of
# the defaults, not add to it ("a key in a section overrides its default
# there only"; "A section needs a source of its own or a preset").  An
# operator who keeps the old sectionless source at the top and adds a
# second market below gets the first market's addresses in the second
# market's set, silently (exit 0).
case_attack_section_url_replaces_default() {
	mksets
	nft -f - <<-'EOF'
	table inet es {
		set es_v4 { type ipv4_addr; flags interval; }
	}
	EOF
	serve pl.json '{"API": ["185.10.20.1"]}'
	serve es.json '{"API": ["185.10.30.1"]}'
	conf "url = ${URL%/list.json}/pl.json

[es]
url = ${URL%/list.json}/es.json
table = es
set4 = es_v4
set6 ="
	runc 0
	expect_eq "$(elemsof inet es es_v4)" "185.10.30.1" \
	    "the es set holds the es list only"
	expect_nogrep "/pl.json" "$SERVER_LOG" \
	    "[es] fetched the defaults' url"
	# A section with no source of its own takes the defaults' (keys
	# before the first section are every section's defaults).
	conf "url = ${URL%/list.json}/pl.json

[es]
table = es
set4 = es_v4
set6 ="
	runc 0
	expect_eq "$(elemsof inet es es_v4)" "185.10.20.1" \
	    "the defaults' source, inherited"
}


# Attack (issue 13 review): when the one transaction fails (here: a full
# set, 69) nothing of any section was applied, yet every section reports
# exit code 0 in --json and in allowsync_section_exit_code, the metric
# meant for alerting per vendor.  The section whose set is full must say
# 69, and no section may claim "in sync" (0) for a change never applied.
case_attack_section_exit_code_on_kernel_failure() {
	mksets
	nft -f - <<-'EOF'
	table inet pay {
		set stripe_v4 { type ipv4_addr; flags interval; size 1; }
	}
	table inet cdn {
		set cf_v4 { type ipv4_addr; flags interval; }
		set cf_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	serve dp.json '{"API": ["185.10.20.1"]}'
	serve stripe.json '{"WEBHOOKS": ["3.18.12.63", "54.187.174.169"]}'
	serve cf-v4 '173.245.48.0/20'
	serve cf-v6 '2606:4700::/32'
	three_vendors
	printf 'metrics-file = %s\n' "$CT/m.prom" | cat - "$CT/s.conf" \
	    > "$CT/s2.conf"
	mv "$CT/s2.conf" "$CT/s.conf"
	runc 69 --json
	expect_eq "$(elems docplanner_v4)" "" "nothing applied"
	json 'r["exit_code"] == 69' \
	    '[s["exit_code"] for s in r["sections"]][1] == 69' \
	    'all(s["exit_code"] != 0 for s in r["sections"])'
	expect_grep 'allowsync_section_exit_code{section="stripe"} 69' \
	    "$CT/m.prom" "metrics: stripe's exit code"
	grep '^allowsync_section_exit_code' "$CT/m.prom" > "$CT/codes"
	expect_nogrep '"} 0' "$CT/codes" "metrics: a section claims 0"
}


# Attack (issue 13 review): two sections filling sets of the same name in
# tables of the same name but different nft families (ip filter and inet
# filter, which iptables-nft hosts have side by side) are two targets,
# but the per-set metrics label them only by address family, table and
# set: the file holds the same series twice, and node_exporter's textfile
# collector refuses a file with duplicate series (all of its metrics).
case_attack_metrics_unique_series() {
	nft -f - <<-'EOF'
	table ip filter {
		set allow_v4 { type ipv4_addr; flags interval; }
	}
	table inet filter {
		set allow_v4 { type ipv4_addr; flags interval; }
		set allow_v6 { type ipv6_addr; flags interval; }
	}
	EOF
	serve a.json '{"API": ["185.10.20.1"]}'
	serve b.json '{"API": ["185.10.30.1", "2a01:4f8:10::/48"]}'
	conf "metrics-file = $CT/m.prom
[a]
url = ${URL%/list.json}/a.json
family = ip
set4 = allow_v4
set6 =
[b]
url = ${URL%/list.json}/b.json
set4 = allow_v4
set6 = allow_v6"
	runc 0
	expect_eq "$(elemsof ip filter allow_v4)" "185.10.20.1" "ip filter"
	expect_eq "$(elemsof inet filter allow_v4)" "185.10.30.1" \
	    "inet filter"
	python3 - "$CT/m.prom" <<-'EOF' || fail "duplicate metric series"
	import sys
	seen = set()
	ok = True
	for line in open(sys.argv[1]):
	    if line.startswith("#") or not line.strip():
	        continue
	    series = line.rsplit(" ", 1)[0]
	    if series in seen:
	        print("      twice: " + series, file=sys.stderr)
	        ok = False
	    seen.add(series)
	sys.exit(0 if ok else 1)
	EOF
}


# Attack (issue 13 review): a --section run rewrites the sync's metrics
# block with the selected sections only.  A section that has been failing
# (allowsync_section_exit_code 75, source_up 0) drops out of the file as
# soon as another section is run alone, so its alert resolves while it is
# still failing; the metrics already keep each mode's last block so that
# one run never hides another's failure.
case_attack_section_run_keeps_other_metrics() {
	mksets
	nft -f - <<-'EOF'
	table inet pay {
		set stripe_v4 { type ipv4_addr; flags interval; }
	}
	EOF
	serve a.json '{"API": ["185.10.20.1"]}'
	serve b.json '{"API": ["3.18.12.63"]}'
	printf '{"status": 503}' > "$WWW/a.json.behave"
	printf '{"status": 503}' > "$WWW/a.txt.behave"
	conf "metrics-file = $CT/m.prom
[a]
url = ${URL%/list.json}/a.json
[b]
url = ${URL%/list.json}/b.json
table = pay
set4 = stripe_v4
set6 ="
	runc 75
	expect_grep 'allowsync_section_exit_code{section="a"} 75' \
	    "$CT/m.prom" "full run: a failing"
	runc 0 --section b
	expect_grep 'allowsync_section_exit_code{section="b"} 0' \
	    "$CT/m.prom" "--section b: b"
	expect_grep 'allowsync_section_exit_code{section="a"} 75' \
	    "$CT/m.prom" "--section b: a's failure still reported"
}


# Attack (issue 13 review): format auto reads an extensionless text list
# (Cloudflare's ips-v4) as text, but the state file records it as a JSON
# document, so the next run that gets 304 reports "document": "json"
# (and --status "json document", metrics source_document json), as does
# a run standing on that cache.
case_attack_sniffed_text_stays_text() {
	mksets
	serve cf-v4 $'173.245.48.0/20\n104.16.0.0/13'
	conf "[cf]
url = ${URL%/list.json}/cf-v4
min-prefix4 = 12
set6 ="
	runc 0 --json
	json '[s["document"] for s in r["sources"]] == ["text"]'
	runc 0 --json
	json '[s["not_modified"] for s in r["sources"]] == [True]' \
	    '[s["document"] for s in r["sources"]] == ["text"]'
	runc 0 --status
	expect_grep "text document" "$OUT" "--status"
	printf '{"status": 503}' > "$WWW/cf-v4.behave"
	runc 75 --json
	json '[s["cached"] for s in r["sources"]] == [True]' \
	    '[s["document"] for s in r["sources"]] == ["text"]'
}


# Attack (issue 13 review): configuration errors found when the forms of
# a section's sources are decided (sources_finish) name neither the file,
# the line nor the section: in a file of many sections the operator cannot
# tell which one is meant.  Worse, a preset's own url-txt trips it when
# the section sets format = text, a line the operator never wrote.
case_attack_url_txt_error_names_place() {
	conf "[a]
url = ${URL%/list.json}/dp.json

[b]
url = ${URL%/list.json}/list.txt
url-txt = ${URL%/list.json}/other.txt"
	runc 78
	expect_grep "s.conf: line 6" "$ERR" "url-txt after a .txt url"
	expect_eq "$(grep -c . "$ERR")" 1 "one line"
	conf "[a]
url = ${URL%/list.json}/dp.json

[stripe]
preset = stripe-webhooks
format = text
set6 ="
	"$BIN" -c "$CT/s.conf" --state-dir "$CT/state" --dry-run \
	    > "$OUT" 2> "$ERR"
	if [ $? == 78 ]; then
		expect_grep "s.conf" "$ERR" "preset + format text: file"
		expect_grep "[stripe]" "$ERR" "preset + format text: section"
	fi
}


# Attack (issue 13 review): json-keys is shorthand for json-path, and the
# command line wins over the file; but a file that sets one (json-keys =
# WEBHOOKS: every config written before json-path existed) and a command
# line that gives the other is refused, 78, as "both given".
case_attack_cli_json_path_wins() {
	mksets
	serve stripe.json '{"WEBHOOKS": ["3.18.12.63"], "API": ["185.10.20.1"]}'
	conf "url = ${URL%/list.json}/stripe.json
json-keys = WEBHOOKS
set6 ="
	runc 0 --json-path 'API[]'
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" "sectionless"
	conf "[s]
url = ${URL%/list.json}/stripe.json
json-path = WEBHOOKS[]
set6 ="
	runc 0 --json-keys API
	expect_eq "$(elems docplanner_v4)" "185.10.20.1" "in a section"
}


# Attack (issue 13 review): two sections reading the same document with
# different paths (GitHub's meta: hooks and web; AWS's ip-ranges: two
# services) must keep their own state.  refresh.c never sets the
# section of the state it saves, so every section writes the sectionless
# file of the URL, and reads it back through the upgrade fallback: the
# last section to save wins, the other takes that list as its own.  The
# hooks set then gets web's addresses (aging out over remove-after runs),
# and when the vendor is down each section "stands on its cache", which
# is the other section's list.  --status never shows a last attempt.
case_attack_same_url_sections_own_state() {
	mksets
	nft -f - <<-'EOF'
	table inet web {
		set web_v4 { type ipv4_addr; flags interval; }
	}
	EOF
	serve meta '{"hooks": ["192.30.252.0/22"], "web": ["140.82.112.0/20"]}'
	conf "[hooks]
url = ${URL%/list.json}/meta
json-path = hooks[]
set6 =
[web]
url = ${URL%/list.json}/meta
json-path = web[]
table = web
set4 = web_v4
set6 ="
	runc 0
	expect_eq "$(ls "$CT/state" | grep -c '^source-.*\.state$')" 2 \
	    "one state file per section"
	runc 0
	expect_eq "$(elems docplanner_v4)" "192.30.252.0/22" \
	    "second run: hooks set"
	expect_eq "$(elemsof inet web web_v4)" "140.82.112.0/20" \
	    "second run: web set"
	printf '{"status": 503}' > "$WWW/meta.behave"
	runc 75
	expect_eq "$(elems docplanner_v4)" "192.30.252.0/22" \
	    "vendor down: hooks on its own cache"
	expect_eq "$(elemsof inet web web_v4)" "140.82.112.0/20" \
	    "vendor down: web on its own cache"
	runc 0 --status
	expect_nogrep "last attempt: - (never)" "$OUT" "--status attempts"
	expect_grep "last error:" "$OUT" "--status: the 503"
}


# Attack (issue 13 review): a section with no state of its own starts
# from the sectionless state of its URL, meant for a configuration moved
# into a section.  But the fallback takes that file whatever it was read
# with: splitting "url = meta, json-keys = hooks" into [hooks] and [web]
# on the same URL gives [web] the hooks list as its cached list, and with
# the vendor down on the first run it goes into web's set.  The state
# records its reader (URL, format, paths, policy); a list read another
# way is not this section's list.
case_attack_legacy_fallback_same_reader_only() {
	mksets
	nft -f - <<-'EOF'
	table inet web {
		set web_v4 { type ipv4_addr; flags interval; }
	}
	EOF
	serve meta '{"hooks": ["192.30.252.0/22"], "web": ["140.82.112.0/20"]}'
	conf "url = ${URL%/list.json}/meta
json-keys = hooks
set6 ="
	runc 0
	expect_eq "$(elems docplanner_v4)" "192.30.252.0/22" "sectionless"
	nft flush set inet filter docplanner_v4
	printf '{"status": 503}' > "$WWW/meta.behave"
	conf "[hooks]
url = ${URL%/list.json}/meta
json-path = hooks[]
set6 =
[web]
url = ${URL%/list.json}/meta
json-path = web[]
table = web
set4 = web_v4
set6 ="
	runc 75
	expect_eq "$(elems docplanner_v4)" "192.30.252.0/22" \
	    "[hooks]: the moved configuration keeps its cached list"
	expect_eq "$(elemsof inet web web_v4)" "" \
	    "[web]: never had a list, must not get the hooks list"
}


# Attack (issue 13 review): the cloudflare preset always fills both of
# Cloudflare's lists, ips-v4 and ips-v6.  On a host with an IPv4 set only
# (set6 =, as the README's stripe example has) every IPv6 entry is
# skipped, the ips-v6 document then has "no usable entries" and is
# rejected: exit 65 on every run, forever, for a configuration made only
# of the preset and the documented set keys (the same with set4 = and
# ips-v4).
case_attack_preset_cloudflare_one_family() {
	mksets
	cp "$VENDOR/cloudflare-ips-v4.txt" "$WWW/ips-v4"
	cp "$VENDOR/cloudflare-ips-v6.txt" "$WWW/ips-v6"
	conf "preset = cloudflare
url = ${URL%/list.json}/ips-v4
url = ${URL%/list.json}/ips-v6
set6 ="
	runc 0
	expect_eq "$(elems docplanner_v4 | wc -l)" 14 "IPv4 set filled"
	conf "preset = cloudflare
url = ${URL%/list.json}/ips-v4
url = ${URL%/list.json}/ips-v6
set4 ="
	runc 0
	expect_eq "$(elems docplanner_v6 | wc -l)" 7 "IPv6 set filled"
}

harness_main "$@"
