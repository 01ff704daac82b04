/* ferry core: the module loader, on libltdl.
 *
 * One pass per ferry_open: walk the search path, dlopen every *.so (local
 * symbols, resident), call ferry_module_entry, validate the stamped header
 * and the descriptor, and keep a zero-extended copy of each good descriptor.
 * Every refusal names the file and the reason, is logged as a warning and is
 * kept for ferry_modules(); the other modules still load.  Handles are never
 * closed: a module's code and strings live as long as the process.
 */
#include <config.h>

#include <dirent.h>
#include <dlfcn.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <ltdl.h>

#include "internal.h"
#include "loader.h"

#ifndef PROVIDERDIR
#error "PROVIDERDIR must be defined by core/Makefile.am"
#endif
#ifndef DESTINATIONDIR
#error "DESTINATIONDIR must be defined by core/Makefile.am"
#endif

/* The v1 mandatory part of each descriptor: everything up to and including
 * its last mandatory callback.  A module stamping a smaller struct_size is
 * refused; anything between this and sizeof is optional and reads as NULL
 * when the module's descriptor is shorter.
 */
#define PROVIDER_V1_SIZE \
  (offsetof (struct ferry_provider, disk_open) \
   + sizeof (((struct ferry_provider *) 0)->disk_open))
#define DESTINATION_V1_SIZE \
  (offsetof (struct ferry_destination, cleanup) \
   + sizeof (((struct ferry_destination *) 0)->cleanup))

struct loaded_module {
  char *file;                           /* path as found on the search path */
  uint32_t kind;                        /* enum ferry_module_kind */
  uint32_t struct_size;                 /* bytes, as the module stamped it */
  union {
    struct ferry_module_header hdr;
    struct ferry_provider provider;     /* zero-extended copy */
    struct ferry_destination destination; /* zero-extended copy */
  } u;
};

struct ferry_modules {
  struct loaded_module **mods;          /* in load order */
  size_t nr_mods;
  json_t *refused;                      /* array of {file, kind?, error} */
};

/* Guards libltdl, which is not thread-safe, and lt_dlinit_done. */
static pthread_mutex_t ltdl_lock = PTHREAD_MUTEX_INITIALIZER;
static bool lt_dlinit_done;

static const char *
kind_name (uint32_t kind)
{
  switch (kind) {
  case FERRY_MODULE_PROVIDER: return "provider";
  case FERRY_MODULE_DESTINATION: return "destination";
  default: return NULL;
  }
}

static const char *
thread_model_name (int tm)
{
  switch (tm) {
  case FERRY_THREAD_MODEL_SERIALIZE_ALL: return "serialize_all";
  case FERRY_THREAD_MODEL_SERIALIZE_HANDLE: return "serialize_handle";
  case FERRY_THREAD_MODEL_PARALLEL: return "parallel";
  default: return NULL;
  }
}

/* The kind a directory must hold: its last path component named
 * "providers" or "destinations" decides; 0 when there is none.
 */
static uint32_t
dir_kind (const char *dir)
{
  uint32_t kind = 0;
  const char *p = dir;

  while (*p) {
    size_t len;
    while (*p == '/')
      p++;
    len = strcspn (p, "/");
    if (len == 9 && strncmp (p, "providers", 9) == 0)
      kind = FERRY_MODULE_PROVIDER;
    else if (len == 12 && strncmp (p, "destinations", 12) == 0)
      kind = FERRY_MODULE_DESTINATION;
    p += len;
  }
  return kind;
}

/* Record a refusal and log it.  kind may be 0 (unknown). */
static int
refuse (struct ferry_modules *m, const char *file, uint32_t kind,
        const char *fs, ...) FERRY_PRINTF (4, 5);

static int
refuse (struct ferry_modules *m, const char *file, uint32_t kind,
        const char *fs, ...)
{
  va_list args;
  CLEANUP_FREE char *reason = NULL, *msg = NULL;
  json_t *r;

  va_start (args, fs);
  if (vasprintf (&reason, fs, args) == -1)
    reason = NULL;
  va_end (args);
  if (!reason || asprintf (&msg, "%s: %s", file, reason) == -1) {
    msg = NULL;
    ferry_error_errno (errno, "module loader: %s", file);
    return -1;
  }
  ferry_warn ("refusing module %s", msg);

  r = json_pack ("{s:s, s:s}", "file", file, "error", msg);
  if (r && kind_name (kind)
      && json_object_set_new (r, "kind", json_string (kind_name (kind))) == -1) {
    json_decref (r);
    r = NULL;
  }
  if (!r || json_array_append_new (m->refused, r) == -1) {
    ferry_error ("module loader: %s: out of memory", file);
    return -1;
  }
  return 0;
}

