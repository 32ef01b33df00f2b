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
 * 0 after a clean stop; EX_CONFIG (78) when start-up fails for a reason only
 * the administrator can fix (no credentials or region, a bad on-premises
 * file, FIPS outside the US, an endpoint certificate that does not verify),
 * so systemd does not restart it (RestartPreventExitStatus=78); 1 when it
 * fails for a reason a later start may not meet (the endpoint unreachable,
 * the state directory unwritable).  Either way with one line on
 * stderr/journald saying why.
 */
int daemon_main(struct cfg *cfg, const char *cfg_path);

#endif
