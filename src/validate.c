/*
 * Validation: the policy that decides which prefixes may enter the
 * allowlist, and the pass that applies it to a parsed document.
 *
 * A tampered or broken list is the main threat, so the defaults refuse
 * anything that would open the firewall to more than the vendor's own
 * public hosts: /0, very wide prefixes, and special-purpose address space.
 * The blocks are data, in one table per family below.  They are:
 *
 * - every block of the IANA IPv4 and IPv6 Special-Purpose Address
 *   Registries (RFC 6890 and its updates) that is not globally reachable,
 *   and the deprecated 6to4 relay anycast block 192.88.99.0/24 (RFC 7526);
 * - multicast, 224.0.0.0/4 and ff00::/8, and the deprecated site-local
 *   fec0::/10 (RFC 3879), which the registries do not list;
 * - every IPv6 block that embeds IPv4 addresses: IPv4-compatible ::/96,
 *   SIIT ::ffff:0:0:0/96, NAT64 64:ff9b::/96 and 64:ff9b:1::/48, Teredo
 *   2001::/32 and 6to4 2002::/16, whatever the registry says of their
 *   reachability.  Each stands for IPv4 space that the IPv4 rules would
 *   never see: 64:ff9b::/96 is the whole IPv4 Internet behind a NAT64
 *   gateway, 2002:a00::/24 is 10/8 through 6to4.  IPv4-mapped
 *   ::ffff:0:0/96 is the exception: prefix_parse() turns it into IPv4,
 *   which meets the IPv4 rules, so only an IPv6 prefix wider than it
 *   reaches its row here.
 *
 * Left out on purpose:
 *
 * - Registry blocks marked globally reachable whose addresses real hosts
 *   send from: AS112 192.31.196.0/24, 192.175.48.0/24 and
 *   2620:4f:8000::/48 (RFC 7534, RFC 7535) and AMT 192.52.193.0/24
 *   (RFC 7450).  They are ordinary unicast services, and refusing them
 *   would refuse a vendor that runs one.  The globally reachable blocks
 *   inside 192.0.0.0/24 and 2001::/23 (PCP and TURN anycast, AMT
 *   2001:3::/32, AS112 2001:4:112::/48, ORCHIDv2 and others) are refused
 *   with the block that holds them: both are reserved for IETF protocol
 *   assignments, not for a vendor's hosts.
 * - IPv4 embedded under a NAT64 network-specific prefix (RFC 6052) or in
 *   an interface identifier (ISATAP, RFC 5214): any global prefix can
 *   carry one, so no table of blocks can tell.
 * - Space IANA has not allocated.  It changes over time, which a table
 *   compiled into the binary cannot follow.
 *
 * Each row has a class.  Private space (RFC 1918, RFC 6598 shared space,
 * RFC 4193 unique local) is what allow-private = yes opens; every other
 * row is special and always refused.
 */
#include <pthread.h>
#include <string.h>

#include "allowsync.h"

#define PRIVATE_WHY	"private address space"
#define EMBED_WHY(form)	"IPv4-embedding address space (" form ")"

/* IPv4 a.b.c.d in host order, so the table reads like the registry. */
#define IP4(a, b, c, d)	((uint32_t)(a) << 24 | (uint32_t)(b) << 16 | \
			    (uint32_t)(c) << 8 | (uint32_t)(d))

/* The class of a special-purpose block, for what the policy does with it. */
enum block_class {
	BLOCK_PRIVATE,	/* RFC 1918, RFC 6598, RFC 4193: allow-private */
	BLOCK_SPECIAL,	/* every other block: always refused */
};

/*
 * A special-purpose block.  An entry is refused when its range intersects
 * the block at all, so a wide prefix cannot smuggle one in.  why is the
 * reason logged; it names the block where the name alone would be vague.
 */
struct special4 {
	uint32_t		 net;
	unsigned int		 len;
	enum block_class	 class;
	const char		*why;
};

struct special6 {
	struct u128		 net;
	unsigned int		 len;
	enum block_class	 class;
	const char		*why;
};

