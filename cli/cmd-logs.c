/* ferry logs, ferry must-gather: a plan's log files, and an archive for a
 * support case.
 */
#include <config.h>

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cli.h"

/* One log file being shown. */
struct log_file {
  char *path;
  char *label;                          /* shown in the "==> label <==" header */
  char *filter;                         /* only lines holding this, or NULL */
  long offset;                          /* bytes already shown */
};

struct log_set {
  struct log_file *v;
  size_t n;
  const char *current;                  /* label of the last header printed */
};

static void
log_set_clear (struct log_set *s)
{
  for (size_t i = 0; i < s->n; i++) {
    free (s->v[i].path);
    free (s->v[i].label);
    free (s->v[i].filter);
  }
  free (s->v);
  s->v = NULL;
  s->n = 0;
  s->current = NULL;
}

/* Add path (owned by the set from now on) unless already there. */
static int
log_set_add (struct log_set *s, char *path, const char *label, const char *filter)
{
  if (!path)
    return -1;
  for (size_t i = 0; i < s->n; i++)
    if (strcmp (s->v[i].path, path) == 0) {
      free (path);
      return 0;
    }
  struct log_file *v = realloc (s->v, (s->n + 1) * sizeof *v);
  if (!v) {
    free (path);
    return -1;
  }
  s->v = v;
  v[s->n] = (struct log_file) {
    .path = path, .label = strdup (label),
    .filter = filter ? strdup (filter) : NULL,
  };
  if (!v[s->n].label || (filter && !v[s->n].filter))
    return -1;
  s->n++;
  return 0;
}

static const char *
str2 (const json_t *v, const char *a, const char *b)
{
  return json_string_value (json_object_get (json_object_get (v, a), b));
}

/* Sort Migrations oldest first (creationTimestamp, then name). */
static int
by_created (const void *a, const void *b)
{
  const json_t *x = *(const json_t *const *) a, *y = *(const json_t *const *) b;
  int c = strcmp (str2 (x, "metadata", "creationTimestamp") ?: "",
                  str2 (y, "metadata", "creationTimestamp") ?: "");
  return c ? c : strcmp (str2 (x, "metadata", "name") ?: "", str2 (y, "metadata", "name") ?: "");
}

/* The plan's Migrations, oldest first (new reference). */
static json_t *
plan_migrations (struct ferry *f, const char *ns, const char *plan)
{
  json_t *all = ferry_list (f, "Migration", ns, 0);
  json_t *out = json_array ();
  const json_t *m;
  size_t i;

  if (!all || !out) {
    json_decref (all);
    json_decref (out);
    return NULL;
  }
  json_array_foreach (all, i, m) {
    const char *p = json_string_value (json_object_get (json_object_get (json_object_get (m, "spec"), "plan"), "name"));
    if (p && strcmp (p, plan) == 0)
      json_array_append (out, (json_t *) m);
  }
  json_decref (all);
  size_t n = json_array_size (out);
  json_t **v = calloc (n ? n : 1, sizeof *v);
  if (!v) {
    json_decref (out);
    return NULL;
  }
  for (i = 0; i < n; i++)
    v[i] = json_incref (json_array_get (out, i));
  qsort (v, n, sizeof *v, by_created);
  json_array_clear (out);
  for (i = 0; i < n; i++)
    json_array_append_new (out, v[i]);
  free (v);
  return out;
}

/* {id: name} of the plan's VMs: from the Migrations' status (ids the
 * engine resolved) and the plan's spec (entries given by id).
 */
static json_t *
plan_vms (const json_t *plan, const json_t *migrations)
{
  json_t *vms = json_object ();
  const json_t *e, *m;
  size_t i, j;

  json_array_foreach (json_object_get (json_object_get (plan, "spec"), "vms"), i, e) {
    const char *id = json_string_value (json_object_get (e, "id"));
    const char *name = json_string_value (json_object_get (e, "name"));
    if (id && !json_object_get (vms, id))
      json_object_set_new (vms, id, json_string (name ? name : id));
  }
  json_array_foreach (migrations, i, m)
    json_array_foreach (json_object_get (json_object_get (m, "status"), "vms"), j, e) {
      const char *id = json_string_value (json_object_get (e, "id"));
      const char *name = json_string_value (json_object_get (e, "name"));
      if (id && *id)
        json_object_set_new (vms, id, json_string (name ? name : id));
    }
  return vms;
}

/* The files to show: the plan's log, its Migrations' logs and its VMs'
 * logs; with vm, that VM's lines of the Migration logs and its own log.
 * *latest_phase: the newest Migration's status.phase (or NULL).
 */
