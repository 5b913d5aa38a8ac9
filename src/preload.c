/*
 * The saved states of a sync, read by a second thread while the first
 * fetches.  A saved list of a million entries takes about 0.1 s to read
 * and check again, and fetching, parsing and checking the new document
 * takes as long; on a machine with two CPUs the two need not wait for
 * each other.  The request needs only the validators at the head of the
 * state file, which state_peek() reads in a moment; refresh_source()
 * waits for the whole state before it uses it, and asks again when a 304
 * answered validators the state turned out not to have.
 *
 * The thread reads the sections' saved states (run_load_states()), then
 * makes the targets' prev from them (run_prev(), which the plan would
 * otherwise wait for), and nothing else; the main thread leaves them
 * alone until preload_wait(), and interns no note (notes.c) before.  Its
 * log lines are kept and printed by the main thread when it waits.
 */
#include <pthread.h>
#include <string.h>

#include "allowsync.h"
#include "run.h"

/* Read every section's saved states, logging into pl->cap. */
static void *
preload_main(void *arg)
{
	struct preload *pl = arg;
	size_t i;

	log_capture_start(&pl->cap);
	for (i = 0; i < pl->rep->nsections; i++)
		run_load_states(pl->cfg, &pl->rep->sections[i]);
	run_prev(pl->cfg, pl->rep);
	log_capture_stop();
	return NULL;
}

/*
 * Saved states smaller than this in all are read before the fetch, as
 * they always were: a few milliseconds, less than a thread's start and
 * the memory its arena takes in a run that should stay near libcurl's
 * floor.  A state file takes about 20 bytes an entry.
 */
#define PRELOAD_MIN	(1 << 20)

/* The bytes of every saved state the sections of rep would read. */
static off_t
saved_bytes(const struct config *cfg, const struct run_report *rep)
{
	const struct source_opts *so;
	off_t total = 0;
	size_t i, j;

	for (i = 0; i < rep->nsections; i++) {
		so = rep->sections[i].so;
		for (j = 0; j < so->nsources; j++)
			total += state_size(cfg->state_dir, so->name,
			    so->sources[j].url);
	}
	return total;
}

/* See run.h. */
void
preload_start(struct preload *pl, const struct config *cfg,
    struct run_report *rep)
{
	memset(pl, 0, sizeof(*pl));
	pl->cfg = cfg;
	pl->rep = rep;
	if (saved_bytes(cfg, rep) >= PRELOAD_MIN &&
	    pthread_create(&pl->thread, NULL, preload_main, pl) == 0) {
		pl->started = true;
		return;
	}
	/* Without the thread the states are read here, as they always were. */
	preload_main(pl);
	log_capture_replay(&pl->cap);
}

/* See run.h. */
void
preload_wait(void *arg)
{
	struct preload *pl = arg;

	if (pl->started) {
		pthread_join(pl->thread, NULL);
		pl->started = false;
		log_capture_replay(&pl->cap);
	}
}
