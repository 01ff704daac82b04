/* ferry core: the kinds ferry stores, and manifests checked into objects.
 *
 * Order of checks for one document: it is a mapping; kind is known;
 * apiVersion serves that kind; metadata is valid; spec (or a Secret's
 * type/data/stringData) is valid; the semantic rules the CRD schema cannot
 * express.  Every error is collected (struct ferry_diag) so that one run
 * of `ferry apply` shows all of them.
 */
#include <config.h>

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "manifest.h"
#include "schema.h"
#include "yaml.h"

/* ---- kinds ------------------------------------------------------------ */

#define FORKLIFT_GROUP "forklift.konveyor.io"
#define FORKLIFT_API FORKLIFT_GROUP "/v1beta1"

struct kind_info {
  const char *kind;
  const char *api_version;
  const char *group;                    /* "" for the core group */
  const char *version;
  const char *singular;
  const char *plural;
};

static const struct kind_info kind_table[] = {
  { "Provider", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "provider", "providers" },
  { "Host", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "host", "hosts" },
  { "NetworkMap", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "networkmap", "networkmaps" },
  { "StorageMap", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "storagemap", "storagemaps" },
  { "Plan", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "plan", "plans" },
  { "Migration", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "migration", "migrations" },
  { "Hook", FORKLIFT_API, FORKLIFT_GROUP, "v1beta1", "hook", "hooks" },
  { "Secret", "v1", "", "v1", "secret", "secrets" },
};
#define NKINDS (sizeof kind_table / sizeof kind_table[0])

static const char *const kind_names[] = {
  "Provider", "Host", "NetworkMap", "StorageMap", "Plan", "Migration", "Hook",
  "Secret", NULL,
};

#define KNOWN_KINDS \
  "Provider, Host, NetworkMap, StorageMap, Plan, Migration, Hook, Secret"

const char *const *
ferry_kinds (void)
{
  return kind_names;
}

static const struct kind_info *
kind_lookup_exact (const char *kind)
{
  for (size_t i = 0; i < NKINDS; ++i)
    if (strcmp (kind_table[i].kind, kind) == 0)
      return &kind_table[i];
  return NULL;
}

static bool
name_matches (const struct kind_info *k, const char *base, size_t n)
{
  const json_t *crd;
  const json_t *shorts;
  size_t i;
  json_t *s;

#define EQ(w) (strlen (w) == n && strncasecmp ((w), base, n) == 0)
  if (EQ (k->kind) || EQ (k->singular) || EQ (k->plural))
    return true;
  crd = ferry_internal_schema_get0 (k->kind);
  shorts = json_object_get (crd, "shortNames");
  json_array_foreach (shorts, i, s)
    if (json_is_string (s) && EQ (json_string_value (s)))
      return true;
#undef EQ
  return false;
}

const char *
ferry_kind_canonical (const char *user_kind)
{
  const char *dot;
  size_t n;

  if (!user_kind || !*user_kind) {
    ferry_error ("no kind given; ferry knows " KNOWN_KINDS);
    return NULL;
  }
  dot = strchr (user_kind, '.');
  n = dot ? (size_t) (dot - user_kind) : strlen (user_kind);
  for (size_t i = 0; i < NKINDS; ++i) {
    const struct kind_info *k = &kind_table[i];
    if (!name_matches (k, user_kind, n))
      continue;
    if (dot) {
      /* kubectl's resource.group and resource.version.group. */
      const char *rest = dot + 1;
      size_t vl = strlen (k->version);
      bool ok = *k->group &&
        (strcasecmp (rest, k->group) == 0 ||
         (strncasecmp (rest, k->version, vl) == 0 && rest[vl] == '.' &&
          strcasecmp (rest + vl + 1, k->group) == 0));
      if (!ok)
        continue;
    }
    return k->kind;
  }
  ferry_error ("unknown kind \"%s\"; ferry knows " KNOWN_KINDS, user_kind);
  return NULL;
}

const char *
ferry_internal_kind_api_version (const char *kind)
{
  const struct kind_info *k = kind ? kind_lookup_exact (kind) : NULL;
  return k ? k->api_version : NULL;
}

