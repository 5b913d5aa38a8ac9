/*
 * Unit tests for prefix.c: the strict entry grammar, good and hostile, and
 * the way ranges are written back out.
 *
 * Every input is parsed from a heap copy of exactly n bytes with no NUL
 * after it, so a sanitizer build catches any read past the entry.
 */
#include <arpa/inet.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "allowsync.h"

/* Parse s[0..n) from an exact-size heap copy. */
static int
parse_exact(const char *s, size_t n, struct prefix *p, const char **why)
{
	char *copy;
	int r;

	copy = malloc(n == 0 ? 1 : n);
	assert_non_null(copy);
	memcpy(copy, s, n);
	r = prefix_parse(copy, n, p, why);
	free(copy);
	return r;
}

/* Text of the range a parsed prefix covers. */
static void
prefix_text(const struct prefix *p, char *buf, size_t bufsz)
{
	struct range4 r4;
	struct range6 r6;

	if (p->family == 4) {
		prefix_range4(p, &r4);
		range4_format(&r4, buf, bufsz);
	} else {
		prefix_range6(p, &r6);
		range6_format(&r6, buf, bufsz);
	}
}

struct good {
	const char	*in;
	int		 family;
	unsigned int	 len;
	const char	*out;	/* canonical text of the range */
};

static const struct good good[] = {
	{ "0.0.0.0", 4, 32, "0.0.0.0" },
	{ "1.2.3.4", 4, 32, "1.2.3.4" },
	{ "255.255.255.255", 4, 32, "255.255.255.255" },
	{ "1.2.3.4/32", 4, 32, "1.2.3.4" },
	{ "10.0.0.0/8", 4, 8, "10.0.0.0/8" },
	{ "100.64.0.0/10", 4, 10, "100.64.0.0/10" },
	{ "1.2.3.0/24", 4, 24, "1.2.3.0/24" },
	{ "1.2.3.2/31", 4, 31, "1.2.3.2/31" },
	{ "128.0.0.0/1", 4, 1, "128.0.0.0/1" },
	{ "0.0.0.0/0", 4, 0, "0.0.0.0/0" },
	{ "203.0.113.10", 4, 32, "203.0.113.10" },
	{ "9.99.199.249", 4, 32, "9.99.199.249" },
	{ "::", 6, 128, "::" },
	{ "::/0", 6, 0, "::/0" },
	{ "::1", 6, 128, "::1" },
	{ "::1/128", 6, 128, "::1" },
	{ "1::", 6, 128, "1::" },
	{ "2001:db8::/32", 6, 32, "2001:db8::/32" },
	{ "2001:DB8::1", 6, 128, "2001:db8::1" },
	{ "2001:Db8:0::1", 6, 128, "2001:db8::1" },
	{ "2001:0db8:0000:0000:0000:0000:0000:0001", 6, 128, "2001:db8::1" },
	{ "2001:db8:0:0:1:0:0:1", 6, 128, "2001:db8::1:0:0:1" },
	{ "2001:db8::8:800:200c:417a", 6, 128, "2001:db8::8:800:200c:417a" },
	{ "ABCD:EF01:2345:6789:ABCD:EF01:2345:6789", 6, 128,
	    "abcd:ef01:2345:6789:abcd:ef01:2345:6789" },
	{ "1:2:3:4:5:6:7:8", 6, 128, "1:2:3:4:5:6:7:8" },
	{ "1:2:3:4:5:6:7::", 6, 128, "1:2:3:4:5:6:7:0" },
	{ "::2:3:4:5:6:7:8", 6, 128, "0:2:3:4:5:6:7:8" },
	{ "1::8", 6, 128, "1::8" },
	{ "2001:db8:1::/48", 6, 48, "2001:db8:1::/48" },
	{ "2001:db8:0:2::/63", 6, 63, "2001:db8:0:2::/63" },
	{ "fe80::/10", 6, 10, "fe80::/10" },
	{ "ff02::1", 6, 128, "ff02::1" },
	{ "2a00:1450:4001:80b::200e", 6, 128, "2a00:1450:4001:80b::200e" },
	{ "64:ff9b::1.2.3.4", 6, 128, "64:ff9b::102:304" },
	{ "64:ff9b::/96", 6, 96, "64:ff9b::/96" },
	{ "1:2:3:4:5:6:1.2.3.4", 6, 128, "1:2:3:4:5:6:102:304" },
	{ "1::255.255.255.255", 6, 128, "1::ffff:ffff" },
	{ "::0.0.0.0", 6, 128, "::" },
	/* Other IPv4-embedding forms stay IPv6; validate.c refuses them. */
	{ "::1.2.3.4", 6, 128, "::1.2.3.4" },
	{ "::10.0.0.0/104", 6, 104, "::10.0.0.0/104" },
	{ "::ffff:0:1.2.3.4", 6, 128, "::ffff:0:102:304" },
	{ "::ffff:0:0:0/96", 6, 96, "::ffff:0:0:0/96" },
	{ "2002:102:304::/48", 6, 48, "2002:102:304::/48" },
	/* IPv4-mapped: returned as the IPv4 prefix. */
	{ "::ffff:1.2.3.4", 4, 32, "1.2.3.4" },
	{ "::FFFF:1.2.3.4", 4, 32, "1.2.3.4" },
	{ "::ffff:102:304", 4, 32, "1.2.3.4" },
	{ "0:0:0:0:0:ffff:1.2.3.4", 4, 32, "1.2.3.4" },
	{ "::ffff:1.2.3.0/120", 4, 24, "1.2.3.0/24" },
	{ "::ffff:1.2.3.4/128", 4, 32, "1.2.3.4" },
	{ "::ffff:0.0.0.0/96", 4, 0, "0.0.0.0/0" },
};

