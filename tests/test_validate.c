/*
 * Unit tests for validate.c: every policy rule and its boundaries, and
 * validate_entries() in strict and lenient mode, with the log lines it
 * writes (captured from stderr) checked for location and escaping.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

#define SRC	"https://www.example.com/public-ips.txt"

static const struct policy defaults = {
	.min_prefix4 = DEFAULT_MIN_PREFIX4,
	.min_prefix6 = DEFAULT_MIN_PREFIX6,
	.decide = { DEC_REJECT, DEC_REJECT, DEC_REJECT },
	.max_entries = DEFAULT_MAX_ENTRIES,
	.lenient = false,
	.want4 = true,
	.want6 = true,
};


static size_t
count_lines(const char *s)
{
	size_t n = 0;

	for (; *s != '\0'; s++)
		if (*s == '\n')
			n++;
	return n;
}

/* The reason policy_check() gives for one entry, or "ok" / "unparsed". */
static const char *
check(const struct policy *pol, const char *s)
{
	struct prefix p;
	const char *why;

	if (prefix_parse(s, strlen(s), &p, &why) == -1)
		return "unparsed";
	why = policy_check(pol, &p);
	return why == NULL ? "ok" : why;
}

struct rule {
	const char	*in;
	const char	*why;
};

static void
run_rules(const struct policy *pol, const struct rule *t, size_t n)
{
	char got[256], want[256];
	size_t i;

	for (i = 0; i < n; i++) {
		snprintf(got, sizeof(got), "%s: %s", t[i].in,
		    check(pol, t[i].in));
		snprintf(want, sizeof(want), "%s: %s", t[i].in, t[i].why);
		assert_string_equal(got, want);
	}
}

#define RUN_RULES(pol, t)	run_rules((pol), (t), sizeof(t) / sizeof(t[0]))
#define PRIV	"private address space"
#define DOC	"documentation range"
#define EMBED(f)	"IPv4-embedding address space (" f ")"
#define COMPAT	EMBED("IPv4-compatible ::/96")
#define MAPPED	EMBED("IPv4-mapped ::ffff:0:0/96")
#define SIIT	EMBED("SIIT ::ffff:0:0:0/96")
#define NAT64	EMBED("NAT64 64:ff9b::/96")
#define NAT64L	EMBED("local-use NAT64 64:ff9b:1::/48")
#define TEREDO	EMBED("Teredo 2001::/32")
#define SIXTO4	EMBED("6to4 2002::/16")
#define IETF4	"IETF protocol assignments (192.0.0.0/24)"
#define IETF6	"IETF protocol assignments (2001::/23)"
#define RELAY	"deprecated 6to4 relay anycast (192.88.99.0/24)"
#define BENCH	"benchmarking range (198.18.0.0/15)"
#define DISCARD	"discard-only address space (100::/64)"
#define DUMMY	"dummy address space (100:0:0:1::/64)"
#define SRV6	"SRv6 SID space (5f00::/16)"
#define SITE	"deprecated site-local address (fec0::/10)"

static void
test_rules4(void **state)
{
	static const struct rule t[] = {
		{ "0.0.0.0/0", "/0 is never allowed" },
		{ "1.0.0.0/15", "prefix wider than min-prefix4" },
		{ "8.0.0.0/8", "prefix wider than min-prefix4" },
		{ "1.0.0.0/16", "ok" },
		{ "8.8.8.8", "ok" },
		{ "8.8.8.0/24", "ok" },
		{ "0.0.0.0", "unspecified address (0.0.0.0/8)" },
		{ "0.255.255.255", "unspecified address (0.0.0.0/8)" },
		{ "1.0.0.0", "ok" },
		{ "127.0.0.1", "loopback address" },
		{ "127.255.255.255", "loopback address" },
		{ "126.255.255.255", "ok" },
		{ "128.0.0.0", "ok" },
		{ "169.254.1.1", "link-local address" },
		{ "169.254.0.0/16", "link-local address" },
		{ "169.253.255.255", "ok" },
		{ "169.255.0.0", "ok" },
		{ "224.0.0.1", "multicast address" },
		{ "239.255.255.255", "multicast address" },
		{ "223.255.255.255", "ok" },
		{ "240.0.0.1", "reserved address (240.0.0.0/4)" },
		{ "255.255.255.255", "reserved address (240.0.0.0/4)" },
		{ "192.0.2.1", DOC },
		{ "192.0.2.0/24", DOC },
		{ "198.51.100.0/24", DOC },
		{ "203.0.113.10", DOC },
		{ "192.0.3.0/24", "ok" },
		{ "192.0.1.255", "ok" },
		{ "198.51.101.1", "ok" },
		{ "203.0.112.255", "ok" },
		/* a wider prefix that merely contains a special block */
		{ "192.0.0.0/16", IETF4 },
		{ "198.51.0.0/16", DOC },
		{ "203.0.0.0/16", DOC },
		{ "10.1.2.3", PRIV },
		{ "10.0.0.0/16", PRIV },
		{ "9.255.255.255", "ok" },
		{ "11.0.0.0", "ok" },
		{ "172.16.0.1", PRIV },
		{ "172.31.255.255", PRIV },
		{ "172.15.255.255", "ok" },
		{ "172.32.0.0", "ok" },
		{ "172.0.0.0/16", "ok" },
		{ "192.168.1.1", PRIV },
		{ "192.169.0.0", "ok" },
		{ "100.64.0.1", PRIV },
		{ "100.127.255.255", PRIV },
		{ "100.63.255.255", "ok" },
		{ "100.128.0.0", "ok" },
		/* IPv4-mapped IPv6 meets the IPv4 rules */
		{ "::ffff:127.0.0.1", "loopback address" },
		{ "::ffff:10.0.0.1", PRIV },
		{ "::ffff:8.8.0.0/112", "ok" },
		{ "::ffff:8.0.0.0/104", "prefix wider than min-prefix4" },
		{ "::ffff:0.0.0.0/96", "/0 is never allowed" },
	};

	(void)state;
	RUN_RULES(&defaults, t);
}

