/* relay: Commands API calls of command processes through one process. */
#include "config.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "clock.h"
#include "log.h"
#include "relay.h"
#include "xalloc.h"

#define RELAY_MAX_CHANNELS 64
#define RELAY_MAX_FRAME (16u << 20)
#define RELAY_MAX_FIELDS 8

struct relay {
	int fd;
};

/* A message: fields, each a tag ('s' string, 'n' NULL) and a C string. */
struct msg {
	char *buf;
	size_t len;
	size_t cap;
};

static void
msg_put(struct msg *m, const char *s)
{
	size_t need = (s != NULL ? strlen(s) : 0) + 2;

	if (m->len + need > m->cap) {
		m->cap = (m->len + need) * 2;
		m->buf = xrealloc(m->buf, m->cap);
	}
	m->buf[m->len++] = s != NULL ? 's' : 'n';
	if (s != NULL) {
		memcpy(m->buf + m->len, s, need - 2);
		m->len += need - 2;
	}
	m->buf[m->len++] = '\0';
}

/* Split buf into fields; -1 when it is not a well-formed message. */
static int
msg_fields(char *buf, size_t len, const char **f, size_t max, size_t *nf)
{
	size_t pos = 0;

	*nf = 0;
	while (pos < len) {
		char *end = memchr(buf + pos, '\0', len - pos);

		if (end == NULL || *nf == max ||
		    (buf[pos] != 's' && buf[pos] != 'n') ||
		    (buf[pos] == 'n' && end != buf + pos + 1))
			return -1;
		f[(*nf)++] = buf[pos] == 's' ? buf + pos + 1 : NULL;
		pos = (size_t)(end - buf) + 1;
	}
	return 0;
}

static int
write_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len > 0) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* 1 read, 0 at end of file before any byte, -1 on error. */
static int
read_all(int fd, void *data, size_t len)
{
	char *p = data;
	size_t got = 0;

	while (got < len) {
		ssize_t n = read(fd, p + got, len - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -1;
		if (n == 0)
			return got == 0 ? 0 : -1;
		got += (size_t)n;
	}
	return 1;
}

static int
send_frame(int fd, const struct msg *m)
{
	uint32_t len = (uint32_t)m->len;

	if (write_all(fd, &len, sizeof(len)) < 0)
		return -1;
	return write_all(fd, m->buf, m->len);
}

/* A frame into *buf (free()); 1, 0 at end of file, -1 on error. */
static int
recv_frame(int fd, char **buf, size_t *len)
{
	uint32_t n;
	int rc;

	*buf = NULL;
	*len = 0;
	rc = read_all(fd, &n, sizeof(n));
	if (rc <= 0)
		return rc;
	if (n > RELAY_MAX_FRAME)
		return -1;
	*buf = xmalloc(n + 1);
	if (n > 0 && read_all(fd, *buf, n) != 1) {
		free(*buf);
		*buf = NULL;
		return -1;
	}
	*len = n;
	return 1;
}

int
relay_socketpair(int fds[2], struct err *err)
{
	if (socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, fds) < 0)
		return err_sys(err, "cannot make the relay's socket pair");
	return 0;
}

/* --- the relay process ---------------------------------------------------- */

struct channel {
	int fd;
	char *beat_id; /* heartbeats for this command, or NULL */
	long long beat_every_ms;
	long long next_beat_ms;
};

static void
reply_err(struct msg *m, const struct err *err)
{
	char code[16];

	snprintf(code, sizeof(code), "%d", (int)err->code);
	msg_put(m, code);
	msg_put(m, err->msg);
}

static void
reply_ok(struct msg *m)
{
	msg_put(m, "0");
	msg_put(m, "");
}

/* One request from ch; -1 when the channel is to be closed. */
static int
serve_one(struct cmdsvc *svc, struct channel *ch)
{
	struct msg out = { NULL, 0, 0 };
	struct err err = ERR_INIT;
	const char *f[RELAY_MAX_FIELDS];
	char *buf = NULL;
	size_t len, nf;
	int ret = -1;

	if (recv_frame(ch->fd, &buf, &len) <= 0 ||
	    msg_fields(buf, len, f, RELAY_MAX_FIELDS, &nf) < 0 || nf < 1 ||
	    f[0] == NULL)
		goto out;
	if (strcmp(f[0], "spec") == 0 && nf == 3 && f[1] != NULL &&
	    f[2] != NULL) {
		struct cmdsvc_spec spec;

		memset(&spec, 0, sizeof(spec));
		if (cmdsvc_get_spec(svc, f[1], f[2], &spec, &err) < 0) {
			reply_err(&out, &err);
		} else {
			reply_ok(&out);
			msg_put(&out, spec.deployment_system);
			msg_put(&out, spec.format);
			msg_put(&out, spec.payload);
		}
		cmdsvc_spec_clear(&spec);
	} else if (strcmp(f[0], "ack") == 0 && nf == 3 && f[1] != NULL &&
	    f[2] != NULL) {
		char *status = NULL;

		if (cmdsvc_ack(
			svc, f[1], strcmp(f[2], "1") == 0, &status, &err) < 0) {
			reply_err(&out, &err);
		} else {
			reply_ok(&out);
			msg_put(&out, status);
		}
		free(status);
	} else if (strcmp(f[0], "complete") == 0 && nf == 4 && f[1] != NULL &&
	    f[2] != NULL) {
		if (ch->beat_id != NULL && strcmp(ch->beat_id, f[1]) == 0) {
			free(ch->beat_id);
			ch->beat_id = NULL;
		}
		if (cmdsvc_complete(svc, f[1], f[2], f[3], &err) < 0)
			reply_err(&out, &err);
		else
			reply_ok(&out);
	} else if (strcmp(f[0], "beat") == 0 && nf == 3 && f[1] != NULL &&
	    f[2] != NULL) {
		free(ch->beat_id);
		ch->beat_id = xstrdup(f[1]);
		ch->beat_every_ms = atol(f[2]) * 1000LL;
		if (ch->beat_every_ms < 1000)
			ch->beat_every_ms = 1000;
		ch->next_beat_ms = clock_now_ms() + ch->beat_every_ms;
		reply_ok(&out);
	} else {
		log_warn("relay: a malformed request from a command process");
		goto out;
	}
	if (send_frame(ch->fd, &out) < 0)
		goto out;
	ret = 0;
out:
	free(buf);
	free(out.buf);
	return ret;
}

