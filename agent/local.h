/*
 * local: `cdagent local` (and `codedeploy-local`), AWS's codedeploy-local
 * command line (v1 §11).
 */
#ifndef CDAGENT_LOCAL_H
#define CDAGENT_LOCAL_H

#define LOCAL_EXIT_FAILED 1  /* the deployment failed */
#define LOCAL_EXIT_USAGE 2   /* bad arguments; nothing was changed */
#define LOCAL_EXIT_CONFIG 78 /* EX_CONFIG: the agent configuration is bad */

/* Run a local deployment; returns the process exit status. */
int local_main(int argc, char **argv);

/*
 * Parse a remote location (s3://bucket/key?versionId=V&etag=E, or a GitHub
 * https URL; type "tar", "tgz" or "zip") into spec.  Returns 0, or
 * LOCAL_EXIT_USAGE after printing why to stderr.  Free spec's strings with
 * exec_spec_clear().
 */
struct exec_spec;
int local_parse_location(
    const char *location, const char *type, struct exec_spec *spec);

#endif
