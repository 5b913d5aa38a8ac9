/*
 * nftables set elements on the wire, for nftset.c: a plan's ranges and odd
 * elements encoded into batch messages, a set's dump decoded back into
 * ranges, and the element an extended ACK points at named.
 *
 * An interval set holds a range [a, b] as two elements: a start with key
 * a, and an end (flag NFT_SET_ELEM_INTERVAL_END) with key b + 1, none when
 * b is the top address.  Keys are network byte order.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "kernel.h"

#define PAIR_MAX	128		/* wire bytes of a start/end pair */
#define NOTE_WIRE	(NOTE_MAX + 8)	/* and of a comment on the start */
#define UDATA_COMMENT	0		/* NFTNL_UDATA_SET_ELEM_COMMENT */
#define DUMP_FIRST_CAP	1024		/* first key array of a dump */

/* One IPv6 set element read from a dump. */
struct key6 {
	struct u128	key;
	int		start;	/* 1 for a start element, 0 for an end */
	uint16_t	note;	/* its comment */
};

/* An IPv4 element of a dump as one sortable number, and its parts. */
#define K4(key, start, note)	((uint64_t)(key) << 17 | \
				    (uint64_t)(start) << 16 | (note))
#define K4_KEY(k)		((k) >> 17)
#define K4_START(k)		((int)((k) >> 16 & 1))
#define K4_NOTE(k)		((uint16_t)((k) & 0xffff))

/* The keys collected from one set's dump. */
struct elemdump {
	uint64_t		*k4;		/* IPv4: K4() */
	size_t			 nk4, capk4;
	struct key6		*k6;
	size_t			 nk6, capk6;
	int			 af;		/* of the running dump */
	int			 bad;		/* malformed elements seen */
	struct nft_found	*found;		/* odd elements go here */
};

/* What every element message of one set starts with. */
struct set_ref {
	const char	*table;
	const char	*set;
};

/* The highest address of family af. */
static struct u128
addr_max(int af)
{
	struct u128 v = { UINT64_MAX, UINT64_MAX };

	if (af == 4) {
		v.hi = 0;
		v.lo = UINT32_MAX;
	}
	return v;
}


/* v + 1 and v - 1, wrapping. */
static struct u128
u128_inc(struct u128 v)
{
	if (++v.lo == 0)
		v.hi++;
	return v;
}


static struct u128
u128_dec(struct u128 v)
{
	if (v.lo-- == 0)
		v.hi--;
	return v;
}


/* Network-order key bytes of an address (keylen 4 or 16) into buf. */
static void
key_encode(struct u128 v, size_t keylen, uint8_t *buf)
{
	uint32_t v4;
	uint64_t x;

	if (keylen == 4) {
		v4 = htonl((uint32_t)v.lo);
		memcpy(buf, &v4, 4);
		return;
	}
	x = htobe64(v.hi);
	memcpy(buf, &x, 8);
	x = htobe64(v.lo);
	memcpy(buf + 8, &x, 8);
}


/* The address in network-order key bytes (keylen 4 or 16). */
static struct u128
key_decode(const uint8_t *buf, size_t keylen)
{
	struct u128 v = { 0, 0 };
	uint32_t v4;
	uint64_t x;

	if (keylen == 4) {
		memcpy(&v4, buf, 4);
		v.lo = ntohl(v4);
		return v;
	}
	memcpy(&x, buf, 8);
	v.hi = be64toh(x);
	memcpy(&x, buf + 8, 8);
	v.lo = be64toh(x);
	return v;
}


/* Format [first, last] of family af into buf (RANGE_STRLEN bytes). */
static void
range_format(int af, struct u128 first, struct u128 last, char *buf)
{
	struct range4 r4;
	struct range6 r6;

	if (af == 4) {
		r4.first = (uint32_t)first.lo;
		r4.last = (uint32_t)last.lo;
		range4_format(&r4, buf, RANGE_STRLEN);
	} else {
		r6.first = first;
		r6.last = last;
		range6_format(&r6, buf, RANGE_STRLEN);
	}
}


/*
 * Append one element with the key of v to the open message nlh, with the
 * comment of note (none for 0), as nft writes it: user data holding one
 * TLV of type 0 whose length counts the trailing NUL.
 */