static void
beat(struct cmdsvc *svc, struct channel *ch)
{
	struct err err = ERR_INIT;
	char *status = NULL;

	if (cmdsvc_update(svc, ch->beat_id, NULL, &status, &err) < 0)
		log_warn("heartbeat for %s: %s", ch->beat_id, err.msg);
	free(status);
	ch->next_beat_ms = clock_now_ms() + ch->beat_every_ms;
}

/* Take the channel a command process passes over the control socket. */
static int
accept_channel(int ctl_fd)
{
	char data[8];
	char cbuf[CMSG_SPACE(sizeof(int))];
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh;
	struct cmsghdr *cm;
	ssize_t n;
	int fd = -1;

	memset(&mh, 0, sizeof(mh));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	n = recvmsg(ctl_fd, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);
	if (n <= 0)
		return n == 0 || (errno != EAGAIN && errno != EINTR) ? -2 : -1;
	for (cm = CMSG_FIRSTHDR(&mh); cm != NULL; cm = CMSG_NXTHDR(&mh, cm))
		if (cm->cmsg_level == SOL_SOCKET &&
		    cm->cmsg_type == SCM_RIGHTS &&
		    cm->cmsg_len == CMSG_LEN(sizeof(int)))
			memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

void
relay_serve(struct cmdsvc *svc, int ctl_fd)
{
	struct channel ch[RELAY_MAX_CHANNELS];
	size_t n = 0;

	while (ctl_fd >= 0 || n > 0) {
		struct pollfd pfd[RELAY_MAX_CHANNELS + 1];
		long long now = clock_now_ms(), wait = -1;
		size_t i, nopen = n;
		int rc;

		for (i = 0; i < n; i++) {
			pfd[i].fd = ch[i].fd;
			pfd[i].events = POLLIN;
			pfd[i].revents = 0;
			if (ch[i].beat_id != NULL) {
				long long left = ch[i].next_beat_ms - now;

				if (left < 0)
					left = 0;
				if (wait < 0 || left < wait)
					wait = left;
			}
		}
		pfd[n].fd = ctl_fd;
		pfd[n].events = POLLIN;
		pfd[n].revents = 0;
		rc = poll(pfd, n + 1, wait < 0 ? -1 : (int)wait);
		if (rc < 0 && errno != EINTR) {
			log_error("relay: poll: %s", strerror(errno));
			break;
		}
		for (i = nopen; i-- > 0;) {
			if (rc > 0 && pfd[i].revents != 0 &&
			    serve_one(svc, &ch[i]) < 0) {
				close(ch[i].fd);
				free(ch[i].beat_id);
				ch[i] = ch[--n];
				continue;
			}
			if (ch[i].beat_id != NULL &&
			    clock_now_ms() >= ch[i].next_beat_ms)
				beat(svc, &ch[i]);
		}
		if (rc > 0 && ctl_fd >= 0 && pfd[nopen].revents != 0) {
			int fd = accept_channel(ctl_fd);

			if (fd == -2) {
				ctl_fd = -1; /* the main process is gone */
			} else if (fd >= 0 && n == RELAY_MAX_CHANNELS) {
				log_error("relay: more than %d command "
					  "processes; refusing one",
				    RELAY_MAX_CHANNELS);
				close(fd);
			} else if (fd >= 0) {
				memset(&ch[n], 0, sizeof(ch[n]));
				ch[n++].fd = fd;
			}
		}
	}
	while (n > 0) {
		n--;
		close(ch[n].fd);
		free(ch[n].beat_id);
	}
}

/* --- a command process ---------------------------------------------------- */

struct relay *
relay_connect(int ctl_fd, struct err *err)
{
	char cbuf[CMSG_SPACE(sizeof(int))];
	char data[1] = { 'c' };
	struct iovec iov = { data, sizeof(data) };
	struct msghdr mh;
	struct cmsghdr *cm;
	struct relay *relay;
	int sv[2];
	ssize_t n;

	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0) {
		err_sys(err, "cannot make a socket pair for the relay");
		return NULL;
	}
	memset(&mh, 0, sizeof(mh));
	memset(cbuf, 0, sizeof(cbuf));
	mh.msg_iov = &iov;
	mh.msg_iovlen = 1;
	mh.msg_control = cbuf;
	mh.msg_controllen = sizeof(cbuf);
	cm = CMSG_FIRSTHDR(&mh);
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &sv[1], sizeof(int));
	do
		n = sendmsg(ctl_fd, &mh, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	close(sv[1]);
	if (n < 0) {
		err_sys(err, "cannot reach the agent's relay process");
		close(sv[0]);
		return NULL;
	}
	relay = xcalloc(1, sizeof(*relay));
	relay->fd = sv[0];
	return relay;
}