static void
test_good(void **state)
{
	struct prefix p, q;
	const char *why;
	char got[256], want[256], text[RANGE_STRLEN];
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		why = NULL;
		if (parse_exact(good[i].in, strlen(good[i].in), &p, &why) != 0)
			snprintf(got, sizeof(got), "%s: rejected: %s",
			    good[i].in, why);
		else {
			prefix_text(&p, text, sizeof(text));
			snprintf(got, sizeof(got), "%s: %d /%u %s",
			    good[i].in, p.family, p.len, text);
		}
		snprintf(want, sizeof(want), "%s: %d /%u %s", good[i].in,
		    good[i].family, good[i].len, good[i].out);
		assert_string_equal(got, want);

		/* The canonical text parses back to the same prefix. */
		if (strchr(good[i].out, '-') != NULL)
			continue;
		assert_int_equal(parse_exact(text, strlen(text), &q, &why), 0);
		assert_int_equal(q.family, p.family);
		assert_int_equal(q.len, p.len);
		assert_int_equal(q.v4, p.v4);
		assert_true(u128_cmp(q.v6, p.v6) == 0);
	}
}

struct bad {
	const char	*in;
	size_t		 n;	/* 0: strlen(in) */
	const char	*why;
};

static const struct bad bad[] = {
	/* IPv4 octets */
	{ "01.2.3.4", 0, "leading zero in IPv4 octet" },
	{ "010.1.1.1", 0, "leading zero in IPv4 octet" },
	{ "1.2.3.00", 0, "leading zero in IPv4 octet" },
	{ "1.2.3.0001", 0, "leading zero in IPv4 octet" },
	{ "256.1.1.1", 0, "IPv4 octet out of range" },
	{ "1.2.3.999", 0, "IPv4 octet out of range" },
	{ "1.2.3.1000", 0, "IPv4 octet out of range" },
	{ "1.2.3.4294967297", 0, "IPv4 octet out of range" },
	{ "1.2.3", 0, "malformed IPv4 address" },
	{ "1", 0, "malformed IPv4 address" },
	{ "16909060", 0, "malformed IPv4 address" },
	{ "1.2.3.4.5", 0, "malformed IPv4 address" },
	{ "1..2.3", 0, "malformed IPv4 address" },
	{ ".1.2.3", 0, "malformed IPv4 address" },
	{ "1.2.3.", 0, "malformed IPv4 address" },
	{ "1.2.3.4.", 0, "malformed IPv4 address" },
	{ "...", 0, "malformed IPv4 address" },
	{ "1.2.3.a", 0, "malformed IPv4 address" },
	{ "0x1.2.3.4", 0, "not an IP address" },
	{ "0x01020304", 0, "not an IP address" },
	{ "-1.2.3.4", 0, "not an IP address" },
	{ "+1.2.3.4", 0, "not an IP address" },
	{ " 1.2.3.4", 0, "not an IP address" },
	{ "1.2.3.4 ", 0, "not an IP address" },
	{ "1.2.3.4\n", 0, "not an IP address" },
	{ "1.2.3.4\r", 0, "not an IP address" },
	{ "1.2. 3.4", 0, "not an IP address" },
	{ "example.com", 0, "not an IP address" },
	{ "localhost", 0, "not an IP address" },
	{ "1.2.3.\xc2\xb9", 0, "not an IP address" },
	{ "\xd9\xa1.2.3.4", 0, "not an IP address" },
	{ "1.2.3.4\x1b[2J", 0, "not an IP address" },
	/* NUL bytes inside the entry */
	{ "1.2.3.4\0", 8, "not an IP address" },
	{ "1.2\0.3.4", 8, "not an IP address" },
	{ "\0", 1, "not an IP address" },
	{ "::1\0", 4, "not an IP address" },
	{ "1.2.3.4/3\0", 10, "malformed prefix length" },
	/* prefix length */
	{ "1.2.3.4/33", 0, "prefix length out of range" },
	{ "1.2.3.4/1000", 0, "prefix length out of range" },
	{ "1.2.3.4/4294967328", 0, "prefix length out of range" },
	{ "1.0.0.0/08", 0, "leading zero in prefix length" },
	{ "0.0.0.0/00", 0, "leading zero in prefix length" },
	{ "1.2.3.4/032", 0, "leading zero in prefix length" },
	{ "1.2.3.4/", 0, "malformed prefix length" },
	{ "1.2.3.4/-1", 0, "malformed prefix length" },
	{ "1.2.3.4/+8", 0, "malformed prefix length" },
	{ "1.2.3.4/ 32", 0, "malformed prefix length" },
	{ "1.2.3.4/32 ", 0, "malformed prefix length" },
	{ "1.2.3.0/24/8", 0, "malformed prefix length" },
	{ "1.2.3.4/0x20", 0, "malformed prefix length" },
	{ "1.2.3.4//32", 0, "malformed prefix length" },
	{ "::/129", 0, "prefix length out of range" },
	{ "2001:db8::/032", 0, "leading zero in prefix length" },
	{ "/24", 0, "not an IP address" },
	{ "/", 0, "not an IP address" },
	/* host bits */
	{ "1.2.3.4/24", 0, "host bits set" },
	{ "10.0.0.1/8", 0, "host bits set" },
	{ "1.2.3.4/0", 0, "host bits set" },
	{ "1.2.3.3/31", 0, "host bits set" },
	{ "2001:db8::1/64", 0, "host bits set" },
	{ "2001:db8::/16", 0, "host bits set" },
	{ "::1/127", 0, "host bits set" },
	{ "2001:db8:0:1::/63", 0, "host bits set" },
	{ "::ffff:1.2.3.4/120", 0, "host bits set" },
	/* IPv6 grammar */
	{ "::1%eth0", 0, "zone index not allowed" },
	{ "fe80::1%1", 0, "zone index not allowed" },
	{ "fe80::1%25eth0/128", 0, "zone index not allowed" },
	{ ":::", 0, "malformed IPv6 address" },
	{ "1:::2", 0, "malformed IPv6 address" },
	{ ":1::", 0, "malformed IPv6 address" },
	{ ":1:2:3:4:5:6:7:8", 0, "malformed IPv6 address" },
	{ "1:", 0, "malformed IPv6 address" },
	{ "1:2:3:4:5:6:7:8:", 0, "malformed IPv6 address" },
	{ ":", 0, "malformed IPv6 address" },
	{ "1::2::3", 0, "more than one \"::\" in IPv6 address" },
	{ "::1::", 0, "more than one \"::\" in IPv6 address" },
	{ "1:2:3:4:5:6:7:8:9", 0, "too many IPv6 groups" },
	{ "1:2:3:4:5:6:7:8::", 0, "too many IPv6 groups" },
	{ "::1:2:3:4:5:6:7:8", 0, "too many IPv6 groups" },
	{ "1:2:3:4::5:6:7:8", 0, "too many IPv6 groups" },
	{ "1:2:3:4:5:6:7", 0, "too few IPv6 groups" },
	{ "1:2:3:4:5:6:1.2.3", 0, "malformed IPv4 address" },
	{ "12345::", 0, "IPv6 group longer than 4 digits" },
	{ "::00001", 0, "IPv6 group longer than 4 digits" },
	{ "1:2:3:4:5:6:7:10000", 0, "IPv6 group longer than 4 digits" },
	{ "g::1", 0, "not an IP address" },
	{ "::1 ", 0, "not an IP address" },
	{ "[::1]", 0, "not an IP address" },
	{ "0x1::", 0, "not an IP address" },
	{ "::ff\xef\xbc\xa6", 0, "not an IP address" },
	/* embedded IPv4 */
	{ "::ffff:01.2.3.4", 0, "leading zero in IPv4 octet" },
	{ "::ffff:1.2.3.04", 0, "leading zero in IPv4 octet" },
	{ "::ffff:256.2.3.4", 0, "IPv4 octet out of range" },
	{ "::ffff:1234.2.3.4", 0, "IPv4 octet out of range" },
	{ "::1.2.3", 0, "malformed IPv4 address" },
	{ "::1.2.3.4.5", 0, "malformed IPv4 address" },
	{ "::1.2.3.4:5", 0, "malformed IPv4 address" },
	{ "::1.2.3.4::", 0, "malformed IPv4 address" },
	{ "::a.b.c.d", 0, "malformed IPv4 address" },
	{ "1.2.3.4::", 0, "malformed IPv4 address" },
	{ "1:2:3:4:5:6:7:1.2.3.4", 0, "too many IPv6 groups" },
	{ "1:2:3:4:5:6::1.2.3.4", 0, "too many IPv6 groups" },
	/* IPv4-mapped prefixes shorter than the mapped block */
	{ "::ffff:0.0.0.0/95", 0, "mapped prefix shorter than /96" },
	{ "::ffff:0:0/80", 0, "mapped prefix shorter than /96" },
	/* size */
	{ "", 0, "empty entry" },
	{ "1111111111111111111111111111111111111111111111111111111111111.1.1",
	    0, "entry too long" },
};

