/*
 * Guard mode's table, for nftset.c: the chain and the rules that drop
 * packets to the guarded ports from sources the sets do not hold, built
 * with libnftnl's rule and expression API; and the reading of the table
 * back, to tell whether it is exactly what the configuration says.
 *
 * Two filter chains, both at priority -150, after conntrack (-200):
 *
 * - "guard" at the prerouting hook, before destination NAT (-100), so a
 *   port Docker publishes is seen as the host port the client asked for;
 * - "guard_in" at the input hook, after NAT, so a REDIRECT or DNAT from
 *   another port into a guarded one meets the guard too (and so does a
 *   packet an earlier prerouting hook ended with NF_STOP).
 *
 * A drop in any table's base chain is final, whatever other tables
 * accept, so the guard works beside any other firewall.  The rules, in
 * order, are what nft(8) makes of:
 *
 *   iifname "lo" accept
 *   ct direction reply accept
 *   fib daddr type unicast accept		(prerouting only)
 *   meta nfproto ipv4 tcp dport 8443 ip saddr != @SET4 drop
 *   meta nfproto ipv6 tcp dport 8443 ip6 saddr != @SET6 drop
 *
 * Replies to connections this host or its containers opened pass (a
 * range over the ephemeral ports must not drop them), and so does
 * traffic routed through the host to another (a container's connection
 * out, bridged traffic): the guard is for this host's ports.  A packet
 * without conntrack meets the drops.  There is one rule per port item and
 * family (a range is "dport LO-HI"); a family whose set is switched off
 * gets "meta nfproto ipv6 tcp dport 8443 drop".  They are built
 * expression by expression exactly as nft builds that text, so a table
 * loaded from the include file reads back as ours.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_conntrack_tuple_common.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>
#include <net/if.h>

#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>

#include "kernel.h"

#define RULE_ROOM	1024		/* batch bytes of one of our rules */
#define RULE_TEXT_MAX	1024		/* libnftnl's text of one rule */
/*
 * The rules of a guard chain: three accepts, one per port and family (the
 * pairs of a table guard MAX_GUARD_PORTS items in all).
 */
#define MAX_RULES	(3 + 2 * MAX_GUARD_PORTS)
#define MAX_SEEN	80		/* objects of the table examined */
#define RTN_UNICAST_TYPE 1		/* fib daddr type unicast */

/* The two chains and their hooks. */
static const struct {
	const char	*name;
	uint32_t	 hook;
} chains[2] = {
	{ GUARD_CHAIN, NF_INET_PRE_ROUTING },
	{ GUARD_CHAIN_IN, NF_INET_LOCAL_IN },
};

/* A new rule for chain c (an index of chains[]) of t. */
static struct nftnl_rule *
rule_new(const struct nft_target *t, int c)
{
	struct nftnl_rule *r;

	if ((r = nftnl_rule_alloc()) == NULL)
		goto oom;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_INET);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, t->table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, chains[c].name);
	return r;
 oom:
	log_err("out of memory");
	abort();
}

/* Append expression e to r; libnftnl's allocation failure is fatal. */
static void
rule_add(struct nftnl_rule *r, struct nftnl_expr *e)
{
	if (e == NULL) {
		log_err("out of memory");
		abort();
	}
	nftnl_rule_add_expr(r, e);
}

/* [ meta load KEY => reg 1 ] */
static void
put_meta(struct nftnl_rule *r, uint32_t key)
{
	struct nftnl_expr *e = nftnl_expr_alloc("meta");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
		nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
	}
	rule_add(r, e);
}

/* [ cmp OP reg 1 DATA ] */
static void
put_cmp(struct nftnl_rule *r, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("cmp");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
		nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
	}
	rule_add(r, e);
}

/* [ payload load LEN @ BASE + OFF => reg 1 ] */
static void
put_payload(struct nftnl_rule *r, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = nftnl_expr_alloc("payload");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
		nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	}
	rule_add(r, e);
}

/* [ lookup reg 1 set SET 0x1 ]: not in the set (set_id in this batch). */
static void
put_lookup_not(struct nftnl_rule *r, const char *set, uint32_t set_id)
{
	struct nftnl_expr *e = nftnl_expr_alloc("lookup");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SREG, NFT_REG_1);
		nftnl_expr_set_str(e, NFTNL_EXPR_LOOKUP_SET, set);
		if (set_id != 0)
			nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_SET_ID, set_id);
		nftnl_expr_set_u32(e, NFTNL_EXPR_LOOKUP_FLAGS,
		    NFT_LOOKUP_F_INV);
	}
	rule_add(r, e);
}

