/*
 * The netlink transport under nftset.c: one socket, plain requests with
 * their replies, and batches.  Nothing here knows nftables' messages;
 * nftset.c builds them and explains the errors that name them.
 *
 * A batch is built in one contiguous buffer and sent with one sendmsg(),
 * so the kernel applies all of it or none of it (a BEGIN without its END
 * in the same sendmsg() would be dropped silently).  Every message has
 * its own sequence number, so each reply maps back to the message that
 * caused it, and with extended ACKs to the byte inside it.  A list
 * attribute whose 16-bit length would overflow is split over several
 * messages of the same batch.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <linux/netfilter/nfnetlink.h>
#include <linux/netlink.h>

#include <libmnl/libmnl.h>

#include "kernel.h"

#define NL_TIMEOUT_MS	10000		/* longest wait for one kernel reply */
#define NL_RBUF_SIZE	(128 * 1024)	/* one received datagram */
#define BATCH_INITIAL	(64 * 1024)	/* first batch buffer size */
#define ACK_ROOM	1024		/* receive buffer per expected ACK */
#define RCVBUF_MIN	(256 * 1024)	/* receive buffer floor for ACKs */
#define MAX_ERR_LINES	5		/* kernel errors explained per batch */

/* One message of the batch: where it is and what the caller said it is. */
struct nlb_msg {
	size_t		 off;	/* of its nlmsghdr in the batch buffer */
	struct nlb_tag	 tag;
};

struct nlbatch {
	struct mnl_socket	*nl;		/* NULL: built for a test */
	uint32_t		 portid;
	uint32_t		 seq;		/* next sequence number */
	char			*rbuf;		/* NL_RBUF_SIZE bytes */

	char			*buf;		/* the batch being built */
	size_t			 len, cap;
	size_t			 zeroed;	/* buf[len..zeroed) is zero */
	struct nlb_msg		*msgs;
	size_t			 nmsgs, capmsgs;
	uint32_t		 seq0;		/* sequence number of msgs[0] */
	const void		*owner;		/* of the messages to come */
};

/* See allowsync.h. */
struct nlbatch *
nlbatch_new(uint32_t seq)
{
	struct nlbatch *nb;

	nb = xcalloc(1, sizeof(*nb));
	nb->seq = seq;
	nb->rbuf = xmalloc(NL_RBUF_SIZE);
	return nb;
}

/* See allowsync.h.  The socket never blocks; every wait has a timeout. */
enum as_status
nlbatch_open(struct nlbatch **nbp)
{
	struct nlbatch *nb;
	int fd, one = 1, e;

	*nbp = NULL;
	nb = nlbatch_new((uint32_t)time(NULL));
	nb->nl = mnl_socket_open2(NETLINK_NETFILTER,
	    SOCK_CLOEXEC | SOCK_NONBLOCK);
	if (nb->nl == NULL ||
	    mnl_socket_bind(nb->nl, 0, MNL_SOCKET_AUTOPID) == -1) {
		e = errno;
		log_err("netlink socket: %s", strerror(e));
		nlbatch_free(nb);
		return e == EPERM || e == EACCES ? AS_EPERM : AS_EKERNEL;
	}
	fd = mnl_socket_get_fd(nb->nl);
	if (setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one,
	    sizeof(one)) == -1)
		log_info("netlink extended ACK unavailable: %s",
		    strerror(errno));
	if (setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one,
	    sizeof(one)) == -1)
		log_info("netlink capped ACK unavailable: %s",
		    strerror(errno));
	nb->portid = mnl_socket_get_portid(nb->nl);
	*nbp = nb;
	return AS_OK;
}

/* See allowsync.h. */
void
nlbatch_free(struct nlbatch *nb)
{
	if (nb == NULL)
		return;
	if (nb->nl != NULL)
		mnl_socket_close(nb->nl);
	free(nb->rbuf);
	free(nb->buf);
	free(nb->msgs);
	free(nb);
}

/* See allowsync.h. */
uint32_t
nlbatch_portid(const struct nlbatch *nb)
{
	return nb->portid;
}

/*
 * Receive one datagram into nb->rbuf, waiting up to wait_ms for it.
 * Returns its length, or -1 with errno set (ETIMEDOUT when nothing came).
 */