static const struct loaded_module *
find_module (const struct ferry_modules *m, uint32_t kind, const char *name)
{
  if (!m || !name)
    return NULL;
  for (size_t i = 0; i < m->nr_mods; i++) {
    const struct loaded_module *lm = m->mods[i];
    const char *n = lm->kind == FERRY_MODULE_PROVIDER
      ? lm->u.provider.name : lm->u.destination.name;
    if ((kind == 0 || lm->kind == kind) && strcmp (n, name) == 0)
      return lm;
  }
  return NULL;
}

/* Names of the missing mandatory callbacks, comma-separated, into buf
 * ("" when none is missing).
 */
static void
missing_callbacks (const struct loaded_module *lm, char *buf, size_t len)
{
  struct { const char *name; bool present; } cb[7];
  size_t n = 0, used = 0;

  if (lm->kind == FERRY_MODULE_PROVIDER) {
    const struct ferry_provider *p = &lm->u.provider;
    cb[n++] = (typeof (cb[0])) { "open", p->open != NULL };
    cb[n++] = (typeof (cb[0])) { "close", p->close != NULL };
    cb[n++] = (typeof (cb[0])) { "test_connection", p->test_connection != NULL };
    cb[n++] = (typeof (cb[0])) { "inventory", p->inventory != NULL };
    cb[n++] = (typeof (cb[0])) { "vm_describe", p->vm_describe != NULL };
    cb[n++] = (typeof (cb[0])) { "vm_spec", p->vm_spec != NULL };
    cb[n++] = (typeof (cb[0])) { "disk_open", p->disk_open != NULL };
  }
  else {
    const struct ferry_destination *d = &lm->u.destination;
    cb[n++] = (typeof (cb[0])) { "open", d->open != NULL };
    cb[n++] = (typeof (cb[0])) { "close", d->close != NULL };
    cb[n++] = (typeof (cb[0])) { "test_connection", d->test_connection != NULL };
    cb[n++] = (typeof (cb[0])) { "volume_create", d->volume_create != NULL };
    cb[n++] = (typeof (cb[0])) { "vm_create", d->vm_create != NULL };
    cb[n++] = (typeof (cb[0])) { "vm_exists", d->vm_exists != NULL };
    cb[n++] = (typeof (cb[0])) { "cleanup", d->cleanup != NULL };
  }
  buf[0] = '\0';
  for (size_t i = 0; i < n; i++) {
    if (cb[i].present)
      continue;
    int r = snprintf (buf + used, len - used, "%s%s",
                      used ? ", " : "", cb[i].name);
    if (r < 0 || (size_t) r >= len - used)
      break;
    used += r;
  }
}

/* Load and validate one file.  Returns -1 only on allocation failure; a bad
 * module is recorded as refused and returns 0.  Called with ltdl_lock held.
 */