/* [ immediate reg 0 VERDICT ] */
static void
put_verdict(struct nftnl_rule *r, uint32_t verdict)
{
	struct nftnl_expr *e = nftnl_expr_alloc("immediate");

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
		nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, verdict);
	}
	rule_add(r, e);
}

/* iifname "lo" accept */
static struct nftnl_rule *
rule_loopback(const struct nft_target *t, int c)
{
	struct nftnl_rule *r = rule_new(t, c);
	char name[IFNAMSIZ] = "lo";

	put_meta(r, NFT_META_IIFNAME);
	put_cmp(r, NFT_CMP_EQ, name, sizeof(name));
	put_verdict(r, NF_ACCEPT);
	return r;
}

/* ct direction reply accept */
static struct nftnl_rule *
rule_reply(const struct nft_target *t, int c)
{
	struct nftnl_rule *r = rule_new(t, c);
	struct nftnl_expr *e = nftnl_expr_alloc("ct");
	uint8_t reply = IP_CT_DIR_REPLY;

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_KEY, NFT_CT_DIRECTION);
		nftnl_expr_set_u32(e, NFTNL_EXPR_CT_DREG, NFT_REG_1);
	}
	rule_add(r, e);
	put_cmp(r, NFT_CMP_EQ, &reply, sizeof(reply));
	put_verdict(r, NF_ACCEPT);
	return r;
}

/* fib daddr type unicast accept: routed on to another host. */
static struct nftnl_rule *
rule_routed(const struct nft_target *t, int c)
{
	struct nftnl_rule *r = rule_new(t, c);
	struct nftnl_expr *e = nftnl_expr_alloc("fib");
	uint32_t type = RTN_UNICAST_TYPE;

	if (e != NULL) {
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_FLAGS, NFTA_FIB_F_DADDR);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_RESULT,
		    NFT_FIB_RESULT_ADDRTYPE);
		nftnl_expr_set_u32(e, NFTNL_EXPR_FIB_DREG, NFT_REG_1);
	}
	rule_add(r, e);
	put_cmp(r, NFT_CMP_EQ, &type, sizeof(type));
	put_verdict(r, NF_ACCEPT);
	return r;
}

/*
 * meta nfproto ipv4|ipv6 tcp|udp dport PORT[-HIGH] [ip|ip6 saddr != @SET]
 * drop, for family af; set NULL drops the whole family's packets to the
 * port (its set switched off).
 */