static void
test_rules6(void **state)
{
	static const struct rule t[] = {
		{ "::/0", "/0 is never allowed" },
		{ "2a00::/31", "prefix wider than min-prefix6" },
		{ "2a00::/32", "ok" },
		{ "2001:4860:4860::8888", "ok" },
		{ "::", "unspecified address" },
		{ "::1", "loopback address" },
		{ "::2", COMPAT },
		{ "::/32", "unspecified address" },
		{ "fe80::1", "link-local address" },
		{ "fe80::/32", "link-local address" },
		{ "febf:ffff::1", "link-local address" },
		{ "fe7f:ffff::1", "ok" },
		{ "fec0::1", SITE },
		{ "fec0::", SITE },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SITE },
		{ "ff02::1", "multicast address" },
		{ "ff00::", "multicast address" },
		{ "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    "multicast address" },
		{ "feff::1", SITE },
		{ "2001:db8::1", DOC },
		{ "2001:db8::/32", DOC },
		{ "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff", DOC },
		{ "2001:db7:ffff::1", "ok" },
		{ "2001:db9::1", "ok" },
		{ "fc00::1", PRIV },
		{ "fd12:3456::/48", PRIV },
		{ "fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", PRIV },
		{ "fbff:ffff::1", "ok" },
		{ "fe00::1", "ok" },
	};

	(void)state;
	RUN_RULES(&defaults, t);
}

/* Wide prefixes allowed by a low min-prefix still meet every block. */
static void
test_wide(void **state)
{
	static const struct rule t[] = {
		{ "0.0.0.0/0", "/0 is never allowed" },
		{ "::/0", "/0 is never allowed" },
		{ "0.0.0.0/1", "unspecified address (0.0.0.0/8)" },
		{ "128.0.0.0/1", "link-local address" },
		{ "8.0.0.0/6", PRIV },
		{ "11.0.0.0/8", "ok" },
		{ "224.0.0.0/3", "multicast address" },
		{ "2000::/3", TEREDO },
		{ "2400::/6", "ok" },
		{ "::/1", "unspecified address" },
		{ "8000::/1", "link-local address" },
		{ "fc00::/7", PRIV },
		{ "::fffe:0:0/95", MAPPED },
		{ "0:0:0:1::/64", "ok" },
	};
	static const struct rule t_private[] = {
		{ "8.0.0.0/6", "ok" },
		{ "10.0.0.0/8", "ok" },
		{ "172.16.0.0/12", "ok" },
		{ "192.168.0.0/16", "ok" },
		{ "100.64.0.0/10", "ok" },
		{ "fc00::/7", "ok" },
		{ "fd00::1", "ok" },
		{ "::ffff:192.168.1.1", "ok" },
		/* allow-private opens nothing else */
		{ "127.0.0.1", "loopback address" },
		{ "0.0.0.0/0", "/0 is never allowed" },
		{ "192.0.2.0/24", DOC },
		{ "fe80::1", "link-local address" },
		{ "::1", "loopback address" },
		{ "fc00::/6", "prefix wider than min-prefix6" },
		{ "0.0.0.0/5", "prefix wider than min-prefix4" },
	};
	struct policy pol = defaults;

	(void)state;
	pol.min_prefix4 = 1;
	pol.min_prefix6 = 1;
	RUN_RULES(&pol, t);
	pol.min_prefix4 = 0;
	pol.min_prefix6 = 0;
	RUN_RULES(&pol, t);
	pol.min_prefix4 = 6;
	pol.min_prefix6 = 7;
	pol.decide[CLASS_PRIVATE] = DEC_ALLOW;
	RUN_RULES(&pol, t_private);
}

