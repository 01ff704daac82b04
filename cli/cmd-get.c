/* ferry get, describe, delete: kubectl's verbs over stored objects. */
#include <config.h>

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* "plan.forklift.konveyor.io" or "secret": how kubectl names a kind. */
static void
kind_display (const char *kind, char *buf, size_t len)
{
  json_t *info = ferry_kind_info (kind);
  const char *singular = json_string_value (json_object_get (info, "singular"));
  const char *api = json_string_value (json_object_get (info, "apiVersion"));
  const char *slash = api ? strchr (api, '/') : NULL;

  if (singular && slash)
    snprintf (buf, len, "%s.%.*s", singular, (int) (slash - api), api);
  else
    snprintf (buf, len, "%s", singular ? singular : kind);
  json_decref (info);
}

/* One table cell from a printer column. */
static char *
column_value (const json_t *obj, const json_t *col)
{
  const char *path = json_string_value (json_object_get (col, "jsonPath"));
  const char *type = json_string_value (json_object_get (col, "type"));
  const json_t *v = path ? cli_jsonpath (obj, path) : NULL;
  char buf[64];

  if (!v)
    return strdup ("");
  if (type && strcmp (type, "date") == 0) {
    cli_age (json_string_value (v), buf, sizeof buf);
    return strdup (buf);
  }
  if (json_is_object (v)) {             /* Secret DATA: the number of keys */
    snprintf (buf, sizeof buf, "%zu", json_object_size (v));
    return strdup (buf);
  }
  if (json_is_string (v))
    return strdup (json_string_value (v));
  return json_dumps (v, JSON_ENCODE_ANY | JSON_COMPACT);
}

static int
print_objects (const char *kind, json_t *items, enum cli_output out,
               bool show_ns, bool single)
{
  size_t i;
  json_t *obj;

  if (out == OUTPUT_YAML || out == OUTPUT_JSON) {
    if (single)
      return cli_print_value (json_array_get (items, 0), out);
    json_t *list = json_pack ("{s:s, s:s, s:O, s:{}}", "apiVersion", "v1",
                              "kind", "List", "items", items, "metadata");
    int r = cli_print_value (list, out);
    json_decref (list);
    return r;
  }
  char disp[128];
  kind_display (kind, disp, sizeof disp);
  if (out == OUTPUT_NAME) {
    json_array_foreach (items, i, obj)
      printf ("%s/%s\n", disp,
              json_string_value (json_object_get (json_object_get (obj, "metadata"), "name")));
    return 0;
  }

  json_t *info = ferry_kind_info (kind);
  json_t *cols = json_object_get (info, "printerColumns");
  const char *header[32];
  size_t nh = 0;
  if (show_ns)
    header[nh++] = "NAMESPACE";
  header[nh++] = "NAME";
  size_t c;
  json_t *col;
  json_array_foreach (cols, c, col)
    if (nh < 32)
      header[nh++] = json_string_value (json_object_get (col, "name"));

  json_t *rows = json_array ();
  json_array_foreach (items, i, obj) {
    json_t *meta = json_object_get (obj, "metadata");
    json_t *row = json_array ();
    if (show_ns)
      json_array_append (row, json_object_get (meta, "namespace"));
    json_array_append (row, json_object_get (meta, "name"));
    json_array_foreach (cols, c, col) {
      if (json_array_size (row) >= nh)
        break;
      char *s = column_value (obj, col);
      json_array_append_new (row, json_string (s ? s : ""));
      free (s);
    }
    json_array_append_new (rows, row);
  }
  cli_print_table (header, nh, rows);
  json_decref (rows);
  json_decref (info);
  return 0;
}

static void
get_usage (void)
{
  printf ("Usage: ferry get KIND [NAME] [-n NAMESPACE | -A] [-o table|yaml|json|name] [--show-values]\n"
          "List objects of a kind, or show one.  KIND is a kind, its plural or\n"
          "short name: provider, secret, host, networkmap, storagemap, plan,\n"
          "migration, hook.\n"
          "\n"
          "  -n, --namespace NS     namespace (default: default)\n"
          "  -A, --all-namespaces   every namespace\n"
          "  -o, --output FORMAT    table (default), yaml, json or name\n"
          "      --show-values      show Secret values (base64), hidden otherwise\n"
          "  -h, --help             show this help\n");
}

