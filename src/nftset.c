/*
 * The kernel stage: read and change two nftables interval sets over
 * netlink.  This is the only file that speaks nfnetlink.
 *
 * Reads are plain requests (GETGEN, GETTABLE, GETSET) and one dump per set
 * (GETSETELEM), whose elements are parsed in place into a compact key
 * array.  Changes are built as one batch in one contiguous buffer and sent
 * with one sendmsg(), so the kernel applies all of it or none of it; every
 * message has its own sequence number so each error can be traced back to
 * the message, and with extended ACKs to the element, that caused it.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>
#include <libnftnl/udata.h>

#include "allowsync.h"

#define NL_TIMEOUT_MS	10000		/* longest wait for one kernel reply */
#define NL_RBUF_SIZE	(128 * 1024)	/* one received datagram */
#define REQ_BUF_SIZE	2048		/* one GET request with two names */
#define ELEMS_NEST_MAX	64000		/* element bytes per message (u16) */
#define PAIR_MAX	128		/* wire bytes of a start/end pair */
#define MSG_HDR_ROOM	(2 * (MAX_NFT_NAME + 8) + 64)	/* header+names */
#define BATCH_INITIAL	(64 * 1024)	/* first batch buffer size */
#define ACK_ROOM	1024		/* receive buffer per expected ACK */
#define RCVBUF_MIN	(256 * 1024)	/* receive buffer floor for ACKs */
#define MAX_ERR_LINES	5		/* kernel errors logged per batch */

#define NFT_TYPE_IPADDR		7	/* nft's ipv4_addr datatype */
#define NFT_TYPE_IP6ADDR	8	/* nft's ipv6_addr datatype */
#define NFT_BYTEORDER_BIG	2	/* nft's BYTEORDER_BIG_ENDIAN */

/* What a message in the batch is, to explain an error that names it. */
enum msg_kind {
	MSG_BEGIN,
	MSG_END,
	MSG_NEWTABLE,
	MSG_NEWSET,
	MSG_DELELEM,
	MSG_NEWELEM,
};

struct batch_msg {
	size_t		 off;	/* of its nlmsghdr in the batch buffer */
	enum msg_kind	 kind;
	int		 af;	/* 4 or 6 for sets and elements */
	const char	*set;	/* set name for sets and elements */
};

/* One IPv6 set element read from a dump. */
struct key6 {
	struct u128	key;
	int		start;	/* 1 for a start element, 0 for an end */
};

struct nftset {
	struct mnl_socket	*nl;
	uint32_t		 portid;
	uint32_t		 seq;		/* next sequence number */
	char			*rbuf;		/* NL_RBUF_SIZE bytes */

	char			*buf;		/* the batch being built */
	size_t			 len, cap;
	struct batch_msg	*msgs;
	size_t			 nmsgs, capmsgs;
	uint32_t		 seq0;		/* sequence number of msgs[0] */

	uint64_t		*k4;		/* IPv4 dump: key<<1 | start */
	size_t			 nk4, capk4;
	struct key6		*k6;		/* IPv6 dump */
	size_t			 nk6, capk6;
	int			 dump_af;	/* family of the running dump */
	int			 dump_bad;	/* malformed elements seen */
	struct nft_found	*found;		/* of the running read */
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
};

/* Attribute table for mnl_attr_parse callbacks. */
struct attr_tab {
	const struct nlattr	**tb;
	unsigned int		  max;
};


/* Store each attribute whose type fits the table; later ones win. */
static int
attr_tab_cb(const struct nlattr *a, void *data)
{
	struct attr_tab *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* A big-endian u32 attribute, or 0 when it is absent or malformed. */
static uint32_t
attr_be32(const struct nlattr *a)
{
	if (a == NULL || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return 0;
	return ntohl(mnl_attr_get_u32(a));
}

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

/* The netlink family number of a target family name, or -1. */
static int
target_nfproto(const char *family)
{
	if (strcmp(family, "inet") == 0)
		return NFPROTO_INET;
	if (strcmp(family, "ip") == 0)
		return NFPROTO_IPV4;
	if (strcmp(family, "ip6") == 0)
		return NFPROTO_IPV6;
	return -1;
}

/* The set name of family af, or NULL when that family is disabled. */
static const char *
target_set(const struct nft_target *t, int af)
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
	const char *s;
	int af;

	if (target_nfproto(t->family) == -1) {
		log_err("nftables family \"%s\" is not inet, ip or ip6",
		    t->family);
		return AS_ECONFIG;
	}
	if (t->table == NULL || *t->table == '\0' ||
	    strlen(t->table) > MAX_NFT_NAME) {
		log_err("nftables table name is empty or too long");
		return AS_ECONFIG;
	}
	if (target_set(t, 4) == NULL && target_set(t, 6) == NULL) {
		log_err("no nftables set configured");
		return AS_ECONFIG;
	}
	for (af = 4; af <= 6; af += 2) {
		if ((s = target_set(t, af)) == NULL)
			continue;
		if (strlen(s) > MAX_NFT_NAME) {
			log_err("nftables set name is too long");
			return AS_ECONFIG;
		}
		if ((af == 4 && strcmp(t->family, "ip6") == 0) ||
		    (af == 6 && strcmp(t->family, "ip") == 0)) {
			log_err("set %s %s %s cannot hold IPv%d addresses: "
			    "use family inet", t->family, t->table, s, af);
			return AS_EUNAVAIL;
		}
	}
	return AS_OK;
}

/* See allowsync.h.  The socket never blocks; every wait has a timeout. */
enum as_status
nftset_open(struct nftset **nsp)
{
	struct nftset *ns;
	int fd, one = 1, e;

	*nsp = NULL;
	ns = xcalloc(1, sizeof(*ns));
	ns->nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (ns->nl == NULL ||
	    mnl_socket_bind(ns->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		e = errno;
		log_err("netlink socket: %s", strerror(e));
		if (ns->nl != NULL)
			mnl_socket_close(ns->nl);
		free(ns);
		return e == EPERM || e == EACCES ? AS_EPERM : AS_EKERNEL;
	}
	fd = mnl_socket_get_fd(ns->nl);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one)) == -1)
		log_info("netlink extended ACK unavailable: %s",
		    strerror(errno));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		log_info("netlink capped ACK unavailable: %s",
		    strerror(errno));
	ns->portid = mnl_socket_get_portid(ns->nl);
	ns->seq = (uint32_t)time(NULL);
	ns->rbuf = xmalloc(NL_RBUF_SIZE);
	*nsp = ns;
	return AS_OK;
}

