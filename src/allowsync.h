/*
 * allowsync - keep an nftables allowlist in step with a vendor's IP list.
 *
 * The internal header: every stage of the pipeline is declared here, in
 * the order a sync runs them:
 *
 *   config (config.c, keys.c, nftname.c) -> state (statedir.c: the lock;
 *   state.c: the saved lists) -> fetch -> parse -> validate (prefix.c,
 *   validate.c) -> guard (remove-after, shrink guard) -> normalise ->
 *   nftset (read) -> diff -> nftset (commit) -> state (save) -> report,
 *   metrics
 *
 * sync.c wires them together for each mode, and main.c maps the result to
 * an exit code.  Data flows one way: each stage takes the previous stage's
 * value and returns its own.  Only fetch.c includes libcurl; only the
 * kernel stage (nftset.c, nftguard.c, nftelem.c and nlbatch.c, which
 * share kernel.h) includes libmnl, and only nftset.c and nftguard.c
 * libnftnl.  parse.c, prefix.c, validate.c, normalise.c, guard.c and
 * diff.c do no I/O apart from logging.  (guard.c is remove-after and the
 * shrink guard; guard mode, the table allowsync owns, is nftguard.c.)
 */
#ifndef ALLOWSYNC_H
#define ALLOWSYNC_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

struct cJSON;

#ifndef ALLOWSYNC_VERSION
#define ALLOWSYNC_VERSION "0.1.0"
#endif

/*
 * Limits.  Each is a hard bound on hostile or broken input; the ones an
 * operator may want to change are also config keys (see config.c).
 */
#define DEFAULT_CONFIG_FILE	"/etc/allowsync/allowsync.conf"
#define MAX_CONFIG_SIZE		(256 * 1024)	/* config file bytes */
#define MAX_CONFIG_LINE		4096		/* one config line */
#define MAX_SOURCES		64		/* url/domain/locale sources */
#define MAX_SECTIONS		32		/* [name] sections */
#define MAX_SECTION_NAME	32		/* bytes of a section name */
#define MAX_STATIC		4096		/* static entries */
#define MAX_URL_LEN		2048		/* any source URL */
#define MAX_TEXT_LINE		255		/* one line of the text form */
#define MAX_ENTRY_LEN		64		/* one address/prefix string */
#define MAX_GUARD_PORTS		16		/* guard-ports items */
#define MAX_STALE		4		/* old guard tables per run */
#define DEFAULT_GUARD_TABLE	"allowsync"	/* the table guard mode owns */
/*
 * The comment guard mode gives its table: the mark that it made the
 * table, so that it never takes over or deletes one it did not make.
 */
#define GUARD_COMMENT		"allowsync guard mode"
#define MAX_REDIRS		5		/* HTTP redirects followed */
#define DEFAULT_TIMEOUT		30		/* whole transfer, seconds */
#define DEFAULT_CONNECT_TIMEOUT	10		/* TCP+TLS connect, seconds */
#define MAX_TIMEOUT		600		/* cap for both timeouts */
#define DEFAULT_MAX_BYTES	(1024 * 1024)	/* body bytes received */
#define MAX_MAX_BYTES		(256 * 1024 * 1024)
#define DEFAULT_RETRIES		2		/* extra tries per document */
#define MAX_RETRIES		10
#define RETRY_BASE_DELAY	1		/* first backoff, seconds */
#define MAX_RETRY_AFTER		60		/* cap on a Retry-After */
#define DEFAULT_MAX_ENTRIES	10000		/* entries per document */
#define MAX_MAX_ENTRIES		(16 * 1024 * 1024)
#define DEFAULT_MIN_PREFIX4	16		/* widest IPv4 prefix allowed */
#define DEFAULT_MIN_PREFIX6	32		/* widest IPv6 prefix allowed */
#define MAX_GENID_RETRIES	5		/* ERESTART retries per run */
#define MAX_NFT_NAME		255		/* table/set name, bytes */
#define DEFAULT_STATE_DIR	"/var/lib/allowsync"
#define DEFAULT_REMOVE_AFTER	2		/* accepted fetches absent */
#define MAX_REMOVE_AFTER	1000
#define DEFAULT_MAX_REMOVE_PCT	50		/* shrink guard threshold */
#define DEFAULT_STALE_WARN	3		/* days */
#define MAX_STALE_WARN		3650
#define MAX_WAIT		3600		/* --wait, seconds */
/*
 * --restore waits this long for the lock unless wait is given: a sync
 * holds it only briefly after its commit, and a reload then must not
 * leave the sets empty until the next day's run.
 */
#define DEFAULT_RESTORE_WAIT	90		/* seconds */
#define ESCAPE_BUF		256		/* log_escape() output buffer */

/*
 * Results.  Modules return one of these and log one line saying what failed
 * and where.  Only main.c turns them into exit codes (sysexits.h).
 */
