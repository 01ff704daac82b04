/* ferry core: ferry_apply and ferry_apply_buffer.
 *
 * Two phases.  First every document of the invocation is parsed and checked
 * (all errors collected, so a user fixes them in one go).  Only if there
 * were none, one store transaction writes every object; any failure rolls
 * it back, so an invocation is stored completely or not at all.
 */
#include <config.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "internal.h"
#include "manifest.h"
#include "objects.h"
#include "yaml.h"

struct apply {
  struct ferry *f;
  const char *default_ns;
  struct ferry_diag diag;
  struct ferry_manifest *objs;
  size_t nobjs;
};

static void
apply_clear (struct apply *a)
{
  for (size_t i = 0; i < a->nobjs; ++i)
    ferry_internal_manifest_clear (&a->objs[i]);
  free (a->objs);
  ferry_internal_diag_clear (&a->diag);
}

/* Parse and check one buffer; objects go to a->objs, errors to a->diag. */
static void
collect_buffer (struct apply *a, const char *name, const char *buf,
                size_t len)
{
  struct ferry_yaml_doc *docs = NULL;
  size_t ndocs = 0, nobjects = 0;

  if (ferry_internal_yaml_parse (name, buf, len, &docs, &ndocs) == -1) {
    ferry_internal_diag_add (&a->diag, "%s", ferry_get_error ());
    return;
  }
  for (size_t i = 0; i < ndocs; ++i) {
    struct ferry_manifest m;
    struct ferry_manifest *objs;
    int r = ferry_internal_manifest_check (name, &docs[i], ndocs,
                                           a->default_ns, &a->diag, &m);
    if (r != 0)
      continue;
    nobjects++;
    objs = realloc (a->objs, (a->nobjs + 1) * sizeof *objs);
    if (!objs) {
      ferry_internal_diag_add (&a->diag, "%s: out of memory", name);
      ferry_internal_manifest_clear (&m);
      break;
    }
    a->objs = objs;
    a->objs[a->nobjs++] = m;
  }
  if (ndocs == 0)
    ferry_internal_diag_add (&a->diag, "%s: no documents (the input is empty "
                             "or holds only comments)", name);
  else if (nobjects == 0 && a->diag.total == 0)
    ferry_internal_diag_add (&a->diag, "%s: no objects (every document is "
                             "empty)", name);
  ferry_internal_yaml_docs_free (docs, ndocs);
}

/* Read all of fd, refusing more than FERRY_YAML_MAX_BYTES. */
static int
read_fd (struct apply *a, const char *name, int fd, char **buf, size_t *len)
{
  size_t cap = 65536, n = 0;
  char *b = malloc (cap);

  if (!b) {
    ferry_internal_diag_add (&a->diag, "%s: out of memory", name);
    return -1;
  }
  for (;;) {
    ssize_t r;
    if (n == cap) {
      char *nb;
      if (cap > FERRY_YAML_MAX_BYTES) {
        ferry_internal_diag_add (&a->diag, "%s: larger than the limit for "
                                 "manifests (FERRY_YAML_MAX_BYTES, %u bytes "
                                 "= %u MiB); split it into several files",
                                 name, FERRY_YAML_MAX_BYTES,
                                 FERRY_YAML_MAX_BYTES / (1024 * 1024));
        free (b);
        return -1;
      }
      cap *= 2;
      nb = realloc (b, cap);
      if (!nb) {
        ferry_internal_diag_add (&a->diag, "%s: out of memory", name);
        free (b);
        return -1;
      }
      b = nb;
    }
    r = read (fd, b + n, cap - n);
    if (r == -1 && errno == EINTR)
      continue;
    if (r == -1) {
      ferry_internal_diag_add (&a->diag, "%s: read: %s", name,
                               strerror (errno));
      free (b);
      return -1;
    }
    if (r == 0)
      break;
    n += (size_t) r;
  }
  *buf = b;
  *len = n;
  return 0;
}

static void
collect_file (struct apply *a, const char *path)
{
  CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  CLEANUP_FREE char *buf = NULL;
  struct stat st;
  size_t len;

  if (fd == -1) {
    ferry_internal_diag_add (&a->diag, "%s: open: %s", path, strerror (errno));
    return;
  }
  if (fstat (fd, &st) == 0 && S_ISREG (st.st_mode) &&
      (uintmax_t) st.st_size > FERRY_YAML_MAX_BYTES) {
    ferry_internal_diag_add (&a->diag, "%s: %ju bytes is larger than the "
                             "limit for manifests (FERRY_YAML_MAX_BYTES, %u "
                             "bytes = %u MiB); split it into several files",
                             path, (uintmax_t) st.st_size,
                             FERRY_YAML_MAX_BYTES,
                             FERRY_YAML_MAX_BYTES / (1024 * 1024));
    return;
  }
  if (read_fd (a, path, fd, &buf, &len) == -1)
    return;
  collect_buffer (a, path, buf, len);
  explicit_bzero (buf, len);            /* it may hold Secret stringData */
}

