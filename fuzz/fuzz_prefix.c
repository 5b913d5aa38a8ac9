/*
 * libFuzzer target: the address/prefix grammar and the range formatter.
 *
 * - What prefix_parse() accepts must use only address bytes, have a sane
 *   family and length, and mean the same address to inet_pton(3); for a
 *   lone IPv4 or IPv6 address the two must agree on acceptance too.
 * - An accepted prefix formats as text that parses back to it.
 * - The first bytes, read as a raw IPv4 and IPv6 range, format as text
 *   ("a", "a/len" or "a-b") that parses back to the same range.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "fuzz.h"

/* libFuzzer calls this once before the first input. */
int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	fuzz_init();
	return 0;
}

/* Host-order u128 of an in6_addr. */
static struct u128
u128_of(const struct in6_addr *in)
{
	struct u128 a = { 0, 0 };
	int i;

	for (i = 0; i < 8; i++) {
		a.hi = a.hi << 8 | in->s6_addr[i];
		a.lo = a.lo << 8 | in->s6_addr[i + 8];
	}
	return a;
}

/* A host-order uint32_t from 4 big-endian bytes. */
static uint32_t
get32(const uint8_t *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 |
	    (uint32_t)b[2] << 8 | b[3];
}

/* A u128 from 16 big-endian bytes. */
static struct u128
get128(const uint8_t *b)
{
	struct u128 a;

	a.hi = (uint64_t)get32(b) << 32 | get32(b + 4);
	a.lo = (uint64_t)get32(b + 8) << 32 | get32(b + 12);
	return a;
}

/*
 * Compare prefix_parse() with inet_pton(3) on the address part of s.
 * Both must accept a lone address alike; whatever prefix_parse() accepts
 * must be the same address to inet_pton(3).
 */
static void
check_pton(const char *s, size_t n, int ok, const struct prefix *p)
{
	char a[MAX_ENTRY_LEN + 1];
	const char *slash;
	struct in6_addr in6;
	struct in_addr in4;
	int colon, r;
	size_t alen;

	if (n > MAX_ENTRY_LEN)
		return;
	slash = memchr(s, '/', n);
	alen = slash != NULL ? (size_t)(slash - s) : n;
	memcpy(a, s, alen);
	a[alen] = '\0';
	if (strlen(a) != alen)
		return;
	colon = memchr(a, ':', alen) != NULL;
	r = inet_pton(colon ? AF_INET6 : AF_INET, a, colon ? (void *)&in6 :
	    (void *)&in4);
	if (!ok) {
		if (slash == NULL && r == 1)
			fuzz_fail("inet_pton accepts an address prefix_parse "
			    "rejects");
		return;
	}
	if (r != 1)
		fuzz_fail("prefix_parse accepts an address inet_pton rejects");
	if (!colon) {
		if (p->family != 4 || ntohl(in4.s_addr) != p->v4)
			fuzz_fail("IPv4 address differs from inet_pton's");
	} else if (p->family == 4) {
		if (u128_of(&in6).hi != 0 || u128_of(&in6).lo !=
		    (0x0000ffff00000000ULL | p->v4))
			fuzz_fail("mapped address differs from inet_pton's");
	} else if (u128_cmp(u128_of(&in6), p->v6) != 0)
		fuzz_fail("IPv6 address differs from inet_pton's");
}

/*
 * Abort unless text (one address, no length) parses to exactly a4 (family
 * 4) or a6 (family 6; an IPv4-mapped a6 comes back as family 4).
 */
static void
reparse_addr(const char *text, size_t n, int family, uint32_t a4,
    struct u128 a6)
{
	struct prefix q;
	const char *why;

	if (prefix_parse(text, n, &q, &why) != 0)
		fuzz_fail("formatted address does not parse back");
	if (family == 6 && q.family == 4) {
		q.family = 6;
		q.len += 96;
		q.v6.hi = 0;
		q.v6.lo = 0x0000ffff00000000ULL | q.v4;
	}
	if (q.family != family)
		fuzz_fail("formatted address parses to another family");
	if (family == 4 ? q.len != 32 || q.v4 != a4 :
	    q.len != 128 || u128_cmp(q.v6, a6) != 0)
		fuzz_fail("formatted address parses to another address");
}

/* Abort unless text starts with inet_ntop(3)'s text of a, then ends. */
static void
ntop_prefix(const char *text, struct u128 a)
{
	char want[INET6_ADDRSTRLEN];
	struct in6_addr in;
	size_t n;
	int i;

	for (i = 0; i < 8; i++) {
		in.s6_addr[i] = (uint8_t)(a.hi >> (56 - 8 * i));
		in.s6_addr[i + 8] = (uint8_t)(a.lo >> (56 - 8 * i));
	}
	if (inet_ntop(AF_INET6, &in, want, sizeof(want)) == NULL)
		fuzz_fail("inet_ntop failed");
	n = strlen(want);
	if (strncmp(text, want, n) != 0 || (text[n] != '\0' &&
	    text[n] != '/' && text[n] != '-'))
		fuzz_fail("IPv6 text differs from inet_ntop's");
}

