/*
 * suggest: "did you mean" for unknown names (appspec keys and hooks, config
 * keys): the closest known name by edit distance.
 */
#ifndef CDAGENT_SUGGEST_H
#define CDAGENT_SUGGEST_H

#include <stddef.h>

/* suggest_closest() flags */
#define SUGGEST_FOLD_CASE 1 /* 'a' and 'A' count as the same letter */

/*
 * The Levenshtein distance between a and b (insertions, deletions and
 * substitutions of one byte each cost 1); SIZE_MAX when either is 64 bytes
 * or longer (no suggestion for such words).
 */
size_t suggest_distance(const char *a, const char *b, int flags);

/*
 * The first of names closest to word, if at most max_distance edits away;
 * else NULL.  The result points into names.
 */
const char *suggest_closest(const char *word, const char *const *names,
    size_t nnames, size_t max_distance, int flags);

#endif
