/* ferry core: ferry_must_gather, a tar.gz laid out like Forklift's
 * must-gather:
 *
 *   must-gather/version                                    ferry's version
 *   must-gather/namespaces/<ns>/crs/<kind>/<name>.yaml     objects (kind singular,
 *                                                          lower case: plan, hook)
 *   must-gather/namespaces/<ns>/logs/<log>/current.log     plan-<plan>,
 *                                                          migration-<migration>,
 *                                                          vm-<plan>.<vm-id>
 *
 * Secrets are included with their key names only: every value is replaced
 * by "(redacted)".  Entries are mode 0600, the archive file too.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <dirent.h>

#include <archive.h>
#include <archive_entry.h>

#include "internal.h"
#include "logs.h"

#define MG_ROOT "must-gather"

struct gather {
  struct ferry *f;
  const char *out;                      /* archive path, for messages */
  struct archive *a;
  time_t now;
  json_t *seen;                         /* "kind/ns/name" -> true: objects written */
};

static int
add_entry (struct gather *g, const char *path, const void *data, size_t len)
{
  struct archive_entry *e = archive_entry_new ();
  if (!e) {
    ferry_error ("must-gather %s: out of memory", g->out);
    return -1;
  }
  archive_entry_set_pathname (e, path);
  archive_entry_set_filetype (e, AE_IFREG);
  archive_entry_set_perm (e, 0600);
  archive_entry_set_size (e, (la_int64_t) len);
  archive_entry_set_mtime (e, g->now, 0);
  int r = archive_write_header (g->a, e);
  archive_entry_free (e);
  if (r != ARCHIVE_OK
      || (len && archive_write_data (g->a, data, len) != (la_ssize_t) len)) {
    ferry_error ("must-gather %s: write %s: %s", g->out, path,
                 archive_error_string (g->a) ? archive_error_string (g->a) : "failed");
    return -1;
  }
  return 0;
}

/* A log file as namespaces/<ns>/logs/<label>/current.log; absent or empty
 * files are left out, as Forklift's must-gather does.
 */
static int
add_log (struct gather *g, const char *file, const char *ns, const char *label)
{
  int fd = open (file, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd == -1)
    return errno == ENOENT ? 0 : (ferry_error_errno (errno, "must-gather: open %s", file), -1);
  CLEANUP_CLOSE int cfd = fd;
  struct stat st;
  if (fstat (fd, &st) == -1 || !S_ISREG (st.st_mode)) {
    ferry_error ("must-gather: %s is not a regular file", file);
    return -1;
  }
  if (st.st_size == 0)
    return 0;
  /* Log files are small; read the size fstat gave (lines appended after
   * it are left for the next must-gather).
   */
  size_t len = (size_t) st.st_size;
  CLEANUP_FREE char *buf = malloc (len);
  if (!buf) {
    ferry_error ("must-gather: %s: out of memory", file);
    return -1;
  }
  size_t got = 0;
  while (got < len) {
    ssize_t n = read (fd, buf + got, len - got);
    if (n == -1 && errno == EINTR)
      continue;
    if (n == -1) {
      ferry_error_errno (errno, "must-gather: read %s", file);
      return -1;
    }
    if (n == 0)
      break;
    got += (size_t) n;
  }
  CLEANUP_FREE char *path = NULL;
  if (asprintf (&path, MG_ROOT "/namespaces/%s/logs/%s/current.log", ns, label) == -1) {
    ferry_error_errno (errno, "must-gather");
    return -1;
  }
  return add_entry (g, path, buf, got);
}

/* Secret data: keys only. */
static void
redact_secret (json_t *obj)
{
  json_t *data = json_object_get (obj, "data");
  const char *k;
  json_t *v;

  json_object_del (obj, "stringData");
  if (!json_is_object (data)) {
    json_object_del (obj, "data");
    return;
  }
  json_object_foreach (data, k, v)
    json_object_set_new (data, k, json_string ("(redacted)"));
}

