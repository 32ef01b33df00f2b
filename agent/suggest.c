/*
 * suggest: edit distance and the closest known name (suggest.h).
 */
#include "config.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#include "suggest.h"

#define SUGGEST_MAX_WORD 64

/* Whether byte x and byte y differ, under flags. */
static int
differ(char x, char y, int flags)
{
	if (flags & SUGGEST_FOLD_CASE)
		return tolower((unsigned char)x) != tolower((unsigned char)y);
	return x != y;
}

size_t
suggest_distance(const char *a, const char *b, int flags)
{
	size_t la = strlen(a), lb = strlen(b), i, j;
	size_t row[SUGGEST_MAX_WORD];

	if (la >= SUGGEST_MAX_WORD || lb >= SUGGEST_MAX_WORD)
		return SIZE_MAX;
	for (j = 0; j <= lb; j++)
		row[j] = j;
	for (i = 1; i <= la; i++) {
		size_t diag = row[0];

		row[0] = i;
		for (j = 1; j <= lb; j++) {
			size_t up = row[j];
			size_t best = diag + differ(a[i - 1], b[j - 1], flags);

			if (up + 1 < best)
				best = up + 1;
			if (row[j - 1] + 1 < best)
				best = row[j - 1] + 1;
			row[j] = best;
			diag = up;
		}
	}
	return row[lb];
}

const char *
suggest_closest(const char *word, const char *const *names, size_t nnames,
    size_t max_distance, int flags)
{
	const char *best = NULL;
	size_t best_d = SIZE_MAX, i, d;

	for (i = 0; i < nnames; i++) {
		d = suggest_distance(word, names[i], flags);
		if (d < best_d) {
			best_d = d;
			best = names[i];
		}
	}
	return best_d <= max_distance ? best : NULL;
}