static void
test_bad(void **state)
{
	struct prefix p;
	const char *why;
	char got[512], want[512], esc[ESCAPE_BUF];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		n = bad[i].n != 0 ? bad[i].n : strlen(bad[i].in);
		log_escape(bad[i].in, n, esc, sizeof(esc));
		why = NULL;
		if (parse_exact(bad[i].in, n, &p, &why) == 0)
			snprintf(got, sizeof(got), "%s: accepted", esc);
		else
			snprintf(got, sizeof(got), "%s: %s", esc,
			    why != NULL ? why : "(no reason)");
		snprintf(want, sizeof(want), "%s: %s", esc, bad[i].why);
		assert_string_equal(got, want);
	}
}

/* Lengths around MAX_ENTRY_LEN: the cap is on bytes, checked first. */
static void
test_length_cap(void **state)
{
	char buf[MAX_ENTRY_LEN + 2];
	struct prefix p;
	const char *why;

	(void)state;
	memset(buf, '1', sizeof(buf));
	why = NULL;
	assert_int_equal(parse_exact(buf, MAX_ENTRY_LEN + 1, &p, &why), -1);
	assert_string_equal(why, "entry too long");
	assert_int_equal(parse_exact(buf, MAX_ENTRY_LEN, &p, &why), -1);
	assert_string_not_equal(why, "entry too long");
	assert_int_equal(parse_exact(buf, sizeof(buf), &p, &why), -1);
	assert_string_equal(why, "entry too long");
}