/*
 * In address order; where two blocks start at the same address the
 * narrower comes first, so that a wide entry touching both is named by
 * the more telling one (see policy_check()).
 */
static const struct special4 special4[] = {
	/* RFC 1122: "this network" */
	{ IP4(0, 0, 0, 0), 8, BLOCK_SPECIAL,
	    "unspecified address (0.0.0.0/8)" },
	/* RFC 1918 */
	{ IP4(10, 0, 0, 0), 8, BLOCK_PRIVATE, PRIVATE_WHY },
	/* RFC 6598 shared address space (CGN) */
	{ IP4(100, 64, 0, 0), 10, BLOCK_PRIVATE, PRIVATE_WHY },
	{ IP4(127, 0, 0, 0), 8, BLOCK_SPECIAL, "loopback address" },
	{ IP4(169, 254, 0, 0), 16, BLOCK_SPECIAL, "link-local address" },
	/* RFC 1918 */
	{ IP4(172, 16, 0, 0), 12, BLOCK_PRIVATE, PRIVATE_WHY },
	/* RFC 6890: DS-Lite, PCP, TURN, NAT64 discovery and others */
	{ IP4(192, 0, 0, 0), 24, BLOCK_SPECIAL,
	    "IETF protocol assignments (192.0.0.0/24)" },
	/* RFC 5737 TEST-NET-1 */
	{ IP4(192, 0, 2, 0), 24, BLOCK_SPECIAL, "documentation range" },
	/* RFC 7526 */
	{ IP4(192, 88, 99, 0), 24, BLOCK_SPECIAL,
	    "deprecated 6to4 relay anycast (192.88.99.0/24)" },
	/* RFC 1918 */
	{ IP4(192, 168, 0, 0), 16, BLOCK_PRIVATE, PRIVATE_WHY },
	/* RFC 2544 */
	{ IP4(198, 18, 0, 0), 15, BLOCK_SPECIAL,
	    "benchmarking range (198.18.0.0/15)" },
	/* RFC 5737 TEST-NET-2 and TEST-NET-3 */
	{ IP4(198, 51, 100, 0), 24, BLOCK_SPECIAL, "documentation range" },
	{ IP4(203, 0, 113, 0), 24, BLOCK_SPECIAL, "documentation range" },
	{ IP4(224, 0, 0, 0), 4, BLOCK_SPECIAL, "multicast address" },
	/* RFC 1112, holding the limited broadcast 255.255.255.255/32 */
	{ IP4(240, 0, 0, 0), 4, BLOCK_SPECIAL,
	    "reserved address (240.0.0.0/4)" },
};

