/*
 * daemon: `cdagent run`, the agent proper.  Polls the Commands API and
 * carries out each command in a child process (see daemon.c's top comment
 * for why), reporting every command exactly once.
 */
#ifndef CDAGENT_DAEMON_H
#define CDAGENT_DAEMON_H

#include "cfg.h"

#define DAEMON_PID_FILE "cdagent.pid"
#define DAEMON_STATUS_FILE "cdagent-status.json"
#define DAEMON_COMMANDS_DIR "cdagent-commands"

/* The FAILED_AFTER_RESTART message (v1 §3.7 code 7). */
#define DAEMON_RESTART_MESSAGE                                                 \
	"Failed: The CodeDeploy agent was restarted while this lifecycle "     \
	"event was in progress, so the event was failed."

/*
 * Run until SIGTERM/SIGINT.  cfg_path is the file read (and read again on
 * SIGHUP); NULL for the built-in defaults.  Returns the process exit code:
 * 0 after a clean stop, 1 when start-up cannot succeed (a bad config or no
 * credentials), with one line on stderr/journald saying why.
 */
int daemon_main(struct cfg *cfg, const char *cfg_path);

#endif