static bool
is_manifest_name (const char *n)
{
  size_t l = strlen (n);
  return n[0] != '.' &&
    ((l > 5 && strcmp (n + l - 5, ".yaml") == 0) ||
     (l > 4 && strcmp (n + l - 4, ".yml") == 0) ||
     (l > 5 && strcmp (n + l - 5, ".json") == 0));
}

static int
cmp_str (const void *x, const void *y)
{
  return strcmp (*(char *const *) x, *(char *const *) y);
}

static void
collect_dir (struct apply *a, const char *dir)
{
  DIR *d = opendir (dir);
  CLEANUP_STRV char **names = NULL;
  size_t n = 0;
  struct dirent *e;

  if (!d) {
    ferry_internal_diag_add (&a->diag, "%s: opendir: %s", dir,
                             strerror (errno));
    return;
  }
  while ((e = readdir (d)) != NULL) {
    char **nn;
    char *p = NULL;
    struct stat st;
    if (!is_manifest_name (e->d_name))
      continue;
    if (asprintf (&p, "%s/%s", dir, e->d_name) < 0)
      break;
    if (stat (p, &st) == -1 || !S_ISREG (st.st_mode)) {
      free (p);
      continue;
    }
    nn = realloc (names, (n + 2) * sizeof *nn);
    if (!nn) {
      free (p);
      break;
    }
    names = nn;
    names[n++] = p;
    names[n] = NULL;
  }
  closedir (d);
  if (n == 0) {
    ferry_internal_diag_add (&a->diag, "%s: no *.yaml, *.yml or *.json "
                             "files in this directory", dir);
    return;
  }
  qsort (names, n, sizeof *names, cmp_str);
  for (size_t i = 0; i < n; ++i)
    collect_file (a, names[i]);
}

static void
check_duplicates (struct apply *a)
{
  for (size_t j = 1; j < a->nobjs; ++j) {
    struct ferry_manifest *b = &a->objs[j];
    for (size_t i = 0; i < j; ++i) {
      struct ferry_manifest *o = &a->objs[i];
      if (strcmp (o->kind, b->kind) == 0 && strcmp (o->ns, b->ns) == 0 &&
          strcmp (o->name, b->name) == 0) {
        ferry_internal_diag_add (&a->diag, "%s:%zu:%zu: document %zu: %s "
                                 "%s/%s is defined twice in this apply: "
                                 "here and at %s:%zu:%zu (document %zu); "
                                 "keep one", b->file, b->line, b->column,
                                 b->doc, b->kind, b->ns, b->name, o->file,
                                 o->line, o->column, o->doc);
        break;
      }
    }
  }
}

static bool
same_json (const json_t *x, const json_t *y)
{
  bool ex = !x || (json_is_object (x) && json_object_size (x) == 0);
  bool ey = !y || (json_is_object (y) && json_object_size (y) == 0);

  if (ex || ey)
    return ex && ey;
  return json_equal ((json_t *) x, (json_t *) y);
}

static void
clear_plain (json_t *data)
{
  const char *k;
  json_t *v;

  if (!data || data->refcount > 1)
    return;
  json_object_foreach (data, k, v)
    if (json_is_string (v) && json_string_length (v) > 0)
      explicit_bzero ((char *) json_string_value (v), json_string_length (v));
}

/* Store one object (or, dry, find what storing would do). */
static int
store_one (struct apply *a, struct ferry_manifest *m, bool dry,
           const char **action)
{
  struct ferry_store *st = a->f->store;
  struct ferry_store_row old = { 0 };
  struct ferry_store_row row = { 0 };
  bool secret = strcmp (m->kind, "Secret") == 0;
  bool spec_changed = true, meta_changed = true, data_changed = false;
  int r, ret = -1;

  r = ferry_internal_store_get (st, m->kind, m->ns, m->name, &old);
  if (r == -1)
    goto out;

  if (r == 1) {
    spec_changed = !same_json (old.spec, m->spec);
    meta_changed = !same_json (old.metadata, m->metadata) ||
      !old.api_version || strcmp (old.api_version, m->api_version) != 0;
    if (secret) {
      json_t *plain = old.sealed
        ? ferry_internal_secret_unseal (a->f, m->ns, m->name, old.sealed,
                                        old.sealed_len)
        : json_object ();
      if (!plain)
        goto out;
      data_changed = !json_equal (plain, m->data);
      clear_plain (plain);
      json_decref (plain);
    }
    if (!spec_changed && !meta_changed && !data_changed) {
      *action = "unchanged";
      ret = 0;
      goto out;
    }
    *action = "configured";
  }
  else
    *action = "created";
  if (dry) {
    ret = 0;
    goto out;
  }

  row.kind = strdup (m->kind);
  row.ns = strdup (m->ns);
  row.name = strdup (m->name);
  row.api_version = strdup (m->api_version);
  row.metadata = json_incref (m->metadata);
  row.spec = json_incref (m->spec);
  if (!row.kind || !row.ns || !row.name || !row.api_version) {
    ferry_error_errno (errno, "apply %s %s/%s", m->kind, m->ns, m->name);
    goto out;
  }
  if (secret) {
    if (r == 1 && !data_changed && old.sealed) {
      row.sealed = ferry_steal (&old.sealed);
      row.sealed_len = old.sealed_len;
    }
    else if (ferry_internal_secret_seal (a->f, m->ns, m->name, m->data,
                                         &row.sealed, &row.sealed_len) == -1)
      goto out;
  }
  if (r == 1) {
    row.generation = old.generation + ((spec_changed || data_changed) ? 1 : 0);
    ret = ferry_internal_store_update (st, &row);
  }
  else
    ret = ferry_internal_store_insert (st, &row);
 out:
  if (ret == -1)
    ferry_error_prefix ("%s:%zu:%zu: %s %s/%s", m->file, m->line, m->column,
                        m->kind, m->ns ? m->ns : "", m->name ? m->name : "");
  ferry_internal_store_row_clear (&old);
  ferry_internal_store_row_clear (&row);
  return ret;
}