static void
put_elem(struct nlmsghdr *nlh, struct u128 v, size_t keylen, bool end,
    uint16_t note)
{
	struct nlattr *el, *key;
	uint8_t kb[16], ud[NOTE_MAX + 3];
	const char *text = note_str(note);
	size_t len = strlen(text);

	key_encode(v, keylen, kb);
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, keylen, kb);
	mnl_attr_nest_end(nlh, key);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
		    htonl(NFT_SET_ELEM_INTERVAL_END));
	if (len > 0 && len <= NOTE_MAX && note != NOTE_OTHER) {
		ud[0] = UDATA_COMMENT;
		ud[1] = (uint8_t)(len + 1);
		memcpy(ud + 2, text, len + 1);
		mnl_attr_put(nlh, NFTA_SET_ELEM_USERDATA, len + 3, ud);
	}
	mnl_attr_nest_end(nlh, el);
}

/* The comment in an element's user data, as a note id; 0 for none. */
static uint16_t
udata_note(const struct nlattr *a)
{
	const uint8_t *b;
	size_t off, n, len;

	if (a == NULL)
		return 0;
	b = mnl_attr_get_payload(a);
	n = mnl_attr_get_payload_len(a);
	for (off = 0; off + 2 <= n; off += 2 + (size_t)b[off + 1]) {
		len = b[off + 1];
		if (off + 2 + len > n)
			break;
		if (b[off] == UDATA_COMMENT && len > 0)
			return note_id((const char *)b + off + 2, strnlen(
			    (const char *)b + off + 2, len));
	}
	return 0;
}


/* Range i of family af in rl. */
static void
range_get(const struct rangelist *rl, int af, size_t i, struct u128 *first,
    struct u128 *last)
{
	if (af == 4) {
		first->hi = last->hi = 0;
		first->lo = rl->v4[i].first;
		last->lo = rl->v4[i].last;
	} else {
		*first = rl->v6[i].first;
		*last = rl->v6[i].last;
	}
}


/* nlb_list head: the table and the set an element message is for. */
static void
elem_list_head(struct nlmsghdr *nlh, const void *arg)
{
	const struct set_ref *r = arg;

	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, r->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, r->set);
}


/*
 * Set up l for the elements of the set of family af: NEWSETELEM, or
 * DELSETELEM when del.
 */
static void
elem_list_init(struct nlb_list *l, struct set_ref *ref,
    const struct nft_target *t, int af, bool del)
{
	memset(l, 0, sizeof(*l));
	ref->table = t->table;
	ref->set = nft_target_set(t, af);
	l->type = (NFNL_SUBSYS_NFTABLES << 8) |
	    (del ? NFT_MSG_DELSETELEM : NFT_MSG_NEWSETELEM);
	l->family = (uint8_t)nft_target_proto(t->family);
	l->flags = NLM_F_ACK | (del ? 0 : NLM_F_CREATE);
	l->tag.kind = del ? NFT_KIND_DELELEM : NFT_KIND_NEWELEM;
	l->tag.af = af;
	l->tag.name = ref->set;
	l->list_attr = NFTA_SET_ELEM_LIST_ELEMENTS;
	l->head = elem_list_head;
	l->arg = ref;
}


/* See allowsync.h. */
void
nftelem_put_ranges(struct nlbatch *nb, const struct nft_target *t, int af,
    const struct rangelist *rl, bool del)
{
	size_t i, n = af == 4 ? rl->n4 : rl->n6, keylen = af == 4 ? 4 : 16;
	struct u128 first, last, max = addr_max(af);
	struct nlmsghdr *nlh;
	struct nlb_list l;
	struct set_ref ref;
	uint16_t note;

	elem_list_init(&l, &ref, t, af, del);
	for (i = 0; i < n; i++) {
		/* A delete needs the keys alone. */
		note = del ? 0 : rangelist_note(rl, af, i);
		nlh = nlbatch_list_item(nb, &l, PAIR_MAX + (note != 0 ?
		    NOTE_WIRE : 0));
		range_get(rl, af, i, &first, &last);
		put_elem(nlh, first, keylen, false, note);
		if (u128_cmp(last, max) != 0)
			put_elem(nlh, u128_inc(last), keylen, true, 0);
	}
	nlbatch_list_finish(nb, &l);
}

/*
 * Parse one NFTA_LIST_ELEM of a set whose keys are keylen bytes.  Returns
 * 0 for a plain element, with its key in *key and whether it ends an
 * interval in *end; 1 for an element that is not part of a range as we
 * write them (a catch-all, a key of another shape, a timeout of its own),
 * described in *odd when odd is not NULL; -1 when it is malformed.
 */