/* ---- names -------------------------------------------------------------- */

static bool
is_alnum_lower (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

bool
ferry_internal_is_dns1123_label (const char *s)
{
  size_t n = s ? strlen (s) : 0;

  if (n == 0 || n > 63 || !is_alnum_lower (s[0]) || !is_alnum_lower (s[n - 1]))
    return false;
  for (size_t i = 0; i < n; ++i)
    if (!is_alnum_lower (s[i]) && s[i] != '-')
      return false;
  return true;
}

bool
ferry_internal_is_dns1123_subdomain (const char *s)
{
  size_t n = s ? strlen (s) : 0;

  if (n == 0 || n > 253)
    return false;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && s[j] != '.')
      j++;
    if (j == i || !is_alnum_lower (s[i]) || !is_alnum_lower (s[j - 1]))
      return false;
    for (size_t k = i; k < j; ++k)
      if (!is_alnum_lower (s[k]) && s[k] != '-')
        return false;
    if (j == n)
      break;
    i = j + 1;
    if (i == n)
      return false;                     /* trailing dot */
  }
  return true;
}

static bool
is_alnum (char c)
{
  return is_alnum_lower (c) || (c >= 'A' && c <= 'Z');
}

/* Kubernetes' qualified name part / label value: ([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9] */
static bool
is_qualified_part (const char *s, size_t n, bool allow_empty)
{
  if (n == 0)
    return allow_empty;
  if (n > 63 || !is_alnum (s[0]) || !is_alnum (s[n - 1]))
    return false;
  for (size_t i = 0; i < n; ++i)
    if (!is_alnum (s[i]) && s[i] != '-' && s[i] != '_' && s[i] != '.')
      return false;
  return true;
}

static bool
is_qualified_name (const char *s)
{
  const char *slash = strchr (s, '/');

  if (slash) {
    CLEANUP_FREE char *prefix = strndup (s, slash - s);
    if (!prefix || !ferry_internal_is_dns1123_subdomain (prefix))
      return false;
    s = slash + 1;
  }
  return is_qualified_part (s, strlen (s), false);
}

/* ---- base64 --------------------------------------------------------- */

static int
b64_value (unsigned char c)
{
  if (c >= 'A' && c <= 'Z') return c - 'A';
  if (c >= 'a' && c <= 'z') return c - 'a' + 26;
  if (c >= '0' && c <= '9') return c - '0' + 52;
  if (c == '+') return 62;
  if (c == '/') return 63;
  return -1;
}

unsigned char *
ferry_internal_base64_decode (const char *s, size_t n, size_t *len)
{
  unsigned char *out = malloc (n / 4 * 3 + 4);
  unsigned quad[4];
  size_t q = 0, o = 0, pad = 0;

  if (!out)
    return NULL;
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = s[i];
    int v;
    if (c == '\r' || c == '\n')         /* Go's decoder skips line breaks */
      continue;
    if (c == '=') {
      pad++;
      quad[q++] = 0;
    }
    else {
      if (pad || (v = b64_value (c)) < 0)
        goto bad;
      quad[q++] = (unsigned) v;
    }
    if (q == 4) {
      if (pad > 2)
        goto bad;
      out[o++] = (unsigned char) (quad[0] << 2 | quad[1] >> 4);
      if (pad < 2)
        out[o++] = (unsigned char) (quad[1] << 4 | quad[2] >> 2);
      if (pad < 1)
        out[o++] = (unsigned char) (quad[2] << 6 | quad[3]);
      q = 0;
      if (pad)
        break;
    }
  }
  /* Nothing (but line breaks) may follow the padding, and no partial quad. */
  if (q != 0)
    goto bad;
  if (pad) {
    const char *rest = memchr (s, '=', n);
    for (rest += pad; rest < s + n; ++rest)
      if (*rest != '\r' && *rest != '\n')
        goto bad;
  }
  out[o] = '\0';
  *len = o;
  return out;
 bad:
  free (out);
  return NULL;
}

/* ---- diagnostics -------------------------------------------------------- */

