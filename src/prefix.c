/*
 * Addresses and prefixes: the strict entry grammar, the ranges a prefix
 * covers and how ranges are written back out.
 *
 * The parser is written out by hand for its error messages.  glibc's
 * inet_pton(3) refuses the same forms (inet_aton-style octal, hex and
 * short forms, leading zeros, zone indexes, whitespace; fuzz/fuzz_prefix.c
 * checks the two agree), but it only says "no"; an operator reading a
 * rejected list needs "leading zero in IPv4 octet" or "more than one ::".
 * The prefix length, which inet_pton does not parse, gets the same care.
 * Nothing here allocates.
 */
#include <arpa/inet.h>
#include <netinet/in.h>

#include <string.h>

#include "allowsync.h"

#define IPV6_GROUPS	8

/* True for an ASCII decimal digit, whatever the locale. */
static int
is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Value of a hex digit, or -1.  Locale-independent, unlike isxdigit(3). */
static int
hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Results of parse_decimal(). */
#define DEC_OK		0
#define DEC_BAD		-1	/* empty or not all digits */
#define DEC_ZERO	-2	/* leading zero */
#define DEC_BIG		-3	/* more than three digits */

/*
 * Parse a decimal number of one to three digits without leading zeros
 * from s[0..n).  Returns DEC_OK with *v set, or one of the errors above.
 */
static int
parse_decimal(const char *s, size_t n, unsigned int *v)
{
	size_t i;

	*v = 0;
	if (n == 0)
		return DEC_BAD;
	for (i = 0; i < n; i++)
		if (!is_digit(s[i]))
			return DEC_BAD;
	if (n > 1 && s[0] == '0')
		return DEC_ZERO;
	if (n > 3)
		return DEC_BIG;
	for (i = 0; i < n; i++)
		*v = *v * 10 + (unsigned int)(s[i] - '0');
	return DEC_OK;
}

/*
 * Parse a dotted quad from s[0..n).  Returns 0 with *a set in host order,
 * or -1 with *why set.
 */
static int
parse_v4(const char *s, size_t n, uint32_t *a, const char **why)
{
	size_t i, start = 0;
	unsigned int octet, dots = 0;
	int r;

	*a = 0;
	for (i = 0; i < n; i++)
		if (s[i] == '.')
			dots++;
	if (dots != 3) {
		*why = "malformed IPv4 address";
		return -1;
	}
	for (i = 0; i <= n; i++) {
		if (i < n && s[i] != '.')
			continue;
		r = parse_decimal(s + start, i - start, &octet);
		if (r == DEC_BAD) {
			*why = "malformed IPv4 address";
			return -1;
		}
		if (r == DEC_ZERO) {
			*why = "leading zero in IPv4 octet";
			return -1;
		}
		if (r == DEC_BIG || octet > 255) {
			*why = "IPv4 octet out of range";
			return -1;
		}
		*a = *a << 8 | octet;
		start = i + 1;
	}
	return 0;
}

/*
 * Parse an RFC 4291 text address from s[0..n): hex groups of one to four
 * digits, at most one "::" standing for at least one zero group, and an
 * optional dotted-quad tail in place of the last two groups.  Returns 0
 * with *a set, or -1 with *why set.
 */
