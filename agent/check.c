/*
 * check: a revision checked before it may disrupt anything (see check.h).
 *
 * Only what would fail the deployment later anyway is an error, so a
 * revision AWS's agent deploys is never refused here: a script or `files`
 * source missing from the revision; a destination that exists as a
 * non-directory, a runas user, owner or group that does not exist, while no
 * BeforeInstall script could change that.  The rest are warnings.
 */
#include "config.h"

#include <errno.h>
#include <grp.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "check.h"
#include "fsutil.h"
#include "xalloc.h"

void
check_report_clear(struct check_report *rep)
{
	size_t i;

	for (i = 0; i < rep->ndiags; i++)
		free(rep->diags[i].msg);
	free(rep->diags);
	memset(rep, 0, sizeof(*rep));
}

void
check_report_add(struct check_report *rep, int is_error, const char *fmt, ...)
{
	va_list ap;

	rep->diags =
	    xreallocarray(rep->diags, rep->ndiags + 1, sizeof(*rep->diags));
	rep->diags[rep->ndiags].is_error = is_error;
	va_start(ap, fmt);
	rep->diags[rep->ndiags].msg = xvasprintf(fmt, ap);
	va_end(ap);
	rep->ndiags++;
	if (is_error)
		rep->nerrors++;
}

/* The appspec's name as its parser's messages give it. */
static const char *
base_name(const struct appspec *as)
{
	const char *slash;

	if (as->path == NULL)
		return "appspec.yml";
	slash = strrchr(as->path, '/');
	return slash != NULL ? slash + 1 : as->path;
}

/* Whether a BeforeInstall script runs before user name could be needed. */
static int
has_before_install(const struct appspec *as)
{
	const struct appspec_hook *hook =
	    appspec_find_hook(as, "BeforeInstall");

	return hook != NULL && hook->nscripts > 0;
}

static void
check_user(const struct appspec *as, const char *what, const char *name,
    unsigned line, unsigned col, struct check_report *rep)
{
	int created = has_before_install(as);

	if (getpwnam(name) != NULL)
		return;
	check_report_add(rep, !created,
	    "%s:%u:%u: %s '%s' does not exist on this host%s", base_name(as),
	    line, col, what, name,
	    created ? " (a BeforeInstall script may create it)"
		    : "; create it before deploying, or remove it");
}

static void
check_group(const struct appspec *as, const char *name, unsigned line,
    unsigned col, struct check_report *rep)
{
	int created = has_before_install(as);

	if (getgrnam(name) != NULL)
		return;
	check_report_add(rep, !created,
	    "%s:%u:%u: group '%s' does not exist on this host%s", base_name(as),
	    line, col, name,
	    created ? " (a BeforeInstall script may create it)"
		    : "; create it before deploying, or remove it");
}

/* A path inside the revision: 1 regular file, 2 directory, 0 missing. */
static int
revision_entry(const char *archive_dir, const char *rel, const char **why)
{
	struct err err = ERR_INIT;
	char *path = NULL;
	struct stat st;
	int kind = 0;

	*why = "does not exist in the revision";
	while (*rel == '/')
		rel++;
	if (fsutil_join_safe(archive_dir, rel, &path, &err) < 0) {
		*why = "resolves outside the revision";
		return 0;
	}
	if (stat(path, &st) == 0)
		kind = S_ISDIR(st.st_mode) ? 2 : 1;
	free(path);
	return kind;
}

static void
check_hooks(const char *archive_dir, const struct appspec *as, unsigned flags,
    struct check_report *rep)
{
	size_t i, j;

	for (i = 0; i < as->nhooks; i++) {
		const struct appspec_hook *hook = &as->hooks[i];

		for (j = 0; j < hook->nscripts; j++) {
			const struct appspec_script *s = &hook->scripts[j];
			const char *why;
			int kind = archive_dir != NULL
			    ? revision_entry(archive_dir, s->location, &why)
			    : 1;

			if (kind != 1)
				check_report_add(rep, 1,
				    "%s:%u:%u: hook %s: script '%s' %s; add "
				    "it to the revision or fix the location",
				    base_name(as), s->line, s->col, hook->event,
				    s->location,
				    kind == 2 ? "is a directory" : why);
			if ((flags & CHECK_HOST) && s->runas != NULL)
				check_user(as, "runas user", s->runas, s->line,
				    s->col, rep);
		}
	}
}

static void
check_files(const char *archive_dir, const struct appspec *as, unsigned flags,
    struct check_report *rep)
{
	size_t i;

	for (i = 0; i < as->nfiles; i++) {
		const struct appspec_file *f = &as->files[i];
		const char *why;
		struct stat st;

		if (archive_dir != NULL && f->source[0] != '\0' &&
		    strcmp(f->source, "/") != 0 &&
		    revision_entry(archive_dir, f->source, &why) == 0)
			check_report_add(rep, 1,
			    "%s:%u:%u: files: source '%s' %s; add it to the "
			    "revision or fix the source",
			    base_name(as), f->line, f->col, f->source, why);
		/* relative destinations are refused by appspec_parse */
		if ((flags & CHECK_HOST) && stat(f->destination, &st) == 0 &&
		    !S_ISDIR(st.st_mode))
			check_report_add(rep, !has_before_install(as),
			    "%s:%u:%u: files: destination '%s' exists on "
			    "this host and is not a directory%s",
			    base_name(as), f->line, f->col, f->destination,
			    has_before_install(as)
				? " (a BeforeInstall script may remove it)"
				: "");
	}
}

static void
check_permissions(
    const struct appspec *as, unsigned flags, struct check_report *rep)
{
	size_t i, j;

	if (!(flags & CHECK_HOST))
		return;
	for (i = 0; i < as->npermissions; i++) {
		const struct appspec_permission *p = &as->permissions[i];

		if (p->owner != NULL)
			check_user(as, "owner", p->owner, p->line, p->col, rep);
		if (p->group != NULL)
			check_group(as, p->group, p->line, p->col, rep);
		for (j = 0; j < p->nacls; j++) {
			const struct appspec_ace *ace = &p->acls[j];

			if (ace->kind == APPSPEC_ACE_USER && ace->name[0])
				check_user(as, "acl user", ace->name, p->line,
				    p->col, rep);
			else if (ace->kind == APPSPEC_ACE_GROUP && ace->name[0])
				check_group(
				    as, ace->name, p->line, p->col, rep);
		}
	}
}

int
check_revision(const char *archive_dir, const struct appspec *as,
    unsigned flags, struct check_report *rep)
{
	size_t i, before = rep->nerrors;

	for (i = 0; i < as->nwarnings; i++)
		check_report_add(rep, 0, "%s", as->warnings[i]);
	check_hooks(archive_dir, as, flags, rep);
	check_files(archive_dir, as, flags, rep);
	check_permissions(as, flags, rep);
	return rep->nerrors > before ? -1 : 0;
}