void
ferry_internal_diag_add (struct ferry_diag *d, const char *fs, ...)
{
  va_list ap;
  char *msg = NULL;
  char **e;

  d->total++;
  if (d->nerrors >= FERRY_DIAG_MAX)
    return;
  va_start (ap, fs);
  if (vasprintf (&msg, fs, ap) < 0)
    msg = NULL;
  va_end (ap);
  if (!msg)
    return;
  e = realloc (d->errors, (d->nerrors + 1) * sizeof *e);
  if (!e) {
    free (msg);
    return;
  }
  d->errors = e;
  d->errors[d->nerrors++] = msg;
}

int
ferry_internal_diag_report (struct ferry_diag *d, const char *what)
{
  CLEANUP_FREE char *all = NULL;
  size_t len = 0;
  FILE *fp;

  if (d->total == 0)
    return 0;
  /* Every error also at error level, so nothing is lost if the last-error
   * buffer truncates a long list.
   */
  fp = open_memstream (&all, &len);
  if (!fp) {
    ferry_error_errno (errno, "%s", d->nerrors ? d->errors[0] : what);
    return -1;
  }
  for (size_t i = 0; i < d->nerrors; ++i)
    fprintf (fp, "%s%s", i ? "\n" : "", d->errors[i]);
  if (d->total > d->nerrors)
    fprintf (fp, "\n(%zu more errors not shown)", d->total - d->nerrors);
  if (d->total > 1)
    fprintf (fp, "\n%zu errors in %s; nothing was applied", d->total, what);
  fclose (fp);
  /* The last-error buffer holds about 4 KiB: a longer list goes to the
   * log at error level, one line each, and the error says so.
   */
  if (len < 3500)
    ferry_error ("%s", all);
  else {
    for (size_t i = 0; i < d->nerrors; ++i)
      ferry_log (FERRY_LOG_ERROR, "%s", d->errors[i]);
    ferry_error ("%s\n...\n%zu errors in %s (%s listed above); nothing "
                 "was applied", d->errors[0], d->total, what,
                 d->total > d->nerrors ? "the first " FERRY_DIAG_MAX_TEXT
                 : "all of them");
  }
  return -1;
}

void
ferry_internal_diag_clear (struct ferry_diag *d)
{
  for (size_t i = 0; i < d->nerrors; ++i)
    free (d->errors[i]);
  free (d->errors);
  memset (d, 0, sizeof *d);
}

/* ---- checking one document ----------------------------------------- */

void
ferry_internal_manifest_clear (struct ferry_manifest *m)
{
  free (m->ns);
  free (m->name);
  json_decref (m->metadata);
  json_decref (m->spec);
  if (m->data) {
    /* Plaintext credentials: overwrite before the memory goes back. */
    const char *k;
    json_t *v;
    json_object_foreach (m->data, k, v)
      if (json_is_string (v) && json_string_length (v) > 0)
        explicit_bzero ((char *) json_string_value (v), json_string_length (v));
    json_decref (m->data);
  }
  free (m->file);
  memset (m, 0, sizeof *m);
}

struct check {
  const char *file;
  const struct ferry_yaml_doc *doc;
  size_t ndocs;
  struct ferry_diag *diag;
  size_t errors;
};

static void issue (struct check *c, bool is_error, const char *path,
                   const char *fs, ...) FERRY_PRINTF (4, 5);

static void
issue (struct check *c, bool is_error, const char *path, const char *fs, ...)
{
  va_list ap;
  CLEANUP_FREE char *msg = NULL;
  char docpart[40] = "";
  size_t line, col;

  va_start (ap, fs);
  if (vasprintf (&msg, fs, ap) < 0)
    msg = NULL;
  va_end (ap);
  ferry_internal_yaml_pos (c->doc, path, &line, &col);
  if (c->ndocs > 1)
    snprintf (docpart, sizeof docpart, "document %zu: ", c->doc->index + 1);
  if (is_error) {
    c->errors++;
    ferry_internal_diag_add (c->diag, "%s:%zu:%zu: %s%s%s%s", c->file, line,
                             col, docpart, path, *path ? ": " : "",
                             msg ? msg : "out of memory");
  }
  else
    ferry_warn ("%s:%zu:%zu: %s%s%s%s", c->file, line, col, docpart, path,
                *path ? ": " : "", msg ? msg : "out of memory");
}

