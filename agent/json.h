/*
 * json: JSON documents for the Commands API, deployment specs and the files
 * the agent writes.  The only module that includes <cjson/cJSON.h>.
 */
#ifndef CDAGENT_JSON_H
#define CDAGENT_JSON_H

/* "cJSON 1.7.15". */
const char *json_lib_version(void);

#endif
