/*
 * Unit tests for sysd without systemd: the sd_notify messages arrive on a
 * datagram socket of the test's own (NOTIFY_SOCKET), the watchdog runs on a
 * fake clock (--wrap=clock_now_ms), and the system bus of sysd_scope_move
 * is a socket pair to a fake systemd in a thread
 * (--wrap=sd_bus_open_system) that reports the StartTransientUnit call it
 * got.
 */
#include "config.h"

#include <errno.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <cmocka.h>
#include <systemd/sd-bus.h>

#include "clock.h"
#include "err.h"
#include "sysd.h"
#include "testutil.h"
#include "xalloc.h"

long long __wrap_clock_now_ms(void);
int __wrap_sd_bus_open_system(sd_bus **ret);

/* The clock: fake_ms, advanced by fake_step at each reading. */
static long long fake_ms, fake_step;

long long
__wrap_clock_now_ms(void)
{
	long long now = fake_ms;

	fake_ms += fake_step;
	return now;
}

/* The system bus: a connection over bus_fd, or open_error. */
static int bus_fd = -1, open_error;

int
__wrap_sd_bus_open_system(sd_bus **ret)
{
	sd_bus *bus = NULL;
	int r;

	if (open_error != 0)
		return open_error;
	r = sd_bus_new(&bus);
	if (r >= 0)
		r = sd_bus_set_fd(bus, bus_fd, bus_fd);
	if (r >= 0)
		r = sd_bus_start(bus);
	if (r < 0) {
		sd_bus_unref(bus);
		return r;
	}
	bus_fd = -1; /* the bus owns it now */
	*ret = bus;
	return 0;
}

/* The notify socket: one per test binary, NOTIFY_SOCKET names it. */
static char *dir;
static int notify_fd = -1;

static int
group_setup(void **state)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	char pid[32];

	dir = tu_mkdtemp();
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%s/notify", dir);
	notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (notify_fd < 0 ||
	    bind(notify_fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
		return -1;
	setenv("NOTIFY_SOCKET", sa.sun_path, 1);
	/* a watchdog of 1 s, for this process */
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("WATCHDOG_USEC", "1000000", 1);
	setenv("WATCHDOG_PID", pid, 1);
	return 0;
}

static int
group_teardown(void **state)
{
	close(notify_fd);
	tu_rmdir(dir);
	return 0;
}

/* The next notify message, "" when none is waiting. */
static const char *
next_message(void)
{
	static char buf[1024];
	ssize_t n = recv(notify_fd, buf, sizeof(buf) - 1, MSG_DONTWAIT);

	buf[n > 0 ? n : 0] = '\0';
	return buf;
}

static void
ready_status_stopping_reloading__messages(void **state)
{
	char big[300], *want;

	sysd_ready("polling");
	assert_string_equal(next_message(), "READY=1\nSTATUS=polling");
	sysd_status("%d command%s in flight", 2, "s");
	assert_string_equal(next_message(), "STATUS=2 commands in flight");
	sysd_stopping();
	assert_string_equal(next_message(), "STOPPING=1");
	sysd_reloading(0);
	assert_string_equal(next_message(), "RELOADING=1");
	sysd_reloading(1);
	assert_string_equal(next_message(), "READY=1");
	assert_string_equal(next_message(), "");
	/* a long status line is cut to 255 bytes */
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	sysd_status("%s", big);
	want = xasprintf("STATUS=%.255s", big);
	assert_string_equal(next_message(), want);
	free(want);
}

static void
watchdog__pings_every_half_period(void **state)
{
	fake_step = 0;
	assert_true(sysd_watchdog_enabled());
	fake_ms = 1000;
	sysd_watchdog();
	assert_string_equal(next_message(), "WATCHDOG=1");
	fake_ms = 1499;
	sysd_watchdog();
	assert_string_equal(next_message(), "");
	fake_ms = 1500;
	sysd_watchdog();
	assert_string_equal(next_message(), "WATCHDOG=1");
	sysd_watchdog();
	assert_string_equal(next_message(), "");
}

static void
scopes_available__when_booted_with_systemd(void **state)
{
	struct stat st;
	int booted =
	    lstat("/run/systemd/system", &st) == 0 && S_ISDIR(st.st_mode);

	assert_int_equal(sysd_scopes_available(), booted);
}

/*
 * The fake systemd on fd: it reads one StartTransientUnit call and answers
 * with `reply` ("ok": a job path; else an error whose message is what it
 * read: "NAME MODE PIDs=PID Description=... CollectMode=... aux=N").
 */
static int
fake_systemd(int fd, const char *reply)
{
	sd_bus *bus = NULL;
	sd_bus_message *m = NULL;
	sd_id128_t id;
	const char *name, *mode, *key;
	char seen[512];
	size_t len = 0;
	unsigned naux;
	int r;

	if (sd_id128_randomize(&id) < 0 || sd_bus_new(&bus) < 0 ||
	    sd_bus_set_fd(bus, fd, fd) < 0 ||
	    sd_bus_set_server(bus, 1, id) < 0 || sd_bus_start(bus) < 0)
		return 2;
	while ((r = sd_bus_process(bus, &m)) >= 0 && m == NULL)
		if (r == 0 && sd_bus_wait(bus, UINT64_MAX) < 0)
			return 3;
	if (m == NULL ||
	    !sd_bus_message_is_method_call(
		m, "org.freedesktop.systemd1.Manager", "StartTransientUnit") ||
	    sd_bus_message_read(m, "ss", &name, &mode) < 0 ||
	    sd_bus_message_enter_container(m, 'a', "(sv)") < 0)
		return 4;
	len += snprintf(seen + len, sizeof(seen) - len, "%s %s", name, mode);
	while (sd_bus_message_enter_container(m, 'r', "sv") > 0) {
		if (sd_bus_message_read(m, "s", &key) < 0)
			return 5;
		if (strcmp(key, "PIDs") == 0) {
			const uint32_t *pids;
			size_t size;

			if (sd_bus_message_enter_container(m, 'v', "au") < 0 ||
			    sd_bus_message_read_array(
				m, 'u', (const void **)&pids, &size) < 0 ||
			    size != sizeof(*pids) ||
			    sd_bus_message_exit_container(m) < 0)
				return 6;
			len += snprintf(seen + len, sizeof(seen) - len,
			    " PIDs=%u", pids[0]);
		} else {
			const char *value;

			if (sd_bus_message_read(m, "v", "s", &value) < 0)
				return 7;
			len += snprintf(seen + len, sizeof(seen) - len,
			    " %s=%s", key, value);
		}
		if (sd_bus_message_exit_container(m) < 0)
			return 8;
	}
	if (sd_bus_message_exit_container(m) < 0 ||
	    sd_bus_message_enter_container(m, 'a', "(sa(sv))") < 0)
		return 9;
	for (naux = 0; sd_bus_message_skip(m, "(sa(sv))") > 0; naux++)
		;
	snprintf(seen + len, sizeof(seen) - len, " aux=%u", naux);
	if (strcmp(reply, "ok") == 0)
		r = sd_bus_reply_method_return(
		    m, "o", "/org/freedesktop/systemd1/job/7");
	else
		r = sd_bus_reply_method_errorf(m, "org.test.Seen", "%s", seen);
	if (r < 0 || sd_bus_flush(bus) < 0)
		return 10;
	sd_bus_message_unref(m);
	sd_bus_flush_close_unref(bus);
	return 0;
}

/* The fake systemd's thread: fd and reply in, its status out. */
struct fake {
	int fd;
	const char *reply;
	int status;
};

static void *
fake_thread(void *arg)
{
	struct fake *fake = arg;

	fake->status = fake_systemd(fake->fd, fake->reply);
	return NULL;
}

/* sysd_scope_move(pid, name, ...) against a fake systemd answering reply. */
static int
move_with_fake(int pid, const char *name, const char *reply, struct err *err)
{
	struct fake fake = { .reply = reply };
	pthread_t thread;
	int fds[2], ret;

	assert_int_equal(
	    socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds), 0);
	fake.fd = fds[1];
	assert_int_equal(pthread_create(&thread, NULL, fake_thread, &fake), 0);
	bus_fd = fds[0];
	ret = sysd_scope_move(pid, name, "hook scripts of d-1", err);
	if (bus_fd >= 0)
		close(bus_fd);
	bus_fd = -1;
	assert_int_equal(pthread_join(thread, NULL), 0);
	assert_int_equal(fake.status, 0);
	return ret;
}