static struct nftnl_rule *
rule_port(const struct nft_target *t, int c, int af,
    const struct guard_port *gp, const char *set, uint32_t set_id)
{
	struct nftnl_rule *r = rule_new(t, c);
	uint8_t nfproto = af == 4 ? NFPROTO_IPV4 : NFPROTO_IPV6;
	uint16_t lo = htons(gp->lo), hi = htons(gp->hi);

	put_meta(r, NFT_META_NFPROTO);
	put_cmp(r, NFT_CMP_EQ, &nfproto, sizeof(nfproto));
	put_meta(r, NFT_META_L4PROTO);
	put_cmp(r, NFT_CMP_EQ, &gp->proto, sizeof(gp->proto));
	put_payload(r, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
	if (gp->lo == gp->hi)
		put_cmp(r, NFT_CMP_EQ, &lo, sizeof(lo));
	else {
		put_cmp(r, NFT_CMP_GTE, &lo, sizeof(lo));
		put_cmp(r, NFT_CMP_LTE, &hi, sizeof(hi));
	}
	if (set != NULL) {
		if (af == 4)
			put_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		else
			put_payload(r, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		put_lookup_not(r, set, set_id);
	}
	put_verdict(r, NF_DROP);
	return r;
}

/* See kernel.h. */
size_t
nftguard_pairs(const struct nft_target *t, const struct nft_pair **p,
    struct nft_pair *one)
{
	if (t->pairs != NULL) {
		*p = t->pairs;
		return t->npairs;
	}
	one->set4 = t->set4;
	one->set6 = t->set6;
	one->ports = t->ports;
	one->nports = t->nports;
	*p = one;
	return 1;
}

/* Pair p's set of family af, or NULL when it is switched off. */
static const char *
pair_set(const struct nft_pair *p, int af)
{
	const char *s = af == 4 ? p->set4 : p->set6;

	return s != NULL && *s != '\0' ? s : NULL;
}

/*
 * The rules of chain c of t, in order, into r (MAX_RULES long): for each
 * pair, its IPv4 rules then its IPv6 rules.  With fresh, the sets are
 * created in the same batch and named by their ids too (pair j: 2j + 1
 * and 2j + 2).  Returns how many; the caller frees them.
 */
static size_t
guard_rules(const struct nft_target *t, int c, bool fresh,
    struct nftnl_rule **r)
{
	const struct nft_pair *pairs;
	struct nft_pair one;
	size_t i, j, np, n = 0;
	int af;

	np = nftguard_pairs(t, &pairs, &one);
	r[n++] = rule_loopback(t, c);
	r[n++] = rule_reply(t, c);
	if (chains[c].hook == NF_INET_PRE_ROUTING)
		r[n++] = rule_routed(t, c);
	for (j = 0; j < np; j++)
		for (af = 4; af <= 6; af += 2)
			for (i = 0; i < pairs[j].nports && n < MAX_RULES;
			    i++)
				r[n++] = rule_port(t, c, af,
				    &pairs[j].ports[i], pair_set(&pairs[j],
				    af), fresh ? (uint32_t)(2 * j +
				    (af == 4 ? 1 : 2)) : 0);
	return n;
}

/* Append chain k of t and its rules to the batch. */
static void
put_chain(struct nlbatch *nb, const struct nft_target *t, int k, bool fresh)
{
	struct nftnl_rule *r[MAX_RULES];
	struct nftnl_chain *c;
	struct nlb_tag tag = { NFT_KIND_CHAIN, 0, chains[k].name, NULL };
	size_t i, n, off;

	if ((c = nftnl_chain_alloc()) == NULL) {
		log_err("out of memory");
		abort();
	}
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, t->table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, chains[k].name);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, chains[k].hook);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, GUARD_PRIO);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_ACCEPT);
	off = nlbatch_msg_begin(nb, NFNL_SUBSYS_NFTABLES << 8 |
	    NFT_MSG_NEWCHAIN, NFPROTO_INET, NLM_F_CREATE | NLM_F_ACK, &tag);
	nftnl_chain_nlmsg_build_payload(nlbatch_msg(nb, off), c);
	nlbatch_msg_end(nb, off);
	nftnl_chain_free(c);
	tag.kind = NFT_KIND_RULE;
	n = guard_rules(t, k, fresh, r);
	for (i = 0; i < n; i++) {
		off = nlbatch_msg_begin(nb, NFNL_SUBSYS_NFTABLES << 8 |
		    NFT_MSG_NEWRULE, NFPROTO_INET,
		    NLM_F_CREATE | NLM_F_APPEND | NLM_F_ACK, &tag);
		nlbatch_reserve(nb, off, RULE_ROOM);
		nftnl_rule_nlmsg_build_payload(nlbatch_msg(nb, off), r[i]);
		nlbatch_msg_end(nb, off);
		nftnl_rule_free(r[i]);
	}
}

/* See kernel.h. */
void
nftguard_put_chain(struct nlbatch *nb, const struct nft_target *t,
    bool fresh)
{
	put_chain(nb, t, 0, fresh);
	put_chain(nb, t, 1, fresh);
}

/*
 * libnftnl's text of rule r without what does not change what it does
 * (handle, position, user data such as a comment), into buf.
 */
static const char *
rule_text(struct nftnl_rule *r, char *buf, size_t bufsz)
{
	nftnl_rule_unset(r, NFTNL_RULE_HANDLE);
	nftnl_rule_unset(r, NFTNL_RULE_POSITION);
	nftnl_rule_unset(r, NFTNL_RULE_USERDATA);
	nftnl_rule_unset(r, NFTNL_RULE_ID);
	nftnl_rule_snprintf(buf, bufsz, r, NFTNL_OUTPUT_DEFAULT, 0);
	return buf;
}

/*
 * What a dump of the owned table found.  The kernel filters a dump of
 * rules or sets by table, but not one of chains: each callback skips the
 * objects of other tables itself.
 */