static int
load_one (struct ferry_modules *m, const char *file, uint32_t want_kind)
{
  lt_dladvise advise;
  lt_dlhandle h = NULL;
  const struct ferry_module_header *(*entry) (void);
  const struct ferry_module_header *hdr;
  CLEANUP_FREE struct loaded_module *lm = NULL;
  size_t min_size, full_size, copy;
  const char *name;
  char missing[128];

  if (lt_dladvise_init (&advise) == 0) {
    /* Local symbols: modules never see each other.  Resident: a module
     * is never unloaded, whatever happens to the handle.
     */
    if (lt_dladvise_local (&advise) == 0 && lt_dladvise_resident (&advise) == 0)
      h = lt_dlopenadvise (file, advise);
    lt_dladvise_destroy (&advise);
  }
  if (!h) {
    const char *e = lt_dlerror ();
    /* libltdl says only "file not found" when its strategies are exhausted;
     * the dynamic linker knows why (not ELF, wrong class, a missing
     * library, an undefined symbol).  Ask it, for the message only.  If it
     * unexpectedly succeeds the handle is left open: never unloaded.
     */
    const char *why = NULL;
    if (!dlopen (file, RTLD_LAZY | RTLD_LOCAL))
      why = dlerror ();
    if (why) {
      /* dlerror() usually starts with the file name already. */
      size_t flen = strlen (file);
      if (strncmp (why, file, flen) == 0 && strncmp (why + flen, ": ", 2) == 0)
        why += flen + 2;
      e = why;
    }
    return refuse (m, file, 0, "cannot load: %s", e ? e : "unknown error");
  }

  /* The handle is deliberately never closed (see the top of this file). */
  entry = (const struct ferry_module_header *(*) (void))
    lt_dlsym (h, FERRY_MODULE_ENTRY_SYMBOL);
  if (!entry)
    return refuse (m, file, 0, "no entry symbol %s (not a ferry module?)",
                   FERRY_MODULE_ENTRY_SYMBOL);
  hdr = entry ();
  if (!hdr)
    return refuse (m, file, 0, "%s returned NULL", FERRY_MODULE_ENTRY_SYMBOL);
  if (hdr->abi_version != FERRY_MODULE_ABI_VERSION)
    return refuse (m, file, 0,
                   "unsupported ABI version %" PRIu32
                   " (this ferry supports %d)",
                   hdr->abi_version, FERRY_MODULE_ABI_VERSION);
  switch (hdr->kind) {
  case FERRY_MODULE_PROVIDER:
    min_size = PROVIDER_V1_SIZE;
    full_size = sizeof (struct ferry_provider);
    break;
  case FERRY_MODULE_DESTINATION:
    min_size = DESTINATION_V1_SIZE;
    full_size = sizeof (struct ferry_destination);
    break;
  default:
    return refuse (m, file, 0, "unknown module kind %" PRIu32, hdr->kind);
  }
  if (want_kind && hdr->kind != want_kind)
    return refuse (m, file, hdr->kind, "a %s module in a %ss directory",
                   kind_name (hdr->kind), kind_name (want_kind));
  if (hdr->struct_size < min_size)
    return refuse (m, file, hdr->kind,
                   "descriptor too small (%" PRIu32 " bytes, ABI version %d "
                   "needs at least %zu)",
                   hdr->struct_size, FERRY_MODULE_ABI_VERSION, min_size);

  /* The size-tolerant copy: zero the whole of our struct, then copy only
   * what the module says it has.  Fields it does not know read as NULL.
   */
  lm = calloc (1, sizeof *lm);
  if (!lm) {
    ferry_error_errno (errno, "module loader: %s", file);
    return -1;
  }
  copy = hdr->struct_size < full_size ? hdr->struct_size : full_size;
  memcpy (&lm->u, hdr, copy);
  lm->kind = hdr->kind;
  lm->struct_size = hdr->struct_size;

  missing_callbacks (lm, missing, sizeof missing);
  if (missing[0])
    return refuse (m, file, lm->kind, "missing mandatory callback%s: %s",
                   strchr (missing, ',') ? "s" : "", missing);

  if (lm->kind == FERRY_MODULE_PROVIDER) {
    name = lm->u.provider.name;
    if (!thread_model_name (lm->u.provider.thread_model))
      return refuse (m, file, lm->kind, "unknown thread model %d",
                     lm->u.provider.thread_model);
  }
  else {
    name = lm->u.destination.name;
    if (!thread_model_name (lm->u.destination.thread_model))
      return refuse (m, file, lm->kind, "unknown thread model %d",
                     lm->u.destination.thread_model);
  }
  if (!name || !*name)
    return refuse (m, file, lm->kind, "empty module name");
  {
    const struct loaded_module *other = find_module (m, lm->kind, name);
    if (other)
      return refuse (m, file, lm->kind,
                     "duplicate %s name \"%s\": already loaded from %s",
                     kind_name (lm->kind), name, other->file);
  }

  lm->file = strdup (file);
  if (!lm->file) {
    ferry_error_errno (errno, "module loader: %s", file);
    return -1;
  }
  {
    struct loaded_module **mods =
      realloc (m->mods, (m->nr_mods + 1) * sizeof *mods);
    if (!mods) {
      ferry_error_errno (errno, "module loader: %s", file);
      free (lm->file);
      return -1;
    }
    m->mods = mods;
    m->mods[m->nr_mods++] = ferry_steal (&lm);
  }
  ferry_debug ("loaded %s module %s from %s",
               kind_name (hdr->kind), name, file);
  return 0;
}