/* See allowsync.h.  Frees the socket, buffers and ns itself. */
void
nftset_close(struct nftset *ns)
{
	if (ns == NULL)
		return;
	mnl_socket_close(ns->nl);
	free(ns->rbuf);
	free(ns->buf);
	free(ns->msgs);
	free(ns->k4);
	free(ns->k6);
	free(ns);
}

/*
 * Receive one datagram into ns->rbuf, waiting up to wait_ms for it.
 * Returns its length, or -1 with errno set (ETIMEDOUT when nothing came).
 */
static ssize_t
nl_recv(struct nftset *ns, int wait_ms)
{
	struct pollfd pfd;
	ssize_t n;
	int r;

	pfd.fd = mnl_socket_get_fd(ns->nl);
	pfd.events = POLLIN;
	for (;;) {
		n = mnl_socket_recvfrom(ns->nl, ns->rbuf, NL_RBUF_SIZE);
		if (n >= 0 || (errno != EAGAIN && errno != EINTR))
			return n;
		if (errno == EINTR)
			continue;
		if (wait_ms == 0)
			return -1;
		if ((r = poll(&pfd, 1, wait_ms)) == -1 && errno != EINTR)
			return -1;
		if (r == 0) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
}

/* Discard whatever earlier exchanges left in the socket. */
static void
nl_drain(struct nftset *ns)
{
	while (nl_recv(ns, 0) > 0 || errno == ENOBUFS)
		;
}

/*
 * Send one request and run cb on each reply with its sequence number until
 * NLMSG_DONE or the ACK.  Returns 0, or -1 with errno set: the kernel's
 * error, ETIMEDOUT, or EINTR when a dump raced with a commit.
 */
static int
nl_request(struct nftset *ns, struct nlmsghdr *nlh, mnl_cb_t cb, void *arg)
{
	ssize_t n;
	int ret;

	nl_drain(ns);
	if (mnl_socket_sendto(ns->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	for (;;) {
		if ((n = nl_recv(ns, NL_TIMEOUT_MS)) == -1)
			return -1;
		ret = mnl_cb_run(ns->rbuf, (size_t)n, nlh->nlmsg_seq,
		    ns->portid, cb, arg);
		if (ret <= MNL_CB_STOP)
			return ret == MNL_CB_STOP ? 0 : -1;
	}
}

/* Start a request in buf with the nfgenmsg header filled in. */
static struct nlmsghdr *
nl_header(struct nftset *ns, char *buf, uint16_t type, uint8_t family,
    uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = (NFNL_SUBSYS_NFTABLES << 8) | type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = ns->seq++;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
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
	struct attr_tab t = { tb, NFTA_GEN_MAX };

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_tab_cb,
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
nftset_getgen(struct nftset *ns, uint32_t *genid)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	struct nlmsghdr *nlh;

	nlh = nl_header(ns, buf, NFT_MSG_GETGEN, AF_UNSPEC, NLM_F_ACK);
	if (nl_request(ns, nlh, gen_cb, genid) == -1)
		return nl_fail("reading the ruleset generation", NULL, NULL);
	return AS_OK;
}

/* Reply callback for GETSET: fill the struct set_info in data. */
static int
set_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_MAX + 1] = { NULL };
	const struct nlattr *desc[NFTA_SET_DESC_MAX + 1] = { NULL };
	struct attr_tab t = { tb, NFTA_SET_MAX };
	struct attr_tab td = { desc, NFTA_SET_DESC_MAX };
	struct set_info *si = data;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_tab_cb,
	    &t) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	si->flags = attr_be32(tb[NFTA_SET_FLAGS]);
	si->key_type = attr_be32(tb[NFTA_SET_KEY_TYPE]);
	si->key_len = attr_be32(tb[NFTA_SET_KEY_LEN]);
	if (tb[NFTA_SET_DESC] != NULL &&
	    mnl_attr_parse_nested(tb[NFTA_SET_DESC], attr_tab_cb, &td) >= 0)
		si->size = attr_be32(desc[NFTA_SET_DESC_SIZE]);
	return MNL_CB_OK;
}

/* Reply callback for GETTABLE: fill the struct table_info in data. */
static int
table_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_TABLE_MAX + 1] = { NULL };
	struct attr_tab t = { tb, NFTA_TABLE_MAX };
	struct table_info *ti = data;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_tab_cb,
	    &t) < 0) {
		errno = EPROTO;
		return MNL_CB_ERROR;
	}
	ti->flags = attr_be32(tb[NFTA_TABLE_FLAGS]);
	ti->owner = attr_be32(tb[NFTA_TABLE_OWNER]);
	return MNL_CB_OK;
}

/*
 * Ask whether the table exists and whether another process owns it.
 * Returns AS_OK with *missing set, AS_EUNAVAIL for a table that another
 * process owns (flags owner: it refuses every change from anyone else),
 * or a failure status after logging.
 */