static void
test_min_prefix(void **state)
{
	static const struct rule t24[] = {
		{ "1.2.2.0/23", "prefix wider than min-prefix4" },
		{ "1.2.3.0/24", "ok" },
		{ "1.2.3.128/25", "ok" },
		{ "2a00:1450::/47", "prefix wider than min-prefix6" },
		{ "2a00:1450::/48", "ok" },
	};
	static const struct rule t32[] = {
		{ "1.2.3.4/31", "prefix wider than min-prefix4" },
		{ "1.2.3.4/32", "ok" },
		{ "1.2.3.4", "ok" },
		{ "2a00::/127", "prefix wider than min-prefix6" },
		{ "2a00::/128", "ok" },
		{ "::ffff:1.2.3.4/127", "prefix wider than min-prefix4" },
	};
	struct policy pol = defaults;

	(void)state;
	pol.min_prefix4 = 24;
	pol.min_prefix6 = 48;
	RUN_RULES(&pol, t24);
	pol.min_prefix4 = 32;
	pol.min_prefix6 = 128;
	RUN_RULES(&pol, t32);
}

/*
 * Run t under pol, then again with allow-private = yes: no row here is
 * private, so the answers must not change.
 */
static void
run_rules_private_too(const struct policy *pol, const struct rule *t,
    size_t n)
{
	struct policy priv = *pol;

	run_rules(pol, t, n);
	priv.decide[CLASS_PRIVATE] = DEC_ALLOW;
	run_rules(&priv, t, n);
}

#define RUN_RULES_PRIVATE_TOO(pol, t) \
	run_rules_private_too((pol), (t), sizeof(t) / sizeof(t[0]))

/*
 * Every IPv6 form that embeds IPv4, other than IPv4-mapped, is refused at
 * the default min-prefix6: at its block prefix, at narrow prefixes inside,
 * and at both ends, while the addresses just outside pass.
 */
