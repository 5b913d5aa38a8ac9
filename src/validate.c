/*
 * Validation: the policy that decides which prefixes may enter the
 * allowlist, and the pass that applies it to a parsed document.
 *
 * A tampered or broken list is the main threat, so the defaults refuse
 * anything that would open the firewall to more than the vendor's own
 * public hosts: /0, very wide prefixes, and every special-purpose block
 * (IANA IPv4/IPv6 Special-Purpose Address Registries, RFC 6890) that no
 * vendor can legitimately send from.  The blocks are data, in one table
 * per family below.
 */
#include <string.h>

#include "allowsync.h"

#define PRIVATE_WHY	"private address space (allow-private = no)"

/*
 * A special-purpose block.  An entry is refused when its range intersects
 * the block at all, so a wide prefix cannot smuggle one in.  Blocks marked
 * private are accepted with allow-private = yes.
 */
struct special4 {
	uint32_t	 net;
	unsigned int	 len;
	bool		 private;
	const char	*why;
};

struct special6 {
	struct u128	 net;
	unsigned int	 len;
	bool		 private;
	const char	*why;
};

static const struct special4 special4[] = {
	/* 0.0.0.0/8 */
	{ 0x00000000, 8, false, "unspecified address (0.0.0.0/8)" },
	/* 127.0.0.0/8 */
	{ 0x7f000000, 8, false, "loopback address" },
	/* 169.254.0.0/16 */
	{ 0xa9fe0000, 16, false, "link-local address" },
	/* 224.0.0.0/4 */
	{ 0xe0000000, 4, false, "multicast address" },
	/* 240.0.0.0/4, including the broadcast address */
	{ 0xf0000000, 4, false, "reserved address (240.0.0.0/4)" },
	/* 192.0.2.0/24, 198.51.100.0/24, 203.0.113.0/24: RFC 5737 */
	{ 0xc0000200, 24, false, "documentation range" },
	{ 0xc6336400, 24, false, "documentation range" },
	{ 0xcb007100, 24, false, "documentation range" },
	/* 10.0.0.0/8, 172.16.0.0/12, 192.168.0.0/16: RFC 1918 */
	{ 0x0a000000, 8, true, PRIVATE_WHY },
	{ 0xac100000, 12, true, PRIVATE_WHY },
	{ 0xc0a80000, 16, true, PRIVATE_WHY },
	/* 100.64.0.0/10: RFC 6598 shared address space (CGN) */
	{ 0x64400000, 10, true, PRIVATE_WHY },
};

static const struct special6 special6[] = {
	/* ::/128 */
	{ { 0, 0 }, 128, false, "unspecified address" },
	/* ::1/128 */
	{ { 0, 1 }, 128, false, "loopback address" },
	/*
	 * ::ffff:0:0/96.  Mapped entries become IPv4 in prefix_parse(), so
	 * an IPv6 prefix reaching this block is wider than it.
	 */
	{ { 0, 0x0000ffff00000000ULL }, 96, false,
	    "IPv4-mapped address space" },
	/* fe80::/10 */
	{ { 0xfe80000000000000ULL, 0 }, 10, false, "link-local address" },
	/* ff00::/8 */
	{ { 0xff00000000000000ULL, 0 }, 8, false, "multicast address" },
	/* 2001:db8::/32: RFC 3849 */
	{ { 0x20010db800000000ULL, 0 }, 32, false, "documentation range" },
	/* fc00::/7: RFC 4193 unique local addresses */
	{ { 0xfc00000000000000ULL, 0 }, 7, true, PRIVATE_WHY },
};

#define NSPECIAL4	(sizeof(special4) / sizeof(special4[0]))
#define NSPECIAL6	(sizeof(special6) / sizeof(special6[0]))

/*
 * See allowsync.h.  The rules run from the coarsest to the most specific
 * so the reason logged is the most telling one.
 */
