/*
 * The text form's fast path.  A big list is almost always printable ASCII
 * and nothing but good entries; parse_text() and validate_entries() then
 * log nothing, and what they hand on is the ranges alone.  text_ranges()
 * reads those straight from the document, a line at a time, with no
 * entry list between (32 bytes an entry), in chunks that two threads
 * share.  At the first line or entry that is anything else it gives up,
 * and the usual path reads the document again and says what is wrong:
 * the answer is the same either way, only the time differs.
 *
 * Nothing here logs, and nothing but the chunks' own lists is written by
 * more than one thread; prefix_parse() and policy_classify() are safe in
 * any thread (validate.c makes its tables once, under pthread_once).
 */
#include <pthread.h>
#include <string.h>

#include "allowsync.h"
#include "textfast.h"

#define ONES	0x0101010101010101ULL
#define HIGHS	0x8080808080808080ULL

/* The top bit of every byte of x that equals c; exact, byte by byte. */
static uint64_t
bytes_eq(uint64_t x, unsigned char c)
{
	uint64_t y = x ^ ONES * c;

	return ~(((y & ~HIGHS) + ~HIGHS) | y) & HIGHS;
}

/*
 * Whether the eight bytes of x hold one that no plain document holds: in
 * the top bit of some byte of the result (the other bits are noise).  A
 * byte of 0x80 or more sets its own top bit; only such a byte can carry
 * into the next one in the two sums, and it spoils the document anyway.
 * Below 0x80, b + 0x60 has its top bit clear for b < 0x20 (a control
 * character, unless it is the newline), and b + 1 has it set for 0x7f.
 */
static uint64_t
bytes_bad(uint64_t x)
{
	return x | (~(x + ONES * 0x60) & ~bytes_eq(x, '\n')) | (x + ONES) |
	    bytes_eq(x, '<');
}

/*
 * See textfast.h.  Eight bytes at a time (the compiler does not widen a
 * loop a byte at a time); the last few padded with spaces.
 */
bool
text_plain(const char *doc, size_t len, bool *hash)
{
	uint64_t x, bad = 0, h = 0;
	size_t i, whole = len - len % 8;

	for (i = 0; i < whole; i += 8) {
		memcpy(&x, doc + i, 8);
		bad |= bytes_bad(x);
		h |= bytes_eq(x, '#');
	}
	if (i < len) {
		x = ONES * ' ';
		memcpy(&x, doc + i, len - i);
		bad |= bytes_bad(x);
		h |= bytes_eq(x, '#');
	}
	*hash = h != 0;
	return (bad & HIGHS) == 0;
}

/*
 * Chunks of a document: more than two, so that a thread that finishes
 * early (the other CPU may be busy: preload.c reads the saved state
 * meanwhile) takes more of them.
 */
#define FAST_CHUNKS	8

struct fastjob {
	const struct policy	*pol;
	bool			 hash;		/* a '#' occurs */
	/* Chunk i is the lines from cut[i] to cut[i + 1]. */
	const char		*cut[FAST_CHUNKS + 1];
	pthread_mutex_t		 mu;		/* guards what follows */
	struct rangelist	 out[FAST_CHUNKS];	/* chunk i's ranges */
	size_t			 n[FAST_CHUNKS];	/* and entries */
	int			 next;		/* the next chunk to take */
	bool			 bail;		/* a chunk was not plain */
};

/*
 * The lines p[0..end) of a plain document (whole lines): the ranges of
 * their entries into rl and their number into *n, as parse_text() and
 * validate_entries() would take them.  False at the first line or entry
 * they would not take without a word.  rl and n are the caller's own,
 * not the job's: two threads writing beside each other in one cache
 * line, an entry at a time, took longer than one thread alone.
 */
static bool
fast_lines(const char *p, const char *end, const struct fastjob *j,
    struct rangelist *rl, size_t *n)
{
	const char *eol, *s, *e, *c, *why;
	struct prefix pr;
	struct range4 r4;
	struct range6 r6;