static void
schema_report (void *opaque, bool is_error, const char *path,
               const char *message)
{
  issue (opaque, is_error, path, "%s", message);
}

static const char *
type_name (const json_t *v)
{
  switch (json_typeof (v)) {
  case JSON_OBJECT: return "a mapping";
  case JSON_ARRAY: return "a list";
  case JSON_STRING: return "a string";
  case JSON_INTEGER: return "an integer";
  case JSON_REAL: return "a number";
  case JSON_TRUE: case JSON_FALSE: return "a boolean";
  case JSON_NULL: return "null";
  }
  return "?";
}

/* Object metadata ferry does not keep: accepted, mentioned at info level. */
static const char *const metadata_ignored[] = {
  "uid", "resourceVersion", "generation", "creationTimestamp",
  "deletionTimestamp", "deletionGracePeriodSeconds", "ownerReferences",
  "finalizers", "managedFields", "selfLink", "generateName", NULL,
};

/* labels / annotations: a mapping of qualified names to strings. */
static json_t *
check_string_map (struct check *c, const json_t *v, const char *path,
                  bool labels)
{
  json_t *out = json_object ();
  const char *k;
  json_t *x;

  if (!json_is_object (v)) {
    issue (c, true, path, "expected a mapping of %s, got %s",
           labels ? "label keys to values" : "annotation keys to values",
           type_name (v));
    return out;
  }
  json_object_foreach ((json_t *) v, k, x) {
    CLEANUP_FREE char *p = ferry_internal_yaml_path_key (path, k);
    if (!is_qualified_name (k))
      issue (c, true, p, "\"%s\" is not a valid %s key: an optional DNS "
             "subdomain prefix and '/', then at most 63 characters of "
             "[A-Za-z0-9-_.] starting and ending with a letter or digit",
             k, labels ? "label" : "annotation");
    if (!json_is_string (x)) {
      issue (c, true, p, "expected a string, got %s%s", type_name (x),
             json_is_null (x) ? "" : " (quote it)");
      continue;
    }
    if (labels && !is_qualified_part (json_string_value (x),
                                      json_string_length (x), true))
      issue (c, true, p, "\"%s\" is not a valid label value: at most 63 "
             "characters of [A-Za-z0-9-_.] starting and ending with a letter "
             "or digit", json_string_value (x));
    json_object_set (out, k, x);
  }
  return out;
}

static int
check_metadata (struct check *c, const json_t *md, const char *default_ns,
                struct ferry_manifest *m)
{
  const json_t *name, *ns;
  const char *k;
  json_t *x;
  json_t *keep;

  if (!md) {
    issue (c, true, "", "missing required field \"metadata\" (with at "
           "least metadata.name)");
    return -1;
  }
  if (!json_is_object (md)) {
    issue (c, true, "metadata", "expected a mapping, got %s", type_name (md));
    return -1;
  }
  name = json_object_get (md, "name");
  if (!name) {
    if (json_object_get (md, "generateName"))
      issue (c, true, "metadata", "missing required field \"name\" "
             "(generateName is not supported by ferry apply)");
    else
      issue (c, true, "metadata", "missing required field \"name\"");
  }
  else if (!json_is_string (name))
    issue (c, true, "metadata.name", "expected a string, got %s",
           type_name (name));
  else if (!ferry_internal_is_dns1123_subdomain (json_string_value (name)))
    issue (c, true, "metadata.name", "\"%s\" is not a valid name: use a "
           "DNS-1123 subdomain, at most 253 lower-case letters, digits, '-' "
           "and '.', starting and ending with a letter or digit",
           json_string_value (name));
  else
    m->name = strdup (json_string_value (name));