static int
parse_v6(const char *s, size_t n, struct u128 *a, const char **why)
{
	uint16_t g[IPV6_GROUPS] = { 0 };
	uint32_t v4;
	size_t i = 0, start, ng = 0, k;
	int dc = -1, h;
	unsigned int val;

	if (n >= 2 && s[0] == ':' && s[1] == ':') {
		dc = 0;
		i = 2;
	} else if (n >= 1 && s[0] == ':') {
		*why = "malformed IPv6 address";
		return -1;
	}
	while (i < n) {
		start = i;
		val = 0;
		while (i < n && (h = hex_value(s[i])) != -1 && i - start < 5) {
			val = val << 4 | (unsigned int)h;
			i++;
		}
		if (i < n && s[i] == '.') {
			if (ng > IPV6_GROUPS - 2) {
				*why = "too many IPv6 groups";
				return -1;
			}
			if (parse_v4(s + start, n - start, &v4, why) == -1)
				return -1;
			g[ng++] = (uint16_t)(v4 >> 16);
			g[ng++] = (uint16_t)v4;
			break;
		}
		if (i - start > 4) {
			*why = "IPv6 group longer than 4 digits";
			return -1;
		}
		if (i == start) {
			*why = "malformed IPv6 address";
			return -1;
		}
		if (ng == IPV6_GROUPS) {
			*why = "too many IPv6 groups";
			return -1;
		}
		g[ng++] = (uint16_t)val;
		if (i == n)
			break;
		if (s[i] != ':' || ++i == n) {
			*why = "malformed IPv6 address";
			return -1;
		}
		if (s[i] == ':') {
			if (dc != -1) {
				*why = "more than one \"::\" in IPv6 address";
				return -1;
			}
			dc = (int)ng;
			i++;
		}
	}
	if (dc != -1) {
		if (ng == IPV6_GROUPS) {
			*why = "too many IPv6 groups";
			return -1;
		}
		k = IPV6_GROUPS - ng;
		memmove(g + dc + k, g + dc, (ng - (size_t)dc) * sizeof(g[0]));
		memset(g + dc, 0, k * sizeof(g[0]));
	} else if (ng != IPV6_GROUPS) {
		*why = "too few IPv6 groups";
		return -1;
	}
	a->hi = a->lo = 0;
	for (k = 0; k < 4; k++) {
		a->hi = a->hi << 16 | g[k];
		a->lo = a->lo << 16 | g[k + 4];
	}
	return 0;
}

/* True when s[0..n) holds only bytes an address may be written with. */
static int
address_chars(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (hex_value(s[i]) == -1 && s[i] != ':' && s[i] != '.')
			return 0;
	return 1;
}

/* The IPv4 netmask for len (0-32), host order. */
static uint32_t
mask4(unsigned int len)
{
	return len == 0 ? 0 : UINT32_MAX << (32 - len);
}

/* The IPv6 netmask for len (0-128). */
static struct u128
mask6(unsigned int len)
{
	struct u128 m = { 0, 0 };

	if (len == 0)
		return m;
	if (len <= 64) {
		m.hi = UINT64_MAX << (64 - len);
		return m;
	}
	m.hi = UINT64_MAX;
	m.lo = UINT64_MAX << (128 - len);
	return m;
}

/*
 * Parse the prefix length after the slash, s[0..n), of at most max.
 * Returns 0 with *len set, or -1 with *why set.
 */
static int
parse_len(const char *s, size_t n, unsigned int max, unsigned int *len,
    const char **why)
{
	int r = parse_decimal(s, n, len);

	if (r == DEC_BAD)
		*why = "malformed prefix length";
	else if (r == DEC_ZERO)
		*why = "leading zero in prefix length";
	else if (r == DEC_BIG || *len > max)
		*why = "prefix length out of range";
	else
		return 0;
	return -1;
}

/*
 * The common entry in one pass: a dotted quad and an optional "/len",
 * without leading zeros or host bits.  Returns 0 with *p filled as
 * prefix_parse() would, or -1 for anything else, valid or not, which is
 * left to prefix_parse()'s general path: that alone words the errors.
 */
