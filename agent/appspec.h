/*
 * appspec: appspec.yml parsed into one owned tree (v1 §6), with v1 bug 28
 * fixed (an unquoted `mode: 0644` means 0644; `version: "0.0"` is accepted).
 *
 * Every error names "<file>:LINE:COL", the key, and what is allowed.
 * Unknown top-level keys are warnings (kept in ->warnings), as v1 ignores
 * them; unknown hook names are errors.
 */
#ifndef CDAGENT_APPSPEC_H
#define CDAGENT_APPSPEC_H

#include <stddef.h>

#include "err.h"

/* Default hook timeout (seconds) when a script gives none. */
#define APPSPEC_DEFAULT_TIMEOUT 3600

enum appspec_feb {
	APPSPEC_FEB_UNSET, /* not given: the deployment's value applies */
	APPSPEC_FEB_DISALLOW,
	APPSPEC_FEB_OVERWRITE,
	APPSPEC_FEB_RETAIN,
};

struct appspec_script {
	char *location;	  /* relative to the revision root; stripped */
	char *runas;	  /* NULL: the agent's user */
	int sudo;	  /* v1 truthiness: only false/null are false */
	unsigned timeout; /* seconds, > 0 */
	unsigned line, col;
};

struct appspec_hook {
	char *event; /* "BeforeInstall", or a custom event name */
	struct appspec_script *scripts;
	size_t nscripts; /* 0 for `Event: []` (kept, a noop) */
	unsigned line, col;
};

struct appspec_file {
	char *source;	   /* relative to the revision root; "" or "/" = all */
	char *destination; /* as written */
	unsigned line, col;
};

#define APPSPEC_TYPE_FILE 0x1u
#define APPSPEC_TYPE_DIRECTORY 0x2u

enum appspec_ace_kind {
	APPSPEC_ACE_USER,
	APPSPEC_ACE_GROUP,
	APPSPEC_ACE_MASK,
	APPSPEC_ACE_OTHER,
};

struct appspec_ace {
	int is_default;
	enum appspec_ace_kind kind;
	char *name;	/* "" for mask/other */
	unsigned perms; /* 4 r, 2 w, 1 x */
};

struct appspec_context {
	char *user;  /* SELinux user, or NULL */
	char *type;  /* required */
	char *range; /* rendered compactly ("s0:c0.c1,c7"), or NULL */
};

struct appspec_permission {
	char *object;  /* stripped, non-empty */
	char *pattern; /* "**" or a glob where only '*' is special */
	char **except; /* globs */
	size_t nexcept;
	unsigned types; /* APPSPEC_TYPE_*; both when not given */
	char *owner;	/* NULL: unchanged */
	char *group;	/* NULL: unchanged */
	int has_mode;
	unsigned mode;	   /* 0..07777 */
	char mode_text[8]; /* v1's string form for install.json ("644") */
	struct appspec_ace *acls;
	size_t nacls;
	int has_context;
	struct appspec_context context;
	unsigned line, col;
};

struct appspec {
	char *path; /* the file parsed, for messages */
	char *os;   /* "linux" */
	struct appspec_hook *hooks;
	size_t nhooks;
	struct appspec_file *files;
	size_t nfiles;
	struct appspec_permission *permissions;
	size_t npermissions;
	enum appspec_feb file_exists_behavior;
	char **warnings; /* "appspec.yml:12:1: unknown key 'foo' ignored" */
	size_t nwarnings;
};

struct appspec_opts {
	/*
	 * Hook names allowed besides the nine standard ones (ApplicationStop,
	 * BeforeInstall, AfterInstall, ApplicationStart, ValidateService,
	 * BeforeBlockTraffic, AfterBlockTraffic, BeforeAllowTraffic,
	 * AfterAllowTraffic): the custom events of a deployment.  NULL or
	 * empty: none.
	 */
	const char *const *custom_events;
	size_t ncustom_events;
};

/*
 * Parse appspec text.  name is used in messages ("appspec.yml").  opts may
 * be NULL.  Free *out with appspec_free().  Stops at the first error
 * (E_INVALID, or E_PARSE for malformed YAML).  A hook name is checked even
 * when its value is null (and the hook then dropped); timeouts above
 * INT_MAX seconds are refused.  Where v1 reads a value in a surprising way
 * (timeout "5m" as 5, 010 as 8) the value is kept and a warning added.
 */
int appspec_parse(const char *buf, size_t len, const char *name,
    const struct appspec_opts *opts, struct appspec **out, struct err *err);

/*
 * Find and parse the appspec of an unpacked revision: archive_dir/filename
 * if it exists (filename NULL means appspec.yml), else appspec.yaml, else
 * appspec.yml, as v1's Install does.  A missing file is E_NOTFOUND with a
 * message naming the paths tried.
 */
int appspec_load(const char *archive_dir, const char *filename,
    const struct appspec_opts *opts, struct appspec **out, struct err *err);

void appspec_free(struct appspec *spec);

/* The hook for an event, or NULL. */
const struct appspec_hook *appspec_find_hook(
    const struct appspec *spec, const char *event);

/* Whether name is one of the nine standard hook names. */
int appspec_is_standard_hook(const char *event);

/* v1's glob: '*' matches any run of characters except '/'; whole name. */
int appspec_glob_match(const char *pattern, const char *name);

/* "DISALLOW", "OVERWRITE", "RETAIN", or "" when unset. */
const char *appspec_feb_name(enum appspec_feb feb);
/* Parse a file-exists behaviour; case-insensitive when fold_case (the
 * deployment-level value), exact otherwise (the appspec value).  0 or -1. */
int appspec_parse_feb(const char *text, int fold_case, enum appspec_feb *out);

/* Canonical ACE text, "[default:]user:bob:rwx" (v1 §6.6); free with free(). */
char *appspec_ace_format(const struct appspec_ace *ace);

#endif