static enum as_status
table_lookup(struct nftset *ns, const struct nft_target *t, bool *missing)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	struct table_info ti = { 0, 0 };
	struct nlmsghdr *nlh;

	nlh = nl_header(ns, buf, NFT_MSG_GETTABLE,
	    (uint8_t)target_nfproto(t->family), NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_TABLE_NAME, t->table);
	*missing = false;
	if (nl_request(ns, nlh, table_cb, &ti) == 0) {
		if ((ti.flags & NFT_TABLE_F_OWNER) && ti.owner != ns->portid) {
			log_err("table %s %s is owned by another process "
			    "(firewalld?): use guard mode or a table of your "
			    "own", t->family, t->table);
			return AS_EUNAVAIL;
		}
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

	nlh = nl_header(ns, buf, NFT_MSG_GETSET,
	    (uint8_t)target_nfproto(t->family), NLM_F_ACK);
	mnl_attr_put_strz(nlh, NFTA_SET_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
	memset(si, 0, sizeof(*si));
	*missing = false;
	if (nl_request(ns, nlh, set_cb, si) == 0)
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
set_check(const struct nft_target *t, const char *name, int af,
    const struct set_info *si)
{
	uint32_t want_type = af == 4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR;
	uint32_t want_len = af == 4 ? 4 : 16;
	char tbuf[16];

	if (si->flags & (NFT_SET_MAP | NFT_SET_OBJECT | NFT_SET_CONCAT)) {
		log_err("set %s %s %s is a map or concatenation, expected a "
		    "plain set of ipv%d_addr", t->family, t->table, name,
		    af == 4 ? 4 : 6);
		return AS_EUNAVAIL;
	}
	if (si->key_type != want_type || si->key_len != want_len) {
		log_err("set %s %s %s has type %s, expected %s", t->family,
		    t->table, name,
		    key_type_name(si->key_type, tbuf, sizeof(tbuf)),
		    af == 4 ? "ipv4_addr" : "ipv6_addr");
		return AS_EUNAVAIL;
	}
	if (!(si->flags & NFT_SET_INTERVAL)) {
		log_err("set %s %s %s is not an interval set (flags interval)"
		    " but prefixes need it", t->family, t->table, name);
		return AS_EUNAVAIL;
	}
	return AS_OK;
}

/* Make room for need more bytes after the batch's first len bytes. */
static void
batch_reserve(struct nftset *ns, size_t len, size_t need)
{
	size_t cap = ns->cap == 0 ? BATCH_INITIAL : ns->cap;

	while (cap - len < need) {
		if (cap > SIZE_MAX / 2)
			cap = SIZE_MAX;
		else
			cap *= 2;
	}
	if (cap != ns->cap) {
		ns->buf = xreallocarray(ns->buf, cap, 1);
		/* libmnl leaves attribute padding as it finds it. */
		memset(ns->buf + ns->cap, 0, cap - ns->cap);
		ns->cap = cap;
	}
}

/* Empty the batch and start numbering its messages at ns->seq. */
static void
batch_reset(struct nftset *ns)
{
	ns->len = 0;
	ns->nmsgs = 0;
	ns->seq0 = ns->seq;
}

/*
 * Open a message at the end of the batch and record what it is.  The
 * caller adds its attributes and then calls batch_msg_end().  Returns its
 * offset: pointers into the batch die when it grows.
 */
static size_t
batch_msg_begin(struct nftset *ns, uint16_t type, uint8_t family,
    uint16_t flags, enum msg_kind kind, int af, const char *set)
{
	struct nlmsghdr *nlh;
	struct batch_msg *m;

	batch_reserve(ns, ns->len, MSG_HDR_ROOM);
	if (ns->nmsgs == ns->capmsgs) {
		ns->capmsgs = ns->capmsgs == 0 ? 64 : ns->capmsgs * 2;
		ns->msgs = xreallocarray(ns->msgs, ns->capmsgs,
		    sizeof(*ns->msgs));
	}
	m = &ns->msgs[ns->nmsgs++];
	m->off = ns->len;
	m->kind = kind;
	m->af = af;
	m->set = set;
	nlh = nl_header(ns, ns->buf + ns->len, type, family, flags);
	if (kind == MSG_BEGIN || kind == MSG_END) {
		nlh->nlmsg_type = type;
		((struct nfgenmsg *)mnl_nlmsg_get_payload(nlh))->res_id =
		    htons(NFNL_SUBSYS_NFTABLES);
	}
	return m->off;
}

/* The message at offset off of the batch. */
static struct nlmsghdr *
batch_msg(struct nftset *ns, size_t off)
{
	return (struct nlmsghdr *)(void *)(ns->buf + off);
}

/* Close the message at off: the batch now ends after it. */
static void
batch_msg_end(struct nftset *ns, size_t off)
{
	ns->len = off + batch_msg(ns, off)->nlmsg_len;
}

/* Append one element with the key of v to the open message at off. */
static void
batch_put_elem(struct nftset *ns, size_t off, struct u128 v, size_t keylen,
    bool end)
{
	struct nlmsghdr *nlh = batch_msg(ns, off);
	struct nlattr *el, *key;
	uint8_t kb[16];

	key_encode(v, keylen, kb);
	el = mnl_attr_nest_start(nlh, NFTA_LIST_ELEM);
	key = mnl_attr_nest_start(nlh, NFTA_SET_ELEM_KEY);
	mnl_attr_put(nlh, NFTA_DATA_VALUE, keylen, kb);
	mnl_attr_nest_end(nlh, key);
	if (end)
		mnl_attr_put_u32(nlh, NFTA_SET_ELEM_FLAGS,
		    htonl(NFT_SET_ELEM_INTERVAL_END));
	mnl_attr_nest_end(nlh, el);
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

/*
 * Append the ranges of family af in rl to the batch as NEWSETELEM (or
 * DELSETELEM when del) messages of at most ELEMS_NEST_MAX element bytes
 * each, a start and its end always in the same message.
 */
static void
batch_put_ranges(struct nftset *ns, const struct nft_target *t, int af,
    const struct rangelist *rl, bool del)
{
	const char *set = target_set(t, af);
	size_t i, n = af == 4 ? rl->n4 : rl->n6;
	size_t keylen = af == 4 ? 4 : 16;
	size_t off = 0, nest = 0, end;
	struct u128 first, last, max = addr_max(af);
	struct nlattr *a;
	bool open = false;

	for (i = 0; i < n; i++) {
		if (open && off + batch_msg(ns, off)->nlmsg_len - nest +
		    PAIR_MAX > ELEMS_NEST_MAX) {
			end = off + batch_msg(ns, off)->nlmsg_len;
			a = (struct nlattr *)(void *)(ns->buf + nest);
			a->nla_len = (uint16_t)(end - nest);
			batch_msg_end(ns, off);
			open = false;
		}
		if (!open) {
			off = batch_msg_begin(ns, del ? NFT_MSG_DELSETELEM :
			    NFT_MSG_NEWSETELEM,
			    (uint8_t)target_nfproto(t->family),
			    NLM_F_ACK | (del ? 0 : NLM_F_CREATE),
			    del ? MSG_DELELEM : MSG_NEWELEM, af, set);
			mnl_attr_put_strz(batch_msg(ns, off),
			    NFTA_SET_ELEM_LIST_TABLE, t->table);
			mnl_attr_put_strz(batch_msg(ns, off),
			    NFTA_SET_ELEM_LIST_SET, set);
			a = mnl_attr_nest_start(batch_msg(ns, off),
			    NFTA_SET_ELEM_LIST_ELEMENTS);
			nest = (size_t)((char *)a - ns->buf);
			open = true;
		}
		batch_reserve(ns, off + batch_msg(ns, off)->nlmsg_len,
		    PAIR_MAX);
		range_get(rl, af, i, &first, &last);
		batch_put_elem(ns, off, first, keylen, false);
		if (u128_cmp(last, max) != 0)
			batch_put_elem(ns, off, u128_inc(last), keylen, true);
	}
	if (open) {
		end = off + batch_msg(ns, off)->nlmsg_len;
		a = (struct nlattr *)(void *)(ns->buf + nest);
		a->nla_len = (uint16_t)(end - nest);
		batch_msg_end(ns, off);
	}
}

/* Add BATCH_BEGIN, carrying genid unless it is 0. */
static void
batch_begin(struct nftset *ns, uint32_t genid)
{
	size_t off;

	batch_reset(ns);
	off = batch_msg_begin(ns, NFNL_MSG_BATCH_BEGIN, AF_UNSPEC, NLM_F_ACK,
	    MSG_BEGIN, 0, NULL);
	if (genid != 0)
		mnl_attr_put_u32(batch_msg(ns, off), NFNL_BATCH_GENID,
		    htonl(genid));
	batch_msg_end(ns, off);
}

/* Add BATCH_END; its ACK arrives only after a successful commit. */
static void
batch_end(struct nftset *ns)
{
	batch_msg_end(ns, batch_msg_begin(ns, NFNL_MSG_BATCH_END, AF_UNSPEC,
	    NLM_F_ACK, MSG_END, 0, NULL));
}

/*
 * Make the socket buffer opt at least need bytes, forcing it past the
 * system limit (with CAP_NET_ADMIN) when asking is not enough.  Returns 0,
 * or -1 when the buffer stays too small.
 */
static int
nl_sockbuf(struct nftset *ns, int opt, int force_opt, size_t need)
{
	int fd = mnl_socket_get_fd(ns->nl);
	int cur = 0, v;
	socklen_t len = sizeof(cur);

	if (need > INT_MAX / 2)
		return -1;
	v = (int)need;
	if (getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 &&
	    (size_t)cur >= need)
		return 0;
	if (setsockopt(fd, SOL_SOCKET, opt, &v, sizeof(v)) == 0 &&
	    getsockopt(fd, SOL_SOCKET, opt, &cur, &len) == 0 &&
	    (size_t)cur >= need)
		return 0;
	return setsockopt(fd, SOL_SOCKET, force_opt, &v, sizeof(v));
}

/*
 * Parse one NFTA_LIST_ELEM of a set whose keys are keylen bytes.  Returns
 * 0 for a plain element, with its key in *key and whether it ends an
 * interval in *end; 1 for an element that is not part of a range (a
 * catch-all, or a key of another shape), described in *odd when odd is
 * not NULL; -1 when it is malformed.
 */
static int
elem_parse(const struct nlattr *el, size_t keylen, struct u128 *key,
    bool *end, struct odd_elem *odd)
{
	const struct nlattr *tb[NFTA_SET_ELEM_MAX + 1] = { NULL };
	const struct nlattr *kb[NFTA_DATA_MAX + 1] = { NULL };
	struct attr_tab t = { tb, NFTA_SET_ELEM_MAX };
	struct attr_tab tk = { kb, NFTA_DATA_MAX };
	uint32_t flags;
	size_t len = 0;

	if (mnl_attr_get_type(el) != NFTA_LIST_ELEM ||
	    mnl_attr_parse_nested(el, attr_tab_cb, &t) < 0)
		return -1;
	if (tb[NFTA_SET_ELEM_FLAGS] != NULL &&
	    mnl_attr_validate(tb[NFTA_SET_ELEM_FLAGS], MNL_TYPE_U32) < 0)
		return -1;
	flags = attr_be32(tb[NFTA_SET_ELEM_FLAGS]);
	if (tb[NFTA_SET_ELEM_KEY] != NULL) {
		if (mnl_attr_parse_nested(tb[NFTA_SET_ELEM_KEY], attr_tab_cb,
		    &tk) < 0 || kb[NFTA_DATA_VALUE] == NULL)
			return -1;
		len = mnl_attr_get_payload_len(kb[NFTA_DATA_VALUE]);
		if (len == keylen && !(flags & NFT_SET_ELEM_CATCHALL) &&
		    tb[NFTA_SET_ELEM_KEY_END] == NULL) {
			*key = key_decode(mnl_attr_get_payload(
			    kb[NFTA_DATA_VALUE]), keylen);
			*end = (flags & NFT_SET_ELEM_INTERVAL_END) != 0;
			return 0;
		}
		if (len == 0 || len > ODD_KEY_MAX)
			return -1;
	} else if (!(flags & NFT_SET_ELEM_CATCHALL))
		return -1;
	if (odd != NULL) {
		memset(odd, 0, sizeof(*odd));
		odd->catchall = len == 0;
		odd->flags = flags;
		odd->keylen = len;
		if (len > 0)
			memcpy(odd->key, mnl_attr_get_payload(
			    kb[NFTA_DATA_VALUE]), len);
	}
	return 1;
}

/*
 * Find the element of message m that the extended ACK offset offs points
 * into and format what it stands for into buf (RANGE_STRLEN bytes): the
 * range, when its start/end pair is in the message, else the element's
 * key.  Returns 0, or -1 when offs points at no element.
 */
static int
batch_describe_elem(struct nftset *ns, const struct batch_msg *m,
    uint32_t offs, char *buf)
{
	const struct nlmsghdr *nlh = batch_msg(ns, m->off);
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = { NULL };
	struct attr_tab t = { tb, NFTA_SET_ELEM_LIST_MAX };
	const struct nlattr *el, *hit = NULL, *prev = NULL, *next = NULL;
	const struct nlattr *before = NULL;
	size_t at, keylen = m->af == 4 ? 4 : 16;
	struct u128 k, k2;
	bool end, end2;

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_tab_cb,
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
	if (hit == NULL || elem_parse(hit, keylen, &k, &end, NULL) != 0)
		return -1;
	if (!end && next != NULL &&
	    elem_parse(next, keylen, &k2, &end2, NULL) == 0 && end2)
		range_format(m->af, k, u128_dec(k2), buf);
	else if (!end)
		range_format(m->af, k, addr_max(m->af), buf);
	else if (prev != NULL &&
	    elem_parse(prev, keylen, &k2, &end2, NULL) == 0 && !end2)
		range_format(m->af, k2, u128_dec(k), buf);
	else
		range_format(m->af, k, k, buf);
	return 0;
}

/* What the replies to one batch said. */
struct batch_result {
	size_t	replies;	/* ACKs and errors for known messages */
	bool	end_acked;	/* the commit is confirmed (>= 6.10) */
	bool	restart;	/* ERESTART: the generation moved */
	bool	eperm;
	bool	full;		/* ENFILE on an add: a set's size limit */
	size_t	nerr;
};

/*
 * Account for one reply to the batch and log the error it carries, naming
 * the message and, with an extended ACK, the element that failed.
 */
static void
batch_reply(struct nftset *ns, const struct nft_target *t,
    const struct nlmsghdr *nlh, struct batch_result *r)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct attr_tab at = { tb, NLMSGERR_ATTR_MAX };
	const struct nlmsgerr *e;
	const struct batch_msg *m;
	char what[RANGE_STRLEN], ext[ESCAPE_BUF + 4];
	const char *why;
	uint32_t idx;
	size_t off;
	int err;

	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*e))
		return;
	e = mnl_nlmsg_get_payload(nlh);
	idx = e->msg.nlmsg_seq - ns->seq0;
	if (idx >= ns->nmsgs)
		return;
	m = &ns->msgs[idx];
	r->replies++;
	if (e->error == 0) {
		if (m->kind == MSG_END)
			r->end_acked = true;
		return;
	}
	err = -e->error;
	r->nerr++;
	if (m->kind == MSG_BEGIN && err == ERESTART) {
		r->restart = true;
		return;
	}
	if (err == EPERM)
		r->eperm = true;
	if (r->nerr > MAX_ERR_LINES)
		return;
	if (err == ENFILE && m->kind == MSG_NEWELEM) {
		r->full = true;
		log_err("set %s %s %s is full: its size limit is %u; remove "
		    "the size from the set's definition or raise it",
		    t->family, t->table, m->set,
		    ns->set_size[m->af == 4 ? 0 : 1]);
		return;
	}

	ext[0] = '\0';
	off = sizeof(*e);
	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += e->msg.nlmsg_len - NLMSG_HDRLEN;
	if ((nlh->nlmsg_flags & NLM_F_ACK_TLVS) && off >= sizeof(*e) &&
	    off < nlh->nlmsg_len &&
	    NLMSG_HDRLEN + MNL_ALIGN(off) < nlh->nlmsg_len)
		mnl_attr_parse(nlh, (unsigned int)off, attr_tab_cb, &at);
	if (tb[NLMSGERR_ATTR_MSG] != NULL &&
	    mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG]) > 0) {
		ext[0] = ' ';
		ext[1] = '(';
		log_escape(mnl_attr_get_payload(tb[NLMSGERR_ATTR_MSG]),
		    strnlen(mnl_attr_get_payload(tb[NLMSGERR_ATTR_MSG]),
		    mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG])),
		    ext + 2, ESCAPE_BUF);
		strcat(ext, ")");
	}
	why = strerror(err);
	switch (m->kind) {
	case MSG_DELELEM:
	case MSG_NEWELEM:
		if (tb[NLMSGERR_ATTR_OFFS] == NULL ||
		    mnl_attr_validate(tb[NLMSGERR_ATTR_OFFS],
		    MNL_TYPE_U32) < 0 ||
		    batch_describe_elem(ns, m,
		    mnl_attr_get_u32(tb[NLMSGERR_ATTR_OFFS]), what) == -1)
			snprintf(what, sizeof(what), "an element");
		log_err("kernel refused %s of %s in %s %s %s: %s%s",
		    m->kind == MSG_DELELEM ? "delete" : "add", what,
		    t->family, t->table, m->set, why, ext);
		break;
	case MSG_NEWTABLE:
		log_err("kernel refused to create table %s %s: %s%s",
		    t->family, t->table, why, ext);
		break;
	case MSG_NEWSET:
		log_err("kernel refused to create set %s %s %s: %s%s",
		    t->family, t->table, m->set, why, ext);
		break;
	default:
		log_err("kernel refused the transaction on %s %s: %s%s",
		    t->family, t->table, why, ext);
		break;
	}
}