static int
collect (struct ferry *f, const char *ns, const char *plan_name, const char *vm,
         struct log_set *s, char **latest_phase)
{
  json_t *plan = ferry_get (f, "Plan", ns, plan_name, 0);
  if (!plan)
    return -1;
  json_t *migs = plan_migrations (f, ns, plan_name);
  json_t *vms = migs ? plan_vms (plan, migs) : NULL;
  int r = -1;
  const char *vm_id = NULL, *vm_name = NULL;
  const char *id, *nm;
  json_t *v;
  const json_t *m;
  size_t i;

  if (!vms)
    goto out;
  if (vm) {
    json_object_foreach (vms, id, v) {
      nm = json_string_value (v);
      if (strcmp (id, vm) == 0 || (nm && strcmp (nm, vm) == 0)) {
        vm_id = id;
        vm_name = nm;
      }
    }
    if (!vm_id) {
      ferry_error ("VM %s is not among the VMs of plan %s/%s that ferry knows by id "
                   "(a VM given by name is known once a migration has started)",
                   vm, ns, plan_name);
      goto out;
    }
  }
  else if (log_set_add (s, ferry_log_path (f, "plan", ns, plan_name), "plan", NULL) == -1)
    goto out;

  char *filter = NULL;
  if (vm && asprintf (&filter, "vm %s:", vm_name) == -1)
    goto out;
  json_array_foreach (migs, i, m) {
    const char *mn = str2 (m, "metadata", "name");
    char *label = NULL;
    if (asprintf (&label, "migration %s", mn) == -1
        || log_set_add (s, ferry_log_path (f, "migration", ns, mn), label, filter) == -1) {
      free (label);
      free (filter);
      goto out;
    }
    free (label);
  }
  free (filter);
  json_object_foreach (vms, id, v) {
    if (vm_id && strcmp (id, vm_id) != 0)
      continue;
    char *label = NULL;
    if (asprintf (&label, "vm %s (%s)", json_string_value (v), id) == -1
        || log_set_add (s, ferry_vm_log_path (f, ns, plan_name, id), label, NULL) == -1) {
      free (label);
      goto out;
    }
    free (label);
  }
  *latest_phase = NULL;
  if (json_array_size (migs)) {
    const char *ph = json_string_value (json_object_get (json_object_get (json_array_get (migs, json_array_size (migs) - 1), "status"), "phase"));
    *latest_phase = strdup (ph ? ph : "Pending");
  }
  r = 0;
 out:
  json_decref (plan);
  json_decref (migs);
  json_decref (vms);
  return r;
}

/* Print what was appended to each file since last time (whole lines only,
 * unless final).  Returns whether anything was printed.
 */
static bool
show_new (struct log_set *s, bool final)
{
  bool any = false;
  char *line = NULL;
  size_t cap = 0;

  for (size_t i = 0; i < s->n; i++) {
    struct log_file *lf = &s->v[i];
    FILE *fp = fopen (lf->path, "re");
    if (!fp)
      continue;
    if (fseek (fp, lf->offset, SEEK_SET) == -1) {
      fclose (fp);
      continue;
    }
    ssize_t n;
    while ((n = getline (&line, &cap, fp)) > 0) {
      if (line[n - 1] != '\n' && !final)
        break;                          /* a line being written: next time */
      lf->offset += n;
      if (lf->filter && !strstr (line, lf->filter))
        continue;
      if (s->n > 1 && s->current != lf->label) {
        printf ("%s==> %s <==\n", s->current ? "\n" : "", lf->label);
        s->current = lf->label;
      }
      fputs (line, stdout);
      if (line[n - 1] != '\n')
        putchar ('\n');
      any = true;
    }
    fclose (fp);
  }
  free (line);
  fflush (stdout);
  return any;
}

static bool
phase_ended (const char *phase)
{
  return phase && (strcmp (phase, "Succeeded") == 0 || strcmp (phase, "Failed") == 0
                   || strcmp (phase, "Canceled") == 0 || strcmp (phase, "Completed") == 0);
}

