/*
 * The kernel stage: read and change two nftables interval sets.  This is
 * the only file that knows nftables' messages; nlbatch.c carries them.
 *
 * Reads are plain requests (GETGEN, GETTABLE, GETSET) and one dump per set
 * (GETSETELEM), whose elements are parsed in place into a compact key
 * array.  Changes are one batch, so the kernel applies all of them or
 * none; an error that names a message is explained here, down to the
 * element an extended ACK points at.
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
#include <libnftnl/udata.h>

#include "kernel.h"

#define REQ_BUF_SIZE	2048		/* one GET request with two names */
#define PAIR_MAX	128		/* wire bytes of a start/end pair */

#define NFT_BYTEORDER_BIG	2	/* nft's BYTEORDER_BIG_ENDIAN */

/* The two families of sets, in the order of the target's set4, set6. */
static const struct family {
	int		 af;		/* 4 or 6 */
	int		 idx;		/* its slot in per-family arrays */
	uint32_t	 key_type;	/* nft's datatype */
	const char	*type_name;
	size_t		 keylen;	/* key bytes */
} families[] = {
	{ 4, 0, NFT_TYPE_IPADDR, "ipv4_addr", 4 },
	{ 6, 1, NFT_TYPE_IP6ADDR, "ipv6_addr", 16 },
};
#define FAMILY_END	(families + sizeof(families) / sizeof(families[0]))

struct nftset {
	struct nlbatch		*nb;		/* socket and batch */
	const struct nft_target	*target;	/* of the batch being sent */

	struct elemdump		*dump;		/* keys of the running dump */
	struct nft_found	*found;		/* of the running read */
	uint32_t		 table_flags;	/* as read */
	bool			 table_guard;	/* guard mode made it */
	bool			 owned;		/* another process owns the
						   table (flags owner) */
	uint32_t		 set_size[2];	/* size limit of each set; 0 */
};

/* What GETSET told about one set. */
struct set_info {
	uint32_t	flags;
	uint32_t	key_type;
	uint32_t	key_len;
	uint32_t	size;		/* NFTA_SET_DESC_SIZE; 0: no limit */
};

/* What GETTABLE told about the table. */
struct table_info {
	uint32_t	flags;
	uint32_t	owner;		/* portid of an owner, with F_OWNER */
	bool		guard;		/* its comment is GUARD_COMMENT */
	char		name[MAX_NFT_NAME + 1];
};

/* What a dump of the inet tables found: guard mode's, by name. */
struct guard_tables {
	char		(*name)[MAX_NFT_NAME + 1];
	size_t		 n, max;
};

/* See allowsync.h. */
int
nft_target_proto(const char *family)
{
	if (strcmp(family, "inet") == 0)
		return NFPROTO_INET;
	if (strcmp(family, "ip") == 0)
		return NFPROTO_IPV4;
	if (strcmp(family, "ip6") == 0)
		return NFPROTO_IPV6;
	return -1;
}

/* See allowsync.h. */
const char *
nft_target_set(const struct nft_target *t, int af)
{
	const char *s = af == 4 ? t->set4 : t->set6;

	return s == NULL || *s == '\0' ? NULL : s;
}

/*
 * Check that the target names a family, a table and at least one set that
 * fit together.  Returns AS_OK, or AS_ECONFIG / AS_EUNAVAIL after logging.
 */
static enum as_status
target_check(const struct nft_target *t)
{
	const struct family *f;
	const char *s;

	if (nft_target_proto(t->family) == -1) {
		log_err("nftables family \"%s\" is not inet, ip or ip6",
		    t->family);
		return AS_ECONFIG;
	}
	if (t->table == NULL || *t->table == '\0' ||
	    strlen(t->table) > MAX_NFT_NAME) {
		log_err("nftables table name is empty or too long");
		return AS_ECONFIG;
	}
	if (nft_target_set(t, 4) == NULL && nft_target_set(t, 6) == NULL) {
		log_err("no nftables set configured");
		return AS_ECONFIG;
	}
	for (f = families; f < FAMILY_END; f++) {
		if ((s = nft_target_set(t, f->af)) == NULL)
			continue;
		if (strlen(s) > MAX_NFT_NAME) {
			log_err("nftables set name is too long");
			return AS_ECONFIG;
		}
		if ((f->af == 4 && strcmp(t->family, "ip6") == 0) ||
		    (f->af == 6 && strcmp(t->family, "ip") == 0)) {
			log_err("set %s %s %s cannot hold IPv%d addresses: "
			    "use family inet", t->family, t->table, s, f->af);
			return AS_EUNAVAIL;
		}
	}
	return AS_OK;
}