/*
 * Send the batch in one sendmsg() and read every reply.  The kernel runs
 * the whole batch before sendmsg() returns, so once replies have started
 * an empty socket means there are no more.  Returns AS_OK when the kernel
 * committed it, AS_ETEMPFAIL on ERESTART (logged at info level), AS_EPERM
 * or AS_EKERNEL after logging.
 */
static enum as_status
batch_send(struct nftset *ns, const struct nft_target *t)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov = { ns->buf, ns->len };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
	    .msg_iov = &iov, .msg_iovlen = 1 };
	struct batch_result r = { 0 };
	const struct nlmsghdr *nlh;
	size_t expect = ns->nmsgs, rcv;
	bool got = false, lost = false;
	ssize_t n;
	int len;

	nl_drain(ns);
	if (nl_sockbuf(ns, SO_SNDBUF, SO_SNDBUFFORCE, ns->len + 4096) == -1)
		log_warn("cannot raise the netlink send buffer to %zu bytes: "
		    "%s", ns->len + 4096, strerror(errno));
	rcv = ns->nmsgs > SIZE_MAX / ACK_ROOM ? SIZE_MAX : ns->nmsgs * ACK_ROOM;
	if (nl_sockbuf(ns, SO_RCVBUF, SO_RCVBUFFORCE,
	    rcv < RCVBUF_MIN ? RCVBUF_MIN : rcv) == -1)
		log_info("cannot raise the netlink receive buffer: %s",
		    strerror(errno));
	if (sendmsg(mnl_socket_get_fd(ns->nl), &mh, 0) == -1) {
		if (errno == EPERM) {
			log_err("sending to nftables: permission denied "
			    "(CAP_NET_ADMIN needed)");
			return AS_EPERM;
		}
		log_err("sending a %zu-byte batch to nftables: %s", ns->len,
		    strerror(errno));
		return AS_EKERNEL;
	}
	while (r.replies < expect) {
		if ((n = nl_recv(ns, got ? 0 : NL_TIMEOUT_MS)) == -1) {
			if (errno == ENOBUFS) {
				lost = got = true;
				continue;
			}
			if (errno == EAGAIN || errno == ETIMEDOUT)
				break;
			log_err("reading nftables replies: %s",
			    strerror(errno));
			return AS_EKERNEL;
		}
		got = true;
		len = (int)n;
		for (nlh = (const struct nlmsghdr *)(void *)ns->rbuf;
		    mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len))
			batch_reply(ns, t, nlh, &r);
	}
	log_debug("%s %s: %zu of %zu replies, %zu errors, commit %sconfirmed",
	    t->family, t->table, r.replies, expect, r.nerr,
	    r.end_acked ? "" : "not ");
	if (r.restart) {
		log_info("ruleset changed since it was read; re-read needed");
		return AS_ETEMPFAIL;
	}
	if (r.nerr > MAX_ERR_LINES)
		log_err("%zu more kernel errors not shown",
		    r.nerr - MAX_ERR_LINES);
	if (r.eperm) {
		log_err("nftables: permission denied (CAP_NET_ADMIN needed)");
		return AS_EPERM;
	}
	if (r.full)
		return AS_EUNAVAIL;
	if (r.nerr > 0)
		return AS_EKERNEL;
	if (lost) {
		log_err("%s %s: kernel replies lost (receive buffer overrun),"
		    " outcome unknown", t->family, t->table);
		return AS_EKERNEL;
	}
	if (!got) {
		log_err("%s %s: no reply from the kernel within %d s",
		    t->family, t->table, NL_TIMEOUT_MS / 1000);
		return AS_EKERNEL;
	}
	/* Before 6.10 the kernel ACKs neither BATCH_BEGIN nor BATCH_END. */
	if (!r.end_acked && r.replies + 2 < expect) {
		log_err("%s %s: only %zu of %zu kernel replies arrived",
		    t->family, t->table, r.replies, expect);
		return AS_EKERNEL;
	}
	return AS_OK;
}