/* Only the n bytes given are read: the rest of the buffer is ignored. */
static void
test_not_terminated(void **state)
{
	struct prefix p;
	const char *why;
	const char *s = "10.0.0.0/89 trailing";

	(void)state;
	assert_int_equal(prefix_parse(s, 8, &p, &why), 0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.v4, 0x0a000000);
	assert_int_equal(p.len, 32);
	assert_int_equal(prefix_parse(s, 10, &p, &why), 0);
	assert_int_equal(p.len, 8);
	assert_int_equal(prefix_parse(s, 11, &p, &why), -1);
	assert_string_equal(why, "prefix length out of range");
	assert_int_equal(prefix_parse("::1:2", 3, &p, &why), 0);
	assert_int_equal(p.family, 6);
	assert_true(p.v6.hi == 0 && p.v6.lo == 1);
}

static void
test_values(void **state)
{
	struct prefix p;
	const char *why;

	(void)state;
	assert_int_equal(prefix_parse("192.0.2.1", 9, &p, &why), 0);
	assert_int_equal(p.v4, 0xc0000201);
	assert_int_equal(prefix_parse("2001:db8:1:2:3:4:5:6", 20, &p, &why),
	    0);
	assert_true(p.v6.hi == 0x20010db800010002ULL);
	assert_true(p.v6.lo == 0x0003000400050006ULL);
	assert_int_equal(prefix_parse("::ffff:192.0.2.0/127", 20, &p, &why),
	    0);
	assert_int_equal(p.family, 4);
	assert_int_equal(p.v4, 0xc0000200);
	assert_int_equal(p.len, 31);
	assert_true(p.v6.hi == 0 && p.v6.lo == 0);
}