void
relay_free(struct relay *relay)
{
	if (relay == NULL)
		return;
	close(relay->fd);
	free(relay);
}

/*
 * Send req, read the reply into *buf with its fields in f (f[0], f[1] the
 * status), and turn a failure into err.  Returns the number of fields or
 * -1.
 */
static int
call(struct relay *relay, const char *what, struct msg *req, char **buf,
    const char **f, struct err *err)
{
	size_t len, nf;
	int rc;

	*buf = NULL;
	rc = send_frame(relay->fd, req);
	free(req->buf);
	if (rc < 0)
		return err_sys(err, "%s: cannot reach the relay process", what);
	rc = recv_frame(relay->fd, buf, &len);
	if (rc <= 0 || msg_fields(*buf, len, f, RELAY_MAX_FIELDS, &nf) < 0 ||
	    nf < 2 || f[0] == NULL) {
		free(*buf);
		*buf = NULL;
		return err_set(err, E_INTERNAL,
		    "%s: no answer from the relay process (it ended?)", what);
	}
	if (strcmp(f[0], "0") != 0) {
		int code = atoi(f[0]);

		if (code <= E_OK || code > E_INTERNAL)
			code = E_INTERNAL;
		err_set(
		    err, (enum err_code)code, "%s", f[1] != NULL ? f[1] : "");
		free(*buf);
		*buf = NULL;
		return -1;
	}
	return (int)nf;
}

static char *
dup_or_null(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

int
relay_get_spec(struct relay *relay, const char *execution_id,
    const char *host_identifier, struct cmdsvc_spec *out, struct err *err)
{
	struct msg req = { NULL, 0, 0 };
	const char *f[RELAY_MAX_FIELDS];
	char *buf;
	int nf;

	msg_put(&req, "spec");
	msg_put(&req, execution_id);
	msg_put(&req, host_identifier);
	nf = call(relay, "GetDeploymentSpecification", &req, &buf, f, err);
	if (nf < 0)
		return -1;
	if (nf != 5) {
		free(buf);
		return err_set(err, E_INTERNAL,
		    "GetDeploymentSpecification: a malformed answer from the "
		    "relay process");
	}
	out->deployment_system = dup_or_null(f[2]);
	out->format = dup_or_null(f[3]);
	out->payload = dup_or_null(f[4]);
	free(buf);
	return 0;
}

int
relay_ack(struct relay *relay, const char *host_command_id, int noop,
    char **status, struct err *err)
{
	struct msg req = { NULL, 0, 0 };
	const char *f[RELAY_MAX_FIELDS];
	char *buf;
	int nf;

	*status = NULL;
	msg_put(&req, "ack");
	msg_put(&req, host_command_id);
	msg_put(&req, noop ? "1" : "0");
	nf = call(relay, "PutHostCommandAcknowledgement", &req, &buf, f, err);
	if (nf < 0)
		return -1;
	*status = nf >= 3 ? dup_or_null(f[2]) : NULL;
	free(buf);
	return 0;
}

int
relay_complete(struct relay *relay, const char *host_command_id,
    const char *status, const char *diagnostics_json, struct err *err)
{
	struct msg req = { NULL, 0, 0 };
	const char *f[RELAY_MAX_FIELDS];
	char *buf;

	msg_put(&req, "complete");
	msg_put(&req, host_command_id);
	msg_put(&req, status);
	msg_put(&req, diagnostics_json);
	if (call(relay, "PutHostCommandComplete", &req, &buf, f, err) < 0)
		return -1;
	free(buf);
	return 0;
}

int
relay_heartbeat(struct relay *relay, const char *host_command_id,
    long interval_s, struct err *err)
{
	struct msg req = { NULL, 0, 0 };
	const char *f[RELAY_MAX_FIELDS];
	char every[32];
	char *buf;

	snprintf(every, sizeof(every), "%ld", interval_s);
	msg_put(&req, "beat");
	msg_put(&req, host_command_id);
	msg_put(&req, every);
	if (call(relay, "heartbeats", &req, &buf, f, err) < 0)
		return -1;
	free(buf);
	return 0;
}
