/*
 * relay: the Commands API calls of the daemon's command processes, carried
 * over unix sockets to one long-lived relay process that makes them on its
 * own, kept-alive connection (see daemon.c for why).
 *
 * The daemon makes a control socket pair with relay_socketpair(), forks,
 * and runs relay_serve() in the child with one end; the other end stays in
 * the main process and is inherited by every command process, which calls
 * relay_connect() on it: that makes a private stream socket pair and passes
 * one end to the relay over the control socket (SCM_RIGHTS).  On that
 * private socket each call is one request frame and one reply frame
 * (a 4-byte length, then NUL-terminated fields), answered in order.
 *
 * The relay also sends the heartbeats (PostHostCommandUpdate) of a command
 * that asked for them with relay_heartbeat(), until the command completes
 * or its process closes the socket.
 */
#ifndef CDAGENT_RELAY_H
#define CDAGENT_RELAY_H

#include "cmdsvc.h"
#include "err.h"

/* A SOCK_SEQPACKET pair, close-on-exec: fds[0] for the relay. */
int relay_socketpair(int fds[2], struct err *err);

/*
 * The relay's loop: serve the command processes that connect through
 * ctl_fd with svc.  Returns when ctl_fd is closed by the other side and no
 * command process is connected.
 */
void relay_serve(struct cmdsvc *svc, int ctl_fd);

struct relay;

/* In a command process: a private channel to the relay behind ctl_fd. */
struct relay *relay_connect(int ctl_fd, struct err *err);
void relay_free(struct relay *relay);

/* As the cmdsvc_* functions of the same name, through the relay. */
int relay_get_spec(struct relay *relay, const char *execution_id,
    const char *host_identifier, struct cmdsvc_spec *out, struct err *err);
int relay_ack(struct relay *relay, const char *host_command_id, int noop,
    char **status, struct err *err);
int relay_complete(struct relay *relay, const char *host_command_id,
    const char *status, const char *diagnostics_json, struct err *err);
/* Heartbeats for host_command_id every interval_s seconds from now. */
int relay_heartbeat(struct relay *relay, const char *host_command_id,
    long interval_s, struct err *err);

#endif