static ssize_t
nl_recv(struct nlbatch *nb, int wait_ms)
{
	struct pollfd pfd;
	ssize_t n;
	int r;

	pfd.fd = mnl_socket_get_fd(nb->nl);
	pfd.events = POLLIN;
	for (;;) {
		n = mnl_socket_recvfrom(nb->nl, nb->rbuf, NL_RBUF_SIZE);
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
nl_drain(struct nlbatch *nb)
{
	while (nl_recv(nb, 0) > 0 || errno == ENOBUFS)
		;
}

/* See allowsync.h. */
struct nlmsghdr *
nlbatch_header(struct nlbatch *nb, void *buf, uint16_t type,
    uint8_t family, uint16_t flags)
{
	struct nlmsghdr *nlh;
	struct nfgenmsg *nfg;

	nlh = mnl_nlmsg_put_header(buf);
	nlh->nlmsg_type = type;
	nlh->nlmsg_flags = NLM_F_REQUEST | flags;
	nlh->nlmsg_seq = nb->seq++;
	nfg = mnl_nlmsg_put_extra_header(nlh, sizeof(*nfg));
	nfg->nfgen_family = family;
	nfg->version = NFNETLINK_V0;
	nfg->res_id = 0;
	return nlh;
}

/* See allowsync.h. */
int
nlbatch_request(struct nlbatch *nb, struct nlmsghdr *nlh, nlb_cb cb,
    void *arg)
{
	ssize_t n;
	int ret;

	nl_drain(nb);
	if (mnl_socket_sendto(nb->nl, nlh, nlh->nlmsg_len) == -1)
		return -1;
	for (;;) {
		if ((n = nl_recv(nb, NL_TIMEOUT_MS)) == -1)
			return -1;
		ret = mnl_cb_run(nb->rbuf, (size_t)n, nlh->nlmsg_seq,
		    nb->portid, cb, arg);
		if (ret <= MNL_CB_STOP)
			return ret == MNL_CB_STOP ? 0 : -1;
	}
}

/*
 * Make room for need more bytes after the batch's first end bytes.  The
 * room is zeroed: libmnl leaves attribute padding as it finds it, and
 * the padding is sent.  Only the room asked for is zeroed, once: the
 * rest of a doubled buffer is never touched, and takes no memory, until
 * the batch reaches it (a million elements are a 45 MB batch in a 64 MB
 * buffer).
 */
static void
batch_grow(struct nlbatch *nb, size_t end, size_t need)
{
	size_t cap = nb->cap == 0 ? BATCH_INITIAL : nb->cap, from;

	while (cap - end < need) {
		if (cap > SIZE_MAX / 2)
			cap = SIZE_MAX;
		else
			cap *= 2;
	}
	if (cap != nb->cap) {
		nb->buf = xreallocarray(nb->buf, cap, 1);
		nb->cap = cap;
	}
	from = end > nb->zeroed ? end : nb->zeroed;
	if (end + need > from) {
		memset(nb->buf + from, 0, end + need - from);
		nb->zeroed = end + need;
	}
}

/* See allowsync.h. */
void
nlbatch_reserve(struct nlbatch *nb, size_t off, size_t need)
{
	batch_grow(nb, off + nlbatch_msg(nb, off)->nlmsg_len, need);
}

/* See allowsync.h. */
size_t
nlbatch_msg_begin(struct nlbatch *nb, uint16_t type, uint8_t family,
    uint16_t flags, const struct nlb_tag *tag)
{
	struct nlb_msg *m;

	batch_grow(nb, nb->len, NLB_HDR_ROOM);
	if (nb->nmsgs == nb->capmsgs) {
		nb->capmsgs = nb->capmsgs == 0 ? 64 : nb->capmsgs * 2;
		nb->msgs = xreallocarray(nb->msgs, nb->capmsgs,
		    sizeof(*nb->msgs));
	}
	m = &nb->msgs[nb->nmsgs++];
	m->off = nb->len;
	m->tag = *tag;
	if (m->tag.owner == NULL)
		m->tag.owner = nb->owner;
	nlbatch_header(nb, nb->buf + nb->len, type, family, flags);
	return m->off;
}

/* See allowsync.h. */
struct nlmsghdr *
nlbatch_msg(struct nlbatch *nb, size_t off)
{
	return (struct nlmsghdr *)(void *)(nb->buf + off);
}

/* See allowsync.h. */
void
nlbatch_msg_end(struct nlbatch *nb, size_t off)
{
	nb->len = off + nlbatch_msg(nb, off)->nlmsg_len;
}

/*
 * Add BATCH_BEGIN or BATCH_END for subsystem subsys: the message type is
 * the bare NFNL_MSG_BATCH_*, and res_id names the subsystem.
 */
static size_t
batch_delimiter(struct nlbatch *nb, uint16_t type, uint16_t subsys)
{
	static const struct nlb_tag tag = { NLB_DELIMITER, 0, NULL, NULL };
	struct nfgenmsg *nfg;
	size_t off;

	off = nlbatch_msg_begin(nb, type, AF_UNSPEC, NLM_F_ACK, &tag);
	nfg = mnl_nlmsg_get_payload(nlbatch_msg(nb, off));
	nfg->res_id = htons(subsys);
	return off;
}

/* See allowsync.h. */
void
nlbatch_owner(struct nlbatch *nb, const void *owner)
{
	nb->owner = owner;
}

/* See allowsync.h. */
void
nlbatch_begin(struct nlbatch *nb, uint16_t subsys, uint32_t genid)
{
	size_t off;

	nb->len = nb->zeroed = 0;
	nb->nmsgs = 0;
	nb->seq0 = nb->seq;
	nb->owner = NULL;
	off = batch_delimiter(nb, NFNL_MSG_BATCH_BEGIN, subsys);
	if (genid != 0)
		mnl_attr_put_u32(nlbatch_msg(nb, off), NFNL_BATCH_GENID,
		    htonl(genid));
	nlbatch_msg_end(nb, off);
}

/* See allowsync.h.  Its ACK arrives only after a successful commit. */
void
nlbatch_end(struct nlbatch *nb, uint16_t subsys)
{
	nlbatch_msg_end(nb, batch_delimiter(nb, NFNL_MSG_BATCH_END, subsys));
}

/* See allowsync.h. */
const void *
nlbatch_data(const struct nlbatch *nb, size_t *len)
{
	*len = nb->len;
	return nb->buf;
}

/* Close the list nest of l and its message. */
static void
list_close(struct nlbatch *nb, struct nlb_list *l)
{
	struct nlattr *a = (struct nlattr *)(void *)(nb->buf + l->nest);

	a->nla_len = (uint16_t)(l->off + nlbatch_msg(nb, l->off)->nlmsg_len -
	    l->nest);
	nlbatch_msg_end(nb, l->off);
	l->open = false;
}

/* See allowsync.h. */
struct nlmsghdr *
nlbatch_list_item(struct nlbatch *nb, struct nlb_list *l, size_t maxlen)
{
	if (l->open && l->off + nlbatch_msg(nb, l->off)->nlmsg_len - l->nest +
	    maxlen > NLB_NEST_MAX)
		list_close(nb, l);
	if (!l->open) {
		l->off = nlbatch_msg_begin(nb, l->type, l->family, l->flags,
		    &l->tag);
		l->head(nlbatch_msg(nb, l->off), l->arg);
		l->nest = (size_t)((char *)mnl_attr_nest_start(nlbatch_msg(nb,
		    l->off), l->list_attr) - nb->buf);
		l->open = true;
	}
	nlbatch_reserve(nb, l->off, maxlen);
	return nlbatch_msg(nb, l->off);
}

/* See allowsync.h. */
void
nlbatch_list_finish(struct nlbatch *nb, struct nlb_list *l)
{
	if (l->open)
		list_close(nb, l);
}

/*
 * Make the socket buffer opt at least need bytes, forcing it past the
 * system limit (with CAP_NET_ADMIN) when asking is not enough.  Returns 0,
 * or -1 when the buffer stays too small.
 */
static int
nl_sockbuf(struct nlbatch *nb, int opt, int force_opt, size_t need)
{
	int fd = mnl_socket_get_fd(nb->nl);
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

/* See allowsync.h.  Later attributes of a type win. */
int
nlbatch_attr_cb(const struct nlattr *a, void *data)
{
	struct nlb_attrs *t = data;
	uint16_t type = mnl_attr_get_type(a);

	if (type <= t->max)
		t->tb[type] = a;
	return MNL_CB_OK;
}

/* See allowsync.h. */
uint32_t
nlbatch_attr_be32(const struct nlattr *a)
{
	if (a == NULL || mnl_attr_validate(a, MNL_TYPE_U32) < 0)
		return 0;
	return ntohl(mnl_attr_get_u32(a));
}

/*
 * Fill the extended ACK parts of e from the error reply nlh: the kernel's
 * message (escaped into msgbuf) and the offset of the failing attribute.
 */
static void
reply_ext_ack(const struct nlmsghdr *nlh, const struct nlmsgerr *err,
    struct nlb_error *e, char *msgbuf, size_t msgsz)
{
	const struct nlattr *tb[NLMSGERR_ATTR_MAX + 1] = { NULL };
	struct nlb_attrs t = { tb, NLMSGERR_ATTR_MAX };
	size_t off = sizeof(*err);
	const char *s;

	if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
		off += err->msg.nlmsg_len - NLMSG_HDRLEN;
	if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS) || off < sizeof(*err) ||
	    off >= nlh->nlmsg_len ||
	    NLMSG_HDRLEN + MNL_ALIGN(off) >= nlh->nlmsg_len)
		return;
	mnl_attr_parse(nlh, (unsigned int)off, nlbatch_attr_cb, &t);
	if (tb[NLMSGERR_ATTR_MSG] != NULL &&
	    mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG]) > 0) {
		s = mnl_attr_get_payload(tb[NLMSGERR_ATTR_MSG]);
		e->ext_msg = log_escape(s, strnlen(s,
		    mnl_attr_get_payload_len(tb[NLMSGERR_ATTR_MSG])), msgbuf,
		    msgsz);
	}
	if (tb[NLMSGERR_ATTR_OFFS] != NULL &&
	    mnl_attr_validate(tb[NLMSGERR_ATTR_OFFS], MNL_TYPE_U32) == 0) {
		e->has_offs = true;
		e->offs = mnl_attr_get_u32(tb[NLMSGERR_ATTR_OFFS]);
	}
}