static void
test_ranges(void **state)
{
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	const char *why;

	(void)state;
	assert_int_equal(prefix_parse("10.0.0.0/8", 10, &p, &why), 0);
	prefix_range4(&p, &r4);
	assert_int_equal(r4.first, 0x0a000000);
	assert_int_equal(r4.last, 0x0affffff);

	assert_int_equal(prefix_parse("0.0.0.0/0", 9, &p, &why), 0);
	prefix_range4(&p, &r4);
	assert_int_equal(r4.first, 0);
	assert_int_equal(r4.last, UINT32_MAX);

	assert_int_equal(prefix_parse("255.255.255.255", 15, &p, &why), 0);
	prefix_range4(&p, &r4);
	assert_int_equal(r4.first, UINT32_MAX);
	assert_int_equal(r4.last, UINT32_MAX);

	assert_int_equal(prefix_parse("2001:db8::/32", 13, &p, &why), 0);
	prefix_range6(&p, &r6);
	assert_true(r6.first.hi == 0x20010db800000000ULL && r6.first.lo == 0);
	assert_true(r6.last.hi == 0x20010db8ffffffffULL &&
	    r6.last.lo == UINT64_MAX);

	assert_int_equal(prefix_parse("2001:db8::/64", 13, &p, &why), 0);
	prefix_range6(&p, &r6);
	assert_true(r6.last.hi == 0x20010db800000000ULL &&
	    r6.last.lo == UINT64_MAX);

	assert_int_equal(prefix_parse("2001:db8::/65", 13, &p, &why), 0);
	prefix_range6(&p, &r6);
	assert_true(r6.last.hi == 0x20010db800000000ULL &&
	    r6.last.lo == 0x7fffffffffffffffULL);

	assert_int_equal(prefix_parse("::/0", 4, &p, &why), 0);
	prefix_range6(&p, &r6);
	assert_true(r6.first.hi == 0 && r6.first.lo == 0);
	assert_true(r6.last.hi == UINT64_MAX && r6.last.lo == UINT64_MAX);
}

static void
test_u128_cmp(void **state)
{
	struct u128 a = { 1, 0 }, b = { 0, UINT64_MAX }, c = { 1, 0 };
	struct u128 d = { 1, 1 };

	(void)state;
	assert_true(u128_cmp(a, b) > 0);
	assert_true(u128_cmp(b, a) < 0);
	assert_int_equal(u128_cmp(a, c), 0);
	assert_true(u128_cmp(a, d) < 0);
	assert_true(u128_cmp(d, a) > 0);
}

static void
test_format4(void **state)
{
	static const struct {
		uint32_t	 first, last;
		const char	*out;
	} t[] = {
		{ 0x01020304, 0x01020304, "1.2.3.4" },
		{ 0, 0, "0.0.0.0" },
		{ UINT32_MAX, UINT32_MAX, "255.255.255.255" },
		{ 0, UINT32_MAX, "0.0.0.0/0" },
		{ 0, 0x7fffffff, "0.0.0.0/1" },
		{ 0x80000000, UINT32_MAX, "128.0.0.0/1" },
		{ 1, UINT32_MAX, "0.0.0.1-255.255.255.255" },
		{ 0, UINT32_MAX - 1, "0.0.0.0-255.255.255.254" },
		{ 0x01020400, 0x010205ff, "1.2.4.0/23" },
		{ 0x01020300, 0x010204ff, "1.2.3.0-1.2.4.255" },
		{ 0x01020301, 0x01020302, "1.2.3.1-1.2.3.2" },
		{ 0x01020302, 0x01020303, "1.2.3.2/31" },
		{ 0x01020300, 0x01020302, "1.2.3.0-1.2.3.2" },
	};
	struct range4 r;
	char buf[RANGE_STRLEN];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.first = t[i].first;
		r.last = t[i].last;
		n = range4_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, t[i].out);
		assert_int_equal(n, strlen(t[i].out));
	}
}

/*
 * Every octet value in every place of an address, and the widest ranges'
 * text, as inet_ntop(3) writes the addresses (the digits come from a
 * table now).
 */
static void
test_format4_as_ntop(void **state)
{
	char buf[RANGE_STRLEN], want[2 * INET_ADDRSTRLEN + 2];
	char a1[INET_ADDRSTRLEN], a2[INET_ADDRSTRLEN];
	struct in_addr in;
	struct range4 r;
	unsigned int o, k;

	(void)state;
	for (o = 0; o < 256; o++)
		for (k = 0; k < 4; k++) {
			r.first = (0x01020304U & ~(0xffU << (8 * k))) |
			    o << (8 * k);
			r.last = r.first == UINT32_MAX ? r.first :
			    UINT32_MAX - (r.first & 1);
			in.s_addr = htonl(r.first);
			assert_non_null(inet_ntop(AF_INET, &in, a1,
			    sizeof(a1)));
			in.s_addr = htonl(r.last);
			assert_non_null(inet_ntop(AF_INET, &in, a2,
			    sizeof(a2)));
			snprintf(want, sizeof(want), "%s-%s", a1, a2);
			assert_int_equal(range4_format(&r, buf, sizeof(buf)),
			    strlen(want));
			assert_string_equal(buf, want);
			r.last = r.first;
			assert_int_equal(range4_format(&r, buf, sizeof(buf)),
			    strlen(a1));
			assert_string_equal(buf, a1);
		}
}

