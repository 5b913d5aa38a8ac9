/*
 * The text form's fast path (textfast.c), and the byte check it shares
 * with parse_text() (parse.c).
 */
#ifndef TEXTFAST_H
#define TEXTFAST_H

#include "allowsync.h"

/*
 * True when doc[0..len) holds only newlines and printable ASCII but '<':
 * no tab, no carriage return, no byte a line may not hold.  *hash says
 * whether a '#' occurs.
 */
bool	 text_plain(const char *doc, size_t len, bool *hash);

/*
 * parse_text() and validate_entries() in one pass, for a big document
 * (TEXT_FAST_MIN bytes or more) that both would take without a word: its
 * lines plain (text_plain()), each one blank, a comment or an entry that
 * the policy takes as it is, of a family it wants, and at least one and
 * at most max-entries entries.  Then the entries' ranges are appended to
 * out, in document order, exactly as validate_entries() would append
 * them, and it returns true.  For any other document it returns false
 * with out as it was, and the caller takes the usual path, which says
 * what is wrong.
 */
#ifndef TEXT_FAST_MIN
#define TEXT_FAST_MIN	(64 * 1024)	/* fuzz/fuzz.mk makes it smaller */
#endif
bool	 text_ranges(const char *doc, size_t len, const struct policy *,
	    struct rangelist *out);

#endif