static const struct special6 special6[] = {
	/* ::/128 */
	{ { 0, 0 }, 128, BLOCK_SPECIAL, "unspecified address" },
	/* ::1/128 */
	{ { 0, 1 }, 128, BLOCK_SPECIAL, "loopback address" },
	/* ::/96, RFC 4291 (deprecated): ::a.b.c.d */
	{ { 0, 0 }, 96, BLOCK_SPECIAL,
	    EMBED_WHY("IPv4-compatible ::/96") },
	/* ::ffff:0:0/96, RFC 4291: ::ffff:a.b.c.d, see above */
	{ { 0, 0x0000ffff00000000ULL }, 96, BLOCK_SPECIAL,
	    EMBED_WHY("IPv4-mapped ::ffff:0:0/96") },
	/* ::ffff:0:0:0/96, RFC 2765 SIIT: ::ffff:0:a.b.c.d */
	{ { 0, 0xffff000000000000ULL }, 96, BLOCK_SPECIAL,
	    EMBED_WHY("SIIT ::ffff:0:0:0/96") },
	/* 64:ff9b::/96, RFC 6052 */
	{ { 0x0064ff9b00000000ULL, 0 }, 96, BLOCK_SPECIAL,
	    EMBED_WHY("NAT64 64:ff9b::/96") },
	/* 64:ff9b:1::/48, RFC 8215 */
	{ { 0x0064ff9b00010000ULL, 0 }, 48, BLOCK_SPECIAL,
	    EMBED_WHY("local-use NAT64 64:ff9b:1::/48") },
	/* 100::/64, RFC 6666 */
	{ { 0x0100000000000000ULL, 0 }, 64, BLOCK_SPECIAL,
	    "discard-only address space (100::/64)" },
	/* 100:0:0:1::/64, the registry's dummy IPv6 prefix */
	{ { 0x0100000000000001ULL, 0 }, 64, BLOCK_SPECIAL,
	    "dummy address space (100:0:0:1::/64)" },
	/* 2001::/32, RFC 4380: server and client IPv4 in the address */
	{ { 0x2001000000000000ULL, 0 }, 32, BLOCK_SPECIAL,
	    EMBED_WHY("Teredo 2001::/32") },
	/* 2001::/23, RFC 2928 */
	{ { 0x2001000000000000ULL, 0 }, 23, BLOCK_SPECIAL,
	    "IETF protocol assignments (2001::/23)" },
	/* 2001:db8::/32, RFC 3849 */
	{ { 0x20010db800000000ULL, 0 }, 32, BLOCK_SPECIAL,
	    "documentation range" },
	/* 2002::/16, RFC 3056: 2002:a.b.c.d::/48 */
	{ { 0x2002000000000000ULL, 0 }, 16, BLOCK_SPECIAL,
	    EMBED_WHY("6to4 2002::/16") },
	/* 3fff::/20, RFC 9637 */
	{ { 0x3fff000000000000ULL, 0 }, 20, BLOCK_SPECIAL,
	    "documentation range" },
	/* 5f00::/16, RFC 9602 */
	{ { 0x5f00000000000000ULL, 0 }, 16, BLOCK_SPECIAL,
	    "SRv6 SID space (5f00::/16)" },
	/* fc00::/7, RFC 4193 unique local addresses */
	{ { 0xfc00000000000000ULL, 0 }, 7, BLOCK_PRIVATE, PRIVATE_WHY },
	/* fe80::/10 */
	{ { 0xfe80000000000000ULL, 0 }, 10, BLOCK_SPECIAL,
	    "link-local address" },
	/* fec0::/10, RFC 3879 */
	{ { 0xfec0000000000000ULL, 0 }, 10, BLOCK_SPECIAL,
	    "deprecated site-local address (fec0::/10)" },
	/* ff00::/8 */
	{ { 0xff00000000000000ULL, 0 }, 8, BLOCK_SPECIAL,
	    "multicast address" },
};

#define NSPECIAL4	(sizeof(special4) / sizeof(special4[0]))
#define NSPECIAL6	(sizeof(special6) / sizeof(special6[0]))

static const char *const class_names[NCLASSES] = { "private", "special",
    "wide" };
static const char *const decision_names[] = { "reject", "skip", "allow" };

/* See allowsync.h. */
const char *
class_name(enum entry_class c)
{
	return c < NCLASSES ? class_names[c] : "never";
}

/* See allowsync.h. */
const char *
decision_name(enum decision d)
{
	return decision_names[d];
}

/* See allowsync.h. */
enum decision
policy_decision(const struct policy *pol, enum entry_class c)
{
	if (c == CLASS_NEVER)
		return DEC_REJECT;
	if (c == CLASS_NONE)
		return DEC_ALLOW;
	return pol->lenient ? DEC_SKIP : pol->decide[c];
}

/* True when the policy lets entries touch blocks of class c. */
static bool
class_allowed(const struct policy *pol, enum block_class c)
{
	return c == BLOCK_PRIVATE && pol->decide[CLASS_PRIVATE] == DEC_ALLOW;
}

/*
 * The rows one entry touches, and the one to name when refusing it: the
 * narrowest block that holds the whole entry, so that ::/96 is refused as
 * IPv4-compatible rather than for the unspecified address inside it;
 * failing that, the first row in table order.  Starts zeroed.
 */
struct verdict {
	const char	*held;		/* narrowest row holding it all */
	unsigned int	 held_len;	/* that row's prefix length */
	const char	*touched;	/* first row it touches */
};

/* Note one row the entry touches; holds says it holds the whole entry. */
static void
verdict_add(struct verdict *v, const char *why, unsigned int len, bool holds)
{
	if (holds && (v->held == NULL || len > v->held_len)) {
		v->held = why;
		v->held_len = len;
	}
	if (v->touched == NULL)
		v->touched = why;
}

