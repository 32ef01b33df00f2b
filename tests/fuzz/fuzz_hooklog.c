/*
 * libFuzzer target for hook output: any bytes, cut into chunks of any size
 * on stdout and stderr, go through hook_lines_feed()/hook_lines_flush()
 * into scripts.log and the diagnostics tail.  A reference model computes
 * the entries (lines split at '\n' or HOOK_LINE_MAX bytes, ANSI stripped)
 * and checks scripts.log byte for byte and the tail (the newest entries,
 * as text, within HOOK_LOG_TAIL_MAX) exactly; the tail and the diagnostics
 * JSON must be well-formed UTF-8 without NUL.
 *
 * Input: records of [h0 h1 bytes...]: stream = h0 & 1, chunk length =
 * h1 | (h0 & 0x1e) << 7, fed 33 times when h0 & 0x20 (lines past
 * HOOK_LINE_MAX; at most 3 * HOOK_LINE_MAX bytes in all).  The deployments log
 * is written too, and the diagnostics get the tail as both message and log (so
 * they must be trimmed).
 */
#include "config.h"

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fsutil.h"
#include "hook-int.h"
#include "state.h"
#include "xalloc.h"
#include "../unit/tu_utf8.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char *root, *deploy_log;

struct model {
	char **entries; /* prefix + stripped line, NUL-terminated copies */
	size_t *lens;
	size_t n;
	char *part[2]; /* each stream's partial line */
	size_t plen[2];
};

static const char *const prefixes[2] = { "[stdout]", "[stderr]" };

static void
model_entry(struct model *m, int s, const char *text, size_t len)
{
	size_t plen = strlen(prefixes[s]);
	char *e = xmalloc(plen + len + 1);

	memcpy(e, prefixes[s], plen);
	len = plen + hook_strip_ansi(e + plen, text, len);
	e[len] = '\0';
	m->entries = xreallocarray(m->entries, m->n + 1, sizeof(char *));
	m->lens = xreallocarray(m->lens, m->n + 1, sizeof(size_t));
	m->entries[m->n] = e;
	m->lens[m->n++] = len;
}

static void
model_feed(struct model *m, int s, const uint8_t *data, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++) {
		if (data[i] == '\n') {
			model_entry(m, s, m->part[s], m->plen[s]);
			m->plen[s] = 0;
			continue;
		}
		m->part[s][m->plen[s]++] = (char)data[i];
		if (m->plen[s] == HOOK_LINE_MAX) {
			model_entry(m, s, m->part[s], m->plen[s]);
			m->plen[s] = 0;
		}
	}
}

/* The tail the model expects: the longest suffix of entries (as text plus
 * '\n') that fits; a newest entry alone too long keeps its end. */
static char *
model_tail(const struct model *m)
{
	size_t total = 0, first = m->n, i, len = 0;
	char **texts = xcalloc(m->n + 1, sizeof(char *));
	char *out;

	while (first > 0) {
		char *t =
		    hook_text_utf8(m->entries[first - 1], m->lens[first - 1]);
		size_t tl = strlen(t) + 1;

		if (first == m->n && tl > HOOK_LOG_TAIL_MAX) {
			size_t skip = tl - HOOK_LOG_TAIL_MAX;
			char *cut;

			while (skip < tl - 1 &&
			    ((unsigned char)t[skip] & 0xc0) == 0x80)
				skip++;
			cut = xstrdup(t + skip);
			free(t);
			t = cut;
			tl = strlen(t) + 1;
		}
		if (total + tl > HOOK_LOG_TAIL_MAX) {
			free(t);
			break;
		}
		total += tl;
		texts[--first] = t;
	}
	out = xmalloc(total + 1);
	for (i = first; i < m->n; i++) {
		size_t tl = strlen(texts[i]);

		memcpy(out + len, texts[i], tl);
		out[len + tl] = '\n';
		len += tl + 1;
		free(texts[i]);
	}
	out[len] = '\0';
	free(texts);
	return out;
}