static void
test_embedded6(void **state)
{
	static const struct rule t[] = {
		/* IPv4-compatible ::/96 */
		{ "::/96", COMPAT },
		{ "::a00:0/104", COMPAT },
		{ "::10.0.0.0/104", COMPAT },
		{ "::1.2.3.4", COMPAT },
		{ "::102:304", COMPAT },
		{ "::0.0.0.2", COMPAT },
		{ "::ffff:ffff", COMPAT },
		{ "::1:0:0", "ok" },
		/* IPv4-mapped ::ffff:0:0/96: only wider IPv6 prefixes */
		{ "::fffe:ffff:ffff", "ok" },
		{ "::fffe:0:0/95", MAPPED },
		{ "::1:0:0:0", "ok" },
		/* SIIT ::ffff:0:0:0/96 */
		{ "::ffff:0:0:0/96", SIIT },
		{ "::ffff:0:a00:0/104", SIIT },
		{ "::ffff:0:10.0.0.0/104", SIIT },
		{ "::ffff:0:102:304", SIIT },
		{ "::ffff:0:1.2.3.4", SIIT },
		{ "::ffff:0:0:0", SIIT },
		{ "::ffff:0:ffff:ffff", SIIT },
		{ "::ffff:0:0:0/95", SIIT },
		{ "::fffe:0:0:0/79", SIIT },
		{ "::fffe:ffff:ffff:ffff", "ok" },
		{ "::ffff:1:0:0", "ok" },
		/* NAT64 64:ff9b::/96 */
		{ "64:ff9b::/96", NAT64 },
		{ "64:ff9b::a00:0/104", NAT64 },
		{ "64:ff9b::10.0.0.0/104", NAT64 },
		{ "64:ff9b::102:304", NAT64 },
		{ "64:ff9b::1.2.3.4", NAT64 },
		{ "64:ff9b::", NAT64 },
		{ "64:ff9b::ffff:ffff", NAT64 },
		{ "64:ff9b::/64", NAT64 },
		{ "64:ff9a:ffff:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "64:ff9b::1:0:0", "ok" },
		/* local-use NAT64 64:ff9b:1::/48 */
		{ "64:ff9b:1::/48", NAT64L },
		{ "64:ff9b:1:a00::/56", NAT64L },
		{ "64:ff9b:1::a00:0/104", NAT64L },
		{ "64:ff9b:1::", NAT64L },
		{ "64:ff9b:1:ffff:ffff:ffff:ffff:ffff", NAT64L },
		{ "64:ff9b:0:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "64:ff9b:2::", "ok" },
		/* Teredo 2001::/32, inside 2001::/23 */
		{ "2001::/32", TEREDO },
		{ "2001:0:102:304::/64", TEREDO },
		{ "2001::", TEREDO },
		{ "2001:0:ffff:ffff:ffff:ffff:ffff:ffff", TEREDO },
		/* 6to4 2002::/16 */
		{ "2002:a00::/32", SIXTO4 },
		{ "2002:102:304::/48", SIXTO4 },
		{ "2002:102:304::1", SIXTO4 },
		{ "2002::", SIXTO4 },
		{ "2002:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SIXTO4 },
		{ "2001:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "2003::", "ok" },
	};
	/* Wider than /32, holding or touching an embedding block. */
	static const struct rule wide[] = {
		{ "2002::/16", SIXTO4 },
		{ "2002:a00::/24", SIXTO4 },
		{ "2002::/15", SIXTO4 },
		{ "64:ff9b::/32", NAT64 },
		{ "64::/16", NAT64 },
		{ "2001::/16", TEREDO },
		{ "2a00::/16", "ok" },
	};
	struct policy pol = defaults;

	(void)state;
	RUN_RULES_PRIVATE_TOO(&defaults, t);
	pol.min_prefix6 = 15;
	RUN_RULES_PRIVATE_TOO(&pol, t);
	RUN_RULES_PRIVATE_TOO(&pol, wide);
	pol.min_prefix6 = 32;
	assert_string_equal(check(&pol, "2002::/16"),
	    "prefix wider than min-prefix6");
}

/* IPv4-mapped IPv6 is IPv4 and meets the IPv4 rules, blocks and all. */
static void
test_mapped4(void **state)
{
	static const struct rule t[] = {
		{ "::ffff:10.0.0.1", PRIV },
		{ "::ffff:a00:1", PRIV },
		{ "::ffff:1.2.3.4", "ok" },
		{ "::ffff:102:304", "ok" },
		{ "::ffff:198.18.0.1", BENCH },
		{ "::ffff:192.0.0.8", IETF4 },
		{ "::ffff:192.88.99.1", RELAY },
		{ "::ffff:255.255.255.255", "reserved address (240.0.0.0/4)" },
		{ "::ffff:1.0.0.0/104", "prefix wider than min-prefix4" },
	};
	static const struct rule t_private[] = {
		{ "::ffff:10.0.0.1", "ok" },
		{ "::ffff:100.64.0.0/112", "ok" },
		{ "::ffff:1.2.3.4", "ok" },
		{ "::ffff:198.18.0.1", BENCH },
		{ "::ffff:127.0.0.1", "loopback address" },
	};
	struct policy pol = defaults;

	(void)state;
	RUN_RULES(&defaults, t);
	pol.decide[CLASS_PRIVATE] = DEC_ALLOW;
	RUN_RULES(&pol, t_private);
}

/*
 * The IPv4 blocks added from the registry, each at its edges, and the
 * globally reachable blocks left out on purpose.
 */
static void
test_special4(void **state)
{
	static const struct rule t[] = {
		/* 192.0.0.0/24 */
		{ "192.0.0.0/24", IETF4 },
		{ "192.0.0.0", IETF4 },
		{ "192.0.0.9", IETF4 },
		{ "192.0.0.255", IETF4 },
		{ "191.255.255.255", "ok" },
		{ "192.0.1.0", "ok" },
		/* 192.88.99.0/24 */
		{ "192.88.99.0/24", RELAY },
		{ "192.88.99.0", RELAY },
		{ "192.88.99.255", RELAY },
		{ "192.88.98.255", "ok" },
		{ "192.88.100.0", "ok" },
		/* 198.18.0.0/15 */
		{ "198.18.0.0/15", BENCH },
		{ "198.19.0.0/16", BENCH },
		{ "198.18.0.0", BENCH },
		{ "198.19.255.255", BENCH },
		{ "198.17.255.255", "ok" },
		{ "198.20.0.0", "ok" },
		/* wide prefixes holding them */
		{ "198.16.0.0/13", BENCH },
		{ "192.0.0.0/12", IETF4 },
		{ "192.88.0.0/16", RELAY },
		/* globally reachable: AS112 and AMT */
		{ "192.31.196.0/24", "ok" },
		{ "192.175.48.0/24", "ok" },
		{ "192.52.193.0/24", "ok" },
	};
	struct policy pol = defaults;

	(void)state;
	pol.min_prefix4 = 8;
	RUN_RULES_PRIVATE_TOO(&pol, t);
}

/* Whether p (IPv4) is refused under pol, as the policy would have it. */
static bool
refused4(const struct policy *pol, uint32_t a, unsigned int len)
{
	struct prefix p = { .family = 4, .len = len, .v4 = a };

	return policy_check(pol, &p) != NULL;
}

/*
 * Every IPv4 /16, whole and at its first and last address, and the
 * edges of every block: refused exactly when it touches a block of the
 * registry, given here as text, apart from the table in validate.c (whose
 * spans a bit for each /16 lets most ranges skip).
 */
static void
test_special4_sweep(void **state)
{
	static const char *const blocks[] = { "0.0.0.0/8", "10.0.0.0/8",
	    "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16",
	    "172.16.0.0/12", "192.0.0.0/24", "192.0.2.0/24",
	    "192.88.99.0/24", "192.168.0.0/16", "198.18.0.0/15",
	    "198.51.100.0/24", "203.0.113.0/24", "224.0.0.0/4",
	    "240.0.0.0/4" };
	enum { NB = sizeof(blocks) / sizeof(blocks[0]) };
	struct range4 b[NB], r;
	struct policy pol = defaults;
	struct prefix p;
	const char *why;
	uint32_t a, e[4];
	size_t i, k, m;
	bool want;

	(void)state;
	pol.min_prefix4 = 8;
	for (i = 0; i < NB; i++) {
		assert_int_equal(prefix_parse(blocks[i], strlen(blocks[i]),
		    &p, &why), 0);
		prefix_range4(&p, &b[i]);
	}
	for (a = 0; a <= 0xffff; a++) {
		for (k = 0; k < 3; k++) {
			r.first = a << 16 | (k == 2 ? 0xffff : 0);
			r.last = k == 1 ? r.first : a << 16 | 0xffff;
			for (want = false, i = 0; i < NB; i++)
				want |= r.first <= b[i].last &&
				    b[i].first <= r.last;
			assert_int_equal(refused4(&pol, r.first,
			    r.first == r.last ? 32 : 16), want);
		}
	}
	for (i = 0; i < NB; i++) {
		e[0] = b[i].first - 1;
		e[1] = b[i].first;
		e[2] = b[i].last;
		e[3] = b[i].last + 1;
		for (k = 0; k < 4; k++) {
			for (want = false, m = 0; m < NB; m++)
				want |= b[m].first <= e[k] &&
				    e[k] <= b[m].last;
			assert_int_equal(refused4(&pol, e[k], 32), want);
		}
	}
}

/* Likewise for IPv6. */
static void
test_special6(void **state)
{
	static const struct rule t[] = {
		/* 100::/64 and 100:0:0:1::/64 */
		{ "100::/64", DISCARD },
		{ "100::", DISCARD },
		{ "100::ffff:ffff:ffff:ffff", DISCARD },
		{ "100:0:0:1::/64", DUMMY },
		{ "100:0:0:1::", DUMMY },
		{ "100:0:0:1:ffff:ffff:ffff:ffff", DUMMY },
		{ "100::/63", DISCARD },
		{ "ff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "100:0:0:2::", "ok" },
		/* 2001::/23 */
		{ "2001::/23", IETF6 },
		{ "2001:1::1", IETF6 },
		{ "2001:2::/48", IETF6 },
		{ "2001:100::/24", IETF6 },
		{ "2001:1ff:ffff:ffff:ffff:ffff:ffff:ffff", IETF6 },
		{ "2000:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "2001:200::", "ok" },
		/* 3fff::/20 */
		{ "3fff::/20", DOC },
		{ "3fff::", DOC },
		{ "3fff:fff:ffff:ffff:ffff:ffff:ffff:ffff", DOC },
		{ "3ffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "3fff:1000::", "ok" },
		/* 5f00::/16 */
		{ "5f00::/16", SRV6 },
		{ "5f00:1234::/32", SRV6 },
		{ "5f00::", SRV6 },
		{ "5f00:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SRV6 },
		{ "5eff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", "ok" },
		{ "5f01::", "ok" },
		/* fec0::/10, between link-local and multicast */
		{ "fec0::/10", SITE },
		{ "febf:ffff:ffff:ffff:ffff:ffff:ffff:ffff",
		    "link-local address" },
		{ "fec0::", SITE },
		{ "feff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", SITE },
		{ "ff00::", "multicast address" },
		/* globally reachable: AS112 */
		{ "2620:4f:8000::/48", "ok" },
	};
	struct policy pol = defaults;

	(void)state;
	pol.min_prefix6 = 10;
	RUN_RULES_PRIVATE_TOO(&pol, t);
}

/*
 * allow-private opens the private rows and nothing else: one address in
 * every other block of both tables is refused all the same.
 */
static void
test_private_only(void **state)
{
	static const struct rule t[] = {
		{ "0.0.0.1", "unspecified address (0.0.0.0/8)" },
		{ "127.0.0.1", "loopback address" },
		{ "169.254.0.1", "link-local address" },
		{ "192.0.0.8", IETF4 },
		{ "192.0.2.1", DOC },
		{ "192.88.99.1", RELAY },
		{ "198.18.0.1", BENCH },
		{ "198.51.100.1", DOC },
		{ "203.0.113.1", DOC },
		{ "224.0.0.1", "multicast address" },
		{ "240.0.0.1", "reserved address (240.0.0.0/4)" },
		{ "255.255.255.255", "reserved address (240.0.0.0/4)" },
		{ "::", "unspecified address" },
		{ "::1", "loopback address" },
		{ "::1.2.3.4", COMPAT },
		{ "::fffe:0:0/95", MAPPED },
		{ "::ffff:0:1.2.3.4", SIIT },
		{ "64:ff9b::1.2.3.4", NAT64 },
		{ "64:ff9b:1::1", NAT64L },
		{ "100::1", DISCARD },
		{ "100:0:0:1::1", DUMMY },
		{ "2001::1", TEREDO },
		{ "2001:1::1", IETF6 },
		{ "2001:db8::1", DOC },
		{ "2002:102:304::1", SIXTO4 },
		{ "3fff::1", DOC },
		{ "5f00::1", SRV6 },
		{ "fe80::1", "link-local address" },
		{ "fec0::1", SITE },
		{ "ff02::1", "multicast address" },
	};
	static const struct rule t_private[] = {
		{ "10.0.0.0/8", "ok" },
		{ "172.16.0.0/12", "ok" },
		{ "192.168.0.0/16", "ok" },
		{ "100.64.0.0/10", "ok" },
		{ "fc00::/7", "ok" },
		/* a private block and a special one: the special one counts */
		{ "192.0.0.0/8", IETF4 },
		{ "fc00::/6", "link-local address" },
	};
	struct policy pol = defaults;

	(void)state;
	RUN_RULES_PRIVATE_TOO(&defaults, t);
	pol.decide[CLASS_PRIVATE] = DEC_ALLOW;
	pol.min_prefix4 = 6;
	pol.min_prefix6 = 6;
	RUN_RULES(&pol, t_private);
}

/* A hand-built document; text points at literals, nothing is owned. */
struct doc {
	struct entrylist	list;
	struct entry		v[16];
	char			loc[16][32];
};

static void
doc_make(struct doc *d, const char *key, const char *const *in, size_t n)
{
	size_t i;

	memset(d, 0, sizeof(*d));
	assert_true(n <= 16);
	for (i = 0; i < n; i++) {
		d->v[i].text = in[i];
		d->v[i].len = strlen(in[i]);
		d->v[i].where = key == NULL ? i + 1 : 0;
		if (key != NULL) {
			snprintf(d->loc[i], sizeof(d->loc[i]), "%s[%zu]", key,
			    i);
			d->v[i].loc = d->loc[i];
		}
	}
	d->list.v = d->v;
	d->list.n = d->list.cap = n;
}

#define DOC_MAKE(d, key, in)	doc_make((d), (key), (in), \
				    sizeof(in) / sizeof(in[0]))

static void
test_accept(void **state)
{
	static const char *const in[] = {
		"203.0.114.10", "2001:4860::/32", "8.8.8.0/24",
		"::ffff:9.9.9.9", "8.8.8.0/24",
	};
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	DOC_MAKE(&d, NULL, in);
	rangelist_init(&out);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &defaults, &out, NULL),
	    AS_OK);
	log = capture_end();
	assert_string_equal(log, "");
	assert_int_equal(out.n4, 4);
	assert_int_equal(out.n6, 1);
	assert_int_equal(out.v4[0].first, 0xcb00720a);
	assert_int_equal(out.v4[0].last, 0xcb00720a);
	assert_int_equal(out.v4[1].first, 0x08080800);
	assert_int_equal(out.v4[1].last, 0x080808ff);
	assert_int_equal(out.v4[2].first, 0x09090909);
	assert_true(out.v6[0].first.hi == 0x2001486000000000ULL);
	assert_true(out.v6[0].last.hi == 0x20014860ffffffffULL);
	assert_true(out.v6[0].last.lo == UINT64_MAX);

	/* A second document is appended to the first. */
	assert_int_equal(validate_entries(&d.list, SRC, &defaults, &out, NULL),
	    AS_OK);
	assert_int_equal(out.n4, 8);
	assert_int_equal(out.n6, 2);
	rangelist_free(&out);
}

static void
test_strict_rollback(void **state)
{
	static const char *const in[] = {
		"1.2.3.4", "2a00:1450::1", "1.2.3.4/33", "9.9.9.9",
	};
	struct doc d;
	struct rangelist out;
	struct range4 r4 = { 5, 6 };
	struct range6 r6 = { { 7, 8 }, { 9, 10 } };
	const char *log;

	(void)state;
	DOC_MAKE(&d, NULL, in);
	rangelist_init(&out);
	rangelist_add4(&out, &r4);
	rangelist_add6(&out, &r6);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &defaults, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, SRC ": line 3: \"1.2.3.4/33\": "
	    "prefix length out of range\n"));
	assert_null(strstr(log, "dropped"));
	assert_int_equal(count_lines(log), 1);
	assert_int_equal(out.n4, 1);
	assert_int_equal(out.n6, 1);
	assert_int_equal(out.v4[0].first, 5);
	assert_true(out.v6[0].last.lo == 10);
	rangelist_free(&out);
}

/* JSON entries are located by key and index; policy reasons are logged. */
static void
test_strict_json(void **state)
{
	static const char *const in[] = {
		"8.8.8.8", "9.9.9.9", "10.0.0.1", "11.0.0.1",
	};
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	DOC_MAKE(&d, "API", in);
	rangelist_init(&out);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &defaults, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, SRC ": API[2]: \"10.0.0.1\": " PRIV
	    " (private = reject)\n"));
	assert_int_equal(count_lines(log), 1);
	assert_int_equal(out.n4 + out.n6, 0);
	rangelist_free(&out);
}

/* A hostile entry cannot put control bytes or fake lines into the log. */
static void
test_escape(void **state)
{
	static const char *const in[] = {
		"1.2.3.4\x1b[31m\nallowsync: fake \"line\"\\",
	};
	struct doc d;
	struct rangelist out;
	const char *log, *p;

	(void)state;
	DOC_MAKE(&d, NULL, in);
	rangelist_init(&out);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &defaults, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, SRC ": line 1: \"1.2.3.4\\x1b[31m\\x0a"
	    "allowsync: fake \\\"line\\\"\\\\\": not an IP address\n"));
	assert_int_equal(count_lines(log), 1);
	for (p = log; *p != '\0'; p++)
		assert_true(*p == '\n' || (*p >= 0x20 && *p < 0x7f));
	rangelist_free(&out);
}

