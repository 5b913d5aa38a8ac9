/*
 * The kernel stage's own header: what nlbatch.c (the netlink transport),
 * nftelem.c (set elements on the wire) and nftset.c (the nftables
 * objects) share, and the unit tests that drive them without a kernel.
 * The rest of the program sees only nftset.c's functions in allowsync.h.
 */
#ifndef KERNEL_H
#define KERNEL_H

#include "allowsync.h"

/* -------------------------------------------------------------- nlbatch.c */

/*
 * The netlink transport under nftset.c and nftcommit.c.  Only the
 * nft*.c files and this one include libmnl and libnftnl.
 */
struct nlmsghdr;
struct nlbatch;		/* a socket, and one batch being built */

#define NLB_NEST_MAX	64000	/* bytes in one list nest (16-bit length) */
#define NLB_HDR_ROOM	(2 * (MAX_NFT_NAME + 8) + 64)	/* header, 2 names */

/* A reply callback: libmnl's mnl_cb_t. */
typedef int (*nlb_cb)(const struct nlmsghdr *, void *);

/*
 * An attribute table for libmnl's parse callbacks: nlbatch_attr_cb()
 * stores each attribute whose type is at most max in tb[type].
 */
struct nlattr;
struct nlb_attrs {
	const struct nlattr	**tb;
	unsigned int		  max;
};
int	 nlbatch_attr_cb(const struct nlattr *, void *nlb_attrs);
/* A big-endian u32 attribute, or 0 when it is absent or malformed. */
uint32_t nlbatch_attr_be32(const struct nlattr *);

/*
 * What a batch message is, as its builder says, to explain an error that
 * names it.  kind is the builder's own code; NLB_DELIMITER marks
 * BATCH_BEGIN and BATCH_END.  name must outlive the batch.
 */
#define NLB_DELIMITER	(-1)
struct nlb_tag {
	int		 kind;
	int		 af;		/* 4 or 6 where it matters, else 0 */
	const char	*name;
	const void	*owner;		/* the builder's; see nlbatch_owner() */
};

/* One error reply to a batch message, for the builder to explain. */
struct nlb_error {
	const struct nlb_tag	*tag;
	const struct nlmsghdr	*msg;	/* the message as it was sent */
	int			 err;	/* errno */
	const char		*ext_msg;	/* the kernel's, escaped */
	bool			 has_offs;
	uint32_t		 offs;	/* extended ACK: byte offset in msg */
	bool			 log;	/* false past the first few errors */
};

/*
 * Log one error (when e->log) and classify it: AS_EPERM, AS_EUNAVAIL, or
 * AS_EKERNEL for anything else.
 */
typedef enum as_status (*nlb_explain)(const struct nlb_error *e,
	    void *ctx);

/* What the replies to one batch said. */
struct nlb_result {
	size_t	replies;	/* ACKs and errors for known messages */
	size_t	nerr;
	bool	got;		/* any reply arrived */
	bool	lost;		/* replies lost to a receive overrun */
	bool	end_acked;	/* the commit is confirmed (Linux >= 6.10) */
	bool	restart;	/* ERESTART: the generation moved */
	bool	eperm;
	bool	unavail;
};

/*
 * Open a netlink socket (NETLINK_NETFILTER, non-blocking, extended and
 * capped ACKs).  Returns AS_OK, AS_EPERM or AS_EKERNEL after logging.
 */
enum as_status nlbatch_open(struct nlbatch **);
/* A batch builder without a socket, numbering from seq (for tests). */
struct nlbatch *nlbatch_new(uint32_t seq);
void	 nlbatch_free(struct nlbatch *);
uint32_t nlbatch_portid(const struct nlbatch *);
/*
 * Start a request of type (subsystem << 8 | message) in buf, zeroed and
 * big enough, with an nfgenmsg header and the next sequence number.
 */
struct nlmsghdr *nlbatch_header(struct nlbatch *, void *buf, uint16_t type,
	    uint8_t family, uint16_t flags);
/*
 * Send one request and run cb on each reply until NLMSG_DONE or the ACK,
 * waiting at most 10 s for each.  Returns 0, or -1 with errno set: the
 * kernel's error, ETIMEDOUT, or EINTR when a dump raced with a commit.
 */
int	 nlbatch_request(struct nlbatch *, struct nlmsghdr *, nlb_cb,
	    void *);
/*
 * Empty the batch and add BATCH_BEGIN for subsystem subsys, carrying
 * genid unless it is 0: the kernel then refuses the whole batch with
 * ERESTART if the ruleset changed since genid was read.
 */
void	 nlbatch_begin(struct nlbatch *, uint16_t subsys, uint32_t genid);
/*
 * The owner every later message of the batch is tagged with (unless its
 * tag names one): what the builder needs to explain an error, such as
 * the target the message is for.  nlbatch_begin() resets it to NULL.
 */
