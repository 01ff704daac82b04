/* ferry modules: list the provider and destination modules, or dump one
 * (what `nbdkit --dump-plugin` is to nbdkit).  Refused modules are listed
 * with their reason; a refusal is not a failure of this command.
 */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
modules_usage (FILE *fp)
{
  fprintf (fp,
           "Usage: ferry modules [-o table|yaml|json|name] [--dump NAME]\n"
           "List the provider and destination modules ferry found: name, kind,\n"
           "module ABI version, capabilities and file; modules that were\n"
           "refused are listed with the reason.\n"
           "\n"
           "  --dump NAME         print one module's descriptor: ABI version,\n"
           "                      struct size, thread model, and which callbacks\n"
           "                      it has.  NAME may be KIND/NAME (provider/null,\n"
           "                      destination/null); a bare NAME dumps every\n"
           "                      module of that name.\n"
           "  -o, --output FMT    table (default), yaml, json or name\n"
           "  -h, --help          show this help\n"
           "\n"
           "Modules are searched in $FERRY_MODULE_PATH (colon-separated), then in\n"
           "the installed provider and destination directories unless\n"
           "$FERRY_MODULE_PATH_ONLY is set.\n");
}

/* "a, b, c" from an array of strings; "-" when empty. */
static char *
join_strings (const json_t *a)
{
  size_t i, len = 2;
  json_t *s;
  char *r;

  json_array_foreach (a, i, s)
    len += strlen (json_string_value (s) ? json_string_value (s) : "") + 1;
  r = calloc (1, len);
  if (!r)
    return NULL;
  json_array_foreach (a, i, s) {
    if (i)
      strcat (r, ",");
    strcat (r, json_string_value (s) ? json_string_value (s) : "");
  }
  if (!*r)
    strcpy (r, "-");
  return r;
}

static int
print_list (const json_t *list, enum cli_output out)
{
  static const char *const header[] = {
    "NAME", "KIND", "ABI", "CAPABILITIES", "FILE", "STATUS",
  };
  json_t *rows;
  size_t i;
  json_t *m;

  if (out == OUTPUT_YAML || out == OUTPUT_JSON)
    return cli_print_value (list, out);

  if (out == OUTPUT_NAME) {
    json_array_foreach (list, i, m) {
      const char *name = json_string_value (json_object_get (m, "name"));
      const char *kind = json_string_value (json_object_get (m, "kind"));
      if (name && kind && !json_object_get (m, "error"))
        printf ("%s/%s\n", kind, name);
    }
    return 0;
  }

  rows = json_array ();
  if (!rows)
    return -1;
  json_array_foreach (list, i, m) {
    const char *name = json_string_value (json_object_get (m, "name"));
    const char *kind = json_string_value (json_object_get (m, "kind"));
    const char *file = json_string_value (json_object_get (m, "file"));
    const char *error = json_string_value (json_object_get (m, "error"));
    char abi[16] = "-", *caps, *status = NULL;

    if (json_object_get (m, "abiVersion"))
      snprintf (abi, sizeof abi, "%lld",
                (long long) json_integer_value (json_object_get (m, "abiVersion")));
    caps = join_strings (json_object_get (m, "capabilities"));
    if (error) {
      /* The error starts with "<file>: "; the FILE column has it already. */
      size_t flen = file ? strlen (file) : 0;
      if (file && strncmp (error, file, flen) == 0 && strncmp (error + flen, ": ", 2) == 0)
        error += flen + 2;
      if (asprintf (&status, "refused: %s", error) == -1)
        status = NULL;
    }
    json_array_append_new (rows,
      json_pack ("[s, s, s, s, s, s]",
                 name ? name : "-", kind ? kind : "-", abi,
                 error ? "-" : (caps ? caps : "-"),
                 file ? file : "-",
                 error ? (status ? status : "refused") : "loaded"));
    free (caps);
    free (status);
  }
  cli_print_table (header, sizeof header / sizeof header[0], rows);
  json_decref (rows);
  return 0;
}

/* --dump: one module, or with a bare NAME every kind that has it. */
static int
dump (struct ferry *f, const char *name, enum cli_output out)
{
  json_t *found = json_array ();
  int r = -1;

  if (!found)
    return -1;
  if (strchr (name, '/')) {
    json_t *d = ferry_module_dump (f, name);
    if (d)
      json_array_append_new (found, d);
  }
  else {
    static const char *const kinds[] = { "provider", "destination" };
    for (size_t i = 0; i < 2; i++) {
      char qualified[512];
      json_t *d;
      snprintf (qualified, sizeof qualified, "%s/%s", kinds[i], name);
      d = ferry_module_dump (f, qualified);
      if (d)
        json_array_append_new (found, d);
    }
    if (json_array_size (found) == 0)
      ferry_module_dump (f, name);      /* for its error message */
  }
  if (json_array_size (found) == 0) {
    cli_error (NULL);
    goto out;
  }

  if (out == OUTPUT_JSON) {
    r = cli_print_value (json_array_size (found) == 1
                         ? json_array_get (found, 0) : found, out);
  }
  else if (out == OUTPUT_NAME) {
    size_t i;
    json_t *d;
    json_array_foreach (found, i, d)
      printf ("%s/%s\n", json_string_value (json_object_get (d, "kind")),
              json_string_value (json_object_get (d, "name")));
    r = 0;
  }
  else {
    /* table and yaml: one YAML document per module. */
    size_t i;
    json_t *d;
    r = 0;
    json_array_foreach (found, i, d) {
      if (i)
        printf ("---\n");
      if (cli_print_value (d, OUTPUT_YAML) == -1)
        r = -1;
    }
  }
 out:
  json_decref (found);
  return r;
}

int
cmd_modules (struct cli *cli, int argc, char **argv)
{
  static const struct option long_options[] = {
    { "dump", required_argument, NULL, 'd' },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  enum cli_output out = OUTPUT_TABLE;
  const char *dump_name = NULL;
  struct ferry *f;
  json_t *list;
  int c, r;

  optind = 1;
  opterr = 0;
  while ((c = getopt_long (argc, argv, "+:o:h", long_options, NULL)) != -1) {
    switch (c) {
    case 'd':
      dump_name = optarg;
      break;
    case 'o':
      if (cli_parse_output ("modules", optarg, &out) == -1)
        return EXIT_USAGE;
      break;
    case 'h':
      modules_usage (stdout);
      return EXIT_OK;
    case ':':
      return cli_usage_error ("modules", "option '%s' needs an argument",
                              argv[optind - 1]);
    default:
      return cli_usage_error ("modules", "unknown option '%s'",
                              argv[optind - 1]);
    }
  }
  if (optind < argc)
    return cli_usage_error ("modules", "unexpected argument '%s'", argv[optind]);
  if (dump_name && !*dump_name)
    return cli_usage_error ("modules", "--dump needs a module name");

  f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;

  if (dump_name)
    return dump (f, dump_name, out) == 0 ? EXIT_OK : EXIT_ERROR;

  list = ferry_modules (f);
  if (!list) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  r = print_list (list, out);
  json_decref (list);
  return r == 0 ? EXIT_OK : EXIT_ERROR;
}