static int
compare_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

static bool
has_so_suffix (const char *name)
{
  size_t len = strlen (name);
  return len > 3 && strcmp (name + len - 3, ".so") == 0;
}

/* Load every *.so of dir in byte order of names.  A directory that does
 * not exist is skipped quietly (search paths name optional modules).
 */
static int
load_dir (struct ferry_modules *m, const char *dir)
{
  DIR *d;
  struct dirent *de;
  char **names = NULL;
  size_t n = 0, cap = 0;
  int r = 0;
  uint32_t want = dir_kind (dir);

  d = opendir (dir);
  if (!d) {
    ferry_debug ("module directory %s: %m", dir);
    return 0;
  }
  while ((errno = 0, de = readdir (d)) != NULL) {
    if (!has_so_suffix (de->d_name))
      continue;
    if (n == cap) {
      size_t ncap = cap ? cap * 2 : 16;
      char **nn = realloc (names, ncap * sizeof *nn);
      if (!nn) {
        r = -1;
        break;
      }
      names = nn;
      cap = ncap;
    }
    if (!(names[n] = strdup (de->d_name))) {
      r = -1;
      break;
    }
    n++;
  }
  if (r == -1)
    ferry_error_errno (errno, "module loader: read directory %s", dir);
  else if (errno != 0)
    ferry_warn ("module directory %s: %m", dir);
  closedir (d);

  if (r == 0 && n > 0)
    qsort (names, n, sizeof *names, compare_names);
  for (size_t i = 0; i < n; i++) {
    if (r == 0) {
      CLEANUP_FREE char *path = NULL;
      struct stat st;
      size_t dlen = strlen (dir);
      if (asprintf (&path, "%s%s%s", dir,
                    dlen && dir[dlen - 1] == '/' ? "" : "/", names[i]) == -1) {
        path = NULL;
        ferry_error_errno (errno, "module loader: %s", dir);
        r = -1;
      }
      else if (stat (path, &st) == 0 && S_ISREG (st.st_mode))
        r = load_one (m, path, want);
    }
    free (names[i]);
  }
  free (names);
  return r;
}

/* Add dir to the list of directories to scan unless it is already there
 * (by its real path).
 */
static int
add_search_dir (char ***dirs, char ***real, size_t *n, const char *dir)
{
  char *rp, *copy;
  char **nd, **nr;

  if (!*dir)
    return 0;
  rp = realpath (dir, NULL);
  if (!rp)
    rp = strdup (dir);           /* does not exist: load_dir skips it */
  if (!rp)
    goto oom;
  for (size_t i = 0; i < *n; i++) {
    if (strcmp ((*real)[i], rp) == 0) {
      free (rp);
      return 0;
    }
  }
  copy = strdup (dir);
  nd = realloc (*dirs, (*n + 1) * sizeof *nd);
  if (nd)
    *dirs = nd;
  nr = realloc (*real, (*n + 1) * sizeof *nr);
  if (nr)
    *real = nr;
  if (!copy || !nd || !nr) {
    free (copy);
    free (rp);
    goto oom;
  }
  (*dirs)[*n] = copy;
  (*real)[*n] = rp;
  (*n)++;
  return 0;

 oom:
  ferry_error_errno (errno, "module loader: search path");
  return -1;
}

static int
load_all (struct ferry_modules *m)
{
  char **dirs = NULL, **real = NULL;
  size_t n = 0;
  int r = 0;
  const char *env = getenv ("FERRY_MODULE_PATH");
  const char *only = getenv ("FERRY_MODULE_PATH_ONLY");

  if (env) {
    CLEANUP_FREE char *copy = strdup (env);
    char *save = NULL;
    if (!copy) {
      ferry_error_errno (errno, "module loader: FERRY_MODULE_PATH");
      return -1;
    }
    for (char *dir = strtok_r (copy, ":", &save); dir && r == 0;
         dir = strtok_r (NULL, ":", &save))
      r = add_search_dir (&dirs, &real, &n, dir);
  }
  if (r == 0 && !(only && *only)) {
    r = add_search_dir (&dirs, &real, &n, PROVIDERDIR);
    if (r == 0)
      r = add_search_dir (&dirs, &real, &n, DESTINATIONDIR);
  }
  for (size_t i = 0; i < n; i++) {
    if (r == 0) {
      ferry_debug ("module directory %s", dirs[i]);
      r = load_dir (m, dirs[i]);
    }
    free (dirs[i]);
    free (real[i]);
  }
  free (dirs);
  free (real);
  return r;
}