void	 nlbatch_owner(struct nlbatch *, const void *owner);
/* Add BATCH_END; with NLM_F_ACK it is ACKed only after the commit. */
void	 nlbatch_end(struct nlbatch *, uint16_t subsys);
/*
 * Open a message at the end of the batch, with room for NLB_HDR_ROOM
 * bytes; the caller adds attributes and calls nlbatch_msg_end().
 * Returns its offset: pointers into the batch die when it grows.
 */
size_t	 nlbatch_msg_begin(struct nlbatch *, uint16_t type, uint8_t family,
	    uint16_t flags, const struct nlb_tag *);
struct nlmsghdr *nlbatch_msg(struct nlbatch *, size_t off);
/* Make room for need more bytes in the open message at off. */
void	 nlbatch_reserve(struct nlbatch *, size_t off, size_t need);
/* Close the message at off: the batch now ends after it. */
void	 nlbatch_msg_end(struct nlbatch *, size_t off);
/* The batch's bytes so far (for tests). */
const void *nlbatch_data(const struct nlbatch *, size_t *len);

/*
 * A list attribute (list_attr) filled item by item, split over as many
 * messages as its 16-bit nest length needs, all in the same batch.  Each
 * message starts with head(nlh, arg) writing the attributes before the
 * list.  Set the fields up to arg; the rest is nlbatch's.
 */
struct nlb_list {
	uint16_t	 type;
	uint8_t		 family;
	uint16_t	 flags;
	struct nlb_tag	 tag;
	uint16_t	 list_attr;
	void		(*head)(struct nlmsghdr *, const void *arg);
	const void	*arg;
	size_t		 off, nest;
	bool		 open;
};

/*
 * The message to append one item of at most maxlen bytes to (inside the
 * list nest), opening a new message when the nest would overflow.
 */
struct nlmsghdr *nlbatch_list_item(struct nlbatch *, struct nlb_list *,
	    size_t maxlen);
/* Close the list's last message. */
void	 nlbatch_list_finish(struct nlbatch *, struct nlb_list *);
/*
 * Send the batch in one sendmsg() and read every reply, explaining each
 * error with explain(ctx); what names the target in log lines.  Returns
 * AS_OK when the kernel committed it, AS_ETEMPFAIL on ERESTART (logged at
 * info level), AS_EPERM, AS_EUNAVAIL (as explain classified an error), or
 * AS_EKERNEL after logging.
 */
enum as_status nlbatch_send(struct nlbatch *, nlb_explain, void *ctx,
	    const char *what);
/*
 * Account in r for the replies in buf (len bytes, one datagram), as
 * nlbatch_send() does; then nlbatch_result() turns r into its status.
 * Exposed for the tests, which feed recorded replies.
 */
void	 nlbatch_replies(struct nlbatch *, const void *buf, size_t len,
	    struct nlb_result *r, nlb_explain, void *ctx);
enum as_status nlbatch_result(const struct nlbatch *,
	    const struct nlb_result *, const char *what);

/* ----------------------------------------------- nftset.c, for its helpers */

/*
 * What a message of our batches is (its nlb_tag kind), to explain an
 * error that names it.
 */
enum nft_kind {
	NFT_KIND_TABLE,
	NFT_KIND_SET,
	NFT_KIND_DELELEM,
	NFT_KIND_NEWELEM,
	NFT_KIND_CHAIN,
	NFT_KIND_RULE,
	NFT_KIND_DELTABLE,
};

/* The netlink family number of the target's family name, or -1. */
int	 nft_target_proto(const char *family);
/* The target's set of family af (4 or 6), or NULL when it is disabled. */
const char *nft_target_set(const struct nft_target *, int af);

/* -------------------------------------------------- nftset.c, nftcommit.c */

/* The two families of sets, in the order of the target's set4, set6. */
struct family {
	int		 af;		/* 4 or 6 */
	int		 idx;		/* its slot in per-family arrays */
	uint32_t	 key_type;	/* nft's datatype */
	const char	*type_name;
	size_t		 keylen;	/* key bytes */
};
extern const struct family nft_families[2];
#define FAMILY_END	(nft_families + 2)

/* An open netlink socket and what was read through it. */
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

struct nftnl_udata_buf;

/* nftset.c: open a batch message of nftables message type type. */
size_t	 nftset_msg_begin(struct nftset *, uint16_t type, uint8_t family,
	    uint16_t flags, enum nft_kind kind, int af, const char *name);
/* AS_OK when t's names can be sent, else AS_ECONFIG after logging. */
enum as_status nftset_target_check(const struct nft_target *t);
/*
 * Ask whether t's table exists (*missing), noting in ns whether another
 * process owns it and whether guard mode made it.  Returns AS_OK or a
 * failure after logging.
 */
