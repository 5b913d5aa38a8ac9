/*
 * The files a sync writes once its commit is in, written while the
 * kernel applies it.  A commit into a set of a million ranges keeps the
 * kernel busy for about 0.3 s, and formatting, writing and fsyncing the
 * source state files and the include file (tens of megabytes) takes as
 * long again; on a machine with two CPUs one thread does the one while
 * the kernel does the other.  The files are staged (written to their
 * temporary names and fsynced) by a second thread, and put in place only
 * when the commit succeeded; otherwise they are removed, and the saved
 * lists stay those of the last applied run, as before.
 *
 * The thread only reads what the commit does not change (the sections'
 * new states and the targets' lists) and never logs.
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "allowsync.h"
#include "run.h"

/* The staged state file of every source the run saves, and the include. */
static void *
stage_main(void *arg)
{
	struct stage *sg = arg;
	const struct run_section *sec;
	size_t i, j;

	for (i = 0; i < sg->rep->nsections; i++) {
		sec = &sg->rep->sections[i];
		for (j = 0; sec->so->selected && j < sec->so->nsources; j++)
			if (sec->results[j].status == AS_OK &&
			    sec->cur[j].reaccepted == 0)
				state_stage(sg->cfg->state_dir, &sec->cur[j],
				    &sg->files[sg->nfiles++]);
	}
	if (sg->nlists > 0)
		state_stage_include(sg->cfg->state_dir, sg->lists, sg->nlists,
		    &sg->files[sg->nfiles++]);
	/* A million ranges take tens of ms; the commit takes longer. */
	sg->rec_digest = nft_lists_digest(sg->rec, sg->nrec);
	return NULL;
}

/* See run.h. */
void
stage_start(struct stage *sg, const struct config *cfg,
    const struct run_report *rep, const struct nft_list *l, size_t n,
    const struct nft_list *r, size_t nr)
{
	size_t i, max = 1;

	if (sg->started)
		return;
	memset(sg, 0, sizeof(*sg));
	for (i = 0; i < rep->nsections; i++)
		max += rep->sections[i].so->nsources;
	sg->cfg = cfg;
	sg->rep = rep;
	memcpy(sg->lists, l, n * sizeof(*l));
	sg->nlists = n;
	memcpy(sg->rec, r, nr * sizeof(*r));
	for (i = 0; i < nr; i++) {
		sg->rec_n[i][0] = r[i].want->n4;
		sg->rec_n[i][1] = r[i].want->n6;
	}
	sg->nrec = nr;
	sg->files = xcalloc(max, sizeof(*sg->files));
	/* Without the thread the run writes its files as it always did. */
	if (pthread_create(&sg->thread, NULL, stage_main, sg) != 0) {
		free(sg->files);
		sg->files = NULL;
		return;
	}
	sg->started = true;
}

/* See run.h. */
void
stage_join(struct stage *sg)
{
	if (sg->started && !sg->joined) {
		pthread_join(sg->thread, NULL);
		sg->joined = true;
	}
}

/* See run.h. */
bool
stage_digest(struct stage *sg, const struct nft_list *r, size_t n,
    uint64_t *digest)
{
	size_t i;

	if (!sg->started || n != sg->nrec)
		return false;
	/* A want list rebuilt since (none is, today) is digested anew. */
	for (i = 0; i < n; i++)
		if (r[i].t != sg->rec[i].t || r[i].want != sg->rec[i].want ||
		    r[i].want->n4 != sg->rec_n[i][0] ||
		    r[i].want->n6 != sg->rec_n[i][1])
			return false;
	stage_join(sg);
	*digest = sg->rec_digest;
	return true;
}

/* See run.h. */
enum as_status
stage_publish(struct stage *sg)
{
	enum as_status st = AS_OK;
	size_t i;

	stage_join(sg);
	/* The include file (the last) only after every state file. */
	for (i = 0; i < sg->nfiles; i++)
		if (i + 1 == sg->nfiles && sg->nlists > 0 && st != AS_OK)
			atomic_discard(&sg->files[i]);
		else if (atomic_publish(&sg->files[i]) != AS_OK)
			st = AS_ECANTCREAT;
	return st;
}

/* See run.h. */
void
stage_hold(struct stage *sg, struct nftset *ns)
{
	if (sg != NULL && sg->started)
		sg->ns = ns;
	else
		nftset_close(ns);
}

/* See run.h. */
void
stage_free(struct stage *sg)
{
	size_t i;

	stage_join(sg);
	for (i = 0; sg->files != NULL && i < sg->nfiles; i++)
		atomic_discard(&sg->files[i]);
	nftset_close(sg->ns);
	free(sg->files);
	memset(sg, 0, sizeof(*sg));
}
