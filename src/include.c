/*
 * The include file, DIR/allowsync.nft: what the sets hold, as nft(8)
 * statements a ruleset can include, so that a reload of the ruleset or a
 * boot brings the allowlist back with it.  Guard mode's table is written
 * whole.  Written atomically after every apply or restore.
 */
#include <limits.h>
#include <stdio.h>
#include <string.h>

#include <netinet/in.h>

#include "allowsync.h"

/* What fill_include() needs: the targets and their lists. */
struct include_arg {
	const struct nft_list	*l;
	size_t			 n;
};

/*
 * The nft text of note's comment (' comment "X"') into buf; returns its
 * length, 0 for no comment.  Our notes hold no '"' (notes.c, run.c's
 * labels); one that did, or NOTE_OTHER, is left out.
 */
static size_t
comment_text(uint16_t note, char *buf, size_t bufsz)
{
	int n;

	if (note == 0 || note == NOTE_OTHER ||
	    strchr(note_str(note), '"') != NULL)
		return 0;
	n = snprintf(buf, bufsz, " comment \"%s\"", note_str(note));
	return n > 0 && (size_t)n < bufsz ? (size_t)n : 0;
}

/*
 * The ranges of family af of w, one per line after indent, ","-joined,
 * made in place in an outbuf: a million of them are most of what a big
 * sync writes.
 */
static void
print_ranges(FILE *f, const struct rangelist *w, int af, const char *indent)
{
	struct outbuf *ob = outbuf_new(f);
	char *p;
	size_t i, n = af == 4 ? w->n4 : w->n6, ilen = strlen(indent);
	uint16_t note, last = 0;
	size_t clen = 0;
	char cmt[NOTE_MAX + 16];

	if (ilen > 64)
		ilen = 64;
	for (i = 0; i < n; i++) {
		p = outbuf_room(ob, ilen + RANGE_STRLEN + sizeof(cmt) + 2);
		memcpy(p, indent, ilen);
		p += ilen;
		if (af == 4)
			p += range4_format(&w->v4[i], p, RANGE_STRLEN);
		else
			p += range6_format(&w->v6[i], p, RANGE_STRLEN);
		if ((note = rangelist_note(w, af, i)) != last) {
			last = note;
			clen = comment_text(note, cmt, sizeof(cmt));
		}
		memcpy(p, cmt, clen);
		p += clen;
		if (i + 1 < n)
			*p++ = ',';
		*p++ = '\n';
		outbuf_done(ob, p);
	}
	outbuf_free(ob);
}

/*
 * Guard mode's rules of one chain (routed: the prerouting one) as nft(8)
 * text, in the order nftguard.c makes them: the same text makes the same
 * expressions.
 */
static void
print_guard_rules(FILE *f, const struct nft_target *t, bool routed)
{
	const struct nft_pair *pairs, *p;
	const struct guard_port *gp;
	struct nft_pair one;
	const char *set;
	size_t i, j, np = nftguard_pairs(t, &pairs, &one);
	int af;

	fprintf(f, "\t\tiifname \"lo\" accept\n"
	    "\t\tct direction reply accept\n");
	if (routed)
		fprintf(f, "\t\tfib daddr type unicast accept\n");
	for (j = 0; j < np * 2; j++) {
		p = &pairs[j / 2];
		af = j % 2 == 0 ? 4 : 6;
		set = af == 4 ? p->set4 : p->set6;
		for (i = 0; i < p->nports; i++) {
			gp = &p->ports[i];
			fprintf(f, "\t\tmeta nfproto ipv%d %s dport %u", af,
			    gp->proto == IPPROTO_TCP ? "tcp" : "udp", gp->lo);
			if (gp->hi != gp->lo)
				fprintf(f, "-%u", gp->hi);
			if (set != NULL && *set != '\0')
				fprintf(f, " %s saddr != @%s", af == 4 ? "ip" :
				    "ip6", set);
			fprintf(f, " drop\n");
		}
	}
}

/* The two sets of one guard target, with their elements. */
static void
print_guard_sets(FILE *f, const struct nft_target *t,
    const struct rangelist *w)
{
	int af;
	const char *set;

	for (af = 4; af <= 6; af += 2) {
		if ((set = af == 4 ? t->set4 : t->set6) == NULL ||
		    *set == '\0')
			continue;
		fprintf(f, "\tset %s {\n\t\ttype ipv%d_addr\n"
		    "\t\tflags interval\n", set, af);
		if ((af == 4 ? w->n4 : w->n6) > 0) {
			fprintf(f, "\t\telements = {\n");
			print_ranges(f, w, af, "\t\t\t");
			fprintf(f, "\t\t}\n");
		}
		fprintf(f, "\t}\n");
	}
}

/*
 * Guard mode's include file: the whole table, made anew whether it was
 * there or not ("table; delete table; table { ... }"), so that a reload
 * of the ruleset, even after "flush ruleset", brings the guard back in
 * the same transaction.  Its sets are those of every guard target in
 * l[0..n); t is the primary one, whose pairs the chains guard.
 */