enum as_status nftset_table_lookup(struct nftset *, const struct nft_target *t,
	    bool *missing);
/* nftcommit.c: send the batch built for target t; see nlbatch_send(). */
enum as_status nftset_batch_send(struct nftset *, const struct nft_target *t);
/* Put a NEWTABLE (guard mode: with its comment) or DELTABLE of t. */
void	 nftset_put_tablemsg(struct nftset *, const struct nft_target *t,
	    bool del);
/* Put a NEWSET of t's set of family f, with user data ud and id. */
void	 nftset_put_newset(struct nftset *, const struct nft_target *t,
	    const struct family *f, const struct nftnl_udata_buf *ud,
	    uint32_t id);
/* The user data nft gives a set: its key's byte order (caller frees). */
struct nftnl_udata_buf *nftset_set_udata(void);

/* -------------------------------------------------------------- nftelem.c */

/* The keys collected from one set's dump, reused from dump to dump. */
struct elemdump;

struct elemdump *elemdump_new(void);
void	 elemdump_free(struct elemdump *);
/*
 * Start collecting the dump of a set of family af; elements that are not
 * part of a range go to found->odd.
 */
void	 elemdump_start(struct elemdump *, int af, struct nft_found *found);
/* nlb_cb for each GETSETELEM reply; data is the struct elemdump. */
int	 elemdump_cb(const struct nlmsghdr *, void *data);
/*
 * After the dump: append its ranges to have (ascending) and set *nelems
 * to the elements read.  Returns the number of malformed elements seen;
 * when it is not 0, have is left alone.
 */
int	 elemdump_finish(struct elemdump *, struct rangelist *have,
	    size_t *nelems);
/*
 * Append the ranges of family af in rl to the batch, for the target's set
 * of that family: NEWSETELEM, or DELSETELEM when del.
 */
void	 nftelem_put_ranges(struct nlbatch *, const struct nft_target *,
	    int af, const struct rangelist *rl, bool del);
/* Append a DELSETELEM of every odd element of family af in the plan. */
void	 nftelem_put_odd(struct nlbatch *, const struct nft_target *, int af,
	    const struct plan *);
/*
 * Format into buf (RANGE_STRLEN bytes) what the element of message nlh
 * (for a set of family af) at byte offset offs stands for: the range,
 * when its start/end pair is in the message, else the element's key.
 * Returns 0, or -1 when offs points at no element.
 */
/*
 * Ask the kernel for the element of t's set of family af that key falls
 * in (end: the end of its interval): one GETSETELEM, no dump.  Returns 0
 * with the element's key in *got (*got_end: it is an interval end), or
 * -1 with errno (ENOENT: no such element).
 */
int	 nftelem_get(struct nlbatch *, const struct nft_target *t, int af,
	    struct u128 key, bool end, struct u128 *got, bool *got_end);
/*
 * Whether t's set of family af holds a catch-all element ("*", which
 * matches every address, and which no get of a key returns): 1 or 0, or
 * -1 with errno.
 */
int	 nftelem_get_catchall(struct nlbatch *, const struct nft_target *t,
	    int af);
int	 nftelem_describe(const struct nlmsghdr *, int af, uint32_t offs,
	    char *buf);

/* ------------------------------------------------------------- nftguard.c */

#define GUARD_CHAIN	"guard"		/* guard mode's prerouting chain */
#define GUARD_CHAIN_IN	"guard_in"	/* and its input chain */
#define GUARD_PRIO	(-150)		/* after conntrack, before dstnat */
#define NFT_TYPE_IPADDR		7	/* nft's ipv4_addr datatype */
#define NFT_TYPE_IP6ADDR	8	/* nft's ipv6_addr datatype */

/*
 * Append the guard chains of t and their rules to the batch: NEWCHAIN,
 * then one NEWRULE per rule, for each chain.  With fresh, the sets were
 * created in this batch (pair j's with ids 2j + 1 and 2j + 2).
 */
void	 nftguard_put_chain(struct nlbatch *, const struct nft_target *t,
	    bool fresh);

/*
 * Read the owned table t (which exists, with flags table_flags) and set
 * *ok when it is exactly ours: not dormant, our two sets as we make them
 * and no other, the guard chain and no other, our rules in our order and
 * no other.  Otherwise why says, in a few words, what is not.  Returns
 * AS_OK, AS_ETEMPFAIL when a dump raced a commit, or a failure after
 * logging.
 */
enum as_status nftguard_verify(struct nlbatch *, const struct nft_target *t,
	    uint32_t table_flags, char *why, size_t whysz, bool *ok);

#endif /* KERNEL_H */