static void
test_lenient(void **state)
{
	static const char *const in[] = {
		"1.2.3.4", "127.0.0.1", "2a00:1450::1", "1.2.3.4/33",
		"fe80::1", "9.9.9.9", "junk",
	};
	static const char *const bad[] = {
		"127.0.0.1", "1.2.3.4/24", "fe80::1",
	};
	struct policy pol = defaults;
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	pol.lenient = true;
	DOC_MAKE(&d, NULL, in);
	rangelist_init(&out);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_OK);
	log = capture_end();
	assert_int_equal(out.n4, 2);
	assert_int_equal(out.n6, 1);
	assert_int_equal(out.v4[0].first, 0x01020304);
	assert_int_equal(out.v4[1].first, 0x09090909);
	/* A malformed entry each; a class once, with the first few. */
	assert_int_equal(count_lines(log), 3);
	assert_non_null(strstr(log, SRC ": line 4: \"1.2.3.4/33\": "
	    "prefix length out of range (dropped)\n"));
	assert_non_null(strstr(log, SRC ": line 7: \"junk\": "
	    "not an IP address (dropped)\n"));
	assert_non_null(strstr(log, SRC ": skipped 2 special entries "
	    "(special = skip): 127.0.0.1, fe80::1\n"));
	rangelist_free(&out);

	/* Nothing left after dropping: rejected, even when lenient. */
	DOC_MAKE(&d, NULL, bad);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, SRC ": no usable entries: every entry "
	    "was skipped\n"));
	assert_int_equal(count_lines(log), 3);
	assert_int_equal(out.n4 + out.n6, 0);
	rangelist_free(&out);
}