static int
elem_parse(const struct nlattr *el, size_t keylen, struct u128 *key,
    bool *end, uint16_t *note, struct odd_elem *odd)
{
	const struct nlattr *tb[NFTA_SET_ELEM_MAX + 1] = { NULL };
	const struct nlattr *kb[NFTA_DATA_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_SET_ELEM_MAX };
	struct nlb_attrs tk = { kb, NFTA_DATA_MAX };
	uint32_t flags;
	size_t len = 0;

	if (mnl_attr_get_type(el) != NFTA_LIST_ELEM ||
	    mnl_attr_parse_nested(el, nlbatch_attr_cb, &t) < 0)
		return -1;
	if (tb[NFTA_SET_ELEM_FLAGS] != NULL &&
	    mnl_attr_validate(tb[NFTA_SET_ELEM_FLAGS], MNL_TYPE_U32) < 0)
		return -1;
	flags = nlbatch_attr_be32(tb[NFTA_SET_ELEM_FLAGS]);
	if (tb[NFTA_SET_ELEM_KEY] != NULL) {
		if (mnl_attr_parse_nested(tb[NFTA_SET_ELEM_KEY],
		    nlbatch_attr_cb, &tk) < 0 || kb[NFTA_DATA_VALUE] == NULL)
			return -1;
		len = mnl_attr_get_payload_len(kb[NFTA_DATA_VALUE]);
		/*
		 * An element with a timeout of its own was not added by us:
		 * ours take the set's default (the kernel then sends none).
		 * Kept, it would drop out of the set when its timeout ran out.
		 */
		if (len == keylen && !(flags & NFT_SET_ELEM_CATCHALL) &&
		    tb[NFTA_SET_ELEM_KEY_END] == NULL &&
		    tb[NFTA_SET_ELEM_TIMEOUT] == NULL) {
			*key = key_decode(mnl_attr_get_payload(
			    kb[NFTA_DATA_VALUE]), keylen);
			*end = (flags & NFT_SET_ELEM_INTERVAL_END) != 0;
			if (note != NULL)
				*note = *end ? 0 :
				    udata_note(tb[NFTA_SET_ELEM_USERDATA]);
			return 0;
		}
		if (len == 0 || len > ODD_KEY_MAX)
			return -1;
	} else if (!(flags & NFT_SET_ELEM_CATCHALL))
		return -1;
	if (odd != NULL) {
		memset(odd, 0, sizeof(*odd));
		odd->catchall = len == 0;
		odd->timed = tb[NFTA_SET_ELEM_TIMEOUT] != NULL;
		odd->flags = flags;
		odd->keylen = len;
		if (len > 0)
			memcpy(odd->key, mnl_attr_get_payload(
			    kb[NFTA_DATA_VALUE]), len);
	}
	return 1;
}


/* See allowsync.h. */
int
nftelem_describe(const struct nlmsghdr *nlh, int af, uint32_t offs, char *buf)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_SET_ELEM_LIST_MAX };
	const struct nlattr *el, *hit = NULL, *prev = NULL, *next = NULL;
	const struct nlattr *before = NULL;
	size_t at, keylen = af == 4 ? 4 : 16;
	struct u128 k, k2;
	bool end, end2;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || tb[NFTA_SET_ELEM_LIST_ELEMENTS] == NULL)
		return -1;
	mnl_attr_for_each_nested(el, tb[NFTA_SET_ELEM_LIST_ELEMENTS]) {
		if (hit != NULL) {
			next = el;
			break;
		}
		at = (size_t)((const char *)el - (const char *)nlh);
		if (offs >= at && offs < at + el->nla_len) {
			hit = el;
			prev = before;
		}
		before = el;
	}
	if (hit == NULL || elem_parse(hit, keylen, &k, &end, NULL, NULL) != 0)
		return -1;
	if (!end && next != NULL &&
	    elem_parse(next, keylen, &k2, &end2, NULL, NULL) == 0 && end2)
		range_format(af, k, u128_dec(k2), buf);
	else if (!end)
		range_format(af, k, addr_max(af), buf);
	else if (prev != NULL &&
	    elem_parse(prev, keylen, &k2, &end2, NULL, NULL) == 0 && !end2)
		range_format(af, k2, u128_dec(k), buf);
	else
		range_format(af, k, k, buf);
	return 0;
}


