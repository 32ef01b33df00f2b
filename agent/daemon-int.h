/*
 * daemon-int: the parts of daemon.c that need no network, apart so that
 * tests/unit/test_daemon.c can reach them: the in-flight record of each
 * running command (daemon-record.c) and what an acknowledgement's status
 * means for the command.
 */
#ifndef CDAGENT_DAEMON_INT_H
#define CDAGENT_DAEMON_INT_H

#include <time.h>

#include "err.h"

/* A record older than this at start is dropped, not reported. */
#define DAEMON_RECORD_MAX_AGE_S 86400

/*
 * Write the in-flight record of a command before it runs (v1 §3.9):
 * tracking_dir/<deployment_id> holding host_command_id, replaced
 * atomically, tracking_dir made if missing.  Returns its path (free() it,
 * or pass it to daemon_record_remove), or NULL with err set.
 */
char *daemon_record_write(const char *tracking_dir, const char *deployment_id,
    const char *host_command_id, struct err *err);

/* Remove the record at path once its command is over; frees path. */
void daemon_record_remove(char *path);

/*
 * Called for each command a previous run left in flight; returns 0 once it
 * is reported (the record is then removed), -1 to keep the record for the
 * next start.
 */
typedef int (*daemon_record_fn)(
    const char *deployment_id, const char *host_command_id, void *arg);

/*
 * At start: hand every record in tracking_dir to report.  A record older
 * than DAEMON_RECORD_MAX_AGE_S at now, empty or unreadable is dropped with
 * a warning instead; names starting with '.' and anything but a regular
 * file are left alone.  A missing directory has no records.
 */
void daemon_record_recover(
    const char *tracking_dir, time_t now, daemon_record_fn report, void *arg);

/* What the agent does after PutHostCommandAcknowledgement. */
enum daemon_ack_action {
	DAEMON_ACK_RUN,		  /* carry the command out */
	DAEMON_ACK_DONE,	  /* the service has it done: nothing to do */
	DAEMON_ACK_COMPLETE_NOOP, /* Failed but a noop: report it Succeeded */
	DAEMON_ACK_LEAVE,	  /* Failed: nothing to run or report */
};

/* From the acknowledgement's status (NULL: none) and whether the command is
 * a noop. */
enum daemon_ack_action daemon_ack_action(const char *ack_status, int noop);

#endif
