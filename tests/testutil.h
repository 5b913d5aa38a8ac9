/*
 * Helpers shared by the unit tests (tests/test_*.c), linked into each.
 */
#ifndef TESTUTIL_H
#define TESTUTIL_H

#include "allowsync.h"

#define CAPTURE_MAX	16384	/* stderr bytes kept by capture_end() */

/* Send stderr (the log) to a temporary file until capture_end(). */
void	 capture_start(void);
/* Restore stderr; returns what was logged (static buffer, truncated). */
const char *capture_end(void);
/*
 * The ranges of family af (4 or 6) of rl as text, each as
 * range4_format()/range6_format() writes it, joined by " ".  Returns out.
 */
const char *ranges_text(const struct rangelist *rl, int af, char *out,
	    size_t outsz);

#endif /* TESTUTIL_H */