static void
scope_move__start_transient_unit_call(void **state)
{
	struct err err = ERR_INIT;

	fake_step = 0;
	assert_int_equal(
	    move_with_fake(4242, "cdagent-hook-d-1.scope", "seen", &err), -1);
	assert_int_equal(err.code, E_SYS);
	assert_string_equal(err.msg,
	    "systemd refused the scope cdagent-hook-d-1.scope: "
	    "cdagent-hook-d-1.scope fail PIDs=4242 "
	    "Description=hook scripts of d-1 "
	    "CollectMode=inactive-or-failed aux=0");
}

/* A name /proc/self/cgroup holds: this process is "in that scope". */
static char *
own_cgroup_line(void)
{
	char *text = tu_read("/proc/self/cgroup");

	assert_non_null(text);
	text[strcspn(text, "\n")] = '\0';
	return text;
}

static void
scope_move__done_when_the_process_is_in_the_scope(void **state)
{
	struct err err = ERR_INIT;
	char *name = own_cgroup_line();

	fake_step = 0;
	assert_int_equal(move_with_fake(getpid(), name, "ok", &err), 0);
	assert_false(err_isset(&err));
	free(name);
}

static void
scope_move__not_moved_in_2s__timeout(void **state)
{
	struct err err = ERR_INIT;

	fake_ms = 0;
	fake_step = 700; /* each look at the clock: 0.7 s later */
	assert_int_equal(
	    move_with_fake(getpid(), "cdagent-no-such.scope", "ok", &err), -1);
	assert_int_equal(err.code, E_TIMEOUT);
	assert_non_null(strstr(
	    err.msg, "the scope cdagent-no-such.scope did not take process"));
	fake_step = 0;
}

static void
scope_move__no_bus__error(void **state)
{
	struct err err = ERR_INIT;

	open_error = -ENOENT;
	assert_int_equal(sysd_scope_move(1, "x.scope", "x", &err), -1);
	open_error = 0;
	assert_int_equal(err.code, E_SYS);
	assert_string_equal(
	    err.msg, "cannot reach the system bus: No such file or directory");
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(ready_status_stopping_reloading__messages),
		cmocka_unit_test(watchdog__pings_every_half_period),
		cmocka_unit_test(scopes_available__when_booted_with_systemd),
		cmocka_unit_test(scope_move__start_transient_unit_call),
		cmocka_unit_test(
		    scope_move__done_when_the_process_is_in_the_scope),
		cmocka_unit_test(scope_move__not_moved_in_2s__timeout),
		cmocka_unit_test(scope_move__no_bus__error),
	};

	return cmocka_run_group_tests_name(
	    "sysd", tests, group_setup, group_teardown);
}