struct ferry_modules *
ferry_internal_modules_load (void)
{
  struct ferry_modules *m;
  int r;

  m = calloc (1, sizeof *m);
  if (!m || !(m->refused = json_array ())) {
    ferry_error_errno (ENOMEM, "module loader");
    free (m);
    return NULL;
  }

  FERRY_SCOPED_LOCK (&ltdl_lock);
  /* lt_dlexit is never called: module handles live as long as the
   * process, so libltdl must too.
   */
  if (!lt_dlinit_done) {
    if (lt_dlinit () != 0) {
      const char *e = lt_dlerror ();
      ferry_error ("module loader: lt_dlinit: %s", e ? e : "unknown error");
      ferry_internal_modules_free (m);
      return NULL;
    }
    lt_dlinit_done = true;
  }
  r = load_all (m);
  if (r == -1) {
    ferry_internal_modules_free (m);
    return NULL;
  }
  return m;
}

void
ferry_internal_modules_free (struct ferry_modules *m)
{
  if (!m)
    return;
  for (size_t i = 0; i < m->nr_mods; i++) {
    free (m->mods[i]->file);
    free (m->mods[i]);
  }
  free (m->mods);
  json_decref (m->refused);
  free (m);
}

/* ---- The public API -------------------------------------------------- */

static const char *
module_name (const struct loaded_module *lm)
{
  return lm->kind == FERRY_MODULE_PROVIDER
    ? lm->u.provider.name : lm->u.destination.name;
}

/* Capabilities: the can_* callbacks the module has, without "can_". */
static json_t *
module_capabilities (const struct loaded_module *lm)
{
  json_t *caps = json_array ();
  if (!caps)
    return NULL;
  if (lm->kind == FERRY_MODULE_PROVIDER) {
    const struct ferry_provider *p = &lm->u.provider;
    if (p->can_warm)
      json_array_append_new (caps, json_string ("warm"));
    if (p->can_extents)
      json_array_append_new (caps, json_string ("extents"));
    if (p->can_power)
      json_array_append_new (caps, json_string ("power"));
    if (p->can_multi_conn)
      json_array_append_new (caps, json_string ("multi_conn"));
  }
  return caps;
}

static json_t *
module_summary (const struct loaded_module *lm)
{
  const char *desc, *version;
  int tm;

  if (lm->kind == FERRY_MODULE_PROVIDER) {
    desc = lm->u.provider.description;
    version = lm->u.provider.version;
    tm = lm->u.provider.thread_model;
  }
  else {
    desc = lm->u.destination.description;
    version = lm->u.destination.version;
    tm = lm->u.destination.thread_model;
  }
  return json_pack ("{s:s, s:s, s:i, s:i, s:s, s:s, s:s, s:s, s:o*}",
                    "name", module_name (lm),
                    "kind", kind_name (lm->kind),
                    "abiVersion", (int) lm->u.hdr.abi_version,
                    "structSize", (int) lm->struct_size,
                    "file", lm->file,
                    "version", version ? version : "",
                    "description", desc ? desc : "",
                    "threadModel", thread_model_name (tm),
                    "capabilities", module_capabilities (lm));
}

static struct ferry_modules *
modules_of (struct ferry *f)
{
  if (!f->modules)
    ferry_error ("modules were not loaded (opened with FERRY_OPEN_NO_MODULES)");
  return f->modules;
}

json_t *
ferry_modules (struct ferry *f)
{
  struct ferry_modules *m = modules_of (f);
  json_t *list;

  if (!m)
    return NULL;
  list = json_array ();
  if (!list)
    goto oom;
  for (size_t i = 0; i < m->nr_mods; i++) {
    if (json_array_append_new (list, module_summary (m->mods[i])) == -1)
      goto oom;
  }
  if (json_array_extend (list, m->refused) == -1)
    goto oom;
  return list;

 oom:
  json_decref (list);
  ferry_error ("ferry_modules: out of memory");
  return NULL;
}

