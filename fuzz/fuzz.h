/*
 * Shared helpers for the libFuzzer targets in fuzz/.  Every broken
 * invariant calls fuzz_fail(), which aborts so that libFuzzer records the
 * input as a crash.
 */
#ifndef FUZZ_H
#define FUZZ_H

#include <stddef.h>
#include <stdint.h>

#include "allowsync.h"

/* The libFuzzer entry points each target defines. */
int	 LLVMFuzzerInitialize(int *, char ***);
int	 LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Set up logging for a fuzzing run: errors only. */
void	 fuzz_init(void);
/* Print what broke to stderr and abort(). */
void	 fuzz_fail(const char *what) __attribute__((noreturn));
/*
 * Abort unless each family of rl is sorted, every range has first <= last,
 * and no two ranges overlap or touch.
 */
void	 fuzz_check_normalised(const struct rangelist *rl);
/*
 * Run validate_entries() on list with several policies, normalise what it
 * accepts and check the result; also check that a rejected document
 * leaves the output list as it was.  Frees everything it makes.
 */
void	 fuzz_validate(const struct entrylist *list);

#endif /* FUZZ_H */