/* The reason to refuse the entry, or NULL when it touched no row. */
static const char *
verdict_why(const struct verdict *v)
{
	return v->held != NULL ? v->held : v->touched;
}

/* The rows of special4[] merged into spans (address order), into span. */
static size_t
spans4(struct range4 *span)
{
	uint32_t first, last;
	size_t i, n = 0;

	for (i = 0; i < NSPECIAL4; i++) {
		first = special4[i].net;
		last = special4[i].len >= 32 ? first :
		    first | UINT32_MAX >> special4[i].len;
		if (n > 0 && first <= span[n - 1].last) {
			if (last > span[n - 1].last)
				span[n - 1].last = last;
			continue;
		}
		span[n].first = first;
		span[n++].last = last;
	}
	return n;
}

/*
 * The rows of special6[] merged into spans, into span: sorted first,
 * since the table lists ::/96 after the addresses inside it.
 */
static size_t
spans6(struct range6 *span)
{
	struct prefix sp = { .family = 6 };
	struct range6 r[NSPECIAL6];
	size_t i, n = 0;

	for (i = 0; i < NSPECIAL6; i++) {
		sp.v6 = special6[i].net;
		sp.len = special6[i].len;
		prefix_range6(&sp, &r[i]);
	}
	xqsort(r, NSPECIAL6, sizeof(r[0]), range6_cmp);
	for (i = 0; i < NSPECIAL6; i++) {
		if (n > 0 && u128_cmp(r[i].first, span[n - 1].last) <= 0) {
			if (u128_cmp(r[i].last, span[n - 1].last) > 0)
				span[n - 1].last = r[i].last;
			continue;
		}
		span[n++] = r[i];
	}
	return n;
}

/*
 * special4[] and special6[] merged into spans, made once (spans_once()),
 * and a bit for every IPv4 /16 that some span touches.
 */
static struct range4	span4[NSPECIAL4];
static struct range6	span6[NSPECIAL6];
static size_t		nspan4, nspan6;
static uint64_t		touched16[(1U << 16) / 64];
static pthread_once_t	spans_made = PTHREAD_ONCE_INIT;

/* Make the spans: once, whichever thread classifies first (preload.c). */
static void
spans_once(void)
{
	size_t i;
	uint32_t b;

	nspan4 = spans4(span4);
	nspan6 = spans6(span6);
	for (i = 0; i < nspan4; i++)
		for (b = span4[i].first >> 16; b <= span4[i].last >> 16; b++)
			touched16[b / 64] |= (uint64_t)1 << (b % 64);
}

/*
 * True when r touches a row of special4[], whatever the policy: one
 * binary search over the rows merged into spans, made at the first call;
 * none for a range inside a /16 that no span touches (most of them).
 */
static bool
touches_any4(const struct range4 *r)
{
	const struct range4 *span = span4;
	size_t i, lo, hi, nspan;
	uint32_t b = r->first >> 16;

	pthread_once(&spans_made, spans_once);
	if (b == r->last >> 16 && (touched16[b / 64] >> (b % 64) & 1) == 0)
		return false;
	nspan = nspan4;
	/* The last span that starts at or below r->last. */
	for (lo = 0, hi = nspan; lo < hi; ) {
		i = lo + (hi - lo) / 2;
		if (span[i].first <= r->last)
			lo = i + 1;
		else
			hi = i;
	}
	return lo > 0 && span[lo - 1].last >= r->first;
}

/*
 * Note in vs[0] (private rows) or vs[1] (the others) each row of the
 * table that the range first..last touches.
 */
static void
touch4(const struct policy *pol, const struct range4 *r, struct verdict *vs)
{
	uint32_t first, last;
	size_t i;

	/* Every entry of a document comes here: most touch no row at all. */
	if (!touches_any4(r))
		return;
	for (i = 0; i < NSPECIAL4; i++) {
		first = special4[i].net;
		last = special4[i].len >= 32 ? first :
		    first | UINT32_MAX >> special4[i].len;
		if (r->first > last || first > r->last ||
		    class_allowed(pol, special4[i].class))
			continue;
		verdict_add(&vs[special4[i].class == BLOCK_SPECIAL],
		    special4[i].why, special4[i].len, first <= r->first &&
		    r->last <= last);
	}
}