const char *
policy_check(const struct policy *pol, const struct prefix *p)
{
	struct prefix sp;
	struct range4 r4, s4;
	struct range6 r6, s6;
	size_t i;

	if (p->len == 0)
		return "/0 is never allowed";
	if (p->family == 4) {
		if (p->len < pol->min_prefix4)
			return "prefix wider than min-prefix4";
		prefix_range4(p, &r4);
		sp.family = 4;
		for (i = 0; i < NSPECIAL4; i++) {
			if (special4[i].private && pol->allow_private)
				continue;
			sp.v4 = special4[i].net;
			sp.len = special4[i].len;
			prefix_range4(&sp, &s4);
			if (r4.first <= s4.last && s4.first <= r4.last)
				return special4[i].why;
		}
		return NULL;
	}
	if (p->len < pol->min_prefix6)
		return "prefix wider than min-prefix6";
	prefix_range6(p, &r6);
	sp.family = 6;
	for (i = 0; i < NSPECIAL6; i++) {
		if (special6[i].private && pol->allow_private)
			continue;
		sp.v6 = special6[i].net;
		sp.len = special6[i].len;
		prefix_range6(&sp, &s6);
		if (u128_cmp(r6.first, s6.last) <= 0 &&
		    u128_cmp(s6.first, r6.last) <= 0)
			return special6[i].why;
	}
	return NULL;
}

/*
 * Log one bad entry: where it is (text line, or JSON key and index), the
 * entry itself escaped, and why it is bad.
 */
static void
entry_report(const char *src, const struct entry *e, const char *why,
    bool lenient)
{
	char text[ESCAPE_BUF], key[ESCAPE_BUF];

	log_escape(e->text, e->len, text, sizeof(text));
	if (e->key == NULL)
		log_msg(lenient ? LOG_LVL_WARN : LOG_LVL_ERR,
		    "%s: line %zu: \"%s\": %s%s", src, e->where, text, why,
		    lenient ? " (dropped)" : "");
	else
		log_msg(lenient ? LOG_LVL_WARN : LOG_LVL_ERR,
		    "%s: %s[%zu]: \"%s\": %s%s", src,
		    log_escape(e->key, strlen(e->key), key, sizeof(key)),
		    e->where, text, why, lenient ? " (dropped)" : "");
}

/*
 * See allowsync.h.  On AS_EDATA out holds exactly what it held before.
 * A malformed entry counts against the document even when its family is
 * disabled: the document is not what the vendor publishes.  Entries of a
 * disabled family that do parse are not held to the policy, since they
 * never reach the kernel.
 */
enum as_status
validate_entries(const struct entrylist *list, const char *src,
    const struct policy *pol, struct rangelist *out)
{
	const struct entry *e;
	const char *why;
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	size_t i, n4 = out->n4, n6 = out->n6, skip4 = 0, skip6 = 0;

	if (list->n > pol->max_entries) {
		log_err("%s: %zu entries, more than max-entries (%zu)", src,
		    list->n, pol->max_entries);
		return AS_EDATA;
	}
	for (i = 0; i < list->n; i++) {
		e = &list->v[i];
		why = NULL;
		if (prefix_parse(e->text, e->len, &p, &why) == 0) {
			if (p.family == 4 && !pol->want4) {
				skip4++;
				continue;
			}
			if (p.family == 6 && !pol->want6) {
				skip6++;
				continue;
			}
			why = policy_check(pol, &p);
		}
		if (why != NULL) {
			entry_report(src, e, why, pol->lenient);
			if (pol->lenient)
				continue;
			out->n4 = n4;
			out->n6 = n6;
			return AS_EDATA;
		}
		if (p.family == 4) {
			prefix_range4(&p, &r4);
			rangelist_add4(out, &r4);
		} else {
			prefix_range6(&p, &r6);
			rangelist_add6(out, &r6);
		}
	}
	if (skip4 > 0)
		log_warn("%s: skipping %zu IPv4 entries: set4 is empty "
		    "(IPv4 disabled)", src, skip4);
	if (skip6 > 0)
		log_warn("%s: skipping %zu IPv6 entries: set6 is empty "
		    "(IPv6 disabled)", src, skip6);
	if (out->n4 == n4 && out->n6 == n6) {
		log_err("%s: no usable entries", src);
		return AS_EDATA;
	}
	return AS_OK;
}
