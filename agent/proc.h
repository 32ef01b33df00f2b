/*
 * proc: child processes, started with fork/exec directly (never a shell
 * string), stdin from /dev/null.
 */
#ifndef CDAGENT_PROC_H
#define CDAGENT_PROC_H

#include <stddef.h>

#include "err.h"

/*
 * Run argv[0] (looked up in PATH) with argv, wait for it, and keep the last
 * out_size - 1 bytes of its combined stdout and stderr in out (NUL
 * terminated; out may be NULL).  Returns 0 when it exits 0; otherwise -1
 * with err naming the command, its exit status or signal, and its output.
 */
int proc_run(
    const char *const argv[], char *out, size_t out_size, struct err *err);

#endif