#define CB(obj, s, field) \
  json_object_set_new ((obj), #field, json_boolean ((s)->field != NULL))

static json_t *
module_callbacks (const struct loaded_module *lm)
{
  json_t *cb = json_object ();
  if (!cb)
    return NULL;
  if (lm->kind == FERRY_MODULE_PROVIDER) {
    const struct ferry_provider *p = &lm->u.provider;
    CB (cb, p, open);
    CB (cb, p, close);
    CB (cb, p, test_connection);
    CB (cb, p, inventory);
    CB (cb, p, watch);
    CB (cb, p, vm_describe);
    CB (cb, p, vm_spec);
    CB (cb, p, power_state);
    CB (cb, p, power_off);
    CB (cb, p, power_on);
    CB (cb, p, disk_open);
    CB (cb, p, can_warm);
    CB (cb, p, can_extents);
    CB (cb, p, can_power);
    CB (cb, p, can_multi_conn);
    CB (cb, p, snapshot_create);
    CB (cb, p, snapshot_remove);
    CB (cb, p, changed_extents);
    CB (cb, p, pre_transfer);
    CB (cb, p, finalize);
  }
  else {
    const struct ferry_destination *d = &lm->u.destination;
    CB (cb, d, open);
    CB (cb, d, close);
    CB (cb, d, test_connection);
    CB (cb, d, volume_create);
    CB (cb, d, vm_create);
    CB (cb, d, vm_exists);
    CB (cb, d, vm_power_on);
    CB (cb, d, cleanup);
    CB (cb, d, validate_targets);
    CB (cb, d, volume_open);
    CB (cb, d, volume_path);
    CB (cb, d, disk_copy);
    CB (cb, d, report_progress);
  }
  return cb;
}

#undef CB

json_t *
ferry_module_dump (struct ferry *f, const char *name)
{
  struct ferry_modules *m = modules_of (f);
  const struct loaded_module *lm;
  uint32_t kind = 0;
  const char *slash;
  json_t *d;

  if (!m)
    return NULL;
  if (!name || !*name) {
    ferry_error ("ferry_module_dump: no module name");
    return NULL;
  }
  /* "provider/NAME" or "destination/NAME" pick a kind. */
  slash = strchr (name, '/');
  if (slash) {
    size_t len = slash - name;
    if (len == 8 && strncmp (name, "provider", 8) == 0)
      kind = FERRY_MODULE_PROVIDER;
    else if (len == 11 && strncmp (name, "destination", 11) == 0)
      kind = FERRY_MODULE_DESTINATION;
    else {
      ferry_error ("module %s: the kind must be \"provider\" or \"destination\"",
                   name);
      return NULL;
    }
    name = slash + 1;
  }
  lm = find_module (m, kind, name);
  if (!lm) {
    ferry_error ("no %s module named %s is loaded",
                 kind ? kind_name (kind) : "provider or destination", name);
    return NULL;
  }
  if (!kind && find_module (m, FERRY_MODULE_DESTINATION, name)
      && find_module (m, FERRY_MODULE_PROVIDER, name)) {
    ferry_error ("module name %s is both a provider and a destination: "
                 "say provider/%s or destination/%s", name, name, name);
    return NULL;
  }
  d = module_summary (lm);
  if (!d || json_object_set_new (d, "callbacks", module_callbacks (lm)) == -1) {
    json_decref (d);
    ferry_error ("ferry_module_dump: out of memory");
    return NULL;
  }
  return d;
}

const struct ferry_provider *
ferry_get0_provider (struct ferry *f, const char *name)
{
  struct ferry_modules *m = modules_of (f);
  const struct loaded_module *lm;

  if (!m)
    return NULL;
  lm = find_module (m, FERRY_MODULE_PROVIDER, name);
  if (!lm) {
    ferry_error ("no provider module named %s is loaded",
                 name ? name : "(null)");
    return NULL;
  }
  return &lm->u.provider;
}

const struct ferry_destination *
ferry_get0_destination (struct ferry *f, const char *name)
{
  struct ferry_modules *m = modules_of (f);
  const struct loaded_module *lm;

  if (!m)
    return NULL;
  lm = find_module (m, FERRY_MODULE_DESTINATION, name);
  if (!lm) {
    ferry_error ("no destination module named %s is loaded",
                 name ? name : "(null)");
    return NULL;
  }
  return &lm->u.destination;
}