int
cmd_logs (struct cli *cli, int argc, char **argv)
{
  enum { OPT_VM = 256 };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "vm", required_argument, NULL, OPT_VM },
    { "follow", no_argument, NULL, 'f' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *vm = NULL;
  bool follow = false;
  int c;

  while ((c = getopt_long (argc, argv, "n:fh", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_VM: vm = optarg; break;
    case 'f': follow = true; break;
    case 'h':
      printf ("Usage: ferry logs PLAN [-n NAMESPACE] [--vm ID|NAME] [--follow]\n"
              "Show the log files of PLAN: the plan's, its migrations' and its VMs'\n"
              "(hook output), each under a '==> NAME <==' header.  With --vm, only\n"
              "that VM's lines.\n"
              "\n"
              "  -n, --namespace NS   the plan's namespace (default: default)\n"
              "      --vm ID|NAME     one VM of the plan, by source id or name\n"
              "  -f, --follow         keep showing new lines until the plan's latest\n"
              "                       migration ends (or ^C)\n"
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("logs", "bad option");
    }
  }
  if (argc - optind != 1)
    return cli_usage_error ("logs", "needs one PLAN");
  struct ferry *f = cli_open (cli, FERRY_OPEN_NO_MODULES);
  if (!f)
    return EXIT_ERROR;
  const char *ns = cli->ns ? cli->ns : "default";
  const char *plan = argv[optind];

  struct log_set set = { 0 };
  char *phase = NULL;
  if (collect (f, ns, plan, vm, &set, &phase) == -1) {
    cli_error (NULL);
    log_set_clear (&set);
    return EXIT_ERROR;
  }
  bool any = show_new (&set, !follow);
  while (follow) {
    bool ended = phase_ended (phase);
    free (phase);
    phase = NULL;
    if (ended)
      break;
    struct timespec ts = { 0, 500 * 1000000L };
    nanosleep (&ts, NULL);
    /* Migrations (and their VMs) may have appeared: look again, keeping
     * what was shown.
     */
    struct log_set next = { 0 };
    if (collect (f, ns, plan, vm, &next, &phase) == -1) {
      cli_error (NULL);
      log_set_clear (&next);
      log_set_clear (&set);
      return EXIT_ERROR;
    }
    for (size_t i = 0; i < next.n; i++)
      for (size_t j = 0; j < set.n; j++)
        if (strcmp (next.v[i].path, set.v[j].path) == 0) {
          next.v[i].offset = set.v[j].offset;
          if (set.current == set.v[j].label)
            next.current = next.v[i].label;
        }
    log_set_clear (&set);
    set = next;
    any |= show_new (&set, phase_ended (phase));
  }
  free (phase);
  log_set_clear (&set);
  if (!any && !follow)
    fprintf (stderr, "ferry: no log lines yet for plan %s/%s%s%s\n", ns, plan,
             vm ? " and VM " : "", vm ? vm : "");
  return EXIT_OK;
}

int
cmd_must_gather (struct cli *cli, int argc, char **argv)
{
  enum { OPT_PLAN = 256, OPT_VM };
  static const struct option opts[] = {
    { "namespace", required_argument, NULL, 'n' },
    { "plan", required_argument, NULL, OPT_PLAN },
    { "vm", required_argument, NULL, OPT_VM },
    { "output", required_argument, NULL, 'o' },
    { "help", no_argument, NULL, 'h' },
    { NULL, 0, NULL, 0 },
  };
  const char *plan = NULL, *vm = NULL, *out = "must-gather.tar.gz";
  int c;

  while ((c = getopt_long (argc, argv, "n:o:h", opts, NULL)) != -1) {
    switch (c) {
    case 'n': cli->ns = optarg; break;
    case OPT_PLAN: plan = optarg; break;
    case OPT_VM: vm = optarg; break;
    case 'o': out = optarg; break;
    case 'h':
      printf ("Usage: ferry must-gather [--plan NAME] [--vm ID|NAME] [-n NAMESPACE] [-o FILE]\n"
              "Write a tar.gz for a support case, laid out like Forklift's must-gather:\n"
              "objects as YAML (must-gather/namespaces/NS/crs/KIND/NAME.yaml) and log\n"
              "files (must-gather/namespaces/NS/logs/NAME/current.log).  Secrets appear\n"
              "with their key names only, never a value.\n"
              "\n"
              "  -n, --namespace NS   only this namespace (default: every namespace)\n"
              "      --plan NAME      only this plan, with its migrations, providers,\n"
              "                       maps, hooks and logs\n"
              "      --vm ID|NAME     only plans with this VM, and only its VM log\n"
              "  -o, --output FILE    the archive (default: must-gather.tar.gz), mode 0600\n"
              "  -h, --help           show this help\n");
      return EXIT_OK;
    default: return cli_usage_error ("must-gather", "bad option");
    }
  }
  if (argc - optind != 0)
    return cli_usage_error ("must-gather", "unexpected argument '%s'", argv[optind]);
  struct ferry *f = cli_open (cli, FERRY_OPEN_NO_MODULES);
  if (!f)
    return EXIT_ERROR;
  if (ferry_must_gather (f, cli->ns, plan, vm, out) == -1) {
    cli_error (NULL);
    return EXIT_ERROR;
  }
  printf ("must-gather written to %s\n", out);
  return EXIT_OK;
}
