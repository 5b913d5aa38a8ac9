/*
 * The kernel stage's reads: the nftables objects of each target, and the
 * creation of missing ones.  nftcommit.c changes them, nftelem.c puts and
 * reads the elements, nftguard.c builds and checks guard mode's chains;
 * nlbatch.c carries the messages.
 *
 * Reads are plain requests (GETGEN, GETTABLE, GETSET) and one dump per set
 * (GETSETELEM), whose elements are parsed in place into a compact key
 * array.
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


/* See kernel.h. */
const struct family nft_families[2] = {
	{ 4, 0, NFT_TYPE_IPADDR, "ipv4_addr", 4 },
	{ 6, 1, NFT_TYPE_IP6ADDR, "ipv6_addr", 16 },
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
enum as_status
nftset_target_check(const struct nft_target *t)
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
	for (f = nft_families; f < FAMILY_END; f++) {
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
size_t
nftset_msg_begin(struct nftset *ns, uint16_t type, uint8_t family,
    uint16_t flags, enum nft_kind kind, int af, const char *name)
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
enum as_status
nftset_table_lookup(struct nftset *ns, const struct nft_target *t,
    bool *missing)
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

/* See allowsync.h. */
enum as_status
nftset_lookup(struct nftset *ns, const struct nft_target *t, int af,
    struct u128 addr, struct nft_lookup *lk)
{
	struct set_info si;
	struct u128 k;
	enum as_status st;
	bool end;
	int r;

	memset(lk, 0, sizeof(*lk));
	st = set_lookup(ns, t, nft_target_set(t, af), &si, &lk->missing);
	if (st != AS_OK || lk->missing)
		return st;
	if (nftelem_get(ns->nb, t, af, addr, false, &k, &end) == -1) {
		if (errno != ENOENT)
			return nl_fail("reading an element of set", t,
			    nft_target_set(t, af));
		end = true;
	}
	if (end) {
		/* Nothing holds it, but a catch-all matches everything. */
		if ((r = nftelem_get_catchall(ns->nb, t, af)) == -1)
			return nl_fail("reading the catch-all of set", t,
			    nft_target_set(t, af));
		lk->holds = lk->catchall = r == 1;
		return AS_OK;
	}
	lk->holds = true;
	lk->first = k;
	/* The end of the interval: the first key past it, if any. */
	if (nftelem_get(ns->nb, t, af, addr, true, &k, &end) == 0 && end) {
		lk->last = k;
		if (lk->last.lo-- == 0)
			lk->last.hi--;
	} else {
		lk->last.hi = af == 4 ? 0 : UINT64_MAX;
		lk->last.lo = af == 4 ? UINT32_MAX : UINT64_MAX;
	}
	return AS_OK;
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
	if ((st = nftset_table_lookup(ns, t, table_missing)) != AS_OK)
		return st;
	for (f = nft_families; f < FAMILY_END; f++) {
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
	for (f = nft_families; f < FAMILY_END; f++) {
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

/*
 * Create the missing table and sets in one transaction.  Returns AS_OK, or
 * a failure status after logging.
 */
static enum as_status
objects_create(struct nftset *ns, const struct nft_target *t,
    bool table_missing, const bool missing[2])
{
	const struct family *f;
	struct nftnl_udata_buf *ud = nftset_set_udata();
	enum as_status st;

	nlbatch_begin(ns->nb, NFNL_SUBSYS_NFTABLES, 0);
	if (table_missing)
		nftset_put_tablemsg(ns, t, false);
	for (f = nft_families; f < FAMILY_END; f++)
		if (missing[f->idx])
			nftset_put_newset(ns, t, f, ud,
			    (uint32_t)f->idx + 1);
	nftnl_udata_buf_free(ud);
	nlbatch_end(ns->nb, NFNL_SUBSYS_NFTABLES);
	if ((st = nftset_batch_send(ns, t)) != AS_OK)
		return st;
	if (table_missing)
		log_notice("created table %s %s", t->family, t->table);
	for (f = nft_families; f < FAMILY_END; f++)
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

	for (f = nft_families; f < FAMILY_END; f++) {
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
	for (f = nft_families; f < FAMILY_END; f++) {
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

	if ((st = nftset_table_lookup(ns, t, &table_missing)) != AS_OK)
		return st;
	if (!t->secondary && (st = stale_tables(ns, t, found)) != AS_OK)
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
	for (f = nft_families; have != NULL && f < FAMILY_END; f++)
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
	if ((st = nftset_target_check(t)) != AS_OK)
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
	for (f = nft_families; have != NULL && f < FAMILY_END; f++)
		if (nft_target_set(t, f->af) != NULL && !missing[f->idx] &&
		    (st = set_dump(ns, t, f, have)) != AS_OK)
			return st;
	return AS_OK;
}