/* Format r4 and r6 and check the text stands for exactly those ranges. */
static void
check_format(const struct range4 *r4, const struct range6 *r6)
{
	static const struct u128 none = { 0, 0 };
	char buf[RANGE_STRLEN];
	const char *why, *dash;
	struct prefix q;
	struct range4 q4;
	struct range6 q6;
	size_t n;

	n = range4_format(r4, buf, sizeof(buf));
	if (n != strlen(buf) || n == 0)
		fuzz_fail("range4_format length");
	if ((dash = memchr(buf, '-', n)) != NULL) {
		reparse_addr(buf, (size_t)(dash - buf), 4, r4->first, none);
		reparse_addr(dash + 1, n - (size_t)(dash - buf) - 1, 4,
		    r4->last, none);
	} else {
		if (prefix_parse(buf, n, &q, &why) != 0 || q.family != 4)
			fuzz_fail("formatted IPv4 range does not parse back");
		prefix_range4(&q, &q4);
		if (q4.first != r4->first || q4.last != r4->last)
			fuzz_fail("formatted IPv4 range parses to another");
	}

	n = range6_format(r6, buf, sizeof(buf));
	if (n != strlen(buf) || n == 0)
		fuzz_fail("range6_format length");
	ntop_prefix(buf, r6->first);
	if ((dash = memchr(buf, '-', n)) != NULL)
		ntop_prefix(dash + 1, r6->last);
	if ((dash = memchr(buf, '-', n)) != NULL) {
		reparse_addr(buf, (size_t)(dash - buf), 6, 0, r6->first);
		reparse_addr(dash + 1, n - (size_t)(dash - buf) - 1, 6, 0,
		    r6->last);
		return;
	}
	if (prefix_parse(buf, n, &q, &why) != 0)
		fuzz_fail("formatted IPv6 range does not parse back");
	if (q.family == 4) {
		/* An IPv4-mapped range: compare it inside ::ffff:0:0/96. */
		prefix_range4(&q, &q4);
		q6.first.hi = q6.last.hi = 0;
		q6.first.lo = 0x0000ffff00000000ULL | q4.first;
		q6.last.lo = 0x0000ffff00000000ULL | q4.last;
	} else
		prefix_range6(&q, &q6);
	if (u128_cmp(q6.first, r6->first) != 0 ||
	    u128_cmp(q6.last, r6->last) != 0)
		fuzz_fail("formatted IPv6 range parses to another");
}

/* Abort unless p covers what its length says and formats back to itself. */
static void
check_prefix(const struct prefix *p)
{
	struct range4 r4 = { 0, 0 };
	struct range6 r6 = { { 0, 0 }, { 0, 0 } };
	uint64_t span;

	if (p->family == 4) {
		if (p->len > 32)
			fuzz_fail("IPv4 prefix length over 32");
		prefix_range4(p, &r4);
		if (r4.first != p->v4 || (uint64_t)r4.last - r4.first + 1 !=
		    (uint64_t)1 << (32 - p->len))
			fuzz_fail("IPv4 prefix covers the wrong range");
	} else if (p->family == 6) {
		if (p->len > 128)
			fuzz_fail("IPv6 prefix length over 128");
		prefix_range6(p, &r6);
		if (u128_cmp(r6.first, p->v6) != 0)
			fuzz_fail("IPv6 prefix covers the wrong range");
		if (p->len >= 64) {
			span = p->len == 64 ? UINT64_MAX :
			    ((uint64_t)1 << (128 - p->len)) - 1;
			if (r6.last.hi != r6.first.hi ||
			    r6.last.lo - r6.first.lo != span)
				fuzz_fail("IPv6 prefix covers the wrong range");
		} else {
			span = p->len == 0 ? UINT64_MAX :
			    ((uint64_t)1 << (64 - p->len)) - 1;
			if (r6.last.lo != UINT64_MAX || r6.first.lo != 0 ||
			    r6.last.hi - r6.first.hi != span)
				fuzz_fail("IPv6 prefix covers the wrong range");
		}
	} else
		fuzz_fail("prefix of no family");
	if (p->family == 4) {
		r6.first.lo = 0x0000ffff00000000ULL | r4.first;
		r6.last.lo = 0x0000ffff00000000ULL | r4.last;
	}
	check_format(&r4, &r6);
}

/* One input: a text entry, and its first 40 bytes as two raw ranges. */
int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *s = (const char *)data, *why = NULL;
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	struct u128 t;
	size_t i;
	int ok;

	ok = prefix_parse(s, size, &p, &why) == 0;
	if (!ok && why == NULL)
		fuzz_fail("prefix_parse failed without a reason");
	check_pton(s, size, ok, &p);
	if (ok) {
		for (i = 0; i < size; i++)
			if (strchr("0123456789abcdefABCDEF:./", s[i]) == NULL ||
			    s[i] == '\0')
				fuzz_fail("accepted entry has a stray byte");
		check_prefix(&p);
	}

	if (size >= 40) {
		r4.first = get32(data);
		r4.last = get32(data + 4);
		if (r4.first > r4.last) {
			r4.last = r4.first;
			r4.first = get32(data + 4);
		}
		r6.first = get128(data + 8);
		r6.last = get128(data + 24);
		if (u128_cmp(r6.first, r6.last) > 0) {
			t = r6.first;
			r6.first = r6.last;
			r6.last = t;
		}
		check_format(&r4, &r6);
	}
	return 0;
}