/* A prefix too wide says by how much and which key would accept it. */
static void
test_wide_message(void **state)
{
	static const char *const in[] = { "2a0a:a440::/29" };
	static const char *const in4[] = { "::ffff:8.0.0.0/104" };
	struct policy pol = defaults;
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	rangelist_init(&out);
	DOC_MAKE(&d, NULL, in);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, "\"2a0a:a440::/29\": /29 is wider than "
	    "min-prefix6 = 32 (set min-prefix6 = 29 to accept it) "
	    "(wide = reject)"));
	DOC_MAKE(&d, NULL, in4);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, "/8 is wider than min-prefix4 = 16 (set "
	    "min-prefix4 = 8 to accept it)"));
	rangelist_free(&out);
}

static void
test_max_entries(void **state)
{
	static const char *const in[] = {
		"1.1.1.1", "8.8.8.8", "9.9.9.9", "2a00:1450::1",
	};
	struct policy pol = defaults;
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	DOC_MAKE(&d, NULL, in);
	rangelist_init(&out);
	pol.max_entries = 3;
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, "4 entries, more than max-entries = 3 "
	    "(set max-entries = 4 to accept it)"));
	assert_int_equal(count_lines(log), 1);
	assert_int_equal(out.n4 + out.n6, 0);

	pol.lenient = true;
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	capture_end();
	assert_int_equal(out.n4 + out.n6, 0);

	pol.max_entries = 4;
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_OK);
	assert_int_equal(out.n4 + out.n6, 4);
	rangelist_free(&out);
}