/* Write the object kind ns/name once; absent objects are skipped. */
static int
add_object (struct gather *g, const char *kind, const char *ns, const char *name)
{
  if (!kind || !ns || !name)
    return 0;
  CLEANUP_FREE char *key = NULL;
  if (asprintf (&key, "%s/%s/%s", kind, ns, name) == -1) {
    ferry_error_errno (errno, "must-gather");
    return -1;
  }
  if (json_object_get (g->seen, key))
    return 0;
  json_object_set_new (g->seen, key, json_true ());

  CLEANUP_JSON_DECREF json_t *obj = ferry_get (g->f, kind, ns, name, 0);
  if (!obj) {
    ferry_clear_error ();
    return 0;
  }
  if (strcmp (kind, "Secret") == 0)
    redact_secret (obj);
  CLEANUP_JSON_DECREF json_t *info = ferry_kind_info (kind);
  const char *singular = json_string_value (json_object_get (info, "singular"));
  CLEANUP_FREE char *dir = strdup (singular ? singular : kind);
  if (!dir) {
    ferry_error_errno (errno, "must-gather");
    return -1;
  }
  for (char *p = dir; *p; p++)
    if (*p >= 'A' && *p <= 'Z')
      *p = (char) (*p - 'A' + 'a');
  CLEANUP_FREE char *yaml = ferry_to_yaml (obj);
  CLEANUP_FREE char *path = NULL;
  if (!yaml)
    return -1;
  if (asprintf (&path, MG_ROOT "/namespaces/%s/crs/%s/%s.yaml", ns, dir, name) == -1) {
    ferry_error_errno (errno, "must-gather");
    return -1;
  }
  return add_entry (g, path, yaml, strlen (yaml));
}

static const char *
str_at (const json_t *v, const char *a, const char *b)
{
  const json_t *x = json_object_get (v, a);
  return json_string_value (b ? json_object_get (x, b) : x);
}

static int
add_ref (struct gather *g, const char *kind, const json_t *ref, const char *dflt_ns)
{
  const char *name = json_string_value (json_object_get (ref, "name"));
  const char *ns = json_string_value (json_object_get (ref, "namespace"));
  return add_object (g, kind, ns ? ns : dflt_ns, name);
}

/* Whether VM entry vm (id or name) is the one asked for. */
static bool
vm_matches (const json_t *entry, const char *want)
{
  const char *id = json_string_value (json_object_get (entry, "id"));
  const char *name = json_string_value (json_object_get (entry, "name"));
  return (id && strcmp (id, want) == 0) || (name && strcmp (name, want) == 0);
}

/* Every VM log of plan ns/plan (all, or only vm's), from the log directory
 * (a VM's log name is "<plan>.<vm-id>").  ids: the VM ids vm resolves to.
 */
static int
add_vm_logs (struct gather *g, const char *ns, const char *plan, const json_t *ids)
{
  CLEANUP_FREE char *dir = NULL;
  if (asprintf (&dir, "%s/logs/vm/%s", g->f->state_dir, ns) == -1) {
    ferry_error_errno (errno, "must-gather");
    return -1;
  }
  DIR *d = opendir (dir);
  if (!d)
    return 0;
  size_t plen = strlen (plan);
  struct dirent *de;
  int r = 0;
  while (r == 0 && (de = readdir (d))) {
    size_t n = strlen (de->d_name);
    if (n <= plen + 5 || strncmp (de->d_name, plan, plen) != 0 || de->d_name[plen] != '.'
        || strcmp (de->d_name + n - 4, ".log") != 0)
      continue;
    CLEANUP_FREE char *base = strndup (de->d_name, n - 4);
    CLEANUP_FREE char *file = NULL, *label = NULL;
    if (!base || asprintf (&file, "%s/%s", dir, de->d_name) == -1
        || asprintf (&label, "vm-%s", base) == -1) {
      ferry_error_errno (ENOMEM, "must-gather");
      r = -1;
      break;
    }
    if (ids) {
      bool want = false;
      size_t i;
      json_t *id;
      json_array_foreach (ids, i, id) {
        CLEANUP_FREE char *ln = ferry_internal_vm_log_name (plan, json_string_value (id));
        if (ln && strcmp (ln, base) == 0)
          want = true;
      }
      if (!want)
        continue;
    }
    r = add_log (g, file, ns, label);
  }
  closedir (d);
  return r;
}

