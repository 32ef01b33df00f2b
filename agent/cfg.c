/*
 * cfg: codedeployagent.yml.  One declarative table lists every key with its
 * type, default, limits and what a valid value looks like; loading, default
 * values and `cdagent config` all walk the same table.
 */
#include "config.h"

#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "cfg.h"
#include "fsutil.h"
#include "json.h"
#include "suggest.h"
#include "xalloc.h"
#include "ytree.h"

enum cfg_type {
	CFG_T_STR,
	CFG_T_PATH, /* an absolute path; trailing slashes dropped */
	CFG_T_URL,  /* http:// or https:// */
	CFG_T_BOOL,
	CFG_T_INT, /* long long within [min, max] */
	CFG_T_SIZE,
	CFG_T_LIST, /* a list of strings, kept comma-separated */
};

#define CFG_F_NO_EFFECT 0x1u /* accepted for compatibility, warned about */
#define CFG_F_CAP 0x2u	     /* over max: warn and use max */

struct cfg_key {
	const char *name;
	enum cfg_type type;
	size_t offset;
	const char *def; /* default as text; NULL: unset */
	long long min, max;
	unsigned flags;
	/* what a valid value looks like, or the note on a no-effect key */
	const char *hint;
};

/* clang-format off */
#define K(name, type, def, min, max, flags, hint) \
	{ #name, type, offsetof(struct cfg, name), def, min, max, flags, hint }
/* clang-format on */

/* v1's packaged keys first, then the rest of v1 §9.1, then v2 §6.1. */
static const struct cfg_key cfg_keys[] = {
	K(log_aws_wire, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(log_dir, CFG_T_PATH, "/var/log/aws/codedeploy-agent", 0, 0, 0,
	    "an absolute directory path such as /var/log/aws/codedeploy-agent"),
	K(pid_dir, CFG_T_PATH, "/opt/codedeploy-agent/state/.pid", 0, 0, 0,
	    "an absolute directory path such as "
	    "/opt/codedeploy-agent/state/.pid"),
	K(program_name, CFG_T_STR, "codedeploy-agent", 0, 0, 0,
	    "a name such as codedeploy-agent"),
	K(root_dir, CFG_T_PATH, "/opt/codedeploy-agent/deployment-root", 0, 0,
	    0,
	    "an absolute directory path such as "
	    "/opt/codedeploy-agent/deployment-root"),
	K(verbose, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(wait_between_runs, CFG_T_INT, "30", 0, 86400, 0,
	    "seconds between polls, 0 to 86400"),
	K(proxy_uri, CFG_T_URL, NULL, 0, 0, 0,
	    "a URL such as http://proxy.example.com:3128"),
	K(max_revisions, CFG_T_INT, "5", 1, 1000000, 0,
	    "how many revisions to keep per deployment group, 1 or more"),
	K(disable_imds_v1, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(http_read_timeout, CFG_T_INT, "80", 1, 3600, 0, "seconds, 1 to 3600"),
	K(enable_deployments_log, CFG_T_BOOL, "true", 0, 0, 0, NULL),
	K(ongoing_deployment_tracking, CFG_T_STR, "ongoing-deployment", 0, 0, 0,
	    "a directory name such as ongoing-deployment"),
	K(kill_agent_max_wait_time_seconds, CFG_T_INT, "7200", 0, 86400,
	    CFG_F_CAP, "seconds, 0 to 86400"),
	K(on_premises_config_file, CFG_T_PATH,
	    "/etc/codedeploy-agent/conf/codedeploy.onpremises.yml", 0, 0, 0,
	    "an absolute file path such as "
	    "/etc/codedeploy-agent/conf/codedeploy.onpremises.yml"),
	K(use_fips_mode, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(deploy_control_endpoint, CFG_T_URL, NULL, 0, 0, 0,
	    "a URL such as https://codedeploy-commands.us-east-1."
	    "amazonaws.com"),
	K(s3_endpoint_override, CFG_T_URL, NULL, 0, 0, 0,
	    "a URL such as https://s3.example.com"),
	K(enable_auth_policy, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(codedeploy_test_profile, CFG_T_STR, "prod", 0, 0, 0,
	    "prod, beta or gamma"),
	K(children, CFG_T_INT, "1", 1, 1, 0, NULL),
	K(use_mock_command_service, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "cdagent has no mock command service; point "
	    "deploy_control_endpoint at a test server instead"),
	K(user, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "cdagent does not switch users itself; set User= in the systemd "
	    "unit instead"),
	K(group, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "cdagent does not switch groups itself; set Group= in the systemd "
	    "unit instead"),
	K(max_runs_per_worker, CFG_T_INT, "0", 0, 1000000000, CFG_F_NO_EFFECT,
	    "cdagent never recycles a long-lived worker"),
	K(wait_after_throttle_error, CFG_T_INT, "60", 0, 86400, 0,
	    "seconds, 0 to 86400"),
	K(wait_after_connection_problem, CFG_T_INT, "5", 0, 86400, 0,
	    "seconds, 0 to 86400"),
	K(wait_between_spawning_children, CFG_T_INT, "1", 0, 86400,
	    CFG_F_NO_EFFECT, "unused, as in AWS's agent"),
	K(wait_after_error, CFG_T_INT, "30", 0, 86400, CFG_F_NO_EFFECT,
	    "unused, as in AWS's agent"),
	K(plugins, CFG_T_LIST, "codedeploy", 0, 0, 0,
	    "a list holding codedeploy"),
	K(instance_service_region, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "unused, as in AWS's agent"),
	K(instance_service_endpoint, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "unused, as in AWS's agent"),
	K(instance_service_port, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "unused, as in AWS's agent"),
	K(shared_dir, CFG_T_STR, NULL, 0, 0, CFG_F_NO_EFFECT,
	    "unused, as in AWS's agent"),

	K(enable_command_port, CFG_T_BOOL, "false", 0, 0, CFG_F_NO_EFFECT,
	    "cdagent has no local command port; use `cdagent status`"),
	K(enable_archive_reuse, CFG_T_BOOL, "true", 0, 0, 0, NULL),
	K(disable_core_dumps, CFG_T_BOOL, "true", 0, 0, 0, NULL),
	K(archive_max_extraction_size, CFG_T_SIZE, NULL, 0, 0, 0,
	    "a byte count such as 2147483648, or a size such as 500MB or "
	    "2GiB"),
	K(reject_symlinks_in_bundle, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(reject_path_traversal_in_bundle, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(reject_unsafe_permissions_in_bundle, CFG_T_BOOL, "false", 0, 0, 0,
	    NULL),
	K(reject_unconfined_selinux_in_bundle, CFG_T_BOOL, "false", 0, 0, 0,
	    NULL),
	K(reject_symlink_permission_targets, CFG_T_BOOL, "false", 0, 0, 0,
	    NULL),
	K(ignore_ownership_in_bundle, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(restrict_agent_dir_permissions, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(restrict_log_dir_permissions, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(restrict_hook_env_to_allowlist, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(strip_loader_env_in_hooks, CFG_T_BOOL, "false", 0, 0, 0, NULL),
	K(disable_powershell_profile_in_hooks, CFG_T_BOOL, "false", 0, 0,
	    CFG_F_NO_EFFECT, "it applies to Windows hosts only"),

	/* cdagent's own */
	K(hook_kill_grace_seconds, CFG_T_INT, "5", 1, 3600, 0,
	    "seconds between SIGTERM and SIGKILL for a timed-out hook, 1 to "
	    "3600"),
	K(s3_download_part_size, CFG_T_SIZE, "16MiB", 1LL << 20, 1LL << 30, 0,
	    "the size of each ranged GET of a large S3 object, such as 16MiB "
	    "(1MiB to 1GiB)"),
	K(s3_download_connections, CFG_T_INT, "4", 1, 64, 0,
	    "parallel connections for one S3 download, 1 to 64"),
	K(command_heartbeat_seconds, CFG_T_INT, "60", 0, 3600, 0,
	    "seconds between PostHostCommandUpdate heartbeats while a command "
	    "runs, 0 (none) to 3600"),
	K(github_api_url, CFG_T_URL, "https://api.github.com", 0, 0, 0,
	    "the GitHub API base URL, such as https://api.github.com or "
	    "https://github.example.com/api/v3"),
};

#define CFG_NKEYS (sizeof(cfg_keys) / sizeof(cfg_keys[0]))

/* Regions with FIPS endpoints, as v1's guard lists them. */
static const char *const fips_regions[] = {
	"us-east-1",
	"us-east-2",
	"us-west-1",
	"us-west-2",
	"us-gov-west-1",
	"us-gov-east-1",
};

/* Read-only view of a key's slot, for printing. */
static const void *
cslot(const struct cfg *cfg, const struct cfg_key *key)
{
	return (const char *)cfg + key->offset;
}

static char **
str_slot(struct cfg *cfg, const struct cfg_key *key)
{
	return (char **)((char *)cfg + key->offset);
}

static int *
bool_slot(struct cfg *cfg, const struct cfg_key *key)
{
	return (int *)((char *)cfg + key->offset);
}

static long long *
int_slot(struct cfg *cfg, const struct cfg_key *key)
{
	return (long long *)((char *)cfg + key->offset);
}

static uint64_t *
size_slot(struct cfg *cfg, const struct cfg_key *key)
{
	return (uint64_t *)((char *)cfg + key->offset);
}

/* Record a diagnostic; an error also counts towards nerrors. */
static void __attribute__((format(printf, 4, 5)))
add_diag(struct cfg *cfg, int is_error, unsigned line, const char *fmt, ...)
{
	struct cfg_diag *d;
	va_list ap;

	cfg->diags =
	    xreallocarray(cfg->diags, cfg->ndiags + 1, sizeof(*cfg->diags));
	d = &cfg->diags[cfg->ndiags++];
	d->is_error = is_error;
	d->line = line;
	va_start(ap, fmt);
	d->msg = xvasprintf(fmt, ap);
	va_end(ap);
	if (is_error)
		cfg->nerrors++;
}

/* Drop trailing slashes so joins never produce "//" ("/" stays). */
static char *
normalise_path(const char *text)
{
	char *p = xstrdup(text);
	size_t len = strlen(p);

	while (len > 1 && p[len - 1] == '/')
		p[--len] = '\0';
	return p;
}

static int
url_scheme_ok(const char *text)
{
	return strncasecmp(text, "https://", 8) == 0 ||
	    strncasecmp(text, "http://", 7) == 0;
}

int
cfg_parse_size(const char *text, uint64_t *out)
{
	static const struct {
		const char *unit;
		uint64_t mult;
	} units[] = {
		{ "", 1 },
		{ "b", 1 },
		{ "kb", 1000ULL },
		{ "mb", 1000ULL * 1000 },
		{ "gb", 1000ULL * 1000 * 1000 },
		{ "tb", 1000ULL * 1000 * 1000 * 1000 },
		{ "kib", 1ULL << 10 },
		{ "mib", 1ULL << 20 },
		{ "gib", 1ULL << 30 },
		{ "tib", 1ULL << 40 },
	};
	char unit[8];
	size_t ulen = 0, i;
	uint64_t v = 0;
	const char *p = text;

	while (isspace((unsigned char)*p))
		p++;
	if (!isdigit((unsigned char)*p))
		return -1;
	for (; isdigit((unsigned char)*p); p++) {
		unsigned d = (unsigned)(*p - '0');

		if (v > (UINT64_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	for (; *p != '\0'; p++) {
		if (isspace((unsigned char)*p))
			continue;
		if (!isalpha((unsigned char)*p) || ulen + 1 >= sizeof(unit))
			return -1;
		unit[ulen++] = (char)tolower((unsigned char)*p);
	}
	unit[ulen] = '\0';
	for (i = 0; i < sizeof(units) / sizeof(units[0]); i++) {
		if (strcmp(unit, units[i].unit) != 0)
			continue;
		if (v != 0 && units[i].mult > UINT64_MAX / v)
			return -1;
		*out = v * units[i].mult;
		return 0;
	}
	return -1;
}

/* Free whatever a key's slot owns. */
static void
clear_slot(struct cfg *cfg, const struct cfg_key *key)
{
	switch (key->type) {
	case CFG_T_STR:
	case CFG_T_PATH:
	case CFG_T_URL:
	case CFG_T_LIST:
		free(*str_slot(cfg, key));
		*str_slot(cfg, key) = NULL;
		break;
	default:
		break;
	}
}

/* Set a key from text (a default, or a scalar's text); 0 or -1. */
static int
set_from_text(struct cfg *cfg, const struct cfg_key *key, const char *text)
{
	long long iv;
	uint64_t sv;
	int bv;

	switch (key->type) {
	case CFG_T_STR:
	case CFG_T_LIST:
		clear_slot(cfg, key);
		*str_slot(cfg, key) = text != NULL ? xstrdup(text) : NULL;
		return 0;
	case CFG_T_PATH:
		if (text != NULL && text[0] != '/')
			return -1;
		clear_slot(cfg, key);
		*str_slot(cfg, key) =
		    text != NULL ? normalise_path(text) : NULL;
		return 0;
	case CFG_T_URL:
		if (text != NULL && !url_scheme_ok(text))
			return -1;
		clear_slot(cfg, key);
		*str_slot(cfg, key) = text != NULL ? xstrdup(text) : NULL;
		return 0;
	case CFG_T_BOOL:
		if (text == NULL || ytree_text_to_bool(text, &bv) < 0)
			return -1;
		*bool_slot(cfg, key) = bv;
		return 0;
	case CFG_T_INT:
		if (text == NULL || ytree_text_to_int(text, &iv) < 0)
			return -1;
		*int_slot(cfg, key) = iv;
		return 0;
	case CFG_T_SIZE:
		if (text == NULL) {
			*size_slot(cfg, key) = 0;
			return 0;
		}
		if (cfg_parse_size(text, &sv) < 0)
			return -1;
		*size_slot(cfg, key) = sv;
		return 0;
	}
	return -1;
}

struct cfg *
cfg_new(void)
{
	struct cfg *cfg = xcalloc(1, sizeof(*cfg));
	size_t i;

	cfg->key_lines = xcalloc(CFG_NKEYS, sizeof(*cfg->key_lines));
	for (i = 0; i < CFG_NKEYS; i++)
		set_from_text(cfg, &cfg_keys[i], cfg_keys[i].def);
	return cfg;
}

void
cfg_free(struct cfg *cfg)
{
	size_t i;

	if (cfg == NULL)
		return;
	for (i = 0; i < CFG_NKEYS; i++)
		clear_slot(cfg, &cfg_keys[i]);
	for (i = 0; i < cfg->nunknown; i++)
		free(cfg->unknown[i].name);
	free(cfg->unknown);
	for (i = 0; i < cfg->ndiags; i++)
		free(cfg->diags[i].msg);
	free(cfg->diags);
	free(cfg->key_lines);
	free(cfg->config_file);
	free(cfg);
}

const char *
cfg_default_path(void)
{
	struct stat st;

	if (stat(CFG_DEFAULT_PATH, &st) == 0 && S_ISREG(st.st_mode))
		return CFG_DEFAULT_PATH;
	if (stat(CFG_LEGACY_PATH, &st) == 0 && S_ISREG(st.st_mode))
		return CFG_LEGACY_PATH;
	return NULL;
}

static const struct cfg_key *
find_key(const char *name)
{
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++)
		if (strcmp(cfg_keys[i].name, name) == 0)
			return &cfg_keys[i];
	return NULL;
}

/* The known key closest to name (at most 3 edits away), or NULL. */
static const char *
closest_key(const char *name)
{
	const char *names[CFG_NKEYS];
	size_t i;

	for (i = 0; i < CFG_NKEYS; i++)
		names[i] = cfg_keys[i].name;
	return suggest_closest(name, names, CFG_NKEYS, 3, 0);
}

/* What a valid value looks like, for an error message. */
static const char *
type_hint(const struct cfg_key *key)
{
	if (key->hint != NULL && !(key->flags & CFG_F_NO_EFFECT))
		return key->hint;
	switch (key->type) {
	case CFG_T_BOOL:
		return "true or false";
	case CFG_T_INT:
		return "a whole number";
	case CFG_T_LIST:
		return "a list of strings";
	default:
		return "a string";
	}
}

/* Join a YAML list of scalars with commas. */
static char *
join_list(const struct ytree *seq)
{
	size_t i, len = 0;
	char *out;

	for (i = 0; i < seq->n; i++)
		len += seq->child[i]->len + 1;
	out = xcalloc(1, len + 1);
	for (i = 0; i < seq->n; i++) {
		if (i > 0)
			strcat(out, ",");
		strcat(out, seq->child[i]->value);
	}
	return out;
}

static int
list_of_scalars(const struct ytree *node)
{
	size_t i;

	if (node->kind != YTREE_SEQ)
		return 0;
	for (i = 0; i < node->n; i++)
		if (node->child[i]->kind != YTREE_SCALAR ||
		    strchr(node->child[i]->value, ',') != NULL)
			return 0;
	return 1;
}

/* Apply one key: value pair from the file. */
static void
apply_pair(struct cfg *cfg, const char *name, const struct cfg_key *key,
    const struct ytree *kn, const struct ytree *value)
{
	const char *file = cfg->config_file;
	unsigned line = kn->line;
	long long iv;
	int bv;

	if (key->flags & CFG_F_NO_EFFECT)
		add_diag(cfg, 0, line, "%s:%u: key '%s' has no effect: %s",
		    file, line, name, key->hint);

	if (strcmp(name, "children") == 0 &&
	    (ytree_to_int(value, &iv) < 0 || iv != 1)) {
		/* v1's exact message; cdagent, like v1, runs one worker */
		add_diag(cfg, 1, line, "%s:%u: children can only be set to 1",
		    file, line);
		return;
	}
	if (ytree_is_null(value)) {
		if (key->type == CFG_T_BOOL || key->type == CFG_T_INT) {
			add_diag(cfg, 1, line,
			    "%s:%u: key '%s' has no value; give %s (the "
			    "default is %s)",
			    file, line, name, type_hint(key), key->def);
			return;
		}
		set_from_text(cfg, key, key->type == CFG_T_LIST ? "" : NULL);
		return;
	}
	if (key->type == CFG_T_LIST && list_of_scalars(value)) {
		char *joined = join_list(value);

		set_from_text(cfg, key, joined);
		free(joined);
		return;
	}
	if (value->kind != YTREE_SCALAR) {
		add_diag(cfg, 1, value->line, "%s:%u: key '%s' is %s; give %s",
		    file, value->line, name, ytree_describe(value),
		    type_hint(key));
		return;
	}

	switch (key->type) {
	case CFG_T_BOOL:
		if (ytree_to_bool(value, &bv) == 0 ||
		    ytree_text_to_bool(value->value, &bv) == 0) {
			*bool_slot(cfg, key) = bv;
			return;
		}
		break;
	case CFG_T_INT:
		if (ytree_to_int(value, &iv) < 0 &&
		    ytree_text_to_int(value->value, &iv) < 0)
			break;
		if (iv > key->max && (key->flags & CFG_F_CAP)) {
			add_diag(cfg, 0, value->line,
			    "%s:%u: key '%s' is %lld, over the maximum; using "
			    "%lld",
			    file, value->line, name, iv, key->max);
			iv = key->max;
		}
		if (iv < key->min || iv > key->max) {
			add_diag(cfg, 1, value->line,
			    "%s:%u: key '%s' is %lld; give %s", file,
			    value->line, name, iv, type_hint(key));
			return;
		}
		*int_slot(cfg, key) = iv;
		return;
	case CFG_T_SIZE:
		if (ytree_to_int(value, &iv) == 0) {
			if (iv < 0)
				break;
			*size_slot(cfg, key) = (uint64_t)iv;
		} else if (set_from_text(cfg, key, value->value) < 0) {
			break;
		}
		if (key->max > 0 &&
		    (*size_slot(cfg, key) < (uint64_t)key->min ||
			*size_slot(cfg, key) > (uint64_t)key->max)) {
			add_diag(cfg, 1, value->line,
			    "%s:%u: key '%s' is %s; give %s", file, value->line,
			    name, value->value, type_hint(key));
			return;
		}
		return;
	default:
		if (set_from_text(cfg, key, value->value) == 0)
			return;
		break;
	}
	add_diag(cfg, 1, value->line,
	    "%s:%u: key '%s' has the value '%s'; give %s", file, value->line,
	    name, value->value, type_hint(key));
}

static void
keep_unknown(struct cfg *cfg, const char *name, unsigned line)
{
	const char *guess = closest_key(name);

	cfg->unknown = xreallocarray(
	    cfg->unknown, cfg->nunknown + 1, sizeof(*cfg->unknown));
	cfg->unknown[cfg->nunknown].name = xstrdup(name);
	cfg->unknown[cfg->nunknown].line = line;
	cfg->nunknown++;
	if (guess != NULL)
		add_diag(cfg, 0, line,
		    "%s:%u: unknown key '%s' ignored; did you mean '%s'?",
		    cfg->config_file, line, name, guess);
	else
		add_diag(cfg, 0, line, "%s:%u: unknown key '%s' ignored",
		    cfg->config_file, line, name);
}

/* The first error diagnostic as err, plus how many more there are. */
static int
first_error(struct cfg *cfg, struct err *err)
{
	size_t i;

	for (i = 0; i < cfg->ndiags; i++) {
		if (!cfg->diags[i].is_error)
			continue;
		if (cfg->nerrors > 1)
			return err_set(err, E_INVALID, "%s (and %zu more)",
			    cfg->diags[i].msg, cfg->nerrors - 1);
		return err_set(err, E_INVALID, "%s", cfg->diags[i].msg);
	}
	return 0;
}

int
cfg_load_buffer(struct cfg *cfg, const char *buf, size_t len, const char *name,
    struct err *err)
{
	struct ytree *doc = NULL;
	size_t i;
	int ret = -1;

	free(cfg->config_file);
	cfg->config_file = xstrdup(name);
	if (ytree_parse(buf, len, name, &doc, err) < 0) {
		add_diag(cfg, 1, 0, "%s", err->msg);
		err_prefix(err, "invalid configuration");
		goto out;
	}
	if (doc == NULL) {
		ret = 0; /* an empty file: built-in defaults */
		goto out;
	}
	if (doc->kind != YTREE_MAP) {
		err_set(err, E_PARSE,
		    "%s:%u:%u: the configuration must be a mapping of keys to "
		    "values (such as ':root_dir: /opt/codedeploy-agent/"
		    "deployment-root'), not %s",
		    name, doc->line, doc->col, ytree_describe(doc));
		add_diag(cfg, 1, doc->line, "%s", err->msg);
		goto out;
	}
	for (i = 0; i < doc->n; i++) {
		const struct ytree *kn = ytree_key(doc, i);
		const struct cfg_key *key;
		const char *key_name;

		if (kn->kind != YTREE_SCALAR) {
			add_diag(cfg, 1, kn->line,
			    "%s:%u: a key must be a plain name, not %s", name,
			    kn->line, ytree_describe(kn));
			continue;
		}
		/* Ruby-symbol style ":log_dir:" reads as the key ":log_dir" */
		key_name = kn->value[0] == ':' ? kn->value + 1 : kn->value;
		key = find_key(key_name);
		if (key == NULL) {
			keep_unknown(cfg, key_name, kn->line);
			continue;
		}
		apply_pair(cfg, key_name, key, kn, ytree_value(doc, i));
		cfg->key_lines[key - cfg_keys] = kn->line;
	}
	ret = cfg->nerrors > 0 ? first_error(cfg, err) : 0;
out:
	ytree_free(doc);
	return ret;
}

int
cfg_load_file(struct cfg *cfg, const char *path, struct err *err)
{
	char *buf = NULL;
	size_t len = 0;
	int ret;

	if (fsutil_read_file(path, CFG_MAX_FILE_SIZE, &buf, &len, err) < 0) {
		/* v1's words for a missing file; otherwise what happened */
		if (err->code == E_NOTFOUND) {
			err_clear(err);
			err_set(err, E_NOTFOUND,
			    "The config file %s does not exist or is not "
			    "readable",
			    path);
		} else {
			err_prefix(err, "The config file cannot be read");
		}
		free(cfg->config_file);
		cfg->config_file = xstrdup(path);
		add_diag(cfg, 1, 0, "%s", err->msg);
		return -1;
	}
	ret = cfg_load_buffer(cfg, buf, len, path, err);
	free(buf);
	return ret;
}

int
cfg_check_fips(const struct cfg *cfg, const char *region, struct err *err)
{
	size_t i;

	if (!cfg->use_fips_mode || region == NULL)
		return 0;
	for (i = 0; i < sizeof(fips_regions) / sizeof(fips_regions[0]); i++)
		if (strcmp(region, fips_regions[i]) == 0)
			return 0;
	return err_set(err, E_INVALID,
	    "use_fips_mode can be set to true only in regions located in the "
	    "USA (region is %s; FIPS endpoints exist in us-east-1, us-east-2, "
	    "us-west-1, us-west-2, us-gov-west-1 and us-gov-east-1)",
	    region);
}

/* A URL with the password of any "user:password@" hidden; free it. */
static char *
redact_url(const char *url)
{
	const char *auth, *at, *colon, *slash;

	auth = strstr(url, "://");
	auth = auth != NULL ? auth + 3 : url;
	at = strchr(auth, '@');
	colon = at != NULL ? memchr(auth, ':', (size_t)(at - auth)) : NULL;
	slash = strchr(auth, '/');
	if (colon == NULL || (slash != NULL && slash < at))
		return xstrdup(url);
	return xasprintf("%.*s[REDACTED]%s", (int)(colon + 1 - url), url, at);
}

static void
print_url(const char *url, FILE *out)
{
	char *shown;

	if (url == NULL) {
		fputs("none", out);
		return;
	}
	shown = redact_url(url);
	fputs(shown, out);
	free(shown);
}

void
cfg_print(const struct cfg *cfg, FILE *out)
{
	size_t i;

	fprintf(out, "# config file: %s\n",
	    cfg->config_file != NULL ? cfg->config_file
				     : "none (built-in defaults)");
	for (i = 0; i < CFG_NKEYS; i++) {
		const struct cfg_key *key = &cfg_keys[i];
		const char *s;

		fprintf(out, "%s ", key->name);
		switch (key->type) {
		case CFG_T_BOOL:
			fputs(*(const int *)cslot(cfg, key) ? "true" : "false",
			    out);
			break;
		case CFG_T_INT:
			fprintf(
			    out, "%lld", *(const long long *)cslot(cfg, key));
			break;
		case CFG_T_SIZE:
			if (*(const uint64_t *)cslot(cfg, key) == 0)
				fputs("none", out);
			else
				fprintf(out, "%llu",
				    (unsigned long long)*(
					const uint64_t *)cslot(cfg, key));
			break;
		case CFG_T_URL:
			print_url(*(char *const *)cslot(cfg, key), out);
			break;
		default:
			s = *(char *const *)cslot(cfg, key);
			fputs(s != NULL && s[0] != '\0' ? s : "none", out);
			break;
		}
		fputc('\n', out);
	}
	for (i = 0; i < cfg->nunknown; i++)
		fprintf(out, "# unknown key ignored: %s (line %u)\n",
		    cfg->unknown[i].name, cfg->unknown[i].line);
}

/* One key's effective value as JSON: null when unset ("none"). */
static struct json *
key_value_json(const struct cfg *cfg, const struct cfg_key *key)
{
	const char *s;
	uint64_t size;

	switch (key->type) {
	case CFG_T_BOOL:
		return json_bool(*(const int *)cslot(cfg, key));
	case CFG_T_INT:
		return json_number((double)*(const long long *)cslot(cfg, key));
	case CFG_T_SIZE:
		size = *(const uint64_t *)cslot(cfg, key);
		return size == 0 ? json_null() : json_number((double)size);
	case CFG_T_URL:
		s = *(char *const *)cslot(cfg, key);
		if (s == NULL)
			return json_null();
		{
			char *shown = redact_url(s);
			struct json *v = json_string(shown);

			free(shown);
			return v;
		}
	default:
		s = *(char *const *)cslot(cfg, key);
		return s != NULL && s[0] != '\0' ? json_string(s) : json_null();
	}
}

char *
cfg_to_json(const struct cfg *cfg)
{
	struct json *doc = json_object(), *keys = json_object();
	struct json *unknown = json_array();
	char *text;
	size_t i;

	json_set(doc, "config_file",
	    cfg->config_file != NULL ? json_string(cfg->config_file)
				     : json_null());
	for (i = 0; i < CFG_NKEYS; i++) {
		struct json *entry = json_object();
		char *source = cfg->key_lines[i] > 0
		    ? xasprintf("%s:%u", cfg->config_file, cfg->key_lines[i])
		    : xstrdup("default");

		json_set(entry, "value", key_value_json(cfg, &cfg_keys[i]));
		json_set(entry, "source", json_string(source));
		json_set(keys, cfg_keys[i].name, entry);
		free(source);
	}
	json_set(doc, "keys", keys);
	for (i = 0; i < cfg->nunknown; i++) {
		struct json *entry = json_object();

		json_set(entry, "name", json_string(cfg->unknown[i].name));
		json_set(entry, "line", json_number(cfg->unknown[i].line));
		json_push(unknown, entry);
	}
	json_set(doc, "unknown_keys", unknown);
	text = json_print(doc);
	json_free(doc);
	return text;
}