/* Append one dumped element to the key array of the dump's family. */
static int
elem_collect_cb(const struct nlattr *el, void *data)
{
	struct elemdump *ns = data;
	struct nft_found *f = ns->found;
	struct odd_elem odd;
	struct u128 key;
	uint16_t note = 0;
	bool end;
	int r;

	r = elem_parse(el, ns->af == 4 ? 4 : 16, &key, &end, &note, &odd);
	if (r == -1)
		ns->bad++;
	if (r == 1) {
		odd.af = ns->af;
		f->odd = xreallocarray(f->odd, f->nodd + 1, sizeof(*f->odd));
		f->odd[f->nodd++] = odd;
	}
	if (r != 0)
		return MNL_CB_OK;
	if (ns->af == 4) {
		if (ns->nk4 == ns->capk4) {
			ns->capk4 = ns->capk4 == 0 ? DUMP_FIRST_CAP :
			    ns->capk4 * 2;
			ns->k4 = xreallocarray(ns->k4, ns->capk4,
			    sizeof(*ns->k4));
		}
		ns->k4[ns->nk4++] = K4(key.lo, end ? 0 : 1, note);
	} else {
		if (ns->nk6 == ns->capk6) {
			ns->capk6 = ns->capk6 == 0 ? DUMP_FIRST_CAP :
			    ns->capk6 * 2;
			ns->k6 = xreallocarray(ns->k6, ns->capk6,
			    sizeof(*ns->k6));
		}
		ns->k6[ns->nk6].key = key;
		ns->k6[ns->nk6].note = note;
		ns->k6[ns->nk6++].start = end ? 0 : 1;
	}
	return MNL_CB_OK;
}


/* See allowsync.h. */
int
elemdump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_SET_ELEM_LIST_MAX };

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || (tb[NFTA_SET_ELEM_LIST_ELEMENTS] != NULL &&
	    mnl_attr_parse_nested(tb[NFTA_SET_ELEM_LIST_ELEMENTS],
	    elem_collect_cb, data) < 0)) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	return MNL_CB_OK;
}


/* Ascending keys; an end sorts before a start at the same key. */
static int
key4_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}


/* Ascending keys; an end sorts before a start at the same key. */
static int
key6_cmp(const void *a, const void *b)
{
	const struct key6 *x = a, *y = b;
	int c;

	if ((c = u128_cmp(x->key, y->key)) != 0)
		return c;
	return x->start - y->start;
}


/* Append [first, last] of family af, with note, to rl (with notes). */
static void
range_add(struct rangelist *rl, int af, struct u128 first, struct u128 last,
    uint16_t note)
{
	struct range4 r4;
	struct range6 r6;

	if (af == 4) {
		r4.first = (uint32_t)first.lo;
		r4.last = (uint32_t)last.lo;
		rangelist_add4(rl, &r4);
		rangelist_set_note(rl, 4, rl->n4 - 1, note);
	} else {
		r6.first = first;
		r6.last = last;
		rangelist_add6(rl, &r6);
		rangelist_set_note(rl, 6, rl->n6 - 1, note);
	}
}


/*
 * Turn the dumped elements of family af into ranges appended to have.
 * Each start runs to the next element's key minus one; a start without a
 * later element runs to the top address, and an end without a start (nft's
 * sentinel at 0.0.0.0 or ::) is ignored.
 */
static void
keys_pair(struct elemdump *ns, int af, struct rangelist *have)
{
	struct u128 key, s = { 0, 0 };
	size_t i, n;
	bool open = false, start;
	uint16_t note = 0, snote = 0;

	rangelist_notes_on(have);
	if ((n = af == 4 ? ns->nk4 : ns->nk6) == 0)
		return;
	if (af == 4)
		qsort(ns->k4, n, sizeof(*ns->k4), key4_cmp);
	else
		qsort(ns->k6, n, sizeof(*ns->k6), key6_cmp);
	for (i = 0; i < n; i++) {
		if (af == 4) {
			key.hi = 0;
			key.lo = K4_KEY(ns->k4[i]);
			start = K4_START(ns->k4[i]);
			note = K4_NOTE(ns->k4[i]);
		} else {
			key = ns->k6[i].key;
			start = ns->k6[i].start;
			note = ns->k6[i].note;
		}
		if (open && u128_cmp(key, s) > 0) {
			range_add(have, af, s, u128_dec(key), snote);
			open = false;
		}
		if (!start)
			open = false;
		else if (!open) {
			s = key;
			snote = note;
			open = true;
		}
	}
	if (open)
		range_add(have, af, s, addr_max(af), snote);
}