/* See allowsync.h. */
enum as_status
nftset_open(struct nftset **nsp)
{
	struct nftset *ns;
	enum as_status st;

	*nsp = NULL;
	ns = xcalloc(1, sizeof(*ns));
	if ((st = nlbatch_open(&ns->nb)) != AS_OK) {
		free(ns);
		return st;
	}
	ns->dump = elemdump_new();
	*nsp = ns;
	return AS_OK;
}

/* See allowsync.h.  Frees the socket, buffers and ns itself. */
void
nftset_close(struct nftset *ns)
{
	if (ns == NULL)
		return;
	nlbatch_free(ns->nb);
	elemdump_free(ns->dump);
	free(ns);
}

/* Start an nftables request of message type type in buf. */
static struct nlmsghdr *
req_header(struct nftset *ns, char *buf, uint16_t type, uint8_t family,
    uint16_t flags)
{
	return nlbatch_header(ns->nb, buf, (NFNL_SUBSYS_NFTABLES << 8) | type,
	    family, flags);
}

/* Open a batch message of nftables message type type. */
static size_t
msg_begin(struct nftset *ns, uint16_t type, uint8_t family, uint16_t flags,
    enum nft_kind kind, int af, const char *name)
{
	struct nlb_tag tag = { (int)kind, af, name, NULL };

	return nlbatch_msg_begin(ns->nb, (NFNL_SUBSYS_NFTABLES << 8) | type,
	    family, flags, &tag);
}

/* Map a request's errno to a status, logging what failed. */
static enum as_status
nl_fail(const char *what, const struct nft_target *t, const char *set)
{
	int e = errno;

	if (e == EPERM) {
		log_err("%s: permission denied (CAP_NET_ADMIN needed)", what);
		return AS_EPERM;
	}
	if (e == EINTR) {
		log_info("ruleset changed while reading it; retry");
		return AS_ETEMPFAIL;
	}
	if (t != NULL)
		log_err("%s %s %s%s%s: %s", what, t->family, t->table,
		    set != NULL ? " " : "", set != NULL ? set : "",
		    strerror(e));
	else
		log_err("%s: %s", what, strerror(e));
	return AS_EKERNEL;
}

/* Reply callback for GETGEN: store NFTA_GEN_ID in *(uint32_t *)data. */
static int
gen_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_GEN_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_GEN_MAX };

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0 || tb[NFTA_GEN_ID] == NULL ||
	    mnl_attr_validate(tb[NFTA_GEN_ID], MNL_TYPE_U32) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	*(uint32_t *)data = ntohl(mnl_attr_get_u32(tb[NFTA_GEN_ID]));
	return MNL_CB_OK;
}

/* See allowsync.h. */
enum as_status
nftset_writable(const struct nft_found *found, const struct nft_target *t)
{
	if (!found->owned)
		return AS_OK;
	if (t->nports > 0) {
		log_err("table inet %s is owned by another process now: guard "
		    "mode cannot keep it as configured (it goes when that "
		    "process exits); stop the process that made it, or choose "
		    "another guard-table", t->table);
		return AS_EUNAVAIL;
	}
	log_err("table %s %s is owned by another process (firewalld?): use "
	    "guard mode or a table of your own", t->family, t->table);
	return AS_EUNAVAIL;
}

/* See allowsync.h. */
enum as_status
nftset_getgen(struct nftset *ns, uint32_t *genid)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	struct nlmsghdr *nlh;

	nlh = req_header(ns, buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK);
	if (nlbatch_request(ns->nb, nlh, gen_cb, genid) == -1)
		return nl_fail("reading the ruleset generation", NULL, NULL);
	return AS_OK;
}

