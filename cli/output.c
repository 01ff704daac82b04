/* ferry command: output in table, YAML, JSON or name form. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

int
cli_parse_output (const char *cmd, const char *s, enum cli_output *out)
{
  if (strcmp (s, "table") == 0 || strcmp (s, "wide") == 0)
    *out = OUTPUT_TABLE;
  else if (strcmp (s, "yaml") == 0)
    *out = OUTPUT_YAML;
  else if (strcmp (s, "json") == 0)
    *out = OUTPUT_JSON;
  else if (strcmp (s, "name") == 0)
    *out = OUTPUT_NAME;
  else {
    cli_usage_error (cmd, "unknown output format '%s' (use table, yaml, json or name)", s);
    return -1;
  }
  return 0;
}

int
cli_print_value (const json_t *v, enum cli_output out)
{
  char *s;

  if (out == OUTPUT_JSON)
    s = json_dumps (v, JSON_INDENT (2) | JSON_PRESERVE_ORDER | JSON_ENCODE_ANY);
  else
    s = ferry_to_yaml (v);
  if (!s) {
    cli_error ("format output");
    return -1;
  }
  fputs (s, stdout);
  if (out == OUTPUT_JSON)
    putchar ('\n');
  free (s);
  return 0;
}

void
cli_print_table (const char *const *header, size_t ncols, const json_t *rows)
{
  size_t width[32] = { 0 };
  size_t i, c;
  json_t *row;

  if (ncols > 32)
    ncols = 32;
  for (c = 0; c < ncols; c++)
    width[c] = strlen (header[c]);
  json_array_foreach (rows, i, row)
    for (c = 0; c < ncols; c++) {
      const char *s = json_string_value (json_array_get (row, c));
      size_t n = s ? strlen (s) : 0;
      if (n > width[c])
        width[c] = n;
    }
  for (c = 0; c < ncols; c++)
    printf ("%-*s%s", c + 1 < ncols ? (int) width[c] : 0, header[c],
            c + 1 < ncols ? "   " : "\n");
  json_array_foreach (rows, i, row)
    for (c = 0; c < ncols; c++) {
      const char *s = json_string_value (json_array_get (row, c));
      printf ("%-*s%s", c + 1 < ncols ? (int) width[c] : 0, s ? s : "",
              c + 1 < ncols ? "   " : "\n");
    }
}

void
cli_age (const char *rfc3339, char *buf, size_t len)
{
  struct tm tm = { 0 };
  const char *e = rfc3339 ? strptime (rfc3339, "%Y-%m-%dT%H:%M:%S", &tm) : NULL;

  if (!e) {
    snprintf (buf, len, "<unknown>");
    return;
  }
  time_t then = timegm (&tm);
  long d = (long) difftime (time (NULL), then);
  if (d < 0)
    d = 0;
  if (d < 120)
    snprintf (buf, len, "%lds", d);
  else if (d < 2 * 3600)
    snprintf (buf, len, "%ldm", d / 60);
  else if (d < 2 * 86400)
    snprintf (buf, len, "%ldh", d / 3600);
  else
    snprintf (buf, len, "%ldd", d / 86400);
}

void
cli_now_ms (char *buf, size_t len)
{
  struct timespec ts;
  struct tm tm;
  char secs[40];

  clock_gettime (CLOCK_REALTIME, &ts);
  gmtime_r (&ts.tv_sec, &tm);
  strftime (secs, sizeof secs, "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf (buf, len, "%s.%03dZ", secs, (int) (ts.tv_nsec / 1000000L % 1000));
}

int
cli_parse_ns_options (struct cli *cli, int argc, char **argv, const char *cmd,
                      const char *help)
{
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  int c;

  while ((c = getopt_long (argc, argv, "n:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n':
      cli->ns = optarg;
      break;
    case 'h':
      fputs (help, stdout);
      return EXIT_OK;
    default:
      return cli_usage_error (cmd, "bad option");
    }
  }
  return -1;
}

int
cli_kind_name_args (const char *cmd, int argc, char **argv, const char **kind)
{
  if (argc - optind != 2)
    return cli_usage_error (cmd, "needs KIND and NAME");
  *kind = ferry_kind_canonical (argv[optind]);
  if (!*kind) {
    cli_error (NULL);
    return EXIT_USAGE;
  }
  return -1;
}