static int
fast_v4(const char *s, size_t n, struct prefix *p)
{
	uint32_t a = 0;
	unsigned int v = 0, digits = 0, octets = 0, c;
	size_t i;

	for (i = 0; i < n; i++) {
		c = (unsigned char)s[i] - '0';
		if (c <= 9) {
			if (digits == 1 && v == 0)
				return -1;
			v = v * 10 + c;
			if (++digits > 3 || v > 255)
				return -1;
			continue;
		}
		if ((s[i] != '.' && s[i] != '/') || digits == 0)
			return -1;
		a = a << 8 | v;
		v = digits = 0;
		if (++octets == 4 || s[i] == '/')
			break;
	}
	if (i == n) {
		if (digits == 0 || octets != 3)
			return -1;
		a = a << 8 | v;
		p->len = 32;
	} else {
		/* s[i] ended the fourth octet: a slash, one or two digits. */
		if (octets != 4 || s[i] != '/' || n - i < 2 || n - i > 3)
			return -1;
		for (v = 0, i++; i < n; i++) {
			c = (unsigned char)s[i] - '0';
			if (c > 9 || (v == 0 && i + 1 < n && c == 0))
				return -1;
			v = v * 10 + c;
		}
		if (v > 32)
			return -1;
		p->len = v;
	}
	if ((a & ~mask4(p->len)) != 0)
		return -1;
	p->family = 4;
	p->v4 = a;
	return 0;
}

/*
 * See allowsync.h.  The address part decides the family: anything with a
 * colon is IPv6.  An IPv4-mapped address (::ffff:0:0/96) is turned into
 * the IPv4 prefix it stands for, so that it meets the IPv4 policy.
 */
int
prefix_parse(const char *s, size_t n, struct prefix *p, const char **why)
{
	const char *slash;
	size_t alen;
	unsigned int len, max;
	struct u128 m;

	memset(p, 0, sizeof(*p));
	if (n == 0) {
		*why = "empty entry";
		return -1;
	}
	if (n > MAX_ENTRY_LEN) {
		*why = "entry too long";
		return -1;
	}
	if (fast_v4(s, n, p) == 0)
		return 0;
	memset(p, 0, sizeof(*p));
	slash = memchr(s, '/', n);
	alen = slash != NULL ? (size_t)(slash - s) : n;
	if (memchr(s, ':', alen) != NULL && memchr(s, '%', alen) != NULL) {
		*why = "zone index not allowed";
		return -1;
	}
	if (alen == 0 || !address_chars(s, alen)) {
		*why = "not an IP address";
		return -1;
	}
	if (memchr(s, ':', alen) != NULL) {
		p->family = 6;
		max = 128;
		if (parse_v6(s, alen, &p->v6, why) == -1)
			return -1;
	} else {
		p->family = 4;
		max = 32;
		if (parse_v4(s, alen, &p->v4, why) == -1)
			return -1;
	}

	len = max;
	if (slash != NULL && parse_len(slash + 1, n - alen - 1, max, &len,
	    why) == -1)
		return -1;
	p->len = len;

	if (p->family == 6 && p->v6.hi == 0 &&
	    p->v6.lo >> 32 == 0xffff) {
		if (len < 96) {
			*why = "mapped prefix shorter than /96";
			return -1;
		}
		p->family = 4;
		p->len = len - 96;
		p->v4 = (uint32_t)p->v6.lo;
		p->v6.lo = 0;
	}

	if (p->family == 4) {
		if ((p->v4 & ~mask4(p->len)) != 0) {
			*why = "host bits set";
			return -1;
		}
	} else {
		m = mask6(p->len);
		if ((p->v6.hi & ~m.hi) != 0 || (p->v6.lo & ~m.lo) != 0) {
			*why = "host bits set";
			return -1;
		}
	}
	return 0;
}

/* See allowsync.h.  p must be family 4. */
void
prefix_range4(const struct prefix *p, struct range4 *r)
{
	uint32_t m = mask4(p->len);

	r->first = p->v4 & m;
	r->last = r->first | ~m;
}

/* See allowsync.h.  p must be family 6. */
void
prefix_range6(const struct prefix *p, struct range6 *r)
{
	struct u128 m = mask6(p->len);

	r->first.hi = p->v6.hi & m.hi;
	r->first.lo = p->v6.lo & m.lo;
	r->last.hi = r->first.hi | ~m.hi;
	r->last.lo = r->first.lo | ~m.lo;
}