/* Reply callback for GETSET: fill the struct set_info in data. */
static int
set_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1] = { NULL };
	const struct nlattr *desc[NFTA_SET_DESC_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_SET_MAX };
	struct nlb_attrs td = { desc, NFTA_SET_DESC_MAX };
	struct set_info *si = data;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	si->flags = nlbatch_attr_be32(tb[NFTA_SET_FLAGS]);
	si->key_type = nlbatch_attr_be32(tb[NFTA_SET_KEY_TYPE]);
	si->key_len = nlbatch_attr_be32(tb[NFTA_SET_KEY_LEN]);
	if (tb[NFTA_SET_DESC] != NULL &&
	    mnl_attr_parse_nested(tb[NFTA_SET_DESC], nlbatch_attr_cb, &td) >= 0)
		si->size = nlbatch_attr_be32(desc[NFTA_SET_DESC_SIZE]);
	return MNL_CB_OK;
}

/* nftnl_udata_parse() callback: note a comment equal to GUARD_COMMENT. */
static int
table_udata_cb(const struct nftnl_udata *attr, void *data)
{
	bool *guard = data;
	uint8_t len = nftnl_udata_len(attr);

	if (nftnl_udata_type(attr) == NFTNL_UDATA_TABLE_COMMENT &&
	    len == sizeof(GUARD_COMMENT) &&
	    memcmp(nftnl_udata_get(attr), GUARD_COMMENT, len) == 0)
		*guard = true;
	return 0;
}

/* Reply callback for GETTABLE: fill the struct table_info in data. */
static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_TABLE_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NFTA_TABLE_MAX };
	struct table_info *ti = data;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), nlbatch_attr_cb,
	    &t) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ti->flags = nlbatch_attr_be32(tb[NFTA_TABLE_FLAGS]);
	ti->owner = nlbatch_attr_be32(tb[NFTA_TABLE_OWNER]);
	ti->guard = false;
	if (tb[NFTA_TABLE_USERDATA] != NULL)
		(void)nftnl_udata_parse(mnl_attr_get_payload(
		    tb[NFTA_TABLE_USERDATA]),
		    mnl_attr_get_payload_len(tb[NFTA_TABLE_USERDATA]),
		    table_udata_cb, &ti->guard);
	snprintf(ti->name, sizeof(ti->name), "%s", tb[NFTA_TABLE_NAME] ?
	    mnl_attr_get_str(tb[NFTA_TABLE_NAME]) : "");
	return MNL_CB_OK;
}

/* Dump callback for GETTABLE: collect guard mode's tables. */
static int
guard_tables_cb(const struct nlmsghdr *nlh, void *data)
{
	struct guard_tables *g = data;
	struct table_info ti;
	int rc;

	if ((rc = table_cb(nlh, &ti)) != MNL_CB_OK)
		return rc;
	if (ti.guard && g->n < g->max)
		memcpy(g->name[g->n++], ti.name, sizeof(ti.name));
	return MNL_CB_OK;
}

/* See allowsync.h. */
enum as_status
nftset_guard_tables(struct nftset *ns, char (*names)[MAX_NFT_NAME + 1],
    size_t max, size_t *n)
{
	char buf[REQ_BUF_SIZE] = { 0 };
	struct guard_tables g = { names, 0, max };
	struct nlmsghdr *nlh;

	*n = 0;
	nlh = req_header(ns, buf, NFT_MSG_GETTABLE, NFPROTO_INET,
	    NLM_F_DUMP);
	if (nlbatch_request(ns->nb, nlh, guard_tables_cb, &g) != 0)
		return nl_fail("reading the tables", NULL, NULL);
	*n = g.n;
	return AS_OK;
}

/*
 * Ask whether the table exists, and note whether another process owns it
 * (flags owner: it refuses every change from anyone else, though anyone
 * may read it).  Returns AS_OK with *missing set, or a failure status
 * after logging.
 */
static enum as_status
table_lookup(struct nftset *ns, const struct nft_target *t, bool *missing)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	struct table_info ti;
	struct nlmsghdr *nlh;

	memset(&ti, 0, sizeof(ti));
	nlh = req_header(ns, buf, NFT_MSG_GETTABLE,
	    (uint8_t)nft_target_proto(t->family), NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, t->table);
	*missing = false;
	ns->owned = false;
	if (nlbatch_request(ns->nb, nlh, table_cb, &ti) == 0) {
		ns->table_flags = ti.flags;
		ns->table_guard = ti.guard;
		ns->owned = (ti.flags & NFT_TABLE_F_OWNER) &&
		    ti.owner != nlbatch_portid(ns->nb);
		return AS_OK;
	}
	if (errno == ENOENT) {
		*missing = true;
		return AS_OK;
	}
	return nl_fail("reading table", t, NULL);
}