  ns = json_object_get (md, "namespace");
  if (ns && !json_is_string (ns))
    issue (c, true, "metadata.namespace", "expected a string, got %s",
           type_name (ns));
  else if (ns && !ferry_internal_is_dns1123_label (json_string_value (ns)))
    issue (c, true, "metadata.namespace", "\"%s\" is not a valid namespace: "
           "use a DNS-1123 label, at most 63 lower-case letters, digits and "
           "'-', starting and ending with a letter or digit",
           json_string_value (ns));
  else if (ns)
    m->ns = strdup (json_string_value (ns));
  else
    m->ns = strdup (default_ns ? default_ns : "default");

  keep = json_object ();
  json_object_foreach ((json_t *) md, k, x) {
    CLEANUP_FREE char *p = ferry_internal_yaml_path_key ("metadata", k);
    if (strcmp (k, "name") == 0 || strcmp (k, "namespace") == 0)
      continue;
    if (strcmp (k, "labels") == 0 || strcmp (k, "annotations") == 0) {
      json_t *map = check_string_map (c, x, p, k[0] == 'l');
      if (json_object_size (map) > 0)
        json_object_set_new (keep, k, map);
      else
        json_decref (map);
      continue;
    }
    bool ignored = false;
    for (size_t i = 0; metadata_ignored[i]; ++i)
      if (strcmp (k, metadata_ignored[i]) == 0)
        ignored = true;
    if (ignored) {
      size_t line, col;
      ferry_internal_yaml_pos (c->doc, p, &line, &col);
      ferry_info ("%s:%zu:%zu: %s: not stored by ferry (ignored)",
                  c->file, line, col, p);
    }
    else
      issue (c, false, p, "unknown field \"%s\" (not in ObjectMeta): "
             "dropped, as Kubernetes prunes unknown fields", k);
  }
  if (json_object_size (keep) > 0)
    m->metadata = keep;
  else
    json_decref (keep);
  return 0;
}

/* Plan spec.vms[i] and Migration spec.cancel[i]: each names a VM. */
static void
check_vm_refs (struct check *c, const json_t *spec, const char *field)
{
  const json_t *list = json_object_get (spec, field);
  CLEANUP_FREE char *base = ferry_internal_yaml_path_key ("spec", field);
  size_t i;
  json_t *vm;

  json_array_foreach (list, i, vm) {
    const char *id = json_string_value (json_object_get (vm, "id"));
    const char *name = json_string_value (json_object_get (vm, "name"));
    CLEANUP_FREE char *p = ferry_internal_yaml_path_index (base, i);
    if (json_is_object (vm) && (!id || !*id) && (!name || !*name))
      issue (c, true, p, "needs id or name (the VM's id or name in the "
             "source provider's inventory)");
  }
}

static void
check_semantics (struct check *c, const char *kind, const json_t *spec)
{
  if (strcmp (kind, "Plan") == 0)
    check_vm_refs (c, spec, "vms");
  else if (strcmp (kind, "Migration") == 0) {
    const json_t *cut = json_object_get (spec, "cutover");
    check_vm_refs (c, spec, "cancel");
    /* Not a date-time at all: the schema said so already. */
    if (json_is_string (cut) &&
        ferry_internal_is_date_time (json_string_value (cut)) &&
        !ferry_internal_is_rfc3339 (json_string_value (cut)))
      issue (c, true, "spec.cutover", "\"%s\" is not an ISO 8601 / RFC 3339 "
             "time with a UTC offset; write for example "
             "2024-04-04T01:23:45.678+09:00 or 2024-04-04T01:23:45Z",
             json_string_value (cut));
  }
}

static bool
is_config_key (const char *k)
{
  size_t n = strlen (k);

  if (n == 0 || n > 253 || strcmp (k, ".") == 0 || strncmp (k, "..", 2) == 0)
    return false;
  for (size_t i = 0; i < n; ++i)
    if (!is_alnum (k[i]) && k[i] != '-' && k[i] != '_' && k[i] != '.')
      return false;
  return true;
}