/* The same for IPv6, where the table is longer and a compare dearer. */
static bool
touches_any6(const struct range6 *r)
{
	const struct range6 *span = span6;
	size_t i, lo, hi, nspan;

	pthread_once(&spans_made, spans_once);
	nspan = nspan6;
	for (lo = 0, hi = nspan; lo < hi; ) {
		i = lo + (hi - lo) / 2;
		if (u128_cmp(span[i].first, r->last) <= 0)
			lo = i + 1;
		else
			hi = i;
	}
	return lo > 0 && u128_cmp(span[lo - 1].last, r->first) >= 0;
}

/* The same for IPv6. */
static void
touch6(const struct policy *pol, const struct range6 *r, struct verdict *vs)
{
	struct prefix sp = { .family = 6 };
	struct range6 s;
	size_t i;

	if (!touches_any6(r))
		return;
	for (i = 0; i < NSPECIAL6; i++) {
		if (class_allowed(pol, special6[i].class))
			continue;
		sp.v6 = special6[i].net;
		sp.len = special6[i].len;
		prefix_range6(&sp, &s);
		if (u128_cmp(r->first, s.last) <= 0 &&
		    u128_cmp(s.first, r->last) <= 0)
			verdict_add(&vs[special6[i].class == BLOCK_SPECIAL],
			    special6[i].why, sp.len,
			    u128_cmp(s.first, r->first) <= 0 &&
			    u128_cmp(r->last, s.last) <= 0);
	}
}

/*
 * See allowsync.h.  The rules run from the coarsest to the most specific
 * so the reason logged is the most telling one: /0, then width, then a
 * special block (of those, the one struct verdict picks), then private
 * space.
 */
enum entry_class
policy_classify(const struct policy *pol, const struct prefix *p,
    const char **why)
{
	struct verdict vs[2] = { { NULL, 0, NULL }, { NULL, 0, NULL } };
	struct range4 r4;
	struct range6 r6;

	*why = NULL;
	if (p->len == 0) {
		*why = "/0 is never allowed";
		return CLASS_NEVER;
	}
	if (p->len < (p->family == 4 ? pol->min_prefix4 : pol->min_prefix6)) {
		*why = p->family == 4 ? "prefix wider than min-prefix4" :
		    "prefix wider than min-prefix6";
		return CLASS_WIDE;
	}
	if (p->family == 4) {
		prefix_range4(p, &r4);
		touch4(pol, &r4, vs);
	} else {
		prefix_range6(p, &r6);
		touch6(pol, &r6, vs);
	}
	if ((*why = verdict_why(&vs[1])) != NULL)
		return CLASS_SPECIAL;
	if ((*why = verdict_why(&vs[0])) != NULL)
		return CLASS_PRIVATE;
	return CLASS_NONE;
}

/* See allowsync.h. */
const char *
policy_check(const struct policy *pol, const struct prefix *p)
{
	const char *why;

	return policy_classify(pol, p, &why) == CLASS_NONE ? NULL : why;
}

/*
 * Log one bad entry: where it is (text line, or JSON location; no place
 * for a --static entry, whose line is 0), the entry itself escaped, and
 * why it is bad; what its class's decision did with it, when it has one.
 * A JSON location holds only path names, which the config checked, and
 * indexes.
 */
static void
entry_report(const char *src, const struct entry *e, const char *why,
    enum entry_class c, enum decision d, bool own)
{
	char text[ESCAPE_BUF], where[MAX_PATH_LOC + 16], how[96] = "";