/*
 * Read the properties of set name.  Returns AS_OK with *missing set and *si
 * filled when it exists, or a failure status after logging.
 */
static enum as_status
set_lookup(struct nftset *ns, const struct nft_target *t, const char *name,
    struct set_info *si, bool *missing)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	struct nlmsghdr *nlh;

	nlh = req_header(ns, buf, NFT_MSG_GETSET,
	    (uint8_t)nft_target_proto(t->family), NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	memset(si, 0, sizeof(*si));
	*missing = false;
	if (nlbatch_request(ns->nb, nlh, set_cb, si) == 0)
		return AS_OK;
	if (errno == ENOENT) {
		*missing = true;
		return AS_OK;
	}
	return nl_fail("reading set", t, name);
}

/* nft's name for a key datatype, for error messages. */
static const char *
key_type_name(uint32_t type, char *buf, size_t bufsz)
{
	switch (type) {
	case 4:
		return "integer";
	case 5:
		return "string";
	case NFT_TYPE_IPADDR:
		return "ipv4_addr";
	case NFT_TYPE_IP6ADDR:
		return "ipv6_addr";
	case 9:
		return "ether_addr";
	case 13:
		return "inet_service";
	default:
		snprintf(buf, bufsz, "%u", type);
		return buf;
	}
}

/*
 * Check that an existing set can hold the prefixes of family af.  Returns
 * AS_OK, or AS_EUNAVAIL after logging what is wrong with it.
 */
static enum as_status
set_check(const struct nft_target *t, const char *name,
    const struct family *f, const struct set_info *si)
{
	char tbuf[16];

	if (si->flags & (NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT)) {
		log_err("set %s %s %s is a map or concatenation, expected a "
		    "plain set of %s", t->family, t->table, name,
		    f->type_name);
		return AS_EUNAVAIL;
	}
	if (si->key_type != f->key_type || si->key_len != f->keylen) {
		log_err("set %s %s %s has type %s, expected %s", t->family,
		    t->table, name,
		    key_type_name(si->key_type, tbuf, sizeof(tbuf)),
		    f->type_name);
		return AS_EUNAVAIL;
	}
	if (!(si->flags & NFT_SET_INTERVAL)) {
		log_err("set %s %s %s is not an interval set (flags interval)"
		    " but prefixes need it", t->family, t->table, name);
		return AS_EUNAVAIL;
	}
	return AS_OK;
}

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
static enum as_status
batch_send(struct nftset *ns, const struct nft_target *t)
{
	char what[2 * MAX_NFT_NAME + 8];

	snprintf(what, sizeof(what), "%s %s", t->family, t->table);
	ns->target = t;
	return nlbatch_send(ns->nb, batch_explain, ns, what);
}

/*
 * Dump the elements of the set of family af and append its ranges to have.
 * Returns AS_OK, or a failure status after logging.
 */
static enum as_status
set_dump(struct nftset *ns, const struct nft_target *t,
    const struct family *f, struct rangelist *have)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	const char *set = nft_target_set(t, f->af);
	struct nlmsghdr *nlh;
	size_t n;
	int bad;

	nlh = req_header(ns, buf, NFT_MSG_GETSETELEM,
	    (uint8_t)nft_target_proto(t->family), NLM_F_DUMP);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	elemdump_start(ns->dump, f->af, ns->found);
	if (nlbatch_request(ns->nb, nlh, elemdump_cb, ns->dump) == -1)
		return nl_fail("reading elements of set", t, set);
	if ((bad = elemdump_finish(ns->dump, have, &n)) > 0) {
		log_err("set %s %s %s: kernel sent %d malformed elements",
		    t->family, t->table, set, bad);
		return AS_EKERNEL;
	}
	log_debug("set %s %s %s: %zu elements", t->family, t->table, set, n);
	return AS_OK;
}

/*
 * Look up the table and each enabled set.  missing[0] and missing[1] (and
 * si[0], si[1]) are for the IPv4 and IPv6 sets.  Returns AS_OK, or a
 * failure status after logging.
 */