static void
test_disabled_family(void **state)
{
	static const char *const mixed[] = {
		"1.2.3.4", "2a00:1450::1", "fe80::1", "::ffff:8.8.8.8",
		"2a00:1450::2",
	};
	static const char *const only6[] = { "2a00:1450::1", "2a00::/32" };
	static const char *const broken6[] = { "1.2.3.4", "1::2::3" };
	struct policy pol = defaults;
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	/* The skipping is logged at info level. */
	log_init(LOG_LVL_INFO);
	rangelist_init(&out);
	pol.want6 = false;
	DOC_MAKE(&d, NULL, mixed);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_OK);
	log = capture_end();
	assert_int_equal(out.n4, 2);
	assert_int_equal(out.n6, 0);
	assert_int_equal(out.v4[1].first, 0x08080808);
	assert_non_null(strstr(log, SRC ": skipping 3 IPv6 entries: "
	    "set6 is empty (IPv6 disabled)\n"));
	assert_int_equal(count_lines(log), 1);
	rangelist_free(&out);

	/*
	 * A list of the disabled family alone is accepted, empty (one
	 * list per family, as Cloudflare publishes them).
	 */
	DOC_MAKE(&d, NULL, only6);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_OK);
	log = capture_end();
	assert_non_null(strstr(log, "skipping 2 IPv6 entries"));
	assert_null(strstr(log, "no usable entries"));
	assert_int_equal(out.n4 + out.n6, 0);

	/* A malformed entry still rejects the document. */
	DOC_MAKE(&d, NULL, broken6);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, "line 2: \"1::2::3\""));
	assert_int_equal(out.n4 + out.n6, 0);

	pol.want6 = true;
	pol.want4 = false;
	DOC_MAKE(&d, NULL, mixed);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, SRC ": line 3: \"fe80::1\": "
	    "link-local address (special = reject)\n"));
	assert_int_equal(out.n4 + out.n6, 0);

	DOC_MAKE(&d, NULL, only6);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, NULL),
	    AS_OK);
	log = capture_end();
	assert_string_equal(log, "");
	assert_int_equal(out.n6, 2);
	rangelist_free(&out);
	log_init(LOG_LVL_NOTICE);
}