/* Secret: type, data (base64), stringData (text; wins over data). */
static void
check_secret (struct check *c, json_t *root, struct ferry_manifest *m)
{
  const json_t *type = json_object_get (root, "type");
  const json_t *data = json_object_get (root, "data");
  const json_t *sdata = json_object_get (root, "stringData");
  const json_t *imm = json_object_get (root, "immutable");
  json_t *plain = json_object ();
  const char *k;
  json_t *v;

  if (type && !json_is_string (type))
    issue (c, true, "type", "expected a string, got %s", type_name (type));
  if (imm && !json_is_boolean (imm) && !json_is_null (imm))
    issue (c, true, "immutable", "expected a boolean, got %s", type_name (imm));
  if (data && !json_is_object (data) && !json_is_null (data))
    issue (c, true, "data", "expected a mapping of keys to base64 values, "
           "got %s", type_name (data));
  if (sdata && !json_is_object (sdata) && !json_is_null (sdata))
    issue (c, true, "stringData", "expected a mapping of keys to values, "
           "got %s", type_name (sdata));

  if (json_is_object (data)) {
    json_object_foreach ((json_t *) data, k, v) {
      CLEANUP_FREE char *p = ferry_internal_yaml_path_key ("data", k);
      unsigned char *bytes;
      size_t len;
      if (!is_config_key (k)) {
        issue (c, true, p, "\"%s\" is not a valid key: use letters, digits, "
               "'-', '_' and '.'", k);
        continue;
      }
      if (json_is_null (v))
        v = NULL;
      else if (!json_is_string (v)) {
        issue (c, true, p, "expected a base64 string, got %s", type_name (v));
        continue;
      }
      bytes = v ? ferry_internal_base64_decode (json_string_value (v),
                                                json_string_length (v), &len)
                : (unsigned char *) strdup ("");
      if (!v)
        len = 0;
      if (!bytes) {
        issue (c, true, p, "the value of key \"%s\" is not valid base64 "
               "(put plain text under stringData instead)", k);
        continue;
      }
      if (memchr (bytes, '\0', len))
        issue (c, true, p, "the value of key \"%s\" decodes to bytes that "
               "hold a NUL; ferry keeps Secret values as text", k);
      else
        json_object_set_new (plain, k, json_stringn ((char *) bytes, len));
      explicit_bzero (bytes, len);
      free (bytes);
    }
  }
  if (json_is_object (sdata)) {
    json_object_foreach ((json_t *) sdata, k, v) {
      CLEANUP_FREE char *p = ferry_internal_yaml_path_key ("stringData", k);
      if (!is_config_key (k)) {
        issue (c, true, p, "\"%s\" is not a valid key: use letters, digits, "
               "'-', '_' and '.'", k);
        continue;
      }
      if (!json_is_string (v)) {
        /* Never the value itself: this is a Secret. */
        issue (c, true, p, "expected a string, got %s (quote the value)",
               type_name (v));
        continue;
      }
      if (memchr (json_string_value (v), '\0', json_string_length (v))) {
        issue (c, true, p, "the value of key \"%s\" holds a NUL character; "
               "ferry keeps Secret values as text", k);
        continue;
      }
      json_object_set (plain, k, v);
    }
  }
  m->data = plain;
  m->spec = json_pack ("{s:s}", "type",
                       json_is_string (type) && json_string_length (type)
                       ? json_string_value (type) : "Opaque");
}

int
ferry_internal_manifest_check (const char *file,
                               const struct ferry_yaml_doc *doc,
                               size_t ndocs, const char *default_ns,
                               struct ferry_diag *diag,
                               struct ferry_manifest *m)
{
  struct check c = { .file = file, .doc = doc, .ndocs = ndocs, .diag = diag };
  json_t *root = doc->value;
  const json_t *kindv, *apiv;
  const struct kind_info *ki = NULL;
  const char *k;
  json_t *x;

  memset (m, 0, sizeof *m);
  if (json_is_null (root))
    return 1;
  if (!json_is_object (root)) {
    issue (&c, true, "", "the document is %s, not a mapping with apiVersion, "
           "kind, metadata and spec", type_name (root));
    return -1;
  }