struct seen {
	const char	*table;		/* ours */
	size_t		 n;
	char		 text[MAX_SEEN][RULE_TEXT_MAX];	/* rules */
	/* Names of the chains and sets. */
	char		 name[MAX_SEEN][NFT_NAME_MAXLEN];
	uint32_t	 flags[MAX_SEEN];
	uint32_t	 key_type[MAX_SEEN];
	uint32_t	 size[MAX_SEEN];
	bool		 has_timeout[MAX_SEEN];
	bool		 hook_ok[MAX_SEEN];	/* chains: ours */
	bool		 overflow;
};

/* nlb_cb for GETRULE: the text of each rule, and its chain's name. */
static int
seen_rule_cb(const struct nlmsghdr *nlh, void *data)
{
	struct seen *s = data;
	struct nftnl_rule *r;
	const char *chain, *table;

	if (s->n == MAX_SEEN) {
		s->overflow = true;
		return MNL_CB_OK;
	}
	if ((r = nftnl_rule_alloc()) == NULL || nftnl_rule_nlmsg_parse(nlh,
	    r) < 0) {
		nftnl_rule_free(r);
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	table = nftnl_rule_get_str(r, NFTNL_RULE_TABLE);
	if (table == NULL || strcmp(table, s->table) != 0) {
		nftnl_rule_free(r);
		return MNL_CB_OK;
	}
	chain = nftnl_rule_get_str(r, NFTNL_RULE_CHAIN);
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s", chain ? chain : "");
	rule_text(r, s->text[s->n], sizeof(s->text[0]));
	s->n++;
	nftnl_rule_free(r);
	return MNL_CB_OK;
}

/* The index in chains[] of the chain called name, or -1. */
static int
chain_index(const char *name)
{
	int k;

	for (k = 0; k < 2; k++)
		if (strcmp(chains[k].name, name) == 0)
			return k;
	return -1;
}

/* nlb_cb for GETCHAIN: each chain's name, and whether it is ours. */
static int
seen_chain_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_CHAIN_MAX + 1] = { NULL };
	const struct nlattr *hk[NFTA_HOOK_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_CHAIN_MAX }, th = { hk, NFTA_HOOK_MAX };
	struct seen *s = data;
	const char *type;
	int k;

	if (s->n == MAX_SEEN) {
		s->overflow = true;
		return MNL_CB_OK;
	}
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || tb[NFTA_CHAIN_NAME] == NULL ||
	    tb[NFTA_CHAIN_TABLE] == NULL) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (strcmp(mnl_attr_get_str(tb[NFTA_CHAIN_TABLE]), s->table) != 0)
		return MNL_CB_OK;
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s",
	    mnl_attr_get_str(tb[NFTA_CHAIN_NAME]));
	type = tb[NFTA_CHAIN_TYPE] ? mnl_attr_get_str(tb[NFTA_CHAIN_TYPE]) :
	    "";
	k = chain_index(s->name[s->n]);
	s->hook_ok[s->n] = k >= 0 && tb[NFTA_CHAIN_HOOK] != NULL &&
	    mnl_attr_parse_nested(tb[NFTA_CHAIN_HOOK], nlbatch_attr_cb,
	    &th) >= 0 && hk[NFTA_HOOK_DEV] == NULL &&
	    hk[NFTA_HOOK_DEVS] == NULL &&
	    nlbatch_attr_be32(hk[NFTA_HOOK_HOOKNUM]) == chains[k].hook &&
	    (int32_t)nlbatch_attr_be32(hk[NFTA_HOOK_PRIORITY]) == GUARD_PRIO &&
	    strcmp(type, "filter") == 0 &&
	    nlbatch_attr_be32(tb[NFTA_CHAIN_POLICY]) == NF_ACCEPT &&
	    (nlbatch_attr_be32(tb[NFTA_CHAIN_FLAGS]) & ~NFT_CHAIN_BASE) == 0;
	s->n++;
	return MNL_CB_OK;
}