/*
 * Account for one reply to the batch in r.  An error on BATCH_BEGIN that
 * is ERESTART means the generation moved; any other error is handed to
 * explain (which logs it, for the first MAX_ERR_LINES, and classifies it).
 */
static void
batch_reply(struct nlbatch *nb, const struct nlmsghdr *nlh,
    struct nlb_result *r, nlb_explain explain, void *ctx)
{
	const struct nlmsgerr *err;
	struct nlb_error e;
	char msgbuf[ESCAPE_BUF];
	uint32_t idx;
	enum as_status st;

	if (nlh->nlmsg_type != NLMSG_ERROR ||
	    nlh->nlmsg_len < NLMSG_HDRLEN + sizeof(*err))
		return;
	err = mnl_nlmsg_get_payload(nlh);
	idx = err->msg.nlmsg_seq - nb->seq0;
	if (idx >= nb->nmsgs)
		return;
	r->replies++;
	if (err->error == 0) {
		if (idx == nb->nmsgs - 1 &&
		    nb->msgs[idx].tag.kind == NLB_DELIMITER)
			r->end_acked = true;
		return;
	}
	r->nerr++;
	if (idx == 0 && -err->error == ERESTART) {
		r->restart = true;
		return;
	}
	memset(&e, 0, sizeof(e));
	e.tag = &nb->msgs[idx].tag;
	e.msg = nlbatch_msg(nb, nb->msgs[idx].off);
	e.err = -err->error;
	e.log = r->nerr <= MAX_ERR_LINES;
	reply_ext_ack(nlh, err, &e, msgbuf, sizeof(msgbuf));
	st = explain(&e, ctx);
	if (st == AS_EPERM)
		r->eperm = true;
	else if (st == AS_EUNAVAIL)
		r->unavail = true;
}