int
cmd_get (struct cli *cli, int argc, char **argv)
{
  enum { OPT_SHOW_VALUES = 256 };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "all-namespaces", no_argument, NULL, 'A' },
    { "output", required_argument, NULL, 'o' },
    { "show-values", no_argument, NULL, OPT_SHOW_VALUES },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  enum cli_output out = OUTPUT_TABLE;
  unsigned flags = 0;
  int c;

  while ((c = getopt_long (argc, argv, "n:Ao:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case 'A': cli->all_namespaces = true; break;
    case 'o':
      if (cli_parse_output ("get", optarg, &out) == -1)
        return EXIT_USAGE;
      break;
    case OPT_SHOW_VALUES: flags |= FERRY_GET_SECRET_VALUES; break;
    case 'h': get_usage (); return EXIT_OK;
    default: return cli_usage_error ("get", "bad option");
    }
  }
  if (optind >= argc)
    return cli_usage_error ("get", "which kind? e.g. 'ferry get plans'");
  if (argc - optind > 2)
    return cli_usage_error ("get", "unexpected argument '%s'", argv[optind + 2]);
  const char *kind = ferry_kind_canonical (argv[optind]);
  if (!kind) {
    cli_error (NULL);
    return EXIT_USAGE;
  }
  const char *name = argc - optind == 2 ? argv[optind + 1] : NULL;
  if (name && cli->all_namespaces)
    return cli_usage_error ("get", "a name cannot be combined with -A");

  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  const char *ns = cli->ns ? cli->ns : "default";
  json_t *items;
  if (name) {
    json_t *obj = ferry_get (f, kind, ns, name, flags);
    if (!obj) {
      cli_error (NULL);
      return EXIT_ERROR;
    }
    items = json_array ();
    json_array_append_new (items, obj);
  }
  else {
    items = ferry_list (f, kind, cli->all_namespaces ? NULL : ns, flags);
    if (!items) {
      cli_error (NULL);
      return EXIT_ERROR;
    }
    if (json_array_size (items) == 0 && out == OUTPUT_TABLE) {
      if (cli->all_namespaces)
        fprintf (stderr, "No resources found\n");
      else
        fprintf (stderr, "No resources found in %s namespace.\n", ns);
      json_decref (items);
      return EXIT_OK;
    }
  }
  int r = print_objects (kind, items, out, cli->all_namespaces, name != NULL);
  json_decref (items);
  return r == 0 ? EXIT_OK : EXIT_ERROR;
}

/* Indent every line of s by n spaces. */
static void
print_indented (const char *s, int n)
{
  while (*s) {
    size_t l = strcspn (s, "\n");
    printf ("%*s%.*s\n", n, "", (int) l, s);
    s += l;
    if (*s == '\n')
      s++;
  }
}

static void
print_map_line (const char *label, const json_t *m)
{
  const char *k;
  json_t *v;
  bool first = true;

  printf ("%-13s", label);
  if (json_object_size (m) == 0) {
    printf ("<none>\n");
    return;
  }
  json_object_foreach ((json_t *) m, k, v) {
    printf ("%*s%s=%s\n", first ? 0 : 13, "", k,
            json_is_string (v) ? json_string_value (v) : "");
    first = false;
  }
}

static void
print_section (const char *label, const json_t *v)
{
  printf ("%s:\n", label);
  char *y = ferry_to_yaml (v);
  if (y)
    print_indented (y, 2);
  free (y);
}