/* nlb_cb for GETSET: each set's name and what could make it not ours. */
static int
seen_set_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1] = { NULL };
	const struct nlattr *desc[NFTA_SET_DESC_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_SET_MAX };
	struct nlb_attrs td = { desc, NFTA_SET_DESC_MAX };
	struct seen *s = data;

	if (s->n == MAX_SEEN) {
		s->overflow = true;
		return MNL_CB_OK;
	}
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || tb[NFTA_SET_NAME] == NULL ||
	    tb[NFTA_SET_TABLE] == NULL) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (strcmp(mnl_attr_get_str(tb[NFTA_SET_TABLE]), s->table) != 0)
		return MNL_CB_OK;
	snprintf(s->name[s->n], sizeof(s->name[0]), "%s",
	    mnl_attr_get_str(tb[NFTA_SET_NAME]));
	s->flags[s->n] = nlbatch_attr_be32(tb[NFTA_SET_FLAGS]);
	s->key_type[s->n] = nlbatch_attr_be32(tb[NFTA_SET_KEY_TYPE]);
	s->has_timeout[s->n] = tb[NFTA_SET_TIMEOUT] != NULL;
	s->size[s->n] = 0;
	if (tb[NFTA_SET_DESC] != NULL && mnl_attr_parse_nested(
	    tb[NFTA_SET_DESC], nlbatch_attr_cb, &td) >= 0)
		s->size[s->n] = nlbatch_attr_be32(desc[NFTA_SET_DESC_SIZE]);
	s->n++;
	return MNL_CB_OK;
}

/*
 * nlb_cb for GETOBJ and GETFLOWTABLE: count the stateful objects and
 * flowtables of the table (counters, quotas, ct helpers, ...), which
 * guard mode never makes.
 */
static int
seen_other_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_OBJ_MAX + NFTA_FLOWTABLE_MAX + 1] = {
	    NULL };
	struct nlb_attrs t = { tb, NFTA_OBJ_MAX + NFTA_FLOWTABLE_MAX };
	struct seen *s = data;

	_Static_assert(NFTA_OBJ_TABLE == 1 && NFTA_FLOWTABLE_TABLE == 1,
	    "the table is the first attribute of both");
	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || tb[1] == NULL) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	if (strcmp(mnl_attr_get_str(tb[1]), s->table) == 0)
		s->n++;
	return MNL_CB_OK;
}

/*
 * Dump the objects of message type type (GETRULE, GETCHAIN, GETSET) of
 * table t into s with cb.  Returns 0, or -1 with errno set.
 */
static int
dump_table(struct nlbatch *nb, const struct nft_target *t, uint16_t type,
    uint16_t table_attr, nlb_cb cb, struct seen *s)
{
	char buf[NLB_HDR_ROOM + 64] = { 0 };	/* attribute padding is sent */
	struct nlmsghdr *nlh;

	s->table = t->table;
	s->n = 0;
	s->overflow = false;
	nlh = nlbatch_header(nb, buf, NFNL_SUBSYS_NFTABLES << 8 | type,
	    NFPROTO_INET, NLM_F_DUMP);
	mnl_attr_put_strz(nlh, table_attr, t->table);
	return nlbatch_request(nb, nlh, cb, s);
}

/*
 * Whether the sets of the owned table are ours: exactly the enabled ones
 * (an anonymous set belongs to a rule and is judged with it), plain
 * interval sets of the right type, with no timeout, size or other flag.
 * Returns NULL, or why not into why.
 */
static const char *
sets_verdict(const struct nft_target *t, const struct seen *s, char *why,
    size_t whysz)
{
	const struct nft_pair *pairs;
	struct nft_pair one;
	const char *name;
	size_t i, j, np, found = 0, want = 0;
	int af;

	np = nftguard_pairs(t, &pairs, &one);
	for (j = 0; j < np; j++)
		want += (pair_set(&pairs[j], 4) != NULL) +
		    (pair_set(&pairs[j], 6) != NULL);
	for (i = 0; i < s->n; i++) {
		if (s->flags[i] & NFT_SET_ANONYMOUS)
			continue;
		name = s->name[i];
		af = 0;
		for (j = 0; j < np && af == 0; j++)
			af = pair_set(&pairs[j], 4) &&
			    strcmp(name, pairs[j].set4) == 0 ? 4 :
			    pair_set(&pairs[j], 6) &&
			    strcmp(name, pairs[j].set6) == 0 ? 6 : 0;
		if (af == 0)
			snprintf(why, whysz, "set %s is not ours", name);
		else if (s->flags[i] != NFT_SET_INTERVAL || s->size[i] != 0 ||
		    s->has_timeout[i] || s->key_type[i] != (af == 4 ?
		    NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR))
			snprintf(why, whysz, "set %s has other properties",
			    name);
		else {
			found++;
			continue;
		}
		return why;
	}
	if (found != want) {
		snprintf(why, whysz, "a set is missing");
		return why;
	}
	return NULL;
}

