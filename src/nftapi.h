/*
 * allowsync: what the rest of the program sees of the kernel stage
 * (nftset.c, nftelem.c, nftcommit.c, nftguard.c); kernel.h is that stage's
 * own header.  Included by allowsync.h after the types it needs; never on
 * its own.
 */
#ifndef ALLOWSYNC_NFTAPI_H
#define ALLOWSYNC_NFTAPI_H

/* --------------------------------------------------------------- nftset.c */

/*
 * Which kernel objects to sync.  With ports (guard mode), the table is
 * ours: family inet, and besides the sets it holds the chain that drops
 * packets to those ports from sources not in the sets.
 */
struct nft_target {
	const char		*family;	/* "inet", "ip", "ip6" */
	const char		*table;
	const char		*set4;		/* NULL or "": IPv4 off */
	const char		*set6;		/* NULL or "": IPv6 off */
	const struct guard_port	*ports;		/* guard mode: nports > 0 */
	size_t			 nports;
	/*
	 * Guard mode, several set pairs in the one table: all of them, this
	 * target's among them.  The primary target checks and makes the
	 * table, its sets and its chains for all; the others change only
	 * their own elements.  NULL: this target's pair alone, primary.
	 */
	const struct nft_pair	*pairs;
	size_t			 npairs;
	bool			 secondary;
};

/* Guard mode: one set pair of the table, and the ports it guards. */
struct nft_pair {
	const char		*set4;
	const char		*set6;
	const struct guard_port	*ports;
	size_t			 nports;
};

/*
 * (nftguard.c) The set pairs of guard target t into *p: t->pairs, or t's
 * own pair in one.  Returns how many.
 */
size_t	 nftguard_pairs(const struct nft_target *t, const struct nft_pair **p,
	    struct nft_pair *one);

struct nftset;	/* an open netlink socket (kernel.h) */

/* What nftset_read() does about a missing table or set. */
enum nft_create {
	NFT_CREATE_NO,		/* report it (AS_EUNAVAIL) */
	NFT_CREATE_YES,		/* create it in a transaction of its own */
	NFT_CREATE_PLAN,	/* dry run: note it in found, read as empty */
};

/* What nftset_read() found besides the ranges. */
struct nft_found {
	uint32_t	 genid;		/* ruleset generation read */
	bool		 missing_table;	/* NFT_CREATE_PLAN: to be created */
	bool		 missing_set[2];	/* the v4, v6 set, likewise */
	/*
	 * A set has the timeout or dynamic flag: its elements expire or
	 * change from the packet path without a new generation, so no
	 * record of an earlier run proves what it holds.
	 */
	bool		 unstable;
	struct odd_elem	*odd;		/* owned: plan or free() takes it */
	size_t		 nodd;
	/*
	 * Guard mode: whether the table exists, and whether it is exactly
	 * what the configuration says (its sets, chain and rules); if not,
	 * why, and the sets were not read.
	 */
	bool		 table_exists;
	bool		 guard_ok;
	char		 guard_why[96];
	bool		 owned;		/* another process owns the table */
	uint32_t	 set_size[2];	/* size limit of each set; 0: none */
	/* Guard mode: its tables the configuration no longer names. */
	char		 stale[MAX_STALE][MAX_NFT_NAME + 1];
	size_t		 nstale;
};

/* One target's part of a commit. */
struct nft_change {
	const struct nft_target	*t;
	const struct plan	*p;
	uint32_t		 set_size[2];	/* as nftset_read() found */
};

/* Open a netlink socket.  Returns AS_OK, AS_EPERM or AS_EKERNEL. */
enum as_status nftset_open(struct nftset **);
void	 nftset_close(struct nftset *);
/*
 * Read the ruleset generation and the current contents of both sets into
 * *have (sorted) and *found (zeroed first).  A missing table or set is
 * handled as create says (created: table and interval sets only).  A
 * missing object with NFT_CREATE_NO, a wrong key type, a set without the
 * interval flag or a table owned by another process returns AS_EUNAVAIL
 * after logging what is wrong and, for missing objects, the nft commands
 * that would create them.  With have NULL the objects are checked but the
 * elements are not dumped (a dump of a big set is slow in the kernel).
 */
enum as_status nftset_read(struct nftset *, const struct nft_target *,
	    enum nft_create create, struct rangelist *have,
	    struct nft_found *found);
/*
 * Apply the plan in one transaction (one sendmsg) carrying genid.
 * Returns AS_OK, AS_ETEMPFAIL when the kernel answered ERESTART (the
 * ruleset changed since genid was read; the caller re-reads and retries),
 * AS_EPERM, AS_EUNAVAIL when a set is full (its size limit), or
 * AS_EKERNEL after logging the failing element and errno.
 * On success *newgen is the generation after the commit.
 */
enum as_status nftset_commit(struct nftset *, const struct nft_target *,
	    const struct plan *, uint32_t genid, uint32_t *newgen);
/*
 * The same for the changes c[0..n) of several targets, all in one
 * transaction: each applies, or none does.
 */
enum as_status nftset_commit_all(struct nftset *, const struct nft_change *c,
	    size_t n, uint32_t genid, uint32_t *newgen);
/* The current ruleset generation. */
enum as_status nftset_getgen(struct nftset *, uint32_t *genid);
/* What nftset_lookup() found about one address in one set. */
struct nft_lookup {
	bool		missing;	/* the set (or its table) is gone */
	bool		holds;		/* the set matches the address */
	bool		catchall;	/* ... through a catch-all element */
	struct u128	first, last;	/* ... else through this range */
};

/*
 * Whether t's set of family af holds addr, and through which range: a
 * set get and at most three element gets (the range's start and end,
 * the catch-all), no dump.  Returns AS_OK or a failure after logging.
 */
enum as_status nftset_lookup(struct nftset *, const struct nft_target *t,
	    int af, struct u128 addr, struct nft_lookup *);
/*
 * The names of the inet tables guard mode made (their comment says so),
 * at most max, into names; *n how many.  Returns AS_OK or a failure after
 * logging.
 */
enum as_status nftset_guard_tables(struct nftset *,
	    char (*names)[MAX_NFT_NAME + 1], size_t max, size_t *n);
/*
 * Delete table t in one transaction, if it exists (*deleted says whether
 * it did), retrying when another commit raced it.  Returns AS_OK, or a
 * failure after logging (AS_EUNAVAIL: another process owns the table).
 */
enum as_status nftset_drop_table(struct nftset *, const struct nft_target *,
	    bool *deleted);
/*
 * After nftset_read() into found: AS_OK when we may change the table, or
 * AS_EUNAVAIL after logging when another process owns it (flags owner).
 */
enum as_status nftset_writable(const struct nft_found *,
	    const struct nft_target *);

#endif /* ALLOWSYNC_NFTAPI_H */