	log_escape(e->text, e->len, text, sizeof(text));
	if (e->loc != NULL)
		snprintf(where, sizeof(where), "%s: ", e->loc);
	else if (e->where != 0)
		snprintf(where, sizeof(where), "line %zu: ", e->where);
	else
		where[0] = '\0';
	if (c < NCLASSES && own)
		snprintf(how, sizeof(how), " (%s = %s; a static entry is "
		    "never skipped: %s)", class_name(c), decision_name(d),
		    c == CLASS_PRIVATE ? "set private = allow or remove it" :
		    "remove it");
	else if (c < NCLASSES)
		snprintf(how, sizeof(how), " (%s = %s)", class_name(c),
		    decision_name(d));
	log_msg(d == DEC_SKIP && !own ? LOG_LVL_WARN : LOG_LVL_ERR,
	    "%s: %s\"%s\": %s%s%s", src, where, text, why, how,
	    d == DEC_SKIP && c >= NCLASSES ? " (dropped)" : "");
}

/* Note a skipped entry of class c in res: its count and the first few. */
static void
skip_note(struct validation *res, enum entry_class c, const struct entry *e)
{
	char text[MAX_ENTRY_LEN + 8];
	size_t n = strlen(res->first[c]);

	if (res->skipped[c]++ >= MAX_SKIP_SHOWN)
		return;
	log_escape(e->text, e->len, text, sizeof(text));
	snprintf(res->first[c] + n, sizeof(res->first[c]) - n, "%s%s",
	    n > 0 ? ", " : "", text);
}

/* See allowsync.h. */
const char *
validation_summary(const struct validation *v, char *buf, size_t bufsz)
{
	size_t n = 0;
	int c;

	buf[0] = '\0';
	for (c = 0; c < NCLASSES && n < bufsz; c++)
		if (v->skipped[c] > 0)
			n += (size_t)snprintf(buf + n, bufsz - n,
			    "%s%zu %s (%s%s)", n > 0 ? "; " : "",
			    v->skipped[c], class_name(c), v->first[c],
			    v->skipped[c] > MAX_SKIP_SHOWN ? ", ..." : "");
	return buf[0] != '\0' ? buf : NULL;
}

/* See allowsync.h. */
void
validation_from_summary(const char *sum, struct validation *v)
{
	char name[16];
	unsigned long n;
	size_t len, keep;
	int c, used;

	memset(v, 0, sizeof(*v));
	while (sum != NULL && sscanf(sum, "%lu %15[a-z] (%n", &n, name,
	    &used) == 2) {
		sum += used;
		len = strcspn(sum, ")");
		for (c = 0; c < NCLASSES && strcmp(name, class_name(c)); c++)
			;
		keep = len >= 5 && strncmp(sum + len - 5, ", ...", 5) == 0 ?
		    len - 5 : len;
		if (sum[len] == ')' && keep < sizeof(v->first[0]) &&
		    c < NCLASSES) {
			v->skipped[c] = n;
			memcpy(v->first[c], sum, keep);
			v->first[c][keep] = '\0';
		}
		sum = strstr(sum, "; ");
		sum = sum != NULL ? sum + 2 : NULL;
	}
}

/* See allowsync.h. */
void
validation_warn(const char *src, const struct validation *res)
{
	int c;

	for (c = 0; c < NCLASSES; c++)
		if (res->skipped[c] > 0)
			log_warnx("%s: skipped %zu %s entr%s (%s = skip): %s%s",
			    src, res->skipped[c], class_name(c),
			    res->skipped[c] == 1 ? "y" : "ies", class_name(c),
			    res->first[c], res->skipped[c] > MAX_SKIP_SHOWN ?
			    ", ..." : "");
}

/*
 * The end of a document: added entries were added, skip4 and skip6 of a
 * disabled family skipped.  A warning where a list mixes both families;
 * a list of the disabled family alone (one per family, as Cloudflare
 * publishes them) is expected to be skipped whole, every run, and is
 * accepted empty.  A list whose every entry the policy skipped is
 * rejected, never applied empty.
 */