/*
 * Whether the rules of chain k are exactly ours, in our order: the rules
 * of the dump in that chain, in the dump's order.  Returns NULL or what
 * is wrong.
 */
static const char *
rules_verdict(const struct nft_target *t, int k, const struct seen *rules)
{
	struct nftnl_rule *r[MAX_RULES];
	char text[RULE_TEXT_MAX];
	size_t i, j = 0, n;
	const char *verdict = NULL;

	n = guard_rules(t, k, false, r);
	for (i = 0; i < rules->n; i++) {
		if (strcmp(rules->name[i], chains[k].name) != 0)
			continue;
		if (j == n)
			verdict = "rules were added or removed";
		else if (verdict == NULL && strcmp(rule_text(r[j], text,
		    sizeof(text)), rules->text[i]) != 0)
			verdict = "a rule was changed";
		j++;
	}
	if (verdict == NULL && j != n)
		verdict = "rules were added or removed";
	for (i = 0; i < n; i++)
		nftnl_rule_free(r[i]);
	return verdict;
}

/*
 * Whether the chains and rules of the owned table are ours: the two
 * chains as nftguard_put_chain() makes them, and no other, holding
 * exactly our rules in our order.  Returns NULL, or why not into why.
 */
static const char *
chain_verdict(const struct nft_target *t, const struct seen *seen_chains,
    const struct seen *rules, char *why, size_t whysz)
{
	const char *verdict;
	size_t i;
	int k;

	if (seen_chains->n != 2) {
		snprintf(why, whysz, seen_chains->n < 2 ?
		    "a chain is missing" : "the chains are not ours");
		return why;
	}
	for (i = 0; i < 2; i++)
		if (!seen_chains->hook_ok[i] ||
		    strcmp(seen_chains->name[i], seen_chains->name[1 - i]) ==
		    0) {
			snprintf(why, whysz, "the chains are not ours");
			return why;
		}
	for (k = 0; k < 2; k++)
		if ((verdict = rules_verdict(t, k, rules)) != NULL) {
			snprintf(why, whysz, "%s", verdict);
			return why;
		}
	return NULL;
}

/* See kernel.h. */
enum as_status
nftguard_verify(struct nlbatch *nb, const struct nft_target *t,
    uint32_t table_flags, char *why, size_t whysz, bool *ok)
{
	static struct seen sets, chs, rules, others;	/* not on a stack */
	const char *what = "reading guard table";

	*ok = false;
	if (table_flags & NFT_TABLE_F_DORMANT) {
		snprintf(why, whysz, "the table is dormant");
		return AS_OK;
	}
	if (dump_table(nb, t, NFT_MSG_GETSET, NFTA_SET_TABLE, seen_set_cb,
	    &sets) == -1 || dump_table(nb, t, NFT_MSG_GETCHAIN,
	    NFTA_CHAIN_TABLE, seen_chain_cb, &chs) == -1 ||
	    dump_table(nb, t, NFT_MSG_GETRULE, NFTA_RULE_TABLE, seen_rule_cb,
	    &rules) == -1 || dump_table(nb, t, NFT_MSG_GETOBJ,
	    NFTA_OBJ_TABLE, seen_other_cb, &others) == -1 ||
	    (others.n == 0 && dump_table(nb, t, NFT_MSG_GETFLOWTABLE,
	    NFTA_FLOWTABLE_TABLE, seen_other_cb, &others) == -1)) {
		if (errno == EINTR)
			return AS_ETEMPFAIL;
		log_err("%s inet %s: %s", what, t->table, strerror(errno));
		return errno == EPERM ? AS_EPERM : AS_EKERNEL;
	}
	if (sets.overflow || chs.overflow || rules.overflow)
		snprintf(why, whysz, "it holds more than %d objects",
		    MAX_SEEN);
	else if (others.n > 0)
		snprintf(why, whysz, "it holds objects guard mode does not "
		    "make");
	else if (sets_verdict(t, &sets, why, whysz) == NULL &&
	    chain_verdict(t, &chs, &rules, why, whysz) == NULL)
		*ok = true;
	return AS_OK;
}