/* One plan: the plan, its Migrations, providers, maps, hooks, the
 * providers' Secrets (redacted), and the logs.  vm: only that VM's log.
 */
static int
gather_plan (struct gather *g, const json_t *plan, const json_t *migrations,
             const char *vm)
{
  const char *ns = str_at (plan, "metadata", "namespace");
  const char *name = str_at (plan, "metadata", "name");
  const json_t *spec = json_object_get (plan, "spec");
  const json_t *prov = json_object_get (spec, "provider");
  const json_t *m;
  size_t i;

  if (add_object (g, "Plan", ns, name) == -1)
    return -1;
  for (const char *const *which = (const char *const[]) { "source", "destination", NULL };
       *which; which++) {
    const json_t *ref = json_object_get (prov, *which);
    if (add_ref (g, "Provider", ref, ns) == -1)
      return -1;
    const char *pname = json_string_value (json_object_get (ref, "name"));
    const char *pns = json_string_value (json_object_get (ref, "namespace"));
    if (!pname)
      continue;
    CLEANUP_JSON_DECREF json_t *p = ferry_get (g->f, "Provider", pns ? pns : ns, pname, 0);
    if (!p)
      ferry_clear_error ();
    else if (add_ref (g, "Secret", json_object_get (json_object_get (p, "spec"), "secret"),
                      pns ? pns : ns) == -1)
      return -1;
  }
  if (add_ref (g, "NetworkMap", json_object_get (json_object_get (spec, "map"), "network"), ns) == -1
      || add_ref (g, "StorageMap", json_object_get (json_object_get (spec, "map"), "storage"), ns) == -1)
    return -1;

  /* The ids vm stands for (it may be a name). */
  CLEANUP_JSON_DECREF json_t *ids = vm ? json_array () : NULL;
  if (vm)
    json_array_append_new (ids, json_string (vm));
  const json_t *pvm;
  json_array_foreach (json_object_get (spec, "vms"), i, pvm) {
    const json_t *h;
    size_t j;
    if (vm && !vm_matches (pvm, vm))
      continue;
    if (vm && json_object_get (pvm, "id"))
      json_array_append (ids, json_object_get (pvm, "id"));
    json_array_foreach (json_object_get (pvm, "hooks"), j, h)
      if (add_ref (g, "Hook", json_object_get (h, "hook"), ns) == -1)
        return -1;
  }
  json_array_foreach (migrations, i, m) {
    const char *mns = str_at (m, "metadata", "namespace");
    const char *mname = str_at (m, "metadata", "name");
    const char *pname = str_at (json_object_get (m, "spec"), "plan", "name");
    if (!pname || strcmp (pname, name) != 0 || !mns || strcmp (mns, ns) != 0)
      continue;
    if (add_object (g, "Migration", mns, mname) == -1)
      return -1;
    const json_t *e;
    size_t j;
    json_array_foreach (json_object_get (json_object_get (m, "status"), "vms"), j, e)
      if (vm && vm_matches (e, vm) && json_object_get (e, "id"))
        json_array_append (ids, json_object_get (e, "id"));
    CLEANUP_FREE char *file = ferry_log_path (g->f, "migration", mns, mname);
    CLEANUP_FREE char *label = NULL;
    if (!file || asprintf (&label, "migration-%s", mname) == -1
        || add_log (g, file, mns, label) == -1)
      return -1;
  }
  CLEANUP_FREE char *pfile = ferry_log_path (g->f, "plan", ns, name);
  CLEANUP_FREE char *plabel = NULL;
  if (!pfile || asprintf (&plabel, "plan-%s", name) == -1
      || add_log (g, pfile, ns, plabel) == -1)
    return -1;
  return add_vm_logs (g, ns, name, ids);
}