/* See allowsync.h. */
void
nftelem_put_odd(struct nlbatch *nb, const struct nft_target *t, int af,
    const struct plan *p)
{
	const struct odd_elem *o;
	struct nlmsghdr *nlh;
	struct nlattr *el, *key;
	struct nlb_list l;
	struct set_ref ref;
	size_t i;

	elem_list_init(&l, &ref, t, af, true);
	for (i = 0; i < p->nodd; i++) {
		if ((o = &p->odd[i])->af != af)
			continue;
		nlh = nlbatch_list_item(nb, &l, PAIR_MAX);
		el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		if (o->flags != 0)
			mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
			    htonl(o->flags));
		if (o->keylen > 0) {
			key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
			mnl_attr_put(nlh, NFTA_DATA_VALUE, o->keylen, o->key);
			mnl_attr_nest_end(nlh, key);
		}
		mnl_attr_nest_end(nlh, el);
	}
	nlbatch_list_finish(nb, &l);
}

/* See allowsync.h. */
struct elemdump *
elemdump_new(void)
{
	return xcalloc(1, sizeof(struct elemdump));
}

/* See allowsync.h. */
void
elemdump_free(struct elemdump *d)
{
	if (d == NULL)
		return;
	free(d->k4);
	free(d->k6);
	free(d);
}

/* See allowsync.h. */
void
elemdump_start(struct elemdump *d, int af, struct nft_found *found)
{
	d->nk4 = d->nk6 = 0;
	d->af = af;
	d->bad = 0;
	d->found = found;
}

/* See allowsync.h. */
int
elemdump_finish(struct elemdump *d, struct rangelist *have, size_t *nelems)
{
	*nelems = d->af == 4 ? d->nk4 : d->nk6;
	if (d->bad == 0)
		keys_pair(d, d->af, have);
	return d->bad;
}

/* What a GETSETELEM of one key, or of the catch-all, answered. */
struct elem_get {
	size_t		keylen;
	bool		catchall;	/* asked for the catch-all */
	bool		found;
	struct u128	key;
	bool		end;
	uint16_t	note;
};

/*
 * Reply callback for a GETSETELEM: the element of the key, or for the
 * catch-all any element at all (it has no key to parse).
 */
static int
elem_get_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_SET_ELEM_LIST_MAX };
	struct elem_get *g = data;
	const struct nlattr *el;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || tb[NFTA_SET_ELEM_LIST_ELEMENTS] == NULL) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	mnl_attr_for_each_nested(el, tb[NFTA_SET_ELEM_LIST_ELEMENTS])
		if (!g->found && (g->catchall ?
		    mnl_attr_get_type(el) == NFTA_LIST_ELEM :
		    elem_parse(el, g->keylen, &g->key, &g->end, &g->note,
		    NULL) == 0))
			g->found = true;
	return MNL_CB_OK;
}

/*
 * One GETSETELEM on t's set of family af: of key (end: its interval's
 * end), or of the catch-all.  Returns 0 with g filled, or -1 with errno.
 */
static int
elem_request(struct nlbatch *nb, const struct nft_target *t, int af,
    struct u128 key, bool end, struct elem_get *g)
{
	char buf[NLB_HDR_ROOM + PAIR_MAX] = { 0 };
	struct nlmsghdr *nlh;
	struct nlattr *list, *el;

	nlh = nlbatch_header(nb, buf, NFNL_SUBSYS_NFTABLES << 8 |
	    NFT_MSG_GETSETELEM, (uint8_t)nft_target_proto(t->family),
	    NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, nft_target_set(t, af));
	list = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_LIST_ELEMENTS);
	if (g->catchall) {
		el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
		    htonl(NFT_SET_ELEM_CATCHALL));
		mnl_attr_nest_end(nlh, el);
	} else
		put_elem(nlh, key, g->keylen, end, 0);
	mnl_attr_nest_end(nlh, list);
	return nlbatch_request(nb, nlh, elem_get_cb, g);
}

/* See kernel.h. */
int
nftelem_get(struct nlbatch *nb, const struct nft_target *t, int af,
    struct u128 key, bool end, struct u128 *got, bool *got_end)
{
	struct elem_get g = { af == 4 ? 4 : 16, false, false, { 0, 0 },
	    false, 0 };

	if (elem_request(nb, t, af, key, end, &g) == -1)
		return -1;
	if (!g.found) {
		errno = ENOENT;
		return -1;
	}
	*got = g.key;
	*got_end = g.end;
	return 0;
}

/* See kernel.h. */
int
nftelem_get_catchall(struct nlbatch *nb, const struct nft_target *t, int af)
{
	struct elem_get g = { af == 4 ? 4 : 16, true, false, { 0, 0 },
	    false, 0 };

	if (elem_request(nb, t, af, g.key, false, &g) == -1)
		return errno == ENOENT ? 0 : -1;
	return g.found;
}