static void
test_format6(void **state)
{
	static const struct {
		struct u128	 first, last;
		const char	*out;
	} t[] = {
		{ { 0, 1 }, { 0, 1 }, "::1" },
		{ { 0, 0 }, { 0, 0 }, "::" },
		{ { 0, 0 }, { UINT64_MAX, UINT64_MAX }, "::/0" },
		{ { 0, 0 }, { 0, UINT64_MAX }, "::/64" },
		{ { 0, 2 }, { 0, 3 }, "::2/127" },
		{ { 0x20010db800000000ULL, 0 },
		  { 0x20010db8ffffffffULL, UINT64_MAX }, "2001:db8::/32" },
		{ { 0x20010db800000002ULL, 0 },
		  { 0x20010db800000003ULL, UINT64_MAX }, "2001:db8:0:2::/63" },
		{ { 0x20010db800000001ULL, 0 },
		  { 0x20010db800000002ULL, UINT64_MAX },
		  "2001:db8:0:1::-2001:db8:0:2:ffff:ffff:ffff:ffff" },
		/* Across the 64-bit word boundary. */
		{ { 0, UINT64_MAX }, { 1, 0 },
		  "::ffff:ffff:ffff:ffff-0:0:0:1::" },
		{ { UINT64_MAX, UINT64_MAX }, { UINT64_MAX, UINT64_MAX },
		  "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff" },
		{ { 0x20010db800000000ULL, 1 }, { 0x20010db800000000ULL, 2 },
		  "2001:db8::1-2001:db8::2" },
	};
	struct range6 r;
	char buf[RANGE_STRLEN];
	size_t i, n;

	(void)state;
	for (i = 0; i < sizeof(t) / sizeof(t[0]); i++) {
		r.first = t[i].first;
		r.last = t[i].last;
		n = range6_format(&r, buf, sizeof(buf));
		assert_string_equal(buf, t[i].out);
		assert_int_equal(n, strlen(t[i].out));
	}
}

/* inet_ntop(3)'s text of a, the oracle for range6_format(). */
static void
ntop6(struct u128 a, char *buf)
{
	struct in6_addr in;
	int i;

	for (i = 0; i < 8; i++) {
		in.s6_addr[i] = (uint8_t)(a.hi >> (56 - 8 * i));
		in.s6_addr[i + 8] = (uint8_t)(a.lo >> (56 - 8 * i));
	}
	assert_non_null(inet_ntop(AF_INET6, &in, buf, INET6_ADDRSTRLEN));
}

/* Group i (0-7) of a set to v. */
static void
set_group(struct u128 *a, unsigned int i, uint64_t v)
{
	uint64_t *w = i < 4 ? &a->hi : &a->lo;
	unsigned int shift = 48 - 16 * (i % 4);

	*w = (*w & ~(0xffffULL << shift)) | v << shift;
}

/*
 * range6_format() writes addresses as inet_ntop(3) does, without it: every
 * pattern of zero and non-zero groups (where "::" goes, and ties between
 * runs), with group values of one to four digits, and the addresses that
 * inet_ntop writes with a dotted-quad tail; alone and as range ends.
 */
static void
test_format6_as_ntop(void **state)
{
	static const uint64_t vals[] = { 1, 0xa, 0x10, 0xf0f, 0xabc, 0x1000,
	    0xffff, 0x1 };
	char want[2 * INET6_ADDRSTRLEN + 2], b[INET6_ADDRSTRLEN],
	    got[RANGE_STRLEN];
	struct range6 r;
	struct u128 a;
	unsigned int mask, i, v;

	(void)state;
	for (mask = 0; mask < 256; mask++)
		for (v = 0; v < 8; v++) {
			a.hi = a.lo = 0;
			for (i = 0; i < 8; i++)
				if (mask & 1U << i)
					set_group(&a, i, vals[(i + v) % 8]);
			if (mask == 0x20 || mask == 0x60)
				set_group(&a, 5, 0xffff);	/* ::ffff:... */
			ntop6(a, want);
			r.first = r.last = a;
			assert_int_equal(range6_format(&r, got, sizeof(got)),
			    strlen(want));
			assert_string_equal(got, want);
			/* As the first end of a range to ff..ff. */
			r.last.hi = r.last.lo = UINT64_MAX;
			if (u128_cmp(r.first, r.last) == 0)
				continue;
			ntop6(r.last, b);
			strcat(want, "-");
			strcat(want, b);
			range6_format(&r, got, sizeof(got));
			if (strchr(got, '/') == NULL)
				assert_string_equal(got, want);
		}
}

