/* daemon-record: in-flight records and acknowledgements (daemon-int.h). */
#include "config.h"

#include <dirent.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon-int.h"
#include "fsutil.h"
#include "log.h"
#include "xalloc.h"

char *
daemon_record_write(const char *tracking_dir, const char *deployment_id,
    const char *host_command_id, struct err *err)
{
	char *path = xasprintf("%s/%s", tracking_dir, deployment_id);

	if (fsutil_mkdir_p(tracking_dir, 0755, err) < 0 ||
	    fsutil_write_atomic(path, host_command_id, strlen(host_command_id),
		0644, err) < 0) {
		free(path);
		return NULL;
	}
	return path;
}

void
daemon_record_remove(char *path)
{
	if (path == NULL)
		return;
	if (unlink(path) < 0 && errno != ENOENT)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	free(path);
}

/* One record at path: reported, dropped, or left for the next start. */
static void
recover_one(const char *path, const char *deployment_id, time_t now,
    daemon_record_fn report, void *arg)
{
	struct err err = ERR_INIT;
	char *id = NULL;
	struct stat st;
	size_t len;

	if (lstat(path, &st) < 0 || !S_ISREG(st.st_mode))
		return;
	if (now - st.st_mtime > DAEMON_RECORD_MAX_AGE_S) {
		log_warn("dropping the stale record %s", path);
		(void)unlink(path);
		return;
	}
	if (fsutil_read_file(path, 4096, &id, &len, &err) < 0 || len == 0) {
		log_warn("cannot read %s: %s", path,
		    err_isset(&err) ? err.msg : "empty");
		(void)unlink(path);
		free(id);
		return;
	}
	log_warn("deployment %s was interrupted by a restart; "
		 "reporting command %s as failed",
	    deployment_id, id);
	if (report(deployment_id, id, arg) == 0 && unlink(path) < 0)
		log_warn("cannot remove %s: %s", path, strerror(errno));
	free(id);
}

void
daemon_record_recover(
    const char *tracking_dir, time_t now, daemon_record_fn report, void *arg)
{
	DIR *dp = opendir(tracking_dir);
	struct dirent *de;

	if (dp == NULL)
		return;
	while ((de = fsutil_readdir(dp)) != NULL) {
		char *path;

		if (de->d_name[0] == '.')
			continue;
		path = xasprintf("%s/%s", tracking_dir, de->d_name);
		recover_one(path, de->d_name, now, report, arg);
		free(path);
	}
	closedir(dp);
}

enum daemon_ack_action
daemon_ack_action(const char *ack_status, int noop)
{
	if (ack_status != NULL && strcmp(ack_status, "Succeeded") == 0)
		return DAEMON_ACK_DONE;
	if (ack_status != NULL && strcmp(ack_status, "Failed") == 0)
		return noop ? DAEMON_ACK_COMPLETE_NOOP : DAEMON_ACK_LEAVE;
	return DAEMON_ACK_RUN;
}