/* See allowsync.h. */
void
nlbatch_replies(struct nlbatch *nb, const void *buf, size_t len,
    struct nlb_result *r, nlb_explain explain, void *ctx)
{
	const struct nlmsghdr *nlh = buf;
	int left = len > INT_MAX ? INT_MAX : (int)len;

	for (; mnl_nlmsg_ok(nlh, left); nlh = mnl_nlmsg_next(nlh, &left))
		batch_reply(nb, nlh, r, explain, ctx);
}

/* See allowsync.h. */
enum as_status
nlbatch_result(const struct nlbatch *nb, const struct nlb_result *r,
    const char *what)
{
	if (r->restart) {
		log_info("ruleset changed since it was read; re-read needed");
		return AS_ETEMPFAIL;
	}
	if (r->nerr > MAX_ERR_LINES)
		log_err("%zu more kernel errors not shown",
		    r->nerr - MAX_ERR_LINES);
	if (r->eperm) {
		log_err("%s: permission denied (CAP_NET_ADMIN needed)", what);
		return AS_EPERM;
	}
	if (r->unavail)
		return AS_EUNAVAIL;
	if (r->nerr > 0)
		return AS_EKERNEL;
	if (r->lost) {
		log_err("%s: kernel replies lost (receive buffer overrun), "
		    "outcome unknown", what);
		return AS_EKERNEL;
	}
	if (!r->got) {
		log_err("%s: no reply from the kernel within %d s", what,
		    NL_TIMEOUT_MS / 1000);
		return AS_EKERNEL;
	}
	/* Before 6.10 the kernel ACKs neither BATCH_BEGIN nor BATCH_END. */
	if (!r->end_acked && r->replies + 2 < nb->nmsgs) {
		log_err("%s: only %zu of %zu kernel replies arrived", what,
		    r->replies, nb->nmsgs);
		return AS_EKERNEL;
	}
	return AS_OK;
}