/* See allowsync.h. */
int
u128_cmp(struct u128 a, struct u128 b)
{
	if (a.hi != b.hi)
		return a.hi < b.hi ? -1 : 1;
	if (a.lo != b.lo)
		return a.lo < b.lo ? -1 : 1;
	return 0;
}

/* Number of one bits in a 64-bit word. */
static unsigned int
popcount64(uint64_t x)
{
	unsigned int c = 0;

	for (; x != 0; x &= x - 1)
		c++;
	return c;
}

/* True when x is 2^k - 1 for some k (including 0 and all ones). */
static int
is_low_mask64(uint64_t x)
{
	return (x & (x + 1)) == 0;
}

/*
 * Write a as a dotted quad at p (16 bytes free: each octet's copy writes
 * four bytes, up to three past the end returned, never past p + 16)
 * without printf or a division, which dominated the time to write a
 * million ranges; returns the end.
 */
static char *
addr4_put(uint32_t a, char *p)
{
	/* Each octet's digits, copied four bytes at a time. */
	static const char digits[256][4] = {
	"0", "1", "2", "3", "4", "5", "6", "7", "8", "9",
	"10", "11", "12", "13", "14", "15", "16", "17", "18", "19",
	"20", "21", "22", "23", "24", "25", "26", "27", "28", "29",
	"30", "31", "32", "33", "34", "35", "36", "37", "38", "39",
	"40", "41", "42", "43", "44", "45", "46", "47", "48", "49",
	"50", "51", "52", "53", "54", "55", "56", "57", "58", "59",
	"60", "61", "62", "63", "64", "65", "66", "67", "68", "69",
	"70", "71", "72", "73", "74", "75", "76", "77", "78", "79",
	"80", "81", "82", "83", "84", "85", "86", "87", "88", "89",
	"90", "91", "92", "93", "94", "95", "96", "97", "98", "99",
	"100", "101", "102", "103", "104", "105", "106", "107", "108", "109",
	"110", "111", "112", "113", "114", "115", "116", "117", "118", "119",
	"120", "121", "122", "123", "124", "125", "126", "127", "128", "129",
	"130", "131", "132", "133", "134", "135", "136", "137", "138", "139",
	"140", "141", "142", "143", "144", "145", "146", "147", "148", "149",
	"150", "151", "152", "153", "154", "155", "156", "157", "158", "159",
	"160", "161", "162", "163", "164", "165", "166", "167", "168", "169",
	"170", "171", "172", "173", "174", "175", "176", "177", "178", "179",
	"180", "181", "182", "183", "184", "185", "186", "187", "188", "189",
	"190", "191", "192", "193", "194", "195", "196", "197", "198", "199",
	"200", "201", "202", "203", "204", "205", "206", "207", "208", "209",
	"210", "211", "212", "213", "214", "215", "216", "217", "218", "219",
	"220", "221", "222", "223", "224", "225", "226", "227", "228", "229",
	"230", "231", "232", "233", "234", "235", "236", "237", "238", "239",
	"240", "241", "242", "243", "244", "245", "246", "247", "248", "249",
	"250", "251", "252", "253", "254", "255",
	};
	unsigned int o, shift;

	for (shift = 24;; shift -= 8) {
		o = (a >> shift) & 0xff;
		memcpy(p, digits[o], 4);
		p += 1 + (o >= 10) + (o >= 100);
		if (shift == 0)
			return p;
		*p++ = '.';
	}
}

/*
 * Write a at p (INET6_ADDRSTRLEN bytes free) in the RFC 5952 text that
 * inet_ntop(3) writes, without the printf under glibc's, which took most
 * of the time to write a hundred thousand IPv6 ranges; returns the end.
 * Lowercase hex without leading zeros; the first of the longest runs of
 * two or more zero groups becomes "::".  An address whose first five
 * groups are zero is left to inet_ntop(3), which writes some of those
 * with a dotted-quad tail (::ffff:1.2.3.4).
 */
