/* proc: run short external commands (semanage, restorecon) safely. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "proc.h"

extern char **environ;

/* Keep the tail of a stream in a fixed buffer. */
static void
keep_tail(char *buf, size_t size, size_t *len, const char *data, size_t n)
{
	if (size == 0)
		return;
	if (n >= size - 1) {
		memcpy(buf, data + n - (size - 1), size - 1);
		*len = size - 1;
	} else {
		if (*len + n > size - 1) {
			size_t drop = *len + n - (size - 1);

			memmove(buf, buf + drop, *len - drop);
			*len -= drop;
		}
		memcpy(buf + *len, data, n);
		*len += n;
	}
	buf[*len] = '\0';
}

/* Whether prog can be executed: a path, or a name found in PATH. */
static int
executable(const char *prog)
{
	const char *path = getenv("PATH"), *p;
	char candidate[4096];

	if (strchr(prog, '/') != NULL)
		return access(prog, X_OK) == 0;
	if (path == NULL || *path == '\0')
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path; *p != '\0';) {
		size_t len = strcspn(p, ":");

		if (len > 0 && len + strlen(prog) + 2 <= sizeof(candidate)) {
			memcpy(candidate, p, len);
			candidate[len] = '/';
			strcpy(candidate + len + 1, prog);
			if (access(candidate, X_OK) == 0)
				return 1;
		}
		p += len;
		if (*p == ':')
			p++;
	}
	return 0;
}

int
proc_run(const char *const argv[], char *out, size_t out_size, struct err *err)
{
	posix_spawn_file_actions_t actions;
	union {
		const char *const *in;
		char *const *out;
	} args;
	char local[1024], chunk[4096];
	char *buf = out != NULL ? out : local;
	size_t size = out != NULL ? out_size : sizeof(local), len = 0;
	int pipefd[2], status, r;
	pid_t pid;
	ssize_t n;

	if (size > 0)
		buf[0] = '\0';
	if (!executable(argv[0]))
		return err_set(err, E_NOTFOUND,
		    "cannot run %s: it is not installed (not found in PATH)",
		    argv[0]);
	if (pipe2(pipefd, O_CLOEXEC) < 0)
		return err_sys(err, "cannot run %s: pipe", argv[0]);
	posix_spawn_file_actions_init(&actions);
	posix_spawn_file_actions_addopen(&actions, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_adddup2(&actions, pipefd[1], 1);
	posix_spawn_file_actions_adddup2(&actions, pipefd[1], 2);
	/* exec's argv type predates const; the strings are not modified */
	args.in = argv;
	r = posix_spawnp(&pid, argv[0], &actions, NULL, args.out, environ);
	posix_spawn_file_actions_destroy(&actions);
	close(pipefd[1]);
	if (r != 0) {
		close(pipefd[0]);
		errno = r;
		return err_sys(err, "cannot run %s", argv[0]);
	}
	for (;;) {
		n = read(pipefd[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		keep_tail(buf, size, &len, chunk, (size_t)n);
	}
	close(pipefd[0]);
	while (waitpid(pid, &status, 0) < 0) {
		if (errno != EINTR)
			return err_sys(err, "cannot wait for %s", argv[0]);
	}
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return 0;
	if (WIFSIGNALED(status))
		return err_set(err, E_SERVICE, "%s was killed by signal %d%s%s",
		    argv[0], WTERMSIG(status), len > 0 ? ": " : "", buf);
	if (WEXITSTATUS(status) == 127)
		/* the exec failed in the child (as under valgrind) */
		return err_set(err, E_NOTFOUND,
		    "cannot run %s: not found or not executable (exit status "
		    "127)%s%s",
		    argv[0], len > 0 ? ": " : "", buf);
	return err_set(err, E_SERVICE, "%s exited with status %d%s%s", argv[0],
	    WEXITSTATUS(status), len > 0 ? ": " : "", buf);
}