static enum as_status
validate_finish(const char *src, const struct validation *res,
    size_t added, size_t skip4, size_t skip6)
{
	enum log_level lvl = added == 0 ? LOG_LVL_INFO : LOG_LVL_WARN;

	if (skip4 > 0)
		log_msg(lvl, "%s: skipping %zu IPv4 entr%s: set4 is empty "
		    "(IPv4 disabled)", src, skip4, skip4 == 1 ? "y" : "ies");
	if (skip6 > 0)
		log_msg(lvl, "%s: skipping %zu IPv6 entr%s: set6 is empty "
		    "(IPv6 disabled)", src, skip6, skip6 == 1 ? "y" : "ies");
	if (added == 0 && (skip4 + skip6 == 0 || res->skipped[0] +
	    res->skipped[1] + res->skipped[2] > 0)) {
		log_err("%s: no usable entries%s", src, res->skipped[0] +
		    res->skipped[1] + res->skipped[2] > 0 ? ": every entry "
		    "was skipped" : "");
		return AS_EDATA;
	}
	return AS_OK;
}

/*
 * One entry: NULL when it is to be applied (p filled), else why not;
 * *c its class (CLASS_NONE for a malformed entry, which is not one).  A
 * prefix too wide says by how much and what would accept it, in buf.
 */
static const char *
entry_check(const struct entry *e, const struct policy *pol,
    struct prefix *p, enum entry_class *c, char *buf, size_t bufsz)
{
	const char *why = NULL;
	unsigned int min;

	*c = CLASS_NONE;
	if (prefix_parse(e->text, e->len, p, &why) == -1)
		return why;
	*c = policy_classify(pol, p, &why);
	if (*c == CLASS_WIDE) {
		min = p->family == 4 ? pol->min_prefix4 : pol->min_prefix6;
		snprintf(buf, bufsz, "/%u is wider than min-prefix%d = %u "
		    "(set min-prefix%d = %u to accept it)", p->len, p->family,
		    min, p->family, p->len);
		why = buf;
	}
	return why;
}

/*
 * See allowsync.h.  On AS_EDATA out holds exactly what it held before.
 * A malformed entry counts against the document even when its family is
 * disabled: the document is not what the vendor publishes.  Entries of a
 * disabled family that do parse are not held to the policy, since they
 * never reach the kernel.  An entry of a class the policy skips is not
 * applied; one it rejects rejects the document, and so does /0 always.
 */
enum as_status
validate_entries(const struct entrylist *list, const char *src,
    const struct policy *pol, struct rangelist *out, struct validation *res)
{
	struct validation dummy;
	const struct entry *e;
	char wide[96];
	const char *why;
	struct prefix p;
	struct range4 r4;
	struct range6 r6;
	size_t i, n4 = out->n4, n6 = out->n6, skip4 = 0, skip6 = 0;
	enum entry_class c;
	enum decision d;

	if (res == NULL)
		res = &dummy;
	memset(res, 0, sizeof(*res));
	if (list->n > pol->max_entries) {
		log_err("%s: %zu entries, more than max-entries = %zu (set "
		    "max-entries = %zu to accept it)", src, list->n,
		    pol->max_entries, list->n);
		res->refused = true;
		return AS_EDATA;
	}
	for (i = 0; i < list->n; i++) {
		e = &list->v[i];
		why = entry_check(e, pol, &p, &c, wide, sizeof(wide));
		if (c != CLASS_NONE && c != CLASS_NEVER &&
		    ((p.family == 4 && !pol->want4) ||
		    (p.family == 6 && !pol->want6))) {
			why = NULL;
			c = CLASS_NONE;
		}
		if (why == NULL && p.family == 4 && !pol->want4) {
			skip4++;
			continue;
		}
		if (why == NULL && p.family == 6 && !pol->want6) {
			skip6++;
			continue;
		}
		if (why != NULL) {
			d = c == CLASS_NONE ? (pol->lenient ? DEC_SKIP :
			    DEC_REJECT) : policy_decision(pol, c);
			if (d == DEC_SKIP && c < NCLASSES && !pol->statics) {
				skip_note(res, c, e);
				continue;
			}
			entry_report(src, e, why, c, d, pol->statics);
			if (d == DEC_SKIP && !pol->statics)
				continue;
			out->n4 = n4;
			out->n6 = n6;
			res->refused = true;
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
	validation_warn(src, res);
	return validate_finish(src, res, out->n4 + out->n6 - n4 - n6, skip4,
	    skip6);
}
