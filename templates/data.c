/* Data sets (typed key/value) and value helpers. */
#include <config.h>

#include <errno.h>
#include <string.h>

#include "template-internal.h"

struct decl { const char *name; enum tv_type type; };

static const struct decl pvc_fields[] = {
  { "VmName", TV_STRING }, { "TargetVmName", TV_STRING },
  { "PlanName", TV_STRING }, { "VmId", TV_STRING },
  { "DiskIndex", TV_INT }, { "RootDiskIndex", TV_INT },
  { "Shared", TV_BOOL }, { "FileName", TV_STRING },
  { "WinDriveLetter", TV_STRING }, { "DiskId", TV_STRING }, { NULL, 0 },
};
static const struct decl volume_fields[] = {
  { "PVCName", TV_STRING }, { "VolumeIndex", TV_INT }, { NULL, 0 },
};
static const struct decl network_fields[] = {
  { "NetworkName", TV_STRING }, { "NetworkNamespace", TV_STRING },
  { "NetworkType", TV_STRING }, { "NetworkIndex", TV_INT }, { NULL, 0 },
};

static struct tfield *
find (const struct ferry_template_data *d, const char *name, size_t len)
{
  for (size_t k = 0; k < d->n; k++)
    if (strlen (d->fields[k].name) == len && memcmp (d->fields[k].name, name, len) == 0)
      return &d->fields[k];
  return NULL;
}

const struct tfield *
data_get0_field (const struct ferry_template_data *d, const char *name, size_t len)
{
  return find (d, name, len);
}

static void
field_clear (struct tfield *f)
{
  tv_clear (&f->v);
  for (size_t k = 0; k < f->list.n; k++) free (f->list.items[k]);
  free (f->list.items);
  free (f->list.lens);
  f->list = (struct tlist) {0};
}

/* The field KEY, created if absent with TYPE; NULL/EINVAL on type clash. */
static struct tfield *
slot (struct ferry_template_data *d, const char *key, enum tv_type type)
{
  if (!d || !key || !*key) { errno = EINVAL; return NULL; }
  struct tfield *f = find (d, key, strlen (key));
  if (f) {
    if (f->v.type != type && d->kind != FERRY_TEMPLATE_KIND_CUSTOM) { errno = EINVAL; return NULL; }
    enum tv_type t = f->v.type;
    field_clear (f);
    f->v.type = d->kind != FERRY_TEMPLATE_KIND_CUSTOM ? t : type;
    return f;
  }
  if (d->n == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    struct tfield *a = realloc (d->fields, cap * sizeof *a);
    if (!a) return NULL;
    d->fields = a; d->cap = cap;
  }
  f = &d->fields[d->n];
  *f = (struct tfield) {0};
  f->name = strdup (key);
  if (!f->name) return NULL;
  f->v.type = type;
  d->n++;
  return f;
}

struct ferry_template_data *
ferry_template_data_new (enum ferry_template_kind kind)
{
  struct ferry_template_data *d = calloc (1, sizeof *d);
  if (!d) return NULL;
  d->kind = kind;
  const struct decl *decls = NULL;
  switch (kind) {
  case FERRY_TEMPLATE_KIND_PVC: decls = pvc_fields; d->type_name = "api.PVCNameTemplateData"; break;
  case FERRY_TEMPLATE_KIND_VOLUME: decls = volume_fields; d->type_name = "api.VolumeNameTemplateData"; break;
  case FERRY_TEMPLATE_KIND_NETWORK: decls = network_fields; d->type_name = "api.NetworkNameTemplateData"; break;
  default: d->kind = FERRY_TEMPLATE_KIND_CUSTOM; d->type_name = "api.TemplateData"; break;
  }
  for (const struct decl *x = decls; x && x->name; x++) {
    struct tfield *f = slot (d, x->name, x->type);
    if (!f) { ferry_template_data_free (d); return NULL; }
    if (x->type == TV_STRING) { f->v.s = ""; f->v.len = 0; }
  }
  return d;
}

void
ferry_template_data_free (struct ferry_template_data *d)
{
  if (!d) return;
  for (size_t k = 0; k < d->n; k++) {
    field_clear (&d->fields[k]);
    free (d->fields[k].name);
  }
  free (d->fields);
  free (d);
}

int
ferry_template_data_set_string (struct ferry_template_data *d, const char *key, const char *value)
{
  if (!value) { errno = EINVAL; return -1; }
  struct tfield *f = slot (d, key, TV_STRING);
  if (!f) return -1;
  char *s = strdup (value);
  if (!s) { f->v.s = ""; return -1; }
  tv_set_string_owned (&f->v, s, strlen (s));
  return 0;
}