  kindv = json_object_get (root, "kind");
  apiv = json_object_get (root, "apiVersion");
  if (!kindv)
    issue (&c, true, "", "missing required field \"kind\" (one of "
           KNOWN_KINDS ")");
  else if (!json_is_string (kindv))
    issue (&c, true, "kind", "expected a string, got %s", type_name (kindv));
  else if (!(ki = kind_lookup_exact (json_string_value (kindv)))) {
    const char *canon;
    ferry_clear_error ();
    canon = ferry_kind_canonical (json_string_value (kindv));
    ferry_clear_error ();
    if (canon)
      issue (&c, true, "kind", "unknown kind \"%s\"; did you mean \"%s\"? "
             "(kinds are case-sensitive and singular)",
             json_string_value (kindv), canon);
    else
      issue (&c, true, "kind", "unknown kind \"%s\"; ferry knows "
             KNOWN_KINDS, json_string_value (kindv));
  }
  if (ki) {
    if (!apiv)
      issue (&c, true, "", "missing required field \"apiVersion\"; use "
             "apiVersion: %s", ki->api_version);
    else if (!json_is_string (apiv))
      issue (&c, true, "apiVersion", "expected a string, got %s",
             type_name (apiv));
    else if (strcmp (json_string_value (apiv), ki->api_version) != 0)
      issue (&c, true, "apiVersion", "apiVersion \"%s\" does not serve kind "
             "%s; use apiVersion: %s", json_string_value (apiv), ki->kind,
             ki->api_version);
  }
  if (c.errors > 0)
    return -1;

  m->kind = ki->kind;
  m->api_version = ki->api_version;
  m->doc = doc->index + 1;
  /* Objects are named by their metadata.name (the document start if
   * that has no position), e.g. in duplicate and store errors.
   */
  ferry_internal_yaml_pos (doc, "metadata.name", &m->line, &m->column);
  m->file = strdup (file);
  check_metadata (&c, json_object_get (root, "metadata"), default_ns, m);

  if (strcmp (ki->kind, "Secret") == 0) {
    json_object_foreach (root, k, x) {
      static const char *const known[] = {
        "apiVersion", "kind", "metadata", "type", "data", "stringData",
        "immutable", NULL,
      };
      bool ok = false;
      for (size_t i = 0; known[i]; ++i)
        if (strcmp (k, known[i]) == 0)
          ok = true;
      if (!ok) {
        CLEANUP_FREE char *p = ferry_internal_yaml_path_key ("", k);
        issue (&c, false, p, "unknown field \"%s\" (not in Secret): dropped, "
               "as Kubernetes prunes unknown fields", k);
      }
    }
    check_secret (&c, root, m);
  }
  else {
    const json_t *crd = ferry_internal_schema_get0 (ki->kind);
    const json_t *props = json_object_get (json_object_get (crd, "schema"),
                                           "properties");
    const json_t *spec_schema = json_object_get (props, "spec");
    json_t *spec = json_object_get (root, "spec");

    json_object_foreach (root, k, x) {
      CLEANUP_FREE char *p = ferry_internal_yaml_path_key ("", k);
      if (strcmp (k, "apiVersion") == 0 || strcmp (k, "kind") == 0 ||
          strcmp (k, "metadata") == 0 || strcmp (k, "spec") == 0)
        continue;
      if (strcmp (k, "status") == 0)
        issue (&c, false, p, "status is ignored by apply: ferry computes "
               "it");
      else
        issue (&c, false, p, "unknown field \"%s\" (not in %s): dropped, "
               "as Kubernetes prunes unknown fields", k, ki->kind);
    }
    if (!crd || !spec_schema) {
      issue (&c, true, "", "ferry was built without the %s schema",
             ki->kind);
    }
    else {
      if (!spec || json_is_null (spec))
        m->spec = json_object ();
      else
        m->spec = json_deep_copy (spec);
      ferry_internal_schema_validate (spec_schema, m->spec, "spec",
                                      ki->kind, schema_report, &c);
      check_semantics (&c, ki->kind, m->spec);
    }
  }

  if (c.errors > 0 || !m->file || !m->ns || !m->name) {
    if (c.errors == 0)
      issue (&c, true, "", "out of memory");
    ferry_internal_manifest_clear (m);
    return -1;
  }
  return 0;
}
