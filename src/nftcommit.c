/*
 * The kernel stage's changes: one batch per commit, so the kernel applies
 * all of it or none, for every target of the run; and the explanation of
 * an error that names a message, down to the element an extended ACK
 * points at.  The reads are nftset.c's.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/udata.h>

#include "kernel.h"

#define NFT_BYTEORDER_BIG	2	/* nft's BYTEORDER_BIG_ENDIAN */

/*
 * nlb_explain for our batches: log the error one message got, naming the
 * object and, with an extended ACK, the element, and classify it.  ctx is
 * the struct nftset, whose target is the batch's.
 */
static enum as_status
batch_explain(const struct nlb_error *e, void *ctx)
{
	const struct nftset *ns = ctx;
	const struct nft_change *c = e->tag->owner;
	const struct nft_target *t = c != NULL ? c->t : ns->target;
	const uint32_t *set_size = c != NULL ? c->set_size : ns->set_size;
	const char *why = strerror(e->err), *set = e->tag->name;
	char what[RANGE_STRLEN], ext[ESCAPE_BUF + 4] = "";
	enum as_status st = e->err == EPERM ? AS_EPERM : AS_EKERNEL;

	if (e->err == ENFILE && e->tag->kind == NFT_KIND_NEWELEM) {
		if (e->log)
			log_err("set %s %s %s is full: its size limit is %u; "
			    "remove the size from the set's definition or "
			    "raise it", t->family, t->table, set,
			    set_size[e->tag->af == 4 ? 0 : 1]);
		return AS_EUNAVAIL;
	}
	if (!e->log)
		return st;
	if (e->ext_msg != NULL)
		snprintf(ext, sizeof(ext), " (%s)", e->ext_msg);
	switch (e->tag->kind) {
	case NFT_KIND_DELELEM:
	case NFT_KIND_NEWELEM:
		if (!e->has_offs || nftelem_describe(e->msg, e->tag->af,
		    e->offs, what) == -1)
			snprintf(what, sizeof(what), "an element");
		log_err("kernel refused %s of %s in %s %s %s: %s%s",
		    e->tag->kind == NFT_KIND_DELELEM ? "delete" : "add", what,
		    t->family, t->table, set, why, ext);
		break;
	case NFT_KIND_TABLE:
		log_err("kernel refused to create table %s %s: %s%s",
		    t->family, t->table, why, ext);
		break;
	case NFT_KIND_SET:
		log_err("kernel refused to create set %s %s %s: %s%s",
		    t->family, t->table, set, why, ext);
		break;
	case NFT_KIND_DELTABLE:
		log_err("kernel refused to delete table %s %s: %s%s",
		    t->family, t->table, why, ext);
		break;
	case NFT_KIND_CHAIN:
	case NFT_KIND_RULE:
		log_err("kernel refused the guard %s in %s %s: %s%s",
		    e->tag->kind == NFT_KIND_CHAIN ? "chain" : "rule",
		    t->family, t->table, why, ext);
		break;
	default:
		log_err("kernel refused the transaction on %s %s: %s%s",
		    t->family, t->table, why, ext);
		break;
	}
	return st;
}

/* Send the batch built for target t; see nlbatch_send(). */
enum as_status
nftset_batch_send(struct nftset *ns, const struct nft_target *t)
{
	char what[2 * MAX_NFT_NAME + 8];

	snprintf(what, sizeof(what), "%s %s", t->family, t->table);
	ns->target = t;
	return nlbatch_send(ns->nb, batch_explain, ns, what);
}

/* Put a NEWSET message for the set of family f into the batch. */
void
nftset_put_newset(struct nftset *ns, const struct nft_target *t,
    const struct family *f, const struct nftnl_udata_buf *ud, uint32_t id)
{
	const char *name = nft_target_set(t, f->af);
	struct nlmsghdr *nlh;
	size_t off;

	off = nftset_msg_begin(ns, NFT_MSG_NEWSET,
	    (uint8_t)nft_target_proto(t->family), NLM_F_CREATE | NLM_F_ACK,
	    NFT_KIND_SET, f->af, name);
	nlh = nlbatch_msg(ns->nb, off);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_INTERVAL));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(f->key_type));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl((uint32_t)f->keylen));
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl(id));
	mnl_attr_put(nlh, NFTA_SET_USERDATA, nftnl_udata_buf_len(ud),
	    nftnl_udata_buf_data(ud));
	nlbatch_msg_end(ns->nb, off);
}