/* scripts.log: per entry "YYYY-MM-DD HH:MM:SS " + entry + "\n". */
static void
check_scripts_log(const struct model *m, const char *path)
{
	struct err err = ERR_INIT;
	char *text = NULL;
	size_t len = 0, off = 0, i;

	if (fsutil_read_file(path, 64 << 20, &text, &len, &err) < 0)
		abort();
	for (i = 0; i < m->n; i++) {
		if (off + 20 + m->lens[i] + 1 > len || text[off + 19] != ' ' ||
		    memcmp(text + off + 20, m->entries[i], m->lens[i]) != 0 ||
		    text[off + 20 + m->lens[i]] != '\n')
			abort();
		off += 20 + m->lens[i] + 1;
	}
	if (off != len)
		abort();
	free(text);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct hook_context ctx;
	struct hook_log log;
	struct hook_lines lines[2];
	struct model m;
	char *droot, *path, *tail, *want, *json;
	size_t i, budget = 3 * HOOK_LINE_MAX; /* bytes fed by repeats */
	int s;

	if (root == NULL) {
		char tmpl[] = "/tmp/fuzz-hooklog.XXXXXX";

		if (mkdtemp(tmpl) == NULL)
			abort();
		root = xstrdup(tmpl);
	}
	memset(&ctx, 0, sizeof(ctx));
	memset(&m, 0, sizeof(m));
	ctx.root_dir = root;
	ctx.deployment_id = "d-FUZZ";
	ctx.deployment_group_id = "dg-1";
	ctx.scripts_log_max = 1ULL << 40;
	droot = xasprintf("%s/d-FUZZ", root);
	path = xasprintf("%s/logs/scripts.log", droot);
	unlink(path);
	free(deploy_log);
	deploy_log = xasprintf(
	    "%s/%s/fuzz-deployments.log", root, STATE_DEPLOYMENT_LOGS_DIR);
	unlink(deploy_log);
	ctx.enable_deployments_log = 1;
	ctx.program_name = "fuzz";
	hook_log_open(&log, &ctx, droot, "BeforeInstall");
	for (s = 0; s < 2; s++) {
		hook_lines_init(&lines[s], prefixes[s]);
		m.part[s] = xmalloc(HOOK_LINE_MAX);
	}
	while (size >= 2) {
		size_t len = data[1] | (size_t)(data[0] & 0x1e) << 7;
		int times = data[0] & 0x20 ? 33 : 1;

		s = data[0] & 1;
		data += 2;
		size -= 2;
		if (len > size)
			len = size;
		while (times-- > 0 && budget >= len) {
			budget -= len;
			hook_lines_feed(
			    &lines[s], &log, (const char *)data, len);
			model_feed(&m, s, data, len);
		}
		data += len;
		size -= len;
	}
	for (s = 0; s < 2; s++) {
		hook_lines_flush(&lines[s], &log);
		if (m.plen[s] > 0)
			model_entry(&m, s, m.part[s], m.plen[s]);
		hook_lines_clear(&lines[s]);
		free(m.part[s]);
	}
	tail = hook_log_tail(&log);
	want = model_tail(&m);
	if (strcmp(tail, want) != 0 || strlen(tail) > HOOK_LOG_TAIL_MAX ||
	    !tu_well_formed_utf8(tail))
		abort();
	json = hook_diagnostics(HOOK_SCRIPT_FAILED, "s.sh", tail, tail);
	if (strlen(json) > HOOK_DIAGNOSTICS_MAX || !tu_well_formed_utf8(json))
		abort();
	hook_log_close(&log);
	check_scripts_log(&m, path);
	for (i = 0; i < m.n; i++)
		free(m.entries[i]);
	free(m.entries);
	free(m.lens);
	free(json);
	free(tail);
	free(want);
	free(path);
	free(droot);
	return 0;
}