/* Append one dumped element to the key array of the dump's family. */
static int
elem_collect_cb(const struct nlattr *el, void *data)
{
	struct nftset *ns = data;
	struct nft_found *f = ns->found;
	struct odd_elem odd;
	struct u128 key;
	bool end;
	int r;

	r = elem_parse(el, ns->dump_af == 4 ? 4 : 16, &key, &end, &odd);
	if (r == -1)
		ns->dump_bad++;
	if (r == 1) {
		odd.af = ns->dump_af;
		f->odd = xreallocarray(f->odd, f->nodd + 1, sizeof(*f->odd));
		f->odd[f->nodd++] = odd;
	}
	if (r != 0)
		return MNL_CB_OK;
	if (ns->dump_af == 4) {
		if (ns->nk4 == ns->capk4) {
			ns->capk4 = ns->capk4 == 0 ? 1024 : ns->capk4 * 2;
			ns->k4 = xreallocarray(ns->k4, ns->capk4,
			    sizeof(*ns->k4));
		}
		ns->k4[ns->nk4++] = key.lo << 1 | (end ? 0 : 1);
	} else {
		if (ns->nk6 == ns->capk6) {
			ns->capk6 = ns->capk6 == 0 ? 1024 : ns->capk6 * 2;
			ns->k6 = xreallocarray(ns->k6, ns->capk6,
			    sizeof(*ns->k6));
		}
		ns->k6[ns->nk6].key = key;
		ns->k6[ns->nk6++].start = end ? 0 : 1;
	}
	return MNL_CB_OK;
}