/* The longest possible text fits RANGE_STRLEN; short buffers truncate. */
static void
test_format_bounds(void **state)
{
	struct range6 r6 = { { 0x1111222233334444ULL, 0x5555666677778888ULL },
	    { 0x9999aaaabbbbccccULL, 0xddddeeeeffff1111ULL } };
	struct range4 r4 = { 0x01020301, 0x01020302 };
	char buf[RANGE_STRLEN], small[6];
	size_t n;

	(void)state;
	n = range6_format(&r6, buf, sizeof(buf));
	assert_string_equal(buf, "1111:2222:3333:4444:5555:6666:7777:8888-"
	    "9999:aaaa:bbbb:cccc:dddd:eeee:ffff:1111");
	assert_int_equal(n, strlen(buf));
	n = range4_format(&r4, small, sizeof(small));
	assert_string_equal(small, "1.2.3");
	assert_int_equal(n, 5);
	n = range6_format(&r6, small, sizeof(small));
	assert_string_equal(small, "1111:");
	assert_int_equal(n, 5);
}

/*
 * IPv4 entries as an independent oracle reads them: inet_pton(3) for the
 * address (glibc takes exactly four decimal octets, no leading zeros),
 * then a prefix length of one or two digits, no leading zero, at most 32,
 * and no host bits.  Returns 0 with *a and *len set, or -1.
 */
static int
oracle_v4(const char *s, uint32_t *a, unsigned int *len)
{
	char addr[64];
	const char *slash = strchr(s, '/'), *l;
	struct in_addr in;
	size_t n = slash != NULL ? (size_t)(slash - s) : strlen(s);

	if (n >= sizeof(addr))
		return -1;
	memcpy(addr, s, n);
	addr[n] = '\0';
	if (inet_pton(AF_INET, addr, &in) != 1)
		return -1;
	*a = ntohl(in.s_addr);
	*len = 32;
	if (slash != NULL) {
		l = slash + 1;
		if (strlen(l) < 1 || strlen(l) > 2 || strspn(l, "0123456789") !=
		    strlen(l) || (l[0] == '0' && l[1] != '\0'))
			return -1;
		*len = (unsigned int)atoi(l);
		if (*len > 32)
			return -1;
	}
	if (*len < 32 && (*a & (UINT32_MAX >> *len)) != 0)
		return -1;
	return 0;
}

/* prefix_parse() and oracle_v4() agree on buf; *ok counts accepted. */
static void
check_v4(const char *buf, unsigned int *ok)
{
	struct prefix p;
	const char *why;
	uint32_t a = 0;
	unsigned int len = 0;
	int want, got;

	want = oracle_v4(buf, &a, &len);
	got = parse_exact(buf, strlen(buf), &p, &why);
	if (want != got)
		fail_msg("\"%s\": oracle %d, prefix_parse %d", buf, want, got);
	if (got == 0) {
		(*ok)++;
		if (p.family != 4 || p.v4 != a || p.len != len)
			fail_msg("\"%s\": read as %d %08x/%u", buf, p.family,
			    p.v4, p.len);
	}
}

/*
 * prefix_parse() reads colon-free text exactly as the oracle does, over
 * strings built from the pieces where a one-pass reader goes wrong:
 * leading zeros, octets of 255 and 256, four digits, a fifth octet, dots
 * and slashes doubled or at either end, two-digit and three-digit
 * lengths, and stray bytes.
 */