static void
print_guard_table(FILE *f, const struct nft_list *l, size_t n,
    const struct nft_target *t)
{
	size_t i;

	fprintf(f, "table inet %s\ndelete table inet %s\n"
	    "table inet %s {\n\tcomment \"%s\"\n", t->table, t->table,
	    t->table, GUARD_COMMENT);
	for (i = 0; i < n; i++)
		if (l[i].t->nports > 0)
			print_guard_sets(f, l[i].t, l[i].want);
	fprintf(f, "\tchain guard {\n\t\ttype filter hook prerouting "
	    "priority -150; policy accept;\n");
	print_guard_rules(f, t, true);
	fprintf(f, "\t}\n\tchain guard_in {\n\t\ttype filter hook input "
	    "priority -150; policy accept;\n");
	print_guard_rules(f, t, false);
	fprintf(f, "\t}\n}\n");
}

/* See allowsync.h. */
uint64_t
nft_lists_digest(const struct nft_list *l, size_t n)
{
	const struct nft_target *t;
	char text[4 * (MAX_NFT_NAME + 1) + 64];
	uint64_t h = FNV1A_INIT;
	size_t i, k;

	for (k = 0; k < n; k++) {
		t = l[k].t;
		snprintf(text, sizeof(text), "%s|%s|%s|%s|", t->family,
		    t->table, t->set4 != NULL ? t->set4 : "",
		    t->set6 != NULL ? t->set6 : "");
		h = fnv1a(text, h ^ rangelist_digest(l[k].want));
		h = notes_digest(l[k].want, h);
		for (i = 0; i < t->nports; i++) {
			snprintf(text, sizeof(text), "|%u/%u-%u",
			    t->ports[i].proto, t->ports[i].lo, t->ports[i].hi);
			h = fnv1a(text, h);
		}
	}
	return h;
}

/* The add element statements of one target's list. */
static void
print_elements(FILE *f, const struct nft_target *t, const struct rangelist *w)
{
	if (w->n4 > 0 && t->set4 != NULL && t->set4[0] != '\0') {
		fprintf(f, "add element %s %s %s {\n", t->family, t->table,
		    t->set4);
		print_ranges(f, w, 4, "\t");
		fprintf(f, "}\n");
	}
	if (w->n6 > 0 && t->set6 != NULL && t->set6[0] != '\0') {
		fprintf(f, "add element %s %s %s {\n", t->family, t->table,
		    t->set6);
		print_ranges(f, w, 6, "\t");
		fprintf(f, "}\n");
	}
}

/*
 * Print the include file; returns <0 on a write error.  Its second line
 * is a digest of what it holds, so that a run that changed nothing can
 * tell a current file from one a failed write left behind.
 */
static int
fill_include(FILE *f, const void *arg)
{
	const struct include_arg *ia = arg;
	size_t i;

	fprintf(f, "# Written by allowsync after every successful apply or "
	    "restore; do not edit.\n# list %016llx\n",
	    (unsigned long long)nft_lists_digest(ia->l, ia->n));
	for (i = 0; i < ia->n; i++)
		if (ia->l[i].t->nports == 0) {
			fprintf(f, "# Include it after the definitions of the "
			    "sets, so that a ruleset reload\n# brings the "
			    "allowlist back with it.\n");
			break;
		}
	for (i = 0; i < ia->n; i++) {
		if (ia->l[i].t->nports == 0)
			print_elements(f, ia->l[i].t, ia->l[i].want);
		else if (!ia->l[i].t->secondary) {
			fprintf(f, "# Guard mode: the whole table it owns.\n");
			print_guard_table(f, ia->l, ia->n, ia->l[i].t);
		}
	}
	return ferror(f) ? -1 : 0;
}

/* See allowsync.h. */
enum as_status
state_write_include(const char *dir, const struct nft_list *l, size_t n)
{
	struct include_arg ia = { l, n };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_INCLUDE);
	return atomic_write(path, fill_include, &ia);
}

/* See allowsync.h. */
void
state_stage_include(const char *dir, const struct nft_list *l, size_t n,
    struct staged *sf)
{
	struct include_arg ia = { l, n };
	char path[PATH_MAX];

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_INCLUDE);
	atomic_stage(path, fill_include, &ia, sf);
}

/* See allowsync.h. */
bool
state_include_current(const char *dir, const struct nft_list *l, size_t n)
{
	char path[PATH_MAX], line[128], stamp[64];
	FILE *f;
	bool ok;

	snprintf(path, sizeof(path), "%s/%s", dir, STATE_INCLUDE);
	if ((f = safe_fopen_read(path)) == NULL)
		return false;
	snprintf(stamp, sizeof(stamp), "# list %016llx\n",
	    (unsigned long long)nft_lists_digest(l, n));
	ok = fgets(line, sizeof(line), f) != NULL &&
	    fgets(line, sizeof(line), f) != NULL && strcmp(line, stamp) == 0;
	fclose(f);
	return ok;
}