int
cmd_describe (struct cli *cli, int argc, char **argv)
{
  const char *kind;
  int r;

  if ((r = cli_parse_ns_options (cli, argc, argv, "describe",
        "Usage: ferry describe KIND NAME [-n NAMESPACE]\n"
        "Show one object in detail: metadata, spec and status (conditions\n"
        "with what to do).  Secret values are never shown, only their sizes.\n"
        "\n"
        "  -n, --namespace NS   namespace (default: default)\n"
        "  -h, --help           show this help\n")) >= 0
      || (r = cli_kind_name_args ("describe", argc, argv, &kind)) >= 0)
    return r;
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  /* --- plan validation: a plan is validated before it is shown. */
  json_t *conds = NULL;
  if (strcmp (kind, "Plan") == 0) {
    conds = ferry_plan_validate (f, cli->ns ? cli->ns : "default", argv[optind + 1]);
    if (!conds && !strstr (ferry_get_error (), "not found"))
      cli_error ("validate");
  }
  /* --- end of plan validation */
  json_t *obj = ferry_get (f, kind, cli->ns ? cli->ns : "default", argv[optind + 1], 0);
  if (!obj) {
    cli_error (NULL);
    json_decref (conds);
    return EXIT_ERROR;
  }
  json_t *meta = json_object_get (obj, "metadata");
  printf ("%-13s%s\n", "Name:", json_string_value (json_object_get (meta, "name")));
  printf ("%-13s%s\n", "Namespace:", json_string_value (json_object_get (meta, "namespace")));
  print_map_line ("Labels:", json_object_get (meta, "labels"));
  print_map_line ("Annotations:", json_object_get (meta, "annotations"));
  if (strcmp (kind, "Secret") == 0) {
    const char *type = json_string_value (json_object_get (obj, "type"));
    printf ("\n%-13s%s\n\nData\n====\n", "Type:", type ? type : "Opaque");
    const char *k;
    json_t *v;
    json_object_foreach (json_object_get (obj, "data"), k, v) {
      unsigned long n = 0;
      if (sscanf (json_string_value (v) ? json_string_value (v) : "",
                  "(hidden: %lu bytes)", &n) != 1)
        n = 0;
      printf ("%s:  %lu bytes\n", k, n);
    }
  }
  else {
    printf ("%-13s%s\n", "API Version:", json_string_value (json_object_get (obj, "apiVersion")));
    printf ("%-13s%s\n", "Kind:", kind);
    printf ("Metadata:\n");
    printf ("  %-20s%s\n", "Creation Timestamp:", json_string_value (json_object_get (meta, "creationTimestamp")));
    printf ("  %-20s%" JSON_INTEGER_FORMAT "\n", "Generation:", json_integer_value (json_object_get (meta, "generation")));
    printf ("  %-20s%s\n", "Resource Version:", json_string_value (json_object_get (meta, "resourceVersion")));
    printf ("  %-20s%s\n", "UID:", json_string_value (json_object_get (meta, "uid")));
    if (json_object_get (obj, "spec"))
      print_section ("Spec", json_object_get (obj, "spec"));
    if (json_object_get (obj, "status"))
      print_section ("Status", json_object_get (obj, "status"));
    /* --- plan validation: the conditions, with what to do. */
    if (conds) {
      printf ("Conditions:\n");
      cli_print_conditions (conds, 2);
      json_decref (conds);
    }
    /* --- end of plan validation */
  }
  printf ("Events:      <none>\n");
  json_decref (obj);
  return EXIT_OK;
}

int
cmd_delete (struct cli *cli, int argc, char **argv)
{
  const char *kind;
  int r;

  if ((r = cli_parse_ns_options (cli, argc, argv, "delete",
        "Usage: ferry delete KIND NAME [-n NAMESPACE]\n"
        "Delete one stored object.\n"
        "\n"
        "  -n, --namespace NS   namespace (default: default)\n"
        "  -h, --help           show this help\n")) >= 0
      || (r = cli_kind_name_args ("delete", argc, argv, &kind)) >= 0)
    return r;
  struct ferry *f = cli_open (cli, 0);
  if (!f)
    return EXIT_ERROR;
  if (ferry_delete (f, kind, cli->ns ? cli->ns : "default", argv[optind + 1]) == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  char disp[128];
  kind_display (kind, disp, sizeof disp);
  printf ("%s \"%s\" deleted\n", disp, argv[optind + 1]);
  return EXIT_OK;
}