/*
 * See allowsync.h.  The kernel runs the whole batch before sendmsg()
 * returns, so once replies have started an empty socket means there are
 * no more.
 */
enum as_status
nlbatch_send(struct nlbatch *nb, nlb_explain explain, void *ctx,
    const char *what)
{
	struct sockaddr_nl sa = { .nl_family = AF_NETLINK };
	struct iovec iov = { nb->buf, nb->len };
	struct msghdr mh = { .msg_name = &sa, .msg_namelen = sizeof(sa),
	    .msg_iov = &iov, .msg_iovlen = 1 };
	struct nlb_result r = { 0 };
	size_t rcv;
	ssize_t n;

	nl_drain(nb);
	if (nl_sockbuf(nb, SO_SNDBUF, SO_SNDBUFFORCE, nb->len + 4096) == -1)
		log_warnx("cannot raise the netlink send buffer to %zu "
		    "bytes: %s", nb->len + 4096, strerror(errno));
	rcv = nb->nmsgs > SIZE_MAX / ACK_ROOM ? SIZE_MAX :
	    nb->nmsgs * ACK_ROOM;
	if (nl_sockbuf(nb, SO_RCVBUF, SO_RCVBUFFORCE,
	    rcv < RCVBUF_MIN ? RCVBUF_MIN : rcv) == -1)
		log_info("cannot raise the netlink receive buffer: %s",
		    strerror(errno));
	if (sendmsg(mnl_socket_get_fd(nb->nl), &mh, 0) == -1) {
		if (errno == EPERM) {
			log_err("sending to nftables: permission denied "
			    "(CAP_NET_ADMIN needed)");
			return AS_EPERM;
		}
		log_err("sending a %zu-byte batch to nftables: %s", nb->len,
		    strerror(errno));
		return AS_EKERNEL;
	}
	while (r.replies < nb->nmsgs) {
		if ((n = nl_recv(nb, r.got ? 0 : NL_TIMEOUT_MS)) == -1) {
			if (errno == ENOBUFS) {
				r.lost = r.got = true;
				continue;
			}
			if (errno == EAGAIN || errno == ETIMEDOUT)
				break;
			log_err("reading nftables replies: %s",
			    strerror(errno));
			return AS_EKERNEL;
		}
		r.got = true;
		nlbatch_replies(nb, nb->rbuf, (size_t)n, &r, explain, ctx);
	}
	log_debug("%s: %zu of %zu replies, %zu errors, commit %sconfirmed",
	    what, r.replies, nb->nmsgs, r.nerr, r.end_acked ? "" : "not ");
	return nlbatch_result(nb, &r, what);
}
