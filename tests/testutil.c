/*
 * Helpers shared by the unit tests; see testutil.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "testutil.h"

static FILE	*cap_file;
static int	 cap_saved = -1;

/* See testutil.h. */
void
capture_start(void)
{
	fflush(stderr);
	cap_file = tmpfile();
	assert_non_null(cap_file);
	cap_saved = dup(STDERR_FILENO);
	assert_true(cap_saved != -1);
	assert_true(dup2(fileno(cap_file), STDERR_FILENO) != -1);
}

/* See testutil.h. */
const char *
capture_end(void)
{
	static char buf[CAPTURE_MAX];
	size_t n;

	fflush(stderr);
	dup2(cap_saved, STDERR_FILENO);
	close(cap_saved);
	cap_saved = -1;
	rewind(cap_file);
	n = fread(buf, 1, sizeof(buf) - 1, cap_file);
	buf[n] = '\0';
	fclose(cap_file);
	return buf;
}

/* See testutil.h. */
const char *
ranges_text(const struct rangelist *rl, int af, char *out, size_t outsz)
{
	char buf[RANGE_STRLEN];
	size_t i, n = af == 4 ? rl->n4 : rl->n6, len = 0;

	out[0] = '\0';
	for (i = 0; i < n && len < outsz; i++) {
		if (af == 4)
			range4_format(&rl->v4[i], buf, sizeof(buf));
		else
			range6_format(&rl->v6[i], buf, sizeof(buf));
		len += (size_t)snprintf(out + len, outsz - len, "%s%s",
		    i > 0 ? " " : "", buf);
	}
	return out;
}