/* Every object of every kind (ns NULL: all namespaces) and every log. */
static int
gather_all (struct gather *g, const char *ns, const json_t *plans, const json_t *migrations)
{
  const json_t *o;
  size_t i;

  json_array_foreach (plans, i, o)
    if (gather_plan (g, o, migrations, NULL) == -1)
      return -1;
  for (const char *const *k = ferry_kinds (); *k; k++) {
    CLEANUP_JSON_DECREF json_t *all = ferry_list (g->f, *k, ns, 0);
    if (!all)
      return -1;
    json_array_foreach (all, i, o)
      if (add_object (g, *k, str_at (o, "metadata", "namespace"),
                      str_at (o, "metadata", "name")) == -1)
        return -1;
  }
  return 0;
}

int
ferry_must_gather (struct ferry *f, const char *ns, const char *plan,
                   const char *vm, const char *path)
{
  if (!path || !*path) {
    ferry_error ("must-gather: no output file");
    return -1;
  }
  CLEANUP_JSON_DECREF json_t *plans = ferry_list (f, "Plan", ns, 0);
  CLEANUP_JSON_DECREF json_t *migrations = ferry_list (f, "Migration", ns, 0);
  if (!plans || !migrations)
    return -1;

  /* The plans asked for, before anything is written. */
  CLEANUP_JSON_DECREF json_t *chosen = json_array ();
  const json_t *p;
  size_t i;
  json_array_foreach (plans, i, p) {
    if (plan && strcmp (str_at (p, "metadata", "name") ?: "", plan) != 0)
      continue;
    if (vm) {
      bool has = false;
      const json_t *e;
      size_t j;
      json_array_foreach (json_object_get (json_object_get (p, "spec"), "vms"), j, e)
        has |= vm_matches (e, vm);
      const json_t *m;
      json_array_foreach (migrations, j, m) {
        const char *pn = str_at (json_object_get (m, "spec"), "plan", "name");
        size_t k;
        if (!pn || strcmp (pn, str_at (p, "metadata", "name") ?: "") != 0)
          continue;
        json_array_foreach (json_object_get (json_object_get (m, "status"), "vms"), k, e)
          has |= vm_matches (e, vm);
      }
      if (!has)
        continue;
    }
    json_array_append (chosen, (json_t *) p);
  }
  if ((plan || vm) && json_array_size (chosen) == 0) {
    ferry_error ("must-gather: no plan%s%s%s%s in %s%s", plan ? " " : "", plan ? plan : "",
                 vm ? " with VM " : "", vm ? vm : "",
                 ns ? "namespace " : "any namespace", ns ? ns : "");
    return -1;
  }

  int fd = open (path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, 0600);
  if (fd == -1) {
    ferry_error_errno (errno, "must-gather: create %s", path);
    return -1;
  }
  if (fchmod (fd, 0600) == -1) {
    ferry_error_errno (errno, "must-gather: chmod %s", path);
    close (fd);
    return -1;
  }
  struct gather g = { .f = f, .out = path, .now = time (NULL), .seen = json_object () };
  int r = -1;
  g.a = archive_write_new ();
  if (!g.a || !g.seen
      || archive_write_add_filter_gzip (g.a) != ARCHIVE_OK
      || archive_write_set_format_pax_restricted (g.a) != ARCHIVE_OK
      || archive_write_open_fd (g.a, fd) != ARCHIVE_OK) {
    ferry_error ("must-gather: %s: %s", path,
                 g.a && archive_error_string (g.a) ? archive_error_string (g.a) : "cannot start the archive");
    goto out;
  }
  char version[128];
  snprintf (version, sizeof version, "ferry %s\n", ferry_version ());
  if (add_entry (&g, MG_ROOT "/version", version, strlen (version)) == -1)
    goto out;
  if (plan || vm) {
    json_array_foreach (chosen, i, p)
      if (gather_plan (&g, p, migrations, vm) == -1)
        goto out;
  }
  else if (gather_all (&g, ns, chosen, migrations) == -1)
    goto out;
  if (archive_write_close (g.a) != ARCHIVE_OK) {
    ferry_error ("must-gather: %s: %s", path, archive_error_string (g.a));
    goto out;
  }
  r = 0;
 out:
  if (g.a)
    archive_write_free (g.a);
  json_decref (g.seen);
  if (close (fd) == -1 && r == 0) {
    ferry_error_errno (errno, "must-gather: write %s", path);
    r = -1;
  }
  if (r == -1)
    unlink (path);
  return r;
}