/* Reply callback for the GETSETELEM dump: collect every element. */
static int
elem_dump_cb(const struct nlmsghdr *nlh, void *data)
{
	const struct nlattr *tb[NFTA_SET_ELEM_LIST_MAX + 1] = { NULL };
	struct attr_tab t = { tb, NFTA_SET_ELEM_LIST_MAX };

	if (mnl_attr_parse(nlh, sizeof(struct nfgenmsg), attr_tab_cb,
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

/* Append [first, last] of family af to rl. */
static void
range_add(struct rangelist *rl, int af, struct u128 first, struct u128 last)
{
	struct range4 r4;
	struct range6 r6;

	if (af == 4) {
		r4.first = (uint32_t)first.lo;
		r4.last = (uint32_t)last.lo;
		rangelist_add4(rl, &r4);
	} else {
		r6.first = first;
		r6.last = last;
		rangelist_add6(rl, &r6);
	}
}

/*
 * Turn the dumped elements of family af into ranges appended to have.
 * Each start runs to the next element's key minus one; a start without a
 * later element runs to the top address, and an end without a start (nft's
 * sentinel at 0.0.0.0 or ::) is ignored.
 */
static void
keys_pair(struct nftset *ns, int af, struct rangelist *have)
{
	struct u128 key, s = { 0, 0 };
	size_t i, n;
	bool open = false, start;

	if ((n = af == 4 ? ns->nk4 : ns->nk6) == 0)
		return;
	if (af == 4)
		qsort(ns->k4, n, sizeof(*ns->k4), key4_cmp);
	else
		qsort(ns->k6, n, sizeof(*ns->k6), key6_cmp);
	for (i = 0; i < n; i++) {
		if (af == 4) {
			key.hi = 0;
			key.lo = ns->k4[i] >> 1;
			start = ns->k4[i] & 1;
		} else {
			key = ns->k6[i].key;
			start = ns->k6[i].start;
		}
		if (open && u128_cmp(key, s) > 0) {
			range_add(have, af, s, u128_dec(key));
			open = false;
		}
		if (!start)
			open = false;
		else if (!open) {
			s = key;
			open = true;
		}
	}
	if (open)
		range_add(have, af, s, addr_max(af));
}

/*
 * Dump the elements of the set of family af and append its ranges to have.
 * Returns AS_OK, or a failure status after logging.
 */
static enum as_status
set_dump(struct nftset *ns, const struct nft_target *t, int af,
    struct rangelist *have)
{
	char buf[REQ_BUF_SIZE] = { 0 };	/* attribute padding is sent */
	const char *set = target_set(t, af);
	struct nlmsghdr *nlh;

	nlh = nl_header(ns, buf, NFT_MSG_GETSETELEM,
	    (uint8_t)target_nfproto(t->family), NLM_F_DUMP);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->table);
	mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET, set);
	ns->nk4 = ns->nk6 = 0;
	ns->dump_af = af;
	ns->dump_bad = 0;
	if (nl_request(ns, nlh, elem_dump_cb, ns) == -1)
		return nl_fail("reading elements of set", t, set);
	if (ns->dump_bad) {
		log_err("set %s %s %s: kernel sent %d malformed elements",
		    t->family, t->table, set, ns->dump_bad);
		return AS_EKERNEL;
	}
	keys_pair(ns, af, have);
	log_debug("set %s %s %s: %zu elements", t->family, t->table, set,
	    af == 4 ? ns->nk4 : ns->nk6);
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
	enum as_status st;
	int i;

	missing[0] = missing[1] = false;
	if ((st = table_lookup(ns, t, table_missing)) != AS_OK)
		return st;
	for (i = 0; i < 2; i++) {
		if (target_set(t, 4 + 2 * i) == NULL)
			continue;
		if (*table_missing)
			missing[i] = true;
		else if ((st = set_lookup(ns, t, target_set(t, 4 + 2 * i),
		    &si[i], &missing[i])) != AS_OK)
			return st;
	}
	return AS_OK;
}

/* Log each missing object and the nft command that would create it. */
static void
objects_report_missing(const struct nft_target *t, bool table_missing,
    const bool missing[2])
{
	const char *name;
	int i;

	if (table_missing) {
		log_err("table %s %s does not exist", t->family, t->table);
		log_notice("create it with: nft add table %s %s", t->family,
		    t->table);
	}
	for (i = 0; i < 2; i++) {
		if (!missing[i] || (name = target_set(t, 4 + 2 * i)) == NULL)
			continue;
		log_err("set %s %s %s does not exist", t->family, t->table,
		    name);
		log_notice("create it with: nft add set %s %s %s "
		    "'{ type %s; flags interval; }'", t->family, t->table, name,
		    i == 0 ? "ipv4_addr" : "ipv6_addr");
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
	struct nftnl_udata_buf *ud;
	struct nlmsghdr *nlh;
	uint8_t family = (uint8_t)target_nfproto(t->family);
	enum as_status st;
	const char *name;
	size_t off;
	int i, af;

	if ((ud = nftnl_udata_buf_alloc(64)) == NULL ||
	    !nftnl_udata_put_u32(ud, NFTNL_UDATA_SET_KEYBYTEORDER,
	    NFT_BYTEORDER_BIG)) {
		log_err("out of memory building set user data");
		if (ud != NULL)
			nftnl_udata_buf_free(ud);
		return AS_ESOFTWARE;
	}
	batch_begin(ns, 0);
	if (table_missing) {
		off = batch_msg_begin(ns, NFT_MSG_NEWTABLE, family,
		    NLM_F_CREATE | NLM_F_ACK, MSG_NEWTABLE, 0, NULL);
		mnl_attr_put_strz(batch_msg(ns, off), NFTA_TABLE_NAME,
		    t->table);
		batch_msg_end(ns, off);
	}
	for (i = 0; i < 2; i++) {
		if (!missing[i])
			continue;
		af = 4 + 2 * i;
		name = target_set(t, af);
		off = batch_msg_begin(ns, NFT_MSG_NEWSET, family,
		    NLM_F_CREATE | NLM_F_ACK, MSG_NEWSET, af, name);
		nlh = batch_msg(ns, off);
		mnl_attr_put_strz(nlh, NFTA_SET_TABLE, t->table);
		mnl_attr_put_strz(nlh, NFTA_SET_NAME, name);
		mnl_attr_put_u32(nlh, NFTA_SET_FLAGS, htonl(NFT_SET_INTERVAL));
		mnl_attr_put_u32(nlh, NFTA_SET_KEY_TYPE,
		    htonl(af == 4 ? NFT_TYPE_IPADDR : NFT_TYPE_IP6ADDR));
		mnl_attr_put_u32(nlh, NFTA_SET_KEY_LEN,
		    htonl(af == 4 ? 4 : 16));
		mnl_attr_put_u32(nlh, NFTA_SET_ID, htonl((uint32_t)i + 1));
		mnl_attr_put(nlh, NFTA_SET_USERDATA, nftnl_udata_buf_len(ud),
		    nftnl_udata_buf_data(ud));
		batch_msg_end(ns, off);
	}
	nftnl_udata_buf_free(ud);
	batch_end(ns);
	if ((st = batch_send(ns, t)) != AS_OK)
		return st;
	if (table_missing)
		log_notice("created table %s %s", t->family, t->table);
	for (i = 0; i < 2; i++)
		if (missing[i])
			log_notice("created set %s %s %s (type %s, flags "
			    "interval)", t->family, t->table,
			    target_set(t, 4 + 2 * i),
			    i == 0 ? "ipv4_addr" : "ipv6_addr");
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
	enum as_status st;
	const char *name;
	int i;

	for (i = 0; i < 2; i++) {
		ns->set_size[i] = 0;
		if ((name = target_set(t, 4 + 2 * i)) == NULL || missing[i])
			continue;
		if ((st = set_check(t, name, 4 + 2 * i, &si[i])) != AS_OK)
			return st;
		ns->set_size[i] = si[i].size;
		if (si[i].flags & (NFT_SET_TIMEOUT | NFT_SET_EVAL))
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
	int i;

	found->missing_table = table_missing;
	if (table_missing)
		log_notice("would create table %s %s", t->family, t->table);
	for (i = 0; i < 2; i++) {
		found->missing_set[i] = missing[i];
		if (missing[i])
			log_notice("would create set %s %s %s (type %s, flags "
			    "interval)", t->family, t->table,
			    target_set(t, 4 + 2 * i),
			    i == 0 ? "ipv4_addr" : "ipv6_addr");
	}
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
	struct set_info si[2];
	bool table_missing, missing[2];
	enum as_status st;
	int i;

	free(found->odd);
	memset(found, 0, sizeof(*found));
	ns->found = found;
	if (have != NULL)
		have->n4 = have->n6 = 0;
	if ((st = target_check(t)) != AS_OK)
		return st;
	if ((st = nftset_getgen(ns, &found->genid)) != AS_OK)
		return st;
	if ((st = objects_lookup(ns, t, &table_missing, missing, si)) !=
	    AS_OK || (st = objects_check(ns, t, missing, si)) != AS_OK)
		return st;
	if (table_missing || missing[0] || missing[1]) {
		if (create == NFT_CREATE_NO) {
			objects_report_missing(t, table_missing, missing);
			return AS_EUNAVAIL;
		}
		if (create == NFT_CREATE_PLAN)
			objects_plan_create(t, table_missing, missing, found);
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
	for (i = 0; have != NULL && i < 2; i++)
		if (target_set(t, 4 + 2 * i) != NULL && !missing[i] &&
		    (st = set_dump(ns, t, 4 + 2 * i, have)) != AS_OK)
			return st;
	return AS_OK;
}

/*
 * Append one DELSETELEM message per odd element of p, carrying the
 * element exactly as it was read (flags and key) so the kernel finds it.
 * There are few of them: a set holds at most one catch-all.
 */
static void
batch_put_odd(struct nftset *ns, const struct nft_target *t,
    const struct plan *p)
{
	const struct odd_elem *o;
	struct nlmsghdr *nlh;
	struct nlattr *el, *key;
	size_t i, off, nest;

	for (i = 0; i < p->nodd; i++) {
		o = &p->odd[i];
		off = batch_msg_begin(ns, NFT_MSG_DELSETELEM,
		    (uint8_t)target_nfproto(t->family), NLM_F_ACK,
		    MSG_DELELEM, o->af, target_set(t, o->af));
		batch_reserve(ns, ns->len, MSG_HDR_ROOM + PAIR_MAX);
		nlh = batch_msg(ns, off);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_TABLE, t->table);
		mnl_attr_put_strz(nlh, NFTA_SET_ELEM_LIST_SET,
		    target_set(t, o->af));
		nest = (size_t)((char *)mnl_attr_nest_start(nlh,
		    NFTA_SET_ELEM_LIST_ELEMENTS) - ns->buf);
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
		mnl_attr_nest_end(nlh,
		    (struct nlattr *)(void *)(ns->buf + nest));
		batch_msg_end(ns, off);
	}
}

/*
 * See allowsync.h.  The batch is BEGIN (with genid), every delete, every
 * add, END: deletes first, because replacing a range deletes and re-adds
 * keys that the kernel would otherwise refuse as overlapping.
 */
enum as_status
nftset_commit(struct nftset *ns, const struct nft_target *t,
    const struct plan *p, uint32_t genid, uint32_t *newgen)
{
	enum as_status st;
	size_t nadd = p->add.n4 + p->add.n6, ndel = p->del.n4 + p->del.n6;
	size_t i;

	*newgen = genid;
	if (plan_empty(p))
		return AS_OK;
	if ((st = target_check(t)) != AS_OK)
		return st;
	if ((p->add.n4 + p->del.n4 > 0 && target_set(t, 4) == NULL) ||
	    (p->add.n6 + p->del.n6 > 0 && target_set(t, 6) == NULL)) {
		log_err("plan changes a family whose set is disabled");
		return AS_ESOFTWARE;
	}
	for (i = 0; i < p->nodd; i++)
		if (target_set(t, p->odd[i].af) == NULL) {
			log_err("plan changes a family whose set is disabled");
			return AS_ESOFTWARE;
		}
	batch_begin(ns, genid);
	batch_put_odd(ns, t, p);
	batch_put_ranges(ns, t, 4, &p->del, true);
	batch_put_ranges(ns, t, 6, &p->del, true);
	batch_put_ranges(ns, t, 4, &p->add, false);
	batch_put_ranges(ns, t, 6, &p->add, false);
	batch_end(ns);
	log_debug("%s %s: sending %zu messages, %zu bytes", t->family,
	    t->table, ns->nmsgs, ns->len);
	if ((st = batch_send(ns, t)) != AS_OK)
		return st;
	if ((st = nftset_getgen(ns, newgen)) != AS_OK)
		return st;
	if (*newgen != genid + 1)
		log_info("ruleset generation went from %u to %u: someone else "
		    "committed too", genid, *newgen);
	log_info("%s %s: deleted %zu ranges and %zu other elements and "
	    "added %zu ranges in one transaction", t->family, t->table, ndel,
	    p->nodd, nadd);
	return AS_OK;
}