	for (; p < end; p = eol < end ? eol + 1 : end) {
		if ((eol = memchr(p, '\n', (size_t)(end - p))) == NULL)
			eol = end;
		if (eol - p > MAX_TEXT_LINE)
			return false;
		s = p;
		e = eol;
		if (j->hash && (c = memchr(s, '#', (size_t)(e - s))) != NULL)
			e = c;
		while (s < e && *s == ' ')
			s++;
		while (e > s && e[-1] == ' ')
			e--;
		if (s == e)
			continue;
		if (prefix_parse(s, (size_t)(e - s), &pr, &why) == -1 ||
		    policy_classify(j->pol, &pr, &why) != CLASS_NONE ||
		    !(pr.family == 4 ? j->pol->want4 : j->pol->want6))
			return false;
		if (pr.family == 4) {
			prefix_range4(&pr, &r4);
			rangelist_add4(rl, &r4);
		} else {
			prefix_range6(&pr, &r6);
			rangelist_add6(rl, &r6);
		}
		(*n)++;
	}
	return true;
}

/* Take chunks until none is left or one was not plain. */
static void *
fast_worker(void *arg)
{
	struct fastjob *j = arg;
	struct rangelist rl;
	size_t n;
	bool ok;
	int i;

	for (;;) {
		pthread_mutex_lock(&j->mu);
		i = j->bail ? FAST_CHUNKS : j->next++;
		pthread_mutex_unlock(&j->mu);
		if (i >= FAST_CHUNKS)
			return NULL;
		rangelist_init(&rl);
		n = 0;
		ok = fast_lines(j->cut[i], j->cut[i + 1], j, &rl, &n);
		pthread_mutex_lock(&j->mu);
		j->out[i] = rl;
		j->n[i] = n;
		if (!ok)
			j->bail = true;
		pthread_mutex_unlock(&j->mu);
	}
}

/* Cut doc[0..len) into FAST_CHUNKS runs of whole lines. */
static void
fast_cut(struct fastjob *j, const char *doc, size_t len)
{
	const char *end = doc + len, *p, *nl;
	int i;

	j->cut[0] = doc;
	j->cut[FAST_CHUNKS] = end;
	for (i = 1; i < FAST_CHUNKS; i++) {
		p = doc + len / FAST_CHUNKS * (size_t)i;
		if (p < j->cut[i - 1])
			p = j->cut[i - 1];
		nl = memchr(p, '\n', (size_t)(end - p));
		j->cut[i] = nl != NULL ? nl + 1 : end;
	}
}

/* See textfast.h. */
bool
text_ranges(const char *doc, size_t len, const struct policy *pol,
    struct rangelist *out)
{
	struct fastjob j;
	pthread_t t;
	size_t total = 0;
	bool ok, threaded;
	int i;

	if (len >= 3 && memcmp(doc, "\xef\xbb\xbf", 3) == 0) {
		doc += 3;
		len -= 3;
	}
	if (len < TEXT_FAST_MIN)
		return false;
	memset(&j, 0, sizeof(j));
	j.pol = pol;
	if (!text_plain(doc, len, &j.hash))
		return false;
	fast_cut(&j, doc, len);
	pthread_mutex_init(&j.mu, NULL);
	threaded = pthread_create(&t, NULL, fast_worker, &j) == 0;
	fast_worker(&j);
	if (threaded)
		pthread_join(t, NULL);
	pthread_mutex_destroy(&j.mu);
	for (i = 0; i < FAST_CHUNKS; i++)
		total += j.n[i];
	ok = !j.bail && total > 0 && total <= pol->max_entries;
	for (i = 0; i < FAST_CHUNKS; i++) {
		if (ok)
			rangelist_append(out, &j.out[i]);
		rangelist_free(&j.out[i]);
	}
	return ok;
}
