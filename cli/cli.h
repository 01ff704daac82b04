/* ferry command: what the verb files share. */
#ifndef FERRY_CLI_H
#define FERRY_CLI_H

#include <stdbool.h>
#include <stdio.h>
#include <jansson.h>

#include "ferry/ferry.h"

/* Exit codes (documented in ferry(1)). */
#define EXIT_OK 0
#define EXIT_ERROR 1        /* the operation failed: bad input, not found, ... */
#define EXIT_USAGE 2        /* bad command line */

enum cli_output { OUTPUT_TABLE, OUTPUT_YAML, OUTPUT_JSON, OUTPUT_NAME };

/* Global options and the lazily opened library context. */
struct cli {
  const char *state_dir;                /* --state-dir, or NULL */
  const char *ns;                       /* -n/--namespace, or NULL */
  bool all_namespaces;                  /* -A */
  struct ferry *f;                      /* opened by cli_open */
};

/* Open the state directory (once).  NULL after printing the error. */
struct ferry *cli_open (struct cli *cli, unsigned flags);

/* Print "ferry: <ferry_get_error()>" (or "ferry: <what>: <error>"). */
void cli_error (const char *what);
/* Print a usage error plus "Try 'ferry CMD --help'." and return EXIT_USAGE. */
int cli_usage_error (const char *cmd, const char *fs, ...)
  __attribute__((format (printf, 2, 3)));

/* Options of a verb that takes only -n/--namespace and -h/--help: help is
 * its --help text.  Returns -1 to go on, or the exit code to return.
 */
int cli_parse_ns_options (struct cli *cli, int argc, char **argv,
                          const char *cmd, const char *help);

/* The KIND NAME arguments after the options: *kind is the canonical kind.
 * Returns -1 to go on, or the exit code to return (after the message).
 */
int cli_kind_name_args (const char *cmd, int argc, char **argv,
                        const char **kind);

/* -o table|yaml|json|name; -1 and a usage message when unknown. */
int cli_parse_output (const char *cmd, const char *s, enum cli_output *out);

/* Write v as YAML or JSON to stdout. */
int cli_print_value (const json_t *v, enum cli_output out);

/* Print rows as an aligned table.  header and each row are arrays of
 * strings of the same length.
 */
void cli_print_table (const char *const *header, size_t ncols,
                      const json_t *rows);

/* kubectl JSONPath subset for printer columns; borrowed result or NULL. */
const json_t *cli_jsonpath (const json_t *v, const char *path);

/* "5s", "3m", "2h", "4d" since an RFC 3339 UTC time; "<unknown>" if bad. */
void cli_age (const char *rfc3339, char *buf, size_t len);

/* Now as RFC 3339 UTC with milliseconds ("2026-11-26T10:26:16.973Z"),
 * the "time" of progress events; len >= 32.
 */
void cli_now_ms (char *buf, size_t len);

/* Verbs: each parses its own options with getopt_long (argv[0] is the
 * verb) and returns an exit code.
 */
int cmd_apply (struct cli *cli, int argc, char **argv);
int cmd_get (struct cli *cli, int argc, char **argv);
int cmd_describe (struct cli *cli, int argc, char **argv);
int cmd_delete (struct cli *cli, int argc, char **argv);
int cmd_modules (struct cli *cli, int argc, char **argv);
int cmd_inventory (struct cli *cli, int argc, char **argv);
int cmd_start (struct cli *cli, int argc, char **argv);
int cmd_run (struct cli *cli, int argc, char **argv);
int cmd_template (struct cli *cli, int argc, char **argv);
int cmd_version (struct cli *cli, int argc, char **argv);
int cmd_validate (struct cli *cli, int argc, char **argv);
int cmd_logs (struct cli *cli, int argc, char **argv);
int cmd_must_gather (struct cli *cli, int argc, char **argv);
/* --- engine (issue 5) */
int cmd_cancel (struct cli *cli, int argc, char **argv);
int cmd_restart (struct cli *cli, int argc, char **argv);
int cmd_archive (struct cli *cli, int argc, char **argv);
int cmd_duplicate (struct cli *cli, int argc, char **argv);
int cmd_serve (struct cli *cli, int argc, char **argv);
/* --help lines of the verbs that run Migrations (start, run, serve). */
#define CLI_HELP_PRECOPY_INTERVAL \
  "      --precopy-interval DURATION\n" \
  "                       warm: time between precopies, e.g. 90s, 60m, 2h\n" \
  "                       (default: $FERRY_PRECOPY_INTERVAL, else 60m)\n"
#define CLI_HELP_OUTPUT_FORMS \
  "auto (live lines on a terminal, plain\n" \
  "                       lines otherwise), plain, or json (one JSON object\n" \
  "                       per line per event)\n"
/* Progress of running Migrations (progress.c): AUTO is LIVE on a terminal,
 * PLAIN otherwise.
 */
enum cli_progress_mode { PROGRESS_AUTO, PROGRESS_PLAIN, PROGRESS_JSON, PROGRESS_LIVE };
struct cli_progress;
/* --output auto|plain|json; -1 after a usage message. */
int cli_progress_parse (const char *cmd, const char *s, enum cli_progress_mode *mode);
/* NULL after printing why; free with cli_progress_free (draws the last frame). */
struct cli_progress *cli_progress_new (enum cli_progress_mode mode, FILE *out);
enum cli_progress_mode cli_progress_get_mode (const struct cli_progress *p);
/* A ferry_run_fn; opaque is the struct cli_progress.  Thread-safe. */
void cli_progress_event (void *opaque, const struct ferry_run_event *ev);
/* A line for humans (nothing in the json form). */
void cli_progress_printf (struct cli_progress *p, const char *fs, ...)
  __attribute__((format (printf, 2, 3)));
void cli_progress_free (struct cli_progress *p);
/* Run Migration ns/name here, printing its progress (cmd-start.c) in the
 * given form (cli_run_migration: AUTO); an exit code.
 */
int cli_run_migration (struct ferry *f, const char *ns, const char *name);
int cli_run_migration_output (struct ferry *f, const char *ns, const char *name,
                              enum cli_progress_mode mode);
/* --- end engine */

/* Plan conditions (cmd-validate.c): whether one is Ready, and each as
 * "TYPE (CATEGORY): message", its items and "To fix: suggestion", indented.
 */
bool cli_conditions_ready (const json_t *conditions);
void cli_print_conditions (const json_t *conditions, int indent);

#endif /* FERRY_CLI_H */