/* Put a NEWTABLE (or DELTABLE, with del) of t into the batch. */
void
nftset_put_tablemsg(struct nftset *ns, const struct nft_target *t, bool del)
{
	size_t off;

	struct nftnl_udata_buf *ud;

	off = nftset_msg_begin(ns, del ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE,
	    (uint8_t)nft_target_proto(t->family),
	    (del ? 0 : NLM_F_CREATE) | NLM_F_ACK,
	    del ? NFT_KIND_DELTABLE : NFT_KIND_TABLE, 0, NULL);
	mnl_attr_put_strz(nlbatch_msg(ns->nb, off), NFTA_TABLE_NAME,
	    t->table);
	/* Guard mode marks the table it makes, as nft writes a comment. */
	if (!del && t->nports > 0) {
		if ((ud = nftnl_udata_buf_alloc(64)) == NULL ||
		    !nftnl_udata_put_strz(ud, NFTNL_UDATA_TABLE_COMMENT,
		    GUARD_COMMENT)) {
			log_err("out of memory building table user data");
			abort();
		}
		mnl_attr_put(nlbatch_msg(ns->nb, off), NFTA_TABLE_USERDATA,
		    nftnl_udata_buf_len(ud), nftnl_udata_buf_data(ud));
		nftnl_udata_buf_free(ud);
	}
	nlbatch_msg_end(ns->nb, off);
}

/* DELTABLE of inet table name (an old guard table). */
static void
batch_put_deltable(struct nftset *ns, const char *name)
{
	size_t off;

	off = nftset_msg_begin(ns, NFT_MSG_DELTABLE, NFPROTO_INET, NLM_F_ACK,
	    NFT_KIND_DELTABLE, 0, NULL);
	mnl_attr_put_strz(nlbatch_msg(ns->nb, off), NFTA_TABLE_NAME, name);
	nlbatch_msg_end(ns->nb, off);
}

/* The user data nft gives a set: its key's byte order. */
struct nftnl_udata_buf *
nftset_set_udata(void)
{
	struct nftnl_udata_buf *ud;

	if ((ud = nftnl_udata_buf_alloc(64)) == NULL ||
	    !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER,
	    NFT_BYTEORDER_BIG)) {
		log_err("out of memory building set user data");
		abort();
	}
	return ud;
}

/*
 * Guard mode: put the table of t into the batch anew, with the sets of
 * every pair (pair j's with ids 2j + 1 and 2j + 2): deleted first when it
 * exists (drop), so that whatever else it held goes with it.  The
 * elements and the chains follow.
 */
static void
batch_put_table(struct nftset *ns, const struct nft_target *t, bool drop)
{
	const struct family *f;
	const struct nft_pair *pairs;
	struct nft_pair one;
	struct nft_target pt = *t;
	struct nftnl_udata_buf *ud = nftset_set_udata();
	size_t j, np = nftguard_pairs(t, &pairs, &one);

	if (drop)
		nftset_put_tablemsg(ns, t, true);
	nftset_put_tablemsg(ns, t, false);
	for (j = 0; j < np; j++) {
		pt.set4 = pairs[j].set4;
		pt.set6 = pairs[j].set6;
		for (f = nft_families; f < FAMILY_END; f++)
			if (nft_target_set(&pt, f->af) != NULL)
				nftset_put_newset(ns, &pt, f, ud,
				    (uint32_t)(2 * j) + (uint32_t)f->idx + 1);
	}
	nftnl_udata_buf_free(ud);
}

/*
 * Check that the plan of c changes only what its target has: no family
 * whose set is off.  Returns AS_OK or AS_ESOFTWARE after logging.
 */
static enum as_status
change_check(const struct nft_change *c)
{
	const struct plan *p = c->p;
	const struct nft_target *t = c->t;
	enum as_status st;
	size_t i;

	if ((st = nftset_target_check(t)) != AS_OK)
		return st;
	if ((p->add.n4 + p->del.n4 + p->renote.n4 > 0 &&
	    nft_target_set(t, 4) == NULL) || (p->add.n6 + p->del.n6 +
	    p->renote.n6 > 0 && nft_target_set(t, 6) == NULL))
		goto bad;
	for (i = 0; i < p->nodd; i++)
		if (nft_target_set(t, p->odd[i].af) == NULL)
			goto bad;
	return AS_OK;
 bad:
	log_err("plan changes a family whose set is disabled");
	return AS_ESOFTWARE;
}

/*
 * Put the messages of one target's change into the batch: deletes first,
 * because replacing a range deletes and re-adds keys that the kernel
 * would otherwise refuse as overlapping.
 */