static enum as_status
objects_lookup(struct nftset *ns, const struct nft_target *t,
    bool *table_missing, bool missing[2], struct set_info si[2])
{
	const struct family *f;
	const char *name;
	enum as_status st;

	missing[0] = missing[1] = false;
	if ((st = table_lookup(ns, t, table_missing)) != AS_OK)
		return st;
	for (f = families; f < FAMILY_END; f++) {
		if ((name = nft_target_set(t, f->af)) == NULL)
			continue;
		if (*table_missing)
			missing[f->idx] = true;
		else if ((st = set_lookup(ns, t, name, &si[f->idx],
		    &missing[f->idx])) != AS_OK)
			return st;
	}
	return AS_OK;
}

/* Log each missing object and the nft command that would create it. */
static void
objects_report_missing(const struct nft_target *t, bool table_missing,
    const bool missing[2])
{
	const struct family *f;
	const char *name;

	if (table_missing) {
		log_err("table %s %s does not exist", t->family, t->table);
		log_notice("create it with: nft add table %s %s", t->family,
		    t->table);
	}
	for (f = families; f < FAMILY_END; f++) {
		if (!missing[f->idx] ||
		    (name = nft_target_set(t, f->af)) == NULL)
			continue;
		log_err("set %s %s %s does not exist", t->family, t->table,
		    name);
		log_notice("create it with: nft add set %s %s %s "
		    "'{ type %s; flags interval; }'", t->family, t->table, name,
		    f->type_name);
	}
}

/* Put a NEWSET message for the set of family f into the batch. */
static void
batch_put_newset(struct nftset *ns, const struct nft_target *t,
    const struct family *f, const struct nftnl_udata_buf *ud)
{
	const char *name = nft_target_set(t, f->af);
	struct nlmsghdr *nlh;
	size_t off;

	off = msg_begin(ns, NFT_MSG_NEWSET,
	    (uint8_t)nft_target_proto(t->family), NLM_F_CREATE | NLM_F_ACK,
	    NFT_KIND_SET, f->af, name);
	nlh = nlbatch_msg(ns->nb, off);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_INTERVAL));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE, htonl(f->key_type));
	mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN, htonl((uint32_t)f->keylen));
	mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl((uint32_t)f->idx + 1));
	mnl_attr_put(nlh, NFTA_SET_USERDATA, nftnl_udata_buf_len(ud),
	    nftnl_udata_buf_data(ud));
	nlbatch_msg_end(ns->nb, off);
}