enum as_status {
	AS_OK = 0,
	AS_EUSAGE,	/* bad command line			-> 64 */
	AS_EDATA,	/* list rejected			-> 65 */
	AS_ENOINPUT,	/* no saved state to restore		-> 66 */
	AS_EUNAVAIL,	/* firewall objects missing or wrong	-> 69 */
	AS_ESOFTWARE,	/* internal error			-> 70 */
	AS_EKERNEL,	/* kernel refused or failed		-> 71 */
	AS_ETEMPFAIL,	/* no source reachable, lock busy	-> 75 */
	AS_EPERM,	/* no permission (CAP_NET_ADMIN)	-> 77 */
	AS_ECONFIG,	/* bad configuration			-> 78 */
	AS_ECANTCREAT,	/* a state file cannot be written	-> 73 */
	AS_EDRIFT,	/* --check: kernel differs from state	-> 1 */
	AS_EDENIED,	/* --explain: no set holds the address	-> 1 */
};

/* ---------------------------------------------------------------- util.c */

/* Allocation helpers: out of memory logs one line and aborts. */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xreallocarray(void *, size_t, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
/* As root, give the new file fd the owner of directory dir. */
void	 own_like_dir(int fd, const char *dir);
/* _exit(code) with stdio flushed: no library destructors (util.c). */
_Noreturn void exit_now(int code);
/* stdout on descriptor 1, its failures' errno kept for out_error(). */
void	 out_open(void);
/* fflush(stdout); out_error() is the errno of the first failure, or 0. */
void	 out_flush(void);
int	 out_error(void);
/*
 * Open path (a file this program keeps) for reading without following a
 * symbolic link, and only if it is a regular file.  A second hard link
 * is fine (a "cp -al" backup): the file is only read, and replaced by
 * rename, never written in place.  Returns the stream, or NULL with
 * errno set (ELOOP for a symbolic link, EINVAL for anything but a
 * regular file).
 */
FILE	*safe_fopen_read(const char *path);
/* qsort(3) that accepts an empty, possibly NULL, array. */
void	 xqsort(void *, size_t, size_t, int (*)(const void *, const void *));
/*
 * Lines made in place and written 64 KiB at a time: a million lines of
 * a big state or include file are a few dozen writes, not a million
 * fwrite(3) calls and copies.  outbuf_new(f) makes one for f (on the
 * heap: 64 KiB); outbuf_room(ob, n) gives room for n more bytes (a
 * line: n is far below 64 KiB); outbuf_done() says where they end;
 * outbuf_free() writes what is left and frees ob.  A write error shows on
 * f (ferror).
 */
struct outbuf {
	FILE	*f;
	size_t	 len;
	char	 buf[1 << 16];
};
struct outbuf *outbuf_new(FILE *f);
void	 outbuf_free(struct outbuf *);
char	*outbuf_room(struct outbuf *, size_t n);
void	 outbuf_done(struct outbuf *, const char *end);
/*
 * Write what fill() prints (it returns <0 on error) to path atomically:
 * a temporary file ".NAME.XXXXXX" created exclusively (so never through a
 * link) in the same directory, fsync, rename over path (which replaces a
 * link rather than following it), fsync of the directory.  A crash leaves
 * the old file or the new one.  Returns AS_OK or AS_ECANTCREAT after
 * logging one line naming path.
 */
enum as_status atomic_write(const char *path,
	    int (*fill)(FILE *, const void *), const void *arg);
/*
 * atomic_write() in two steps, so that a big file can be written while
 * the kernel applies a commit: atomic_stage() writes and fsyncs the
 * temporary file without logging (safe in a thread of its own); then
 * atomic_publish() renames it into place, or logs why it could not
 * (AS_ECANTCREAT), or atomic_discard() removes it.
 */
struct staged {
	char	path[PATH_MAX];
	char	tmp[PATH_MAX + 16];	/* "": none */
	int	err;			/* errno of a failure, else 0 */
	int	chown_err;		/* of handing it to the dir's owner */
	bool	ready;			/* written: publish may rename it */
};
void	 atomic_stage(const char *path, int (*fill)(FILE *, const void *),
	    const void *arg, struct staged *);
enum as_status atomic_publish(struct staged *);
void	 atomic_discard(struct staged *);

/*
 * FNV-1a, 64 bits, of the string s, going on from h (FNV1A_INIT to
 * start): stable names and fingerprints, not a defence.
 */
#define FNV1A_INIT	0xcbf29ce484222325ULL
uint64_t fnv1a(const char *s, uint64_t h);
/* "3d 4h", "5h 2m", "42s": a short age for log lines, into buf. */
const char *age_text(time_t secs, char *buf, size_t bufsz);

/* ----------------------------------------------------------------- log.c */

enum log_level {
	LOG_LVL_ERR = 0,
	LOG_LVL_WARN,
	LOG_LVL_NOTICE,		/* default threshold */
	LOG_LVL_INFO,		/* -v */
	LOG_LVL_DEBUG,		/* -vv */
};

/*
 * Set the threshold (messages above it are dropped) and detect whether
 * stderr is the journal (JOURNAL_STREAM), in which case every line gets a
 * "<N>" priority prefix.
 */
void	 log_init(enum log_level);
void	 log_msg(enum log_level, const char *, ...)
	    __attribute__((format(printf, 2, 3)));
#define log_err(...)	log_msg(LOG_LVL_ERR, __VA_ARGS__)
#define log_warnx(...)	log_msg(LOG_LVL_WARN, __VA_ARGS__)
#define log_notice(...)	log_msg(LOG_LVL_NOTICE, __VA_ARGS__)
#define log_info(...)	log_msg(LOG_LVL_INFO, __VA_ARGS__)
#define log_debug(...)	log_msg(LOG_LVL_DEBUG, __VA_ARGS__)

/*
 * Escape untrusted bytes for logging: printable ASCII other than '\\' and
 * '"' is copied, everything else becomes \xNN (or \\, \").  The result is
 * NUL-terminated in buf (of size bufsz, at least 8) and truncated with "..."
 * when it does not fit.  Returns buf.
 */
const char *log_escape(const char *s, size_t len, char *buf, size_t bufsz);
/* The text of the last error-level line logged (even if not printed). */
const char *log_last_error(void);

/* Lines a thread logged, kept to be printed later by another. */
struct log_capture {
	char	*buf;		/* level byte, line, NUL; again */
	size_t	 len, cap;
};
/*
 * From now on the calling thread's lines go to c (started empty) instead
 * of stderr and log_last_error(), until log_capture_stop().  A thread
 * that works beside the main one logs this way, so that its lines come
 * out whole, from one thread, and never change the main one's last error.
 */
void	 log_capture_start(struct log_capture *c);
void	 log_capture_stop(void);
/* Log what c kept, in order, as if logged now; then empty c. */
void	 log_capture_replay(struct log_capture *c);

/* --------------------------------------------------------------- prefix.c */

/* A 128-bit unsigned integer in host order, for IPv6 arithmetic. */
struct u128 {
	uint64_t	hi;
	uint64_t	lo;
};

/* An inclusive address range, host byte order. */
struct range4 {
	uint32_t	first;
	uint32_t	last;
};

struct range6 {
	struct u128	first;
	struct u128	last;
};

/*
 * A parsed address or prefix.  family is 4 or 6; len is the prefix length
 * (32 or 128 when none was written).  IPv4-mapped IPv6 (::ffff:a.b.c.d/len)
 * is returned as family 4 with len - 96.
 */
struct prefix {
	int		family;
	unsigned int	len;
	uint32_t	v4;
	struct u128	v6;
};

/*
 * Parse one entry (not NUL-terminated; n bytes) by the strict grammar:
 * dotted quad without leading zeros, RFC 4291 IPv6 without zone index,
 * optional "/len" in decimal without leading zeros, no host bits set beyond
 * len.  Returns 0, or -1 with *why set to a static reason.
 */
int	 prefix_parse(const char *s, size_t n, struct prefix *p,
	    const char **why);
/* The range a prefix covers. */
void	 prefix_range4(const struct prefix *, struct range4 *);
void	 prefix_range6(const struct prefix *, struct range6 *);
/*
 * Format a range: "a.b.c.d" for one address, CIDR for a range that is one
 * prefix, "first-last" otherwise.  buf should be RANGE_STRLEN bytes.
 * Returns the length written.
 */
#define RANGE_STRLEN	96
size_t	 range4_format(const struct range4 *, char *buf, size_t bufsz);
size_t	 range6_format(const struct range6 *, char *buf, size_t bufsz);
/* Compare two u128; returns <0, 0, >0. */
int	 u128_cmp(struct u128, struct u128);

/* ------------------------------------------------------------ normalise.c */

/*
 * The desired or current contents of both sets: arrays of ranges that grow
 * by doubling (no allocation per element).  After rangelist_normalise()
 * each family is sorted, without duplicates, overlaps or adjacencies.
 *
 * A list may also carry a note per range (the element's comment, an id of
 * notes.c): note4 and note6, when not NULL, run beside v4 and v6, and
 * every function here keeps them in step (a range added gets note 0, no
 * comment) except rangelist_normalise() and rangelist_unique(), which
 * drop them: merged ranges need their notes worked out again.
 */
struct rangelist {
	struct range4	*v4;
	size_t		 n4, cap4;
	struct range6	*v6;
	size_t		 n6, cap6;
	uint16_t	*note4;
	uint16_t	*note6;
};

void	 rangelist_init(struct rangelist *);
void	 rangelist_free(struct rangelist *);
void	 rangelist_add4(struct rangelist *, const struct range4 *);
void	 rangelist_add6(struct rangelist *, const struct range6 *);
/* Append all of src to dst (dst is not normalised afterwards). */
void	 rangelist_append(struct rangelist *dst, const struct rangelist *src);
/* Sort and merge overlapping and adjacent ranges, per family, in place. */
void	 rangelist_normalise(struct rangelist *);
/* True when both lists hold exactly the same ranges (both normalised). */
bool	 rangelist_equal(const struct rangelist *, const struct rangelist *);
/* A 64-bit digest of the ranges, to recognise a list. */
uint64_t rangelist_digest(const struct rangelist *);
/* Sort per family and drop exact duplicates, without merging. */
void	 rangelist_unique(struct rangelist *);
/* Give the list notes, all 0, when it has none. */
void	 rangelist_notes_on(struct rangelist *);
/* The note of range i of family af; 0 when the list has no notes. */
uint16_t rangelist_note(const struct rangelist *, int af, size_t i);
/* Set the note of range i of family af (the list has notes). */
void	 rangelist_set_note(struct rangelist *, int af, size_t i, uint16_t);
/* Drop the notes. */
void	 rangelist_notes_off(struct rangelist *);
/* qsort(3) orders: by first, then by last. */
int	 range4_cmp(const void *, const void *);
int	 range6_cmp(const void *, const void *);

/* ---------------------------------------------------------------- notes.c */

#define NOTE_MAX	128	/* bytes of a comment: nft's own limit */
#define NOTE_OTHER	65535	/* a comment beyond the table's room */
#define NOTE_LABELS	64	/* labels one list's notes can name */

/* The id of the comment s (len bytes, cut at NOTE_MAX); 0 for "". */
uint16_t note_id(const char *s, size_t len);
/* The text of a note id ("" for 0). */
const char *note_str(uint16_t);
/* Forget every note (tests). */
void	 notes_reset(void);
/* One source of a list, for its elements' comments. */
struct note_label {
	const char		*name;
	const struct rangelist	*list;	/* sorted, merged */
};
/*
 * Give each range of final (sorted, merged, the union of the labels'
 * lists) the note naming the labels whose lists reach into it.
 */
void	 notes_compute(struct rangelist *final, const struct note_label *,
	    size_t);
/*
 * Give each range of final (sorted, merged, the union of parts) the note
 * naming the notes of the parts' ranges that fall in it: a range two
 * sections hold names both.
 */
void	 notes_merge(struct rangelist *final, const struct rangelist *parts,
	    size_t nparts);
/* h, going on over the notes of rl where they change (none: h). */
uint64_t notes_digest(const struct rangelist *, uint64_t h);

/* ------------------------------------------------------------- validate.c */

/* The validation policy: every field is a config key. */
/*
 * The classes of entries the policy decides about: private space (RFC
 * 1918, RFC 6598 shared space, RFC 4193 unique local), every other
 * special-purpose block, and prefixes wider than min-prefix4/6.
 */
enum entry_class {
	CLASS_PRIVATE,
	CLASS_SPECIAL,
	CLASS_WIDE,
	NCLASSES,
	CLASS_NONE = NCLASSES,	/* allowed */
	CLASS_NEVER,		/* /0: always rejects the document */
};

/* What an entry of a class does to its document. */
enum decision {
	DEC_REJECT,		/* the whole document is rejected */
	DEC_SKIP,		/* the entry is not applied (counted) */
	DEC_ALLOW,		/* applied (private only) */
};

struct policy {
	unsigned int	min_prefix4;	/* widest IPv4 prefix allowed (1-32) */
	unsigned int	min_prefix6;	/* widest IPv6 prefix allowed (1-128) */
	enum decision	decide[NCLASSES];	/* by class */
	size_t		max_entries;	/* entries per document */
	bool		lenient;	/* skip every class and bad entries */
	bool		want4;		/* IPv4 set enabled */
	bool		want6;		/* IPv6 set enabled */
	bool		statics;	/* the operator's static entries:
					   refused, never skipped */
};

/* The names of the classes and decisions, as the keys write them. */
const char *class_name(enum entry_class);
const char *decision_name(enum decision);
/*
 * The class of one parsed prefix under the policy: CLASS_NONE when it is
 * allowed (private space under private = allow too), else its class and
 * in *why a static string naming the rule it breaks.
 */
enum entry_class policy_classify(const struct policy *, const struct prefix *,
	    const char **why);
/* What the policy does with an entry of class c (lenient: skip). */
enum decision policy_decision(const struct policy *, enum entry_class c);
/*
 * Check one parsed prefix against the policy.  Returns NULL when it is
 * allowed, else a static string naming the rule it breaks.
 */
const char *policy_check(const struct policy *, const struct prefix *);

/* The forms a source's list is published in. */
enum form {
	FORM_NONE,		/* none: zeroed memory says so too */
	FORM_JSON,
	FORM_TEXT,
};

/*
 * (parse.c) Their names, as the config, the state files, --status and
 * --json write them: "json", "text" (NULL for FORM_NONE); and back: false
 * for another name.
 */
const char *form_name(enum form);
bool	 form_parse(const char *, enum form *);

/* ------------------------------------------------------------- jsonpath.c */

#define MAX_JSON_PATHS		16	/* paths in one json-path */
#define MAX_PATH_STEPS		16	/* keys and brackets in one path */
#define MAX_PATH_TEXT		512	/* bytes of one json-path value */
/* A location: the path's names and up to MAX_PATH_STEPS "[index]". */
#define MAX_PATH_LOC		(MAX_PATH_TEXT + MAX_PATH_STEPS * 24)

enum jstep_kind {
	JSTEP_KEY,		/* the member name of an object */
	JSTEP_ALL,		/* [] every element of an array */
	JSTEP_MATCH		/* [name=value] the elements that match */
};

struct jstep {
	enum jstep_kind	 kind;
	char		*name;	/* KEY: member; MATCH: field; ALL: NULL */
	char		*value;	/* MATCH: the value; else NULL */
};

/* One compiled path; text is how it was written. */
struct jpath {
	char		*text;
	struct jstep	 steps[MAX_PATH_STEPS];
	size_t		 nsteps;
};

/* The comma-separated paths of json-path (or json-keys). */
struct jpaths {
	struct jpath	 v[MAX_JSON_PATHS];
	size_t		 n;
};

/* What jpaths_select() found: string nodes and where each stood. */
struct jselection {
	struct {
		const struct cJSON	*node;
		size_t			 loc;	/* offset into locs */
	}		*v;
	size_t		 n, cap;
	char		*locs;	/* NUL-terminated locations */
	size_t		 locn, loccap;
};

/*
 * Compile json-path text into *out (which the caller frees with
 * jpaths_free(), also on failure).  Returns NULL or why it is bad.
 */
const char *jpaths_compile(const char *text, struct jpaths *out);
void	 jpaths_free(struct jpaths *);
/* Deep copy of src into dst (uninitialised). */
void	 jpaths_copy(struct jpaths *dst, const struct jpaths *src);
/* The paths as they were written, joined by ",", into buf. */
void	 jpaths_format(const struct jpaths *, char *buf, size_t bufsz);
/*
 * Select the strings that each path names in the parsed document root.
 * Every path must select at least one value, and every value must be a
 * string.  Returns AS_OK with *sel filled (free with jselection_free()),
 * or AS_EDATA after logging the path and the place that broke it.
 */
enum as_status jpaths_select(const struct cJSON *root,
	    const struct jpaths *, const char *src, struct jselection *sel);
void	 jselection_free(struct jselection *);

/* ---------------------------------------------------------------- parse.c */

/*
 * One raw entry of a document.  text points into the list's copy of the
 * document (parse_json) or into it (parse_text); no NUL ends it.  where
 * is the 1-based line number of the text form; loc is where a JSON entry
 * stood, such as "prefixes[3].ip_prefix" (NULL for text and --static).
 */
struct entry {
	const char	*text;
	size_t		 len;
	size_t		 where;
	const char	*loc;
};

struct entrylist {
	struct entry	*v;
	size_t		 n, cap;
	char		*buf;	/* owns the bytes text points into, or NULL */
	char		*locs;	/* owns the bytes loc points into */
};

void	 entrylist_free(struct entrylist *);
/*
 * Parse a JSON document and take the strings that the paths select (see
 * jsonpath.c).  src names the document in log lines.  Returns AS_OK or
 * AS_EDATA (after logging why).
 */
enum as_status parse_json(const char *doc, size_t len, const char *src,
	    const struct jpaths *paths, struct entrylist *out);
/*
 * format auto: FORM_JSON when the first byte that is not blank (after a
 * UTF-8 BOM) is '{' or '[', else FORM_TEXT.
 */
enum form parse_sniff(const char *doc, size_t len);
/*
 * Parse the text form: one entry per line, see allowsync.conf(5).  The
 * entries point into doc, which must outlive out (no copy: a million
 * entries are 15 MB).  Returns AS_OK or AS_EDATA (after logging why).
 */
enum as_status parse_text(const char *doc, size_t len, const char *src,
	    struct entrylist *out);

/* ------------------------------------------------- validate.c, continued */

/* What validate_entries() found besides the ranges. */
#define MAX_SKIP_SHOWN	3		/* skipped entries named, per class */
struct validation {
	bool	refused;	/* rejected for what it holds */
	size_t	skipped[NCLASSES];	/* entries not applied, by class */
	/* The first few skipped entries of each class, escaped. */
	char	first[NCLASSES][MAX_SKIP_SHOWN * (MAX_ENTRY_LEN + 10)];
};

/*
 * The skipped entries of v in a few words, "2 private (10.0.12.34,
 * 10.10.1.2)", joined by "; ", into buf; NULL when there are none.
 */
/*
 * The other way: v from a summary (the saved record of a document a 304
 * or a failed fetch stands for).  A part it cannot read is left out.
 */
void	 validation_from_summary(const char *, struct validation *);
/* Log one warning per class with skipped entries, naming src. */
void	 validation_warn(const char *src, const struct validation *);
const char *validation_summary(const struct validation *, char *buf,
	    size_t bufsz);
/*
 * Validate every entry of a document against the policy and add it to out
 * (not normalised).  src names the document in log lines.  An entry of a
 * class the policy rejects (and /0, and a malformed entry unless lenient)
 * rejects the whole document; one of a class it skips is not applied,
 * with one warning per class and document.  Entries of a disabled family
 * are skipped likewise.  A document left with nothing is rejected.
 * Returns AS_OK or AS_EDATA; with res not NULL, res->refused tells a
 * document rejected for what it holds (an entry the grammar or the
 * policy refuses, or more than max-entries) from one that merely has
 * nothing usable, and res->skipped counts the skipped entries.
 */
enum as_status validate_entries(const struct entrylist *, const char *src,
	    const struct policy *, struct rangelist *out,
	    struct validation *res);

/* ----------------------------------------------------------------- diff.c */

/*
 * An element of a set that is not part of a range as this program writes
 * them: a catch-all ("*", which matches every address), one with a
 * timeout of its own (it would drop out), or one whose key this program
 * cannot read.  It is never wanted: the next commit deletes it.
 */
#define ODD_KEY_MAX	64
#define ODD_FLAG_END	0x1	/* NFT_SET_ELEM_INTERVAL_END, in flags */
struct odd_elem {
	int		af;		/* the set's family: 4 or 6 */
	bool		catchall;	/* the catch-all element, no key */
	bool		timed;		/* it has a timeout of its own */
	uint32_t	flags;		/* NFTA_SET_ELEM_FLAGS as read */
	size_t		keylen;		/* 0: no key (a catch-all) */
	uint8_t		key[ODD_KEY_MAX];
};

/*
 * What a commit must do: delete the odd elements and the ranges in del,
 * then add those in add.
 */
struct plan {
	struct rangelist	 add;
	struct rangelist	 del;
	/* Ranges to keep whose comment is to change (deleted, added). */
	struct rangelist	 renote;
	struct odd_elem		*odd;	/* owned; freed by plan_free() */
	size_t			 nodd;
	/*
	 * Guard mode: make the table again, in the same transaction: delete
	 * it (when drop_table), then create it with its sets, the elements
	 * of add, the chain and its rules.
	 */
	bool			 rebuild;
	bool			 drop_table;
	/* Guard mode: its old tables to delete (guard-table changed). */
	char			 stale[MAX_STALE][MAX_NFT_NAME + 1];
	size_t			 nstale;
};

/* The odd elements of family af (4 or 6) the plan deletes. */
size_t	 plan_odd_count(const struct plan *, int af);
/* Describe an odd element ("*" for a catch-all) into buf. */
const char *odd_elem_format(const struct odd_elem *, char *buf,
	    size_t bufsz);
/*
 * Compute the plan that turns have (the kernel's ranges, sorted, no
 * overlaps) into want (normalised).  A range is kept only when it is in
 * the kernel exactly; anything else in the kernel is deleted whole.
 */
void	 diff_ranges(const struct rangelist *want,
	    const struct rangelist *have, struct plan *);
void	 plan_init(struct plan *);
void	 plan_free(struct plan *);
bool	 plan_empty(const struct plan *);

/* ---------------------------------------------------------------- guard.c */

/*
 * One accepted entry: the range of one prefix the vendor wrote, and miss,
 * the number of accepted fetches in a row whose document lacked it.
 * miss 0: the entry is in the last accepted document.  miss N > 0: it is
 * pending removal, absent from the last N accepted fetches (counting stops
 * at UINT_MAX).
 */
struct entry4 {
	struct range4	r;
	unsigned int	miss;
};

struct entry6 {
	struct range6	r;
	unsigned int	miss;
};

/*
 * One source's accepted entries: those of its last accepted document
 * (miss 0) and those that left it but are kept until absent remove-after
 * times, or held by the shrink guard (miss > 0).  Each family's array
 * grows by doubling and is sorted by range (range4_cmp, range6_cmp) and
 * unique: a range appears once, with one miss.  Ranges are never merged,
 * so entries can be counted.  entryset_add4/6 append and may break the
 * order; every other function keeps it.
 */
struct entryset {
	struct entry4	*v4;
	size_t		 n4, cap4;
	struct entry6	*v6;
	size_t		 n6, cap6;
};

void	 entryset_init(struct entryset *);
void	 entryset_free(struct entryset *);
/*
 * Append an entry with miss absences; the caller appends in order or
 * calls entryset_sort() afterwards.
 */
void	 entryset_add4(struct entryset *, const struct range4 *,
	    unsigned int miss);
void	 entryset_add6(struct entryset *, const struct range6 *,
	    unsigned int miss);
/*
 * Sort each family by range and drop repeated ranges, keeping the
 * smallest miss of each (a document entry wins over a pending one).
 */
void	 entryset_sort(struct entryset *);
/* Make dst (initialised, empty) a copy of src. */
void	 entryset_copy(struct entryset *dst, const struct entryset *src);
/* Number of entries, document and pending. */
size_t	 entryset_count(const struct entryset *);
/* Number of pending entries (miss > 0). */
size_t	 entryset_pending(const struct entryset *);
/* Append the range of every entry (document and pending) to rl. */
void	 entryset_append(struct rangelist *rl, const struct entryset *);
/*
 * The entries after an accepted document, merged in one pass over old
 * (sorted, unique) and doc (sorted, unique, not merged: one range per
 * prefix, as rangelist_unique() leaves it).  doc NULL means old's own
 * document entries (those with miss 0): a 304 re-accepts the cached
 * document.  Every range of doc gets miss 0; an entry of old that is
 * not in doc gets miss + 1 and is kept while that is less than
 * remove_after.  out must be initialised and empty; it comes out sorted
 * and unique.
 */
void	 guard_age(const struct entryset *old, const struct rangelist *doc,
	    unsigned int remove_after, struct entryset *out);
/*
 * Count the entries of old (document and pending) that want (normalised)
 * does not cover whole, in one pass over both, appending their ranges to
 * uncovered, in order, when it is not NULL.
 */
size_t	 guard_uncovered(const struct entryset *old,
	    const struct rangelist *want, struct rangelist *uncovered);
/*
 * Hold back removals: every entry of old that want (normalised) does not
 * cover whole is merged into cur as pending, with miss + 1.  cur stays
 * sorted and unique; a range it already holds keeps its own miss (none
 * does when want covers cur, as the shrink guard's want does).
 */
void	 guard_hold(const struct entryset *old, const struct rangelist *want,
	    struct entryset *cur);

/* ------------------------------------------------------------- statedir.c */

#define STATE_LOCK	"lock"

/*
 * True when dir is a directory only its owner may write: what is read
 * from it can be believed.  Logs nothing.
 */
bool	 state_dir_trusted(const char *dir);
/*
 * Whether another run holds the lock of dir now (read from /proc/locks,
 * never by trying it), and then what it wrote into it ("pid N",
 * escaped) into buf.
 */
bool	 state_lock_holder(const char *dir, char *buf, size_t bufsz);
/*
 * Check that what the state directory holds can be trusted: it is a
 * directory that neither its group nor others may write to (or it does
 * not exist yet).  Returns AS_OK, or AS_ECONFIG after logging.
 */
enum as_status state_dir_check(const char *dir);
/* Create dir (0700) if missing: AS_OK, or AS_ECANTCREAT/AS_ECONFIG logged. */
enum as_status state_init(const char *dir);
/*
 * Take the run lock DIR/lock, waiting up to wait seconds, and remove the
 * temporary files a killed run left.  Returns AS_OK with *fd to keep open
 * until exit, AS_ETEMPFAIL naming the holder, or AS_ECANTCREAT when the
 * lock file cannot be created or is a link or not a plain file.
 */
enum as_status state_lock(const char *dir, unsigned int wait, int *fd);
/* ---------------------------------------------------------------- state.c */

/* How the last attempt for a source ended. */
enum attempt_result {
	RESULT_NONE,		/* no attempt recorded */
	RESULT_OK,
	RESULT_NOT_MODIFIED,	/* answered 304 */
	RESULT_FAILED,		/* could not be fetched */
	RESULT_REJECTED,	/* fetched, and refused */
};

/*
 * Their names, as the state files, --status and --json write them: "ok",
 * "not-modified", "failed", "rejected" (NULL for RESULT_NONE); and back:
 * false for another name.
 */
const char *result_name(enum attempt_result);
bool	 result_parse(const char *, enum attempt_result *);

/*
 * What is kept about one source between runs: the accepted list in
 * DIR/source-HASH.state, which changes only when a list is accepted, and
 * the last attempt in DIR/source-HASH.attempt (formats in docs/formats.md).
 */
struct srcstate {
	const char	*section;	/* its section's name; NULL: none */
	bool		 legacy;	/* read from the file without one */
	bool		 present;	/* an accepted list is known */
	bool		 unusable;	/* its file is there but was refused */
	char		*url;		/* the source's JSON URL */
	enum form	 document;	/* as what it was read; FORM_NONE */
	char		*etag;		/* validators of that document */
	char		*last_modified;
	/*
	 * What read it: a fingerprint of the form's URL and the keys that
	 * decide what a document yields (format, paths, policy).  The
	 * validators are sent again only to the same reader.
	 */
	char		*reader;
	time_t		 fetched;	/* last 200 or 304; 0: never */
	time_t		 accepted;	/* last accepted document */
	/*
	 * A 304 that changed nothing but these two times: the state file
	 * is left as it was, and the attempt record carries the time.
	 */
	time_t		 reaccepted;
	struct entryset	 ent;		/* the accepted entries */
	/* The last attempt, kept apart in DIR/source-HASH.attempt. */
	time_t		 attempt;	/* whatever its outcome */
	enum attempt_result result;	/* RESULT_NONE: no record */
	char		*error;		/* escaped reason, or NULL */
	char		*json_rejected;	/* why the JSON form was refused
					   while the text form stood in */
	char		*skipped;	/* entries the policy skipped, said
					   in a few words; or NULL */
};

struct nft_target;

#define STATE_INCLUDE	"allowsync.nft"
#define STATE_KERNEL	"kernel.state"

void	 srcstate_free(struct srcstate *);
/*
 * Load the state of the source with JSON URL url in section (NULL: the
 * config has no sections) into *st, and the record of its last attempt.
 * Entries are checked against pol again; a range written twice is one
 * entry, with its smallest miss.  A missing file
 * leaves st->present false; a corrupt or unreadable one logs one warning
 * and is treated as missing.  Corrupt: no "version 1" first, an unknown
 * key, a key other than entry and pending given twice, a bad value, a
 * line without its newline, no "end N M" line with the numbers of entry
 * and pending lines, anything after it, another URL, or entries without
 * an accepted time.  In the attempt record, of a key given twice the
 * first value wins.
 */
void	 state_load(const char *dir, const char *section, const char *url,
	    const struct policy *, struct srcstate *st);
/*
 * A guess at what state_load() will find, made in a moment from the head
 * of the file alone: present, url, reader and validators (etag,
 * last-modified) into *h, the rest empty.  A request can go out with them
 * while the entries are still being read; the caller checks them against
 * the state loaded, which alone is trusted.
 */
void	 state_peek(const char *dir, const char *section, const char *url,
	    struct srcstate *h);
/* The size of the file state_load() would read; 0 for none. */
off_t	 state_size(const char *dir, const char *section, const char *url);
/*
 * Write *st atomically (temporary file, fsync, rename, fsync of dir).
 * Returns AS_OK or AS_ESOFTWARE after logging.
 */
enum as_status state_save(const char *dir, const struct srcstate *st);
/* state_save() staged only (atomic_stage(): quiet, thread-safe). */
void	 state_stage(const char *dir, const struct srcstate *st,
	    struct staged *);
/* Write the record of the last attempt for st atomically. */
enum as_status state_save_attempt(const char *dir, const struct srcstate *st);
/* A target and the list its sets hold, or are to hold. */
struct nft_list {
	const struct nft_target	*t;
	const struct rangelist	*want;
};

/*
 * A digest of the targets and lists l[0..n): the kernel record's and the
 * include file's.
 */
uint64_t nft_lists_digest(const struct nft_list *l, size_t n);
/*
 * Write DIR/allowsync.nft atomically: "add element" statements that put
 * each list of l[0..n) (normalised) into the sets of its target, or for
 * guard mode the whole table.
 */
enum as_status state_write_include(const char *dir, const struct nft_list *l,
	    size_t n);
/* state_write_include() staged only (atomic_stage()). */
void	 state_stage_include(const char *dir, const struct nft_list *l,
	    size_t n, struct staged *);
/*
 * True when DIR/allowsync.nft is a file that state_write_include() wrote
 * for exactly l[0..n) (its digest line says so).
 */
bool	 state_include_current(const char *dir, const struct nft_list *l,
	    size_t n);
/*
 * What the last commit (or check) left in the kernel, DIR/kernel.state.
 * When the ruleset generation is still the recorded one, nobody has
 * committed since, so the sets hold exactly the recorded list and the slow
 * dump can be skipped.  Boot and network namespace pin the generation
 * counter it belongs to.
 */
struct kernel_record {
	char		 boot_id[40];	/* /proc/sys/kernel/random/boot_id */
	uint64_t	 netns_cookie;	/* SO_NETNS_COOKIE: unique per boot */
	char		 target[5 * (MAX_NFT_NAME + 1)];	/* names */
	uint32_t	 generation;
	uint64_t	 digest;	/* nft_lists_digest() of the contents */
};

/*
 * Fill rec with this boot, namespace and the targets of l[0..n), n > 0
 * (generation and digest left 0).  Returns false when they cannot be read
 * (a kernel older than 5.14 has no namespace cookie): never skip then.
 */
bool	 kernel_record_here(const struct nft_list *l, size_t n,
	    struct kernel_record *);
/*
 * Load DIR/kernel.state; false when it is absent or unreadable, or when a
 * key is missing, given twice or unknown, or a value is bad.
 */
bool	 state_load_kernel(const char *dir, struct kernel_record *);
enum as_status state_save_kernel(const char *dir,
	    const struct kernel_record *);
/* Format t as ISO 8601 UTC into buf (at least 21 bytes); "-" for 0. */
const char *state_time(time_t t, char *buf, size_t bufsz);

/* ---------------------------------------------------------------- fetch.c */

/* Options for one fetch; from the config. */
struct fetch_opts {
	const char	*ca_file;	/* NULL: system trust store */
	long		 timeout;	/* whole transfer, seconds */
	long		 connect_timeout;
	size_t		 max_bytes;	/* body bytes actually received */
	unsigned int	 retries;	/* extra attempts on transient errors */
	unsigned int	 retry_delay;	/* first backoff, seconds */
};

/* A fetched document.  body is NUL-terminated (len excludes the NUL). */
struct fetch_result {
	char		*body;
	size_t		 len;
	long		 status;	/* HTTP status; 0 for file:// */
	char		*etag;		/* NULL when absent */
	char		*last_modified;	/* NULL when absent */
};

/* Validators of the copy already held, for a conditional request. */
struct fetch_cond {
	const char	*etag;		/* sent as If-None-Match; or NULL */
	const char	*last_modified;	/* sent as If-Modified-Since; or NULL */
};

/* Call once at start-up / before exit. */
void	 fetch_global_init(void);
void	 fetch_global_cleanup(void);
/*
 * Check that a URL is one allowsync will fetch: https:// or file://,
 * without userinfo.  Returns NULL when acceptable, else a static reason:
 * URL_CREDENTIALS for userinfo, in which case the URL must not be logged.
 */
const char *fetch_url_check(const char *url);
#define URL_CREDENTIALS	"credentials in URLs are not supported"
/*
 * Fetch url into *res.  With cond (may be NULL) the request is
 * conditional, and a 304 answer is a success with res->status 304 and an
 * empty body.  Returns AS_OK, AS_ETEMPFAIL (network, TLS, timeout,
 * non-2xx, size cap: the source is unusable this run) or AS_ECONFIG (bad
 * URL).  Logs one line naming the URL and the cause.
 */
enum as_status fetch_document(const char *url, const struct fetch_opts *,
	    const struct fetch_cond *cond, struct fetch_result *res);
void	 fetch_result_free(struct fetch_result *);
/*
 * The one-line reason the last fetch_document() failed ("HTTP 404",
 * "response larger than max-bytes (N)", ...), already escaped, without
 * the URL; "" after a success.  Static buffer, overwritten by each call.
 */
const char *fetch_last_error(void);
/*
 * Describe GnuTLS certificate status bits (what libcurl's GnuTLS backend
 * reports as CURLINFO_SSL_VERIFYRESULT) in words, "; "-separated, into
 * buf; returns buf.  Pure: exposed for the unit tests.
 */
const char *fetch_gnutls_reason(unsigned long status, char *buf,
	    size_t len);

/* ------------------------------ nftset.c, nftelem.c, nftcommit.c ... */

#include "nftapi.h"

/* ------------------------------------- config.c, keys.c, presets.c ... */

#include "config.h"

/* ------------------------- report.c, metrics.c, refresh.c, run.c, sync.c */

#include "run.h"

#endif /* ALLOWSYNC_H */