static int
apply_store (struct apply *a, unsigned flags, ferry_apply_fn fn, void *opaque)
{
  bool dry = flags & FERRY_APPLY_DRY_RUN;
  CLEANUP_FREE const char **actions = NULL;

  if (!a->f->store) {
    ferry_error ("apply: no store is open");
    return -1;
  }
  actions = calloc (a->nobjs + 1, sizeof *actions);
  if (!actions) {
    ferry_error_errno (errno, "apply");
    return -1;
  }
  if (!dry && ferry_internal_store_begin (a->f->store) == -1)
    return -1;
  for (size_t i = 0; i < a->nobjs; ++i) {
    if (store_one (a, &a->objs[i], dry, &actions[i]) == -1) {
      if (!dry) {
        ferry_internal_store_rollback (a->f->store);
        ferry_error_prefix ("nothing was applied");
      }
      return -1;
    }
  }
  if (!dry && ferry_internal_store_commit (a->f->store) == -1) {
    ferry_internal_store_rollback (a->f->store);
    return -1;
  }
  /* Reported only once stored, so that what the user sees is true. */
  for (size_t i = 0; i < a->nobjs; ++i) {
    struct ferry_manifest *m = &a->objs[i];
    if (!dry)
      ferry_log_object (FERRY_LOG_INFO, m->kind, m->ns, m->name, "%s",
                        actions[i]);
    if (fn)
      fn (opaque, m->kind, m->ns, m->name, actions[i]);
  }
  return 0;
}

static int
check_args (struct ferry *f, unsigned flags)
{
  if (!f) {
    ferry_error ("apply: no ferry handle");
    return -1;
  }
  if (flags & ~FERRY_APPLY_DRY_RUN) {
    ferry_error ("apply: unknown flags 0x%x", flags & ~FERRY_APPLY_DRY_RUN);
    return -1;
  }
  return 0;
}

static int
finish (struct apply *a, const char *what, unsigned flags, ferry_apply_fn fn,
        void *opaque)
{
  int r;

  check_duplicates (a);
  if (ferry_internal_diag_report (&a->diag, what) == -1)
    r = -1;
  else
    r = apply_store (a, flags, fn, opaque);
  apply_clear (a);
  return r;
}

int
ferry_apply_buffer (struct ferry *f, const char *name, const char *buf,
                    size_t len, const char *default_ns, unsigned flags,
                    ferry_apply_fn fn, void *opaque)
{
  struct apply a = { .f = f, .default_ns = default_ns };

  if (check_args (f, flags) == -1)
    return -1;
  if (!name)
    name = "<buffer>";
  collect_buffer (&a, name, buf ? buf : "", buf ? len : 0);
  return finish (&a, name, flags, fn, opaque);
}

int
ferry_apply (struct ferry *f, const char *path, const char *default_ns,
             unsigned flags, ferry_apply_fn fn, void *opaque)
{
  struct apply a = { .f = f, .default_ns = default_ns };
  struct stat st;

  if (check_args (f, flags) == -1)
    return -1;
  if (!path) {
    ferry_error ("apply: no file given");
    return -1;
  }
  if (strcmp (path, "-") == 0) {
    CLEANUP_FREE char *buf = NULL;
    size_t len;
    if (read_fd (&a, "<stdin>", STDIN_FILENO, &buf, &len) == 0) {
      collect_buffer (&a, "<stdin>", buf, len);
      explicit_bzero (buf, len);
    }
    return finish (&a, "<stdin>", flags, fn, opaque);
  }
  if (stat (path, &st) == -1) {
    ferry_error_errno (errno, "apply: %s", path);
    return -1;
  }
  if (S_ISDIR (st.st_mode))
    collect_dir (&a, path);
  else
    collect_file (&a, path);
  return finish (&a, path, flags, fn, opaque);
}
