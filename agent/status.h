/*
 * status: `cdagent status`: whether the daemon runs, its pid, the last
 * successful poll, the commands in flight and the last error, read from
 * the files the daemon keeps in pid_dir.  Exit 0 when it runs, 3 when not
 * (LSB), 1 when the state cannot be read.
 */
#ifndef CDAGENT_STATUS_H
#define CDAGENT_STATUS_H

#include <stdio.h>

#include "cfg.h"

#define STATUS_RUNNING 0
#define STATUS_NOT_RUNNING 3

int status_main(const struct cfg *cfg, int as_json, FILE *out);

#endif