static void
batch_put_change(struct nftset *ns, const struct nft_change *c)
{
	const struct nft_target *t = c->t;
	const struct plan *p = c->p;
	const struct family *f;
	size_t i;

	nlbatch_owner(ns->nb, c);
	for (i = 0; i < p->nstale; i++)
		batch_put_deltable(ns, p->stale[i]);
	if (p->rebuild)
		batch_put_table(ns, t, p->drop_table);
	for (f = nft_families; f < FAMILY_END; f++)
		nftelem_put_odd(ns->nb, t, f->af, p);
	for (f = nft_families; f < FAMILY_END; f++) {
		nftelem_put_ranges(ns->nb, t, f->af, &p->del, true);
		nftelem_put_ranges(ns->nb, t, f->af, &p->renote, true);
	}
	for (f = nft_families; f < FAMILY_END; f++) {
		nftelem_put_ranges(ns->nb, t, f->af, &p->add, false);
		nftelem_put_ranges(ns->nb, t, f->af, &p->renote, false);
	}
	if (p->rebuild)
		nftguard_put_chain(ns->nb, t, true);
	log_info("%s %s: deleting %zu ranges and %zu other elements, adding "
	    "%zu ranges, and changing the comment of %zu", t->family,
	    t->table, p->del.n4 + p->del.n6, p->nodd, p->add.n4 + p->add.n6,
	    p->renote.n4 + p->renote.n6);
}

/*
 * See allowsync.h.  The batch is BEGIN (with genid), each target's
 * change, END.
 */
enum as_status
nftset_commit_all(struct nftset *ns, const struct nft_change *c, size_t n,
    uint32_t genid, uint32_t *newgen)
{
	enum as_status st;
	size_t i, len, todo = 0;

	*newgen = genid;
	for (i = 0; i < n; i++) {
		if ((st = change_check(&c[i])) != AS_OK)
			return st;
		todo += !plan_empty(c[i].p);
	}
	if (todo == 0)
		return AS_OK;
	nlbatch_begin(ns->nb, NFNL_SUBSYS_NFTABLES, genid);
	for (i = 0; i < n; i++)
		if (!plan_empty(c[i].p))
			batch_put_change(ns, &c[i]);
	nlbatch_end(ns->nb, NFNL_SUBSYS_NFTABLES);
	nlbatch_data(ns->nb, &len);
	log_debug("sending %zu bytes for %zu targets", len, todo);
	for (i = 0; i < n && plan_empty(c[i].p); i++)
		;
	if ((st = nftset_batch_send(ns, c[i].t)) != AS_OK)
		return st;
	if ((st = nftset_getgen(ns, newgen)) != AS_OK)
		return st;
	if (*newgen != genid + 1)
		log_info("ruleset generation went from %u to %u: someone else "
		    "committed too", genid, *newgen);
	log_info("%zu target%s changed in one transaction", todo,
	    todo > 1 ? "s" : "");
	return AS_OK;
}

/* See allowsync.h. */
enum as_status
nftset_commit(struct nftset *ns, const struct nft_target *t,
    const struct plan *p, uint32_t genid, uint32_t *newgen)
{
	struct nft_change c = { t, p, { ns->set_size[0], ns->set_size[1] } };

	return nftset_commit_all(ns, &c, 1, genid, newgen);
}

/* See allowsync.h. */
enum as_status
nftset_drop_table(struct nftset *ns, const struct nft_target *t,
    bool *deleted)
{
	struct nft_found found = { 0 };
	uint32_t genid;
	bool missing;
	int attempt;
	enum as_status st = AS_OK;

	*deleted = false;
	for (attempt = 0; attempt <= MAX_GENID_RETRIES; attempt++) {
		if ((st = nftset_getgen(ns, &genid)) != AS_OK ||
		    (st = nftset_table_lookup(ns, t, &missing)) != AS_OK)
			return st;
		if (missing)
			return AS_OK;
		found.owned = ns->owned;
		if ((st = nftset_writable(&found, t)) != AS_OK)
			return st;
		nlbatch_begin(ns->nb, NFNL_SUBSYS_NFTABLES, genid);
		nftset_put_tablemsg(ns, t, true);
		nlbatch_end(ns->nb, NFNL_SUBSYS_NFTABLES);
		if ((st = nftset_batch_send(ns, t)) != AS_ETEMPFAIL)
			break;
	}
	*deleted = st == AS_OK;
	return st == AS_ETEMPFAIL ? AS_EKERNEL : st;
}