static void
test_empty(void **state)
{
	struct doc d;
	struct rangelist out;
	const char *log;

	(void)state;
	doc_make(&d, NULL, NULL, 0);
	rangelist_init(&out);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &defaults, &out, NULL),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, SRC ": no usable entries\n"));
	assert_int_equal(out.n4 + out.n6, 0);
	rangelist_free(&out);
}

/* Each class under each decision, and the empty-after-skip rule. */
static void
test_class_decisions(void **state)
{
	static const struct {
		const char	*entry;
		enum entry_class class;
	} in[] = {
		{ "10.0.12.34", CLASS_PRIVATE },
		{ "fd00::1", CLASS_PRIVATE },
		{ "127.0.0.1", CLASS_SPECIAL },
		{ "fe80::1", CLASS_SPECIAL },
		{ "185.0.0.0/8", CLASS_WIDE },
		{ "2a00::/16", CLASS_WIDE },
	};
	const char *list[2];
	char want[64];
	struct policy pol;
	struct doc d;
	struct rangelist out;
	struct validation v;
	const char *log;
	enum decision dec;
	size_t i;
	int c;

	(void)state;
	rangelist_init(&out);
	for (i = 0; i < sizeof(in) / sizeof(in[0]); i++)
		for (dec = DEC_REJECT; dec <= DEC_ALLOW; dec++) {
			pol = defaults;
			for (c = 0; c < NCLASSES; c++)
				pol.decide[c] = DEC_REJECT;
			pol.decide[in[i].class] = dec;
			if (dec == DEC_ALLOW && in[i].class != CLASS_PRIVATE)
				continue;
			list[0] = "185.10.20.1";
			list[1] = in[i].entry;
			DOC_MAKE(&d, NULL, list);
			out.n4 = out.n6 = 0;
			capture_start();
			assert_int_equal(validate_entries(&d.list, SRC, &pol,
			    &out, &v), dec == DEC_REJECT ? AS_EDATA : AS_OK);
			log = capture_end();
			assert_int_equal(v.refused, dec == DEC_REJECT);
			assert_int_equal(v.skipped[in[i].class],
			    dec == DEC_SKIP);
			assert_int_equal(out.n4 + out.n6, dec == DEC_REJECT ?
			    0 : dec == DEC_SKIP ? 1 : 2);
			snprintf(want, sizeof(want), "(%s = %s)",
			    class_name(in[i].class), decision_name(dec));
			if (dec != DEC_ALLOW && strstr(log, want) == NULL)
				fail_msg("%s: no \"%s\" in %s", in[i].entry,
				    want, log);
		}
	/* Every entry skipped: rejected, never applied empty. */
	pol = defaults;
	pol.decide[CLASS_PRIVATE] = DEC_SKIP;
	list[0] = "10.0.12.34";
	list[1] = "172.20.123.123";
	DOC_MAKE(&d, NULL, list);
	out.n4 = out.n6 = 0;
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, &v),
	    AS_EDATA);
	log = capture_end();
	assert_false(v.refused);
	assert_int_equal(v.skipped[CLASS_PRIVATE], 2);
	assert_non_null(strstr(log, "skipped 2 private entries (private = "
	    "skip): 10.0.12.34, 172.20.123.123\n"));
	assert_non_null(strstr(log, "no usable entries: every entry was "
	    "skipped"));
	/* /0 rejects whatever the decisions. */
	pol.decide[CLASS_SPECIAL] = pol.decide[CLASS_WIDE] = DEC_SKIP;
	pol.lenient = true;
	list[0] = "185.10.20.1";
	list[1] = "0.0.0.0/0";
	DOC_MAKE(&d, NULL, list);
	capture_start();
	assert_int_equal(validate_entries(&d.list, SRC, &pol, &out, &v),
	    AS_EDATA);
	log = capture_end();
	assert_non_null(strstr(log, "/0 is never allowed"));
	rangelist_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rules4),
		cmocka_unit_test(test_rules6),
		cmocka_unit_test(test_wide),
		cmocka_unit_test(test_min_prefix),
		cmocka_unit_test(test_embedded6),
		cmocka_unit_test(test_mapped4),
		cmocka_unit_test(test_special4),
		cmocka_unit_test(test_special4_sweep),
		cmocka_unit_test(test_special6),
		cmocka_unit_test(test_private_only),
		cmocka_unit_test(test_accept),
		cmocka_unit_test(test_strict_rollback),
		cmocka_unit_test(test_strict_json),
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_max_entries),
		cmocka_unit_test(test_wide_message),
		cmocka_unit_test(test_disabled_family),
		cmocka_unit_test(test_class_decisions),
		cmocka_unit_test(test_empty),
	};

	unsetenv("JOURNAL_STREAM");
	log_init(LOG_LVL_NOTICE);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