/* Put a NEWTABLE (or DELTABLE, with del) of t into the batch. */
static void
batch_put_tablemsg(struct nftset *ns, const struct nft_target *t, bool del)
{
	size_t off;

	struct nftnl_udata_buf *ud;

	off = msg_begin(ns, del ? NFT_MSG_DELTABLE : NFT_MSG_NEWTABLE,
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

	off = msg_begin(ns, NFT_MSG_DELTABLE, NFPROTO_INET, NLM_F_ACK,
	    NFT_KIND_DELTABLE, 0, NULL);
	mnl_attr_put_strz(nlbatch_msg(ns->nb, off), NFTA_TABLE_NAME, name);
	nlbatch_msg_end(ns->nb, off);
}

/* The user data nft gives a set: its key's byte order. */
static struct nftnl_udata_buf *
set_udata(void)
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
 * Guard mode: put the table of t into the batch anew, with its sets
 * (ids 1 and 2): deleted first when it exists (drop), so that whatever
 * else it held goes with it.  The elements and the chain follow.
 */
static void
batch_put_table(struct nftset *ns, const struct nft_target *t, bool drop)
{
	const struct family *f;
	struct nftnl_udata_buf *ud = set_udata();

	if (drop)
		batch_put_tablemsg(ns, t, true);
	batch_put_tablemsg(ns, t, false);
	for (f = families; f < FAMILY_END; f++)
		if (nft_target_set(t, f->af) != NULL)
			batch_put_newset(ns, t, f, ud);
	nftnl_udata_buf_free(ud);
}

/*
 * Create the missing table and sets in one transaction.  Returns AS_OK, or
 * a failure status after logging.
 */
static enum as_status
objects_create(struct nftset *ns, const struct nft_target *t,
    bool table_missing, const bool missing[2])
{
	const struct family *f;
	struct nftnl_udata_buf *ud = set_udata();
	enum as_status st;

	nlbatch_begin(ns->nb, NFNL_SUBSYS_NFTABLES, 0);
	if (table_missing)
		batch_put_tablemsg(ns, t, false);
	for (f = families; f < FAMILY_END; f++)
		if (missing[f->idx])
			batch_put_newset(ns, t, f, ud);
	nftnl_udata_buf_free(ud);
	nlbatch_end(ns->nb, NFNL_SUBSYS_NFTABLES);
	if ((st = batch_send(ns, t)) != AS_OK)
		return st;
	if (table_missing)
		log_notice("created table %s %s", t->family, t->table);
	for (f = families; f < FAMILY_END; f++)
		if (missing[f->idx])
			log_notice("created set %s %s %s (type %s, flags "
			    "interval)", t->family, t->table,
			    nft_target_set(t, f->af), f->type_name);
	return AS_OK;
}

/*
 * Check every enabled set that exists, and note what the commit and the
 * caller must know about it: its size limit, and whether its contents
 * can change without a commit.  Returns AS_OK, or AS_EUNAVAIL after
 * logging what is wrong.
 */
static enum as_status
objects_check(struct nftset *ns, const struct nft_target *t,
    const bool missing[2], const struct set_info si[2])
{
	const struct family *f;
	enum as_status st;
	const char *name;

	for (f = families; f < FAMILY_END; f++) {
		ns->set_size[f->idx] = 0;
		if ((name = nft_target_set(t, f->af)) == NULL ||
		    missing[f->idx])
			continue;
		if ((st = set_check(t, name, f, &si[f->idx])) != AS_OK)
			return st;
		ns->set_size[f->idx] = si[f->idx].size;
		if (si[f->idx].flags & (NFT_SET_TIMEOUT | NFT_SET_EVAL))
			ns->found->unstable = true;
	}
	return AS_OK;
}

/*
 * Dry run of a run that may create: log what would be created and note
 * it in found.
 */
static void
objects_plan_create(const struct nft_target *t, bool table_missing,
    const bool missing[2], struct nft_found *found)
{
	const struct family *f;

	found->missing_table = table_missing;
	if (table_missing)
		log_notice("would create table %s %s", t->family, t->table);
	for (f = families; f < FAMILY_END; f++) {
		found->missing_set[f->idx] = missing[f->idx];
		if (missing[f->idx])
			log_notice("would create set %s %s %s (type %s, flags "
			    "interval)", t->family, t->table,
			    nft_target_set(t, f->af), f->type_name);
	}
}

/*
 * Guard mode: note in found the tables guard mode made that the
 * configuration no longer names (guard-table changed), for the commit to
 * delete.
 */
static enum as_status
stale_tables(struct nftset *ns, const struct nft_target *t,
    struct nft_found *found)
{
	char names[MAX_STALE + 1][MAX_NFT_NAME + 1];
	size_t i, n;
	enum as_status st;

	if ((st = nftset_guard_tables(ns, names, MAX_STALE + 1, &n)) !=
	    AS_OK)
		return st;
	for (i = 0; i < n && found->nstale < MAX_STALE; i++)
		if (strcmp(names[i], t->table) != 0)
			memcpy(found->stale[found->nstale++], names[i],
			    sizeof(names[i]));
	return AS_OK;
}

/*
 * nftset_read() in guard mode: the table is ours, so nothing is created
 * here (a commit makes it whole again) and what it holds is read only
 * when it is exactly what t says.
 */
static enum as_status
guard_read(struct nftset *ns, const struct nft_target *t,
    struct rangelist *have, struct nft_found *found)
{
	const struct family *f;
	bool table_missing;
	enum as_status st;

	if ((st = table_lookup(ns, t, &table_missing)) != AS_OK)
		return st;
	if ((st = stale_tables(ns, t, found)) != AS_OK)
		return st;
	if (table_missing) {
		snprintf(found->guard_why, sizeof(found->guard_why),
		    "the table is missing");
		return AS_OK;
	}
	found->owned = ns->owned;
	found->table_exists = true;
	if (!ns->table_guard) {
		log_err("table inet %s is there, but guard mode did not make "
		    "it (it lacks the comment \"%s\"): not taking it over; "
		    "choose another guard-table", t->table, GUARD_COMMENT);
		return AS_EUNAVAIL;
	}
	if (found->owned) {
		snprintf(found->guard_why, sizeof(found->guard_why),
		    "another process owns the table");
		return AS_OK;
	}
	if ((st = nftguard_verify(ns->nb, t, ns->table_flags,
	    found->guard_why, sizeof(found->guard_why),
	    &found->guard_ok)) != AS_OK || !found->guard_ok)
		return st;
	for (f = families; have != NULL && f < FAMILY_END; f++)
		if (nft_target_set(t, f->af) != NULL &&
		    (st = set_dump(ns, t, f, have)) != AS_OK)
			return st;
	return AS_OK;
}

/*
 * See allowsync.h.  Existing sets are checked before anything is created,
 * so a wrong set never gets a freshly created sibling.  *have is emptied
 * first; its ranges come out ascending.
 */
enum as_status
nftset_read(struct nftset *ns, const struct nft_target *t,
    enum nft_create create, struct rangelist *have, struct nft_found *found)
{
	const struct family *f;
	struct set_info si[2];
	bool table_missing, missing[2];
	enum as_status st;

	free(found->odd);
	memset(found, 0, sizeof(*found));
	ns->found = found;
	if (have != NULL)
		have->n4 = have->n6 = 0;
	if ((st = target_check(t)) != AS_OK)
		return st;
	if ((st = nftset_getgen(ns, &found->genid)) != AS_OK)
		return st;
	if (t->nports > 0)
		return guard_read(ns, t, have, found);
	if ((st = objects_lookup(ns, t, &table_missing, missing, si)) !=
	    AS_OK || (st = objects_check(ns, t, missing, si)) != AS_OK)
		return st;
	found->owned = ns->owned;
	if (table_missing || missing[0] || missing[1]) {
		if (create == NFT_CREATE_NO) {
			objects_report_missing(t, table_missing, missing);
			return AS_EUNAVAIL;
		}
		if (create == NFT_CREATE_PLAN)
			objects_plan_create(t, table_missing, missing, found);
		/* The kernel says EPERM; the owner is the real reason. */
		else if ((st = nftset_writable(found, t)) != AS_OK)
			return st;
		else if ((st = objects_create(ns, t, table_missing,
		    missing)) != AS_OK ||
		    (st = nftset_getgen(ns, &found->genid)) != AS_OK ||
		    (st = objects_lookup(ns, t, &table_missing, missing,
		    si)) != AS_OK)
			return st;
		else if (table_missing || missing[0] || missing[1]) {
			log_err("%s %s: objects still missing after "
			    "creating them", t->family, t->table);
			return AS_EKERNEL;
		} else if ((st = objects_check(ns, t, missing, si)) != AS_OK)
			return st;
	}
	memcpy(found->set_size, ns->set_size, sizeof(found->set_size));
	for (f = families; have != NULL && f < FAMILY_END; f++)
		if (nft_target_set(t, f->af) != NULL && !missing[f->idx] &&
		    (st = set_dump(ns, t, f, have)) != AS_OK)
			return st;
	return AS_OK;
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

	if ((st = target_check(t)) != AS_OK)
		return st;
	if ((p->add.n4 + p->del.n4 > 0 && nft_target_set(t, 4) == NULL) ||
	    (p->add.n6 + p->del.n6 > 0 && nft_target_set(t, 6) == NULL))
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
	for (f = families; f < FAMILY_END; f++)
		nftelem_put_odd(ns->nb, t, f->af, p);
	for (f = families; f < FAMILY_END; f++)
		nftelem_put_ranges(ns->nb, t, f->af, &p->del, true);
	for (f = families; f < FAMILY_END; f++)
		nftelem_put_ranges(ns->nb, t, f->af, &p->add, false);
	if (p->rebuild)
		nftguard_put_chain(ns->nb, t, 1, 2);
	log_info("%s %s: deleting %zu ranges and %zu other elements and "
	    "adding %zu ranges", t->family, t->table, p->del.n4 + p->del.n6,
	    p->nodd, p->add.n4 + p->add.n6);
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
	if ((st = batch_send(ns, c[i].t)) != AS_OK)
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
		    (st = table_lookup(ns, t, &missing)) != AS_OK)
			return st;
		if (missing)
			return AS_OK;
		found.owned = ns->owned;
		if ((st = nftset_writable(&found, t)) != AS_OK)
			return st;
		nlbatch_begin(ns->nb, NFNL_SUBSYS_NFTABLES, genid);
		batch_put_tablemsg(ns, t, true);
		nlbatch_end(ns->nb, NFNL_SUBSYS_NFTABLES);
		if ((st = batch_send(ns, t)) != AS_ETEMPFAIL)
			break;
	}
	*deleted = st == AS_OK;
	return st == AS_ETEMPFAIL ? AS_EKERNEL : st;
}