static void
test_v4_oracle(void **state)
{
	static const char *const octets[] = {
		"0", "1", "9", "10", "25", "255", "0", "1", "9", "10", "25",
		"255", "00", "01", "099", "256", "299", "999", "1000", "0255",
	};
	static const char *const lens[] = {
		"/0", "/8", "/24", "/32", "/0", "/8", "/24", "/32", "/33",
		"/00", "/024", "/100", "/", "/1", "//",
	};
	static const char *const stray[] = {
		".", "/", " ", "+", "-", "a", "x", "\t", "%", "..", "1",
	};
	static const unsigned int shapes[] = { 1, 3, 5, 7, 7, 7, 8, 8, 8, 9 };
	uint64_t rnd = 0x9e3779b97f4a7c15ULL;
	char buf[64];
	unsigned int i, k, nparts, ok = 0;

	(void)state;
	for (i = 0; i < 400000; i++) {
		buf[0] = '\0';
		rnd = rnd * 6364136223846793005ULL + 1442695040888963407ULL;
		nparts = shapes[(rnd >> 59) % 10];
		for (k = 0; k < nparts; k++) {
			rnd = rnd * 6364136223846793005ULL +
			    1442695040888963407ULL;
			/* Octet, dot, octet..., a length: valid quite often. */
			if ((rnd >> 20) % 16 == 0)
				strcat(buf, stray[(rnd >> 33) % 11]);
			else if (k == 7)
				strcat(buf, lens[(rnd >> 33) % 15]);
			else if (k % 2 == 1)
				strcat(buf, ".");
			else
				strcat(buf, octets[(rnd >> 33) % 20]);
		}
		check_v4(buf, &ok);
	}
	/* Every tail of up to three bytes after a few addresses. */
	static const char *const bases[] = {
		"0.0.0.0", "10.0.0.0", "1.2.3.4", "255.255.255.255",
		"10.0.0", "10.0.0.0.",
	};
	static const char alpha[] = "0123456789/.";
	unsigned int b, tn, v, lim, j;
	char *tail;

	for (b = 0; b < 6; b++)
		for (tn = 0, lim = 1; tn <= 3; tn++, lim *= 12)
			for (v = 0; v < lim; v++) {
				snprintf(buf, sizeof(buf), "%s/", bases[b]);
				tail = buf + strlen(buf);
				for (j = 0, k = v; j < tn; j++, k /= 12)
					tail[j] = alpha[k % 12];
				tail[tn] = '\0';
				check_v4(buf, &ok);
				tail[-1] = '\0';
				check_v4(buf, &ok);
			}
	/* The generator must reach both sides often. */
	assert_true(ok > 1000);
	assert_true(ok < 399000);
}

/*
 * prefix_parse() against oracle_v4() on two million strings near the
 * dotted quad: well formed ones (random octets of every length, with and
 * without a length), then each spoiled by a byte put in, taken out or
 * changed (digits, dots, slashes, a space, a letter, a NUL), or cut.  The
 * fast path for a dotted quad and the general path must agree with it.
 */
static void
test_parse4_as_pton(void **state)
{
	static const char alpha[] = "0123456789./ x";
	char s[40];
	struct prefix p;
	const char *why;
	uint32_t a, x = 12345;
	unsigned int len, i, n, k;
	bool ok;
	int r;

	(void)state;
	for (i = 0; i < 2000000; i++) {
		x = x * 1103515245U + 12345U;
		a = x ^ x << 13;
		x = x * 1103515245U + 12345U;
		len = x % 40;
		if (len <= 32 && len > 0)
			a &= UINT32_MAX << (32 - len);
		n = (unsigned int)snprintf(s, sizeof(s), "%u.%u.%u.%u",
		    a >> 24, a >> 16 & 255, a >> 8 & 255, a & 255);
		if (len <= 32)
			n += (unsigned int)snprintf(s + n, sizeof(s) - n, "/%u",
			    len);
		x = x * 1103515245U + 12345U;
		k = x % n;
		switch (x >> 16 & 7) {
		case 0:		/* changed */
			s[k] = alpha[(x >> 8) % (sizeof(alpha) - 1)];
			break;
		case 1:		/* put in */
			memmove(s + k + 1, s + k, n - k + 1);
			s[k] = alpha[(x >> 8) % (sizeof(alpha) - 1)];
			n++;
			break;
		case 2:		/* taken out */
			memmove(s + k, s + k + 1, n - k);
			n--;
			break;
		case 3:		/* cut */
			s[k] = '\0';
			n = k;
			break;
		case 4:		/* a NUL inside */
			s[k] = '\0';
			break;
		}
		r = parse_exact(s, n, &p, &why);
		ok = strlen(s) == n && oracle_v4(s, &a, &len) == 0;
		assert_int_equal(r, ok ? 0 : -1);
		if (ok) {
			assert_int_equal(p.family, 4);
			assert_int_equal(p.v4, a);
			assert_int_equal(p.len, len);
		}
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_good),
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_length_cap),
		cmocka_unit_test(test_not_terminated),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_ranges),
		cmocka_unit_test(test_u128_cmp),
		cmocka_unit_test(test_format4),
		cmocka_unit_test(test_format4_as_ntop),
		cmocka_unit_test(test_parse4_as_pton),
		cmocka_unit_test(test_format6),
		cmocka_unit_test(test_format6_as_ntop),
		cmocka_unit_test(test_format_bounds),
		cmocka_unit_test(test_v4_oracle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