static char *
addr6_put(struct u128 a, char *p)
{
	static const char hex[] = "0123456789abcdef";
	struct in6_addr in;
	unsigned int g[IPV6_GROUPS], i, best = IPV6_GROUPS, bestlen = 1, run;
	int shift;

	if (a.hi == 0 && a.lo >> 48 == 0) {
		for (i = 0; i < 8; i++) {
			in.s6_addr[i] = (uint8_t)(a.hi >> (56 - 8 * i));
			in.s6_addr[i + 8] = (uint8_t)(a.lo >> (56 - 8 * i));
		}
		if (inet_ntop(AF_INET6, &in, p, INET6_ADDRSTRLEN) == NULL)
			*p = '\0';
		return p + strlen(p);
	}
	for (i = 0, run = 0; i < IPV6_GROUPS; i++) {
		g[i] = (unsigned int)((i < 4 ? a.hi : a.lo) >>
		    (48 - 16 * (i % 4)) & 0xffff);
		run = g[i] == 0 ? run + 1 : 0;
		if (run > bestlen) {
			bestlen = run;
			best = i + 1 - run;
		}
	}
	for (i = 0; i < IPV6_GROUPS; i++) {
		if (i >= best && i < best + bestlen) {
			if (i == best)
				*p++ = ':';
			continue;
		}
		if (i > 0)
			*p++ = ':';
		for (shift = 12; shift > 0 && (g[i] >> shift) == 0; shift -= 4)
			;
		for (; shift >= 0; shift -= 4)
			*p++ = hex[g[i] >> shift & 0xf];
	}
	if (best + bestlen == IPV6_GROUPS)
		*p++ = ':';
	return p;
}

/* Copy text[0..end) into buf as a string cut to bufsz; its length. */
static size_t
text_out(const char *text, const char *end, char *buf, size_t bufsz)
{
	size_t n = (size_t)(end - text);

	if (bufsz == 0)
		return 0;
	if (n >= bufsz)
		n = bufsz - 1;
	memcpy(buf, text, n);
	buf[n] = '\0';
	return n;
}

/* Write "/len" at p; returns the end. */
static char *
len_put(unsigned int len, char *p)
{
	*p++ = '/';
	if (len >= 100)
		*p++ = (char)('0' + len / 100);
	if (len >= 10)
		*p++ = (char)('0' + len / 10 % 10);
	*p++ = (char)('0' + len % 10);
	return p;
}

/* See allowsync.h. */
size_t
range4_format(const struct range4 *r, char *buf, size_t bufsz)
{
	char text[2 * INET_ADDRSTRLEN + 4], *p;
	uint32_t x = r->first ^ r->last;

	p = addr4_put(r->first, text);
	if (x != 0 && is_low_mask64(x) && (r->first & x) == 0)
		p = len_put(32 - popcount64(x), p);
	else if (x != 0) {
		*p++ = '-';
		p = addr4_put(r->last, p);
	}
	return text_out(text, p, buf, bufsz);
}

/* See allowsync.h. */
size_t
range6_format(const struct range6 *r, char *buf, size_t bufsz)
{
	char text[2 * INET6_ADDRSTRLEN + 4], *p;
	struct u128 x;
	int cidr;

	x.hi = r->first.hi ^ r->last.hi;
	x.lo = r->first.lo ^ r->last.lo;
	if (x.lo == UINT64_MAX)
		cidr = is_low_mask64(x.hi);
	else
		cidr = x.hi == 0 && is_low_mask64(x.lo);
	cidr = cidr && (r->first.hi & x.hi) == 0 && (r->first.lo & x.lo) == 0;

	p = addr6_put(r->first, text);
	if (cidr && (x.hi != 0 || x.lo != 0))
		p = len_put(128 - popcount64(x.hi) - popcount64(x.lo), p);
	else if (x.hi != 0 || x.lo != 0) {
		*p++ = '-';
		p = addr6_put(r->last, p);
	}
	return text_out(text, p, buf, bufsz);
}