int
ferry_template_data_set_int (struct ferry_template_data *d, const char *key, int64_t value)
{
  struct tfield *f = slot (d, key, TV_INT);
  if (!f) return -1;
  f->v.i = value;
  return 0;
}

int
ferry_template_data_set_bool (struct ferry_template_data *d, const char *key, bool value)
{
  struct tfield *f = slot (d, key, TV_BOOL);
  if (!f) return -1;
  f->v.b = value;
  return 0;
}

int
ferry_template_data_set_list (struct ferry_template_data *d, const char *key,
                              const char *const *items, size_t n)
{
  struct tfield *f = slot (d, key, TV_LIST);
  if (!f) return -1;
  f->list.items = calloc (n ? n : 1, sizeof (char *));
  f->list.lens = calloc (n ? n : 1, sizeof (size_t));
  if (!f->list.items || !f->list.lens) { field_clear (f); f->v.type = TV_LIST; return -1; }
  for (size_t k = 0; k < n; k++) {
    f->list.items[k] = strdup (items[k] ? items[k] : "");
    if (!f->list.items[k]) { field_clear (f); f->v.type = TV_LIST; return -1; }
    f->list.lens[k] = strlen (f->list.items[k]);
    f->list.n = k + 1;
  }
  f->v.list = &f->list;
  return 0;
}

int
ferry_template_data_set_parsed (struct ferry_template_data *d, const char *key, const char *value)
{
  if (!d || !key || !value) { errno = EINVAL; return -1; }
  const struct tfield *f = find (d, key, strlen (key));
  enum tv_type t = f ? f->v.type : TV_STRING;
  switch (t) {
  case TV_INT: {
    char *end;
    errno = 0;
    long long v = strtoll (value, &end, 10);
    if (errno || end == value || *end) { errno = EINVAL; return -1; }
    return ferry_template_data_set_int (d, key, v);
  }
  case TV_BOOL:
    if (strcmp (value, "true") == 0) return ferry_template_data_set_bool (d, key, true);
    if (strcmp (value, "false") == 0) return ferry_template_data_set_bool (d, key, false);
    errno = EINVAL;
    return -1;
  default:
    return ferry_template_data_set_string (d, key, value);
  }
}

const char *
ferry_template_get0_pvc_template (const char *vm, const char *plan, const char *configured)
{
  if (vm && *vm) return vm;
  if (plan && *plan) return plan;
  if (configured && *configured) return configured;
  return FERRY_TEMPLATE_PVC_DEFAULT;
}

/* ---- values */

void
tv_clear (struct tv *v)
{
  if (v->owned) free ((char *) v->s);
  *v = (struct tv) {0};
}

int
tv_set_string_owned (struct tv *v, char *s, size_t len)
{
  tv_clear (v);
  v->type = TV_STRING;
  v->s = s;
  v->len = len;
  v->owned = true;
  return 0;
}

int
tv_copy (struct tv *dst, const struct tv *src)
{
  *dst = *src;
  dst->owned = false;
  if (src->type == TV_STRING && src->owned) {
    char *s = malloc (src->len + 1);
    if (!s) { *dst = (struct tv) {0}; return -1; }
    memcpy (s, src->s, src->len);
    s[src->len] = '\0';
    dst->s = s;
    dst->owned = true;
  }
  return 0;
}

const char *
tv_type_name (const struct tv *v)
{
  switch (v->type) {
  case TV_NONE: return "<invalid>";
  case TV_NIL: return "<nil>";
  case TV_STRING: return "string";
  case TV_INT: return "int";
  case TV_INT64: return "int64";
  case TV_UINT8: return "uint8";
  case TV_FLOAT: return "float64";
  case TV_BOOL: return "bool";
  case TV_LIST: return "[]string";
  case TV_DATA: return v->data->type_name;
  }
  return "?";
}

bool
tv_truth (const struct tv *v)
{
  switch (v->type) {
  case TV_NONE: case TV_NIL: return false;
  case TV_STRING: return v->len > 0;
  case TV_INT: case TV_INT64: case TV_UINT8: return v->i != 0;
  case TV_FLOAT: return v->f != 0;
  case TV_BOOL: return v->b;
  case TV_LIST: return v->list && v->list->n > 0;
  case TV_DATA: return true;
  }
  return false;
}
