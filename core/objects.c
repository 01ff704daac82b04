/* ferry core: stored rows <-> Kubernetes-shaped objects, Secret sealing,
 * and the object calls of the library API (see objects.h, ferry.h).
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>

#include "internal.h"
#include "objects.h"

#define DEFAULT_NS "default"

/* "Secret/<ns>/<name>": binds a sealed blob to its object. */
static char *
secret_aad (const char *ns, const char *name)
{
  char *aad;
  if (asprintf (&aad, "Secret/%s/%s", ns, name) == -1) {
    ferry_error_errno (errno, "seal Secret %s/%s", ns, name);
    return NULL;
  }
  return aad;
}

static void
free_serialised (char **p)
{
  if (*p)
    ferry_internal_free_secret (*p, strlen (*p));
}
/* A plaintext buffer that is wiped, not only freed, at scope exit. */
#define CLEANUP_SECRET_STR __attribute__((cleanup (free_serialised)))

int
ferry_internal_secret_seal (struct ferry *f, const char *ns,
                            const char *name, const json_t *data,
                            unsigned char **out, size_t *out_len)
{
  CLEANUP_SECRET_STR char *text = NULL;
  CLEANUP_FREE char *aad = NULL;
  const unsigned char *key;
  const char *k;
  json_t *v;

  *out = NULL;
  *out_len = 0;
  if (!json_is_object (data)) {
    ferry_error ("seal Secret %s/%s: data must be an object", ns, name);
    return -1;
  }
  json_object_foreach ((json_t *) data, k, v) {
    if (!json_is_string (v)) {
      ferry_error ("seal Secret %s/%s: the value of %s is not a string",
                   ns, name, k);
      return -1;
    }
  }
  text = json_dumps (data, JSON_COMPACT | JSON_SORT_KEYS);
  if (!text) {
    ferry_error ("seal Secret %s/%s: cannot serialise the data "
                 "(values must be UTF-8 text)", ns, name);
    return -1;
  }
  aad = secret_aad (ns, name);
  if (!aad)
    return -1;
  key = ferry_internal_get0_key (f);
  if (!key)
    return -1;
  return ferry_internal_seal (key, aad, text, strlen (text), out, out_len);
}

json_t *
ferry_internal_secret_unseal (struct ferry *f, const char *ns,
                              const char *name,
                              const unsigned char *sealed, size_t len)
{
  CLEANUP_FREE char *aad = secret_aad (ns, name);
  const unsigned char *key;
  unsigned char *plain = NULL;
  size_t plain_len = 0;
  json_error_t e;
  json_t *data, *v;
  const char *k;

  if (!aad)
    return NULL;
  key = ferry_internal_get0_key (f);
  if (!key)
    return NULL;
  if (ferry_internal_unseal (key, aad, sealed, len, &plain, &plain_len) == -1)
    return NULL;
  data = json_loadb ((const char *) plain, plain_len, 0, &e);
  ferry_internal_free_secret (plain, plain_len);
  if (!data) {
    /* e.text may quote the plaintext: do not repeat it. */
    ferry_error ("unseal %s: the decrypted data is not a JSON object", aad);
    return NULL;
  }
  if (!json_is_object (data))
    goto bad;
  json_object_foreach (data, k, v)
    if (!json_is_string (v))
      goto bad;
  return data;

 bad:
  json_decref (data);
  ferry_error ("unseal %s: the decrypted data is not an object of strings",
               aad);
  return NULL;
}

/* ---- Rows to objects --------------------------------------------------- */

static int
set_new (json_t *o, const char *k, json_t *v)
{
  if (!v || json_object_set_new (o, k, v) == -1) {
    ferry_error ("build object: out of memory setting %s", k);
    return -1;
  }
  return 0;
}

static json_t *
build_metadata (const struct ferry_store_row *row)
{
  static const char *const system_fields[] = {
    "name", "namespace", "uid", "generation", "resourceVersion",
    "creationTimestamp", NULL,
  };
  CLEANUP_JSON_DECREF json_t *md = json_object ();
  char rv[32];
  const char *k;
  json_t *v;

  snprintf (rv, sizeof rv, "%" PRId64, row->resource_version);
  if (!md
      || set_new (md, "name", json_string (row->name)) == -1
      || set_new (md, "namespace", json_string (row->ns)) == -1
      || set_new (md, "uid", json_string (row->uid)) == -1
      || set_new (md, "generation", json_integer (row->generation)) == -1
      || set_new (md, "resourceVersion", json_string (rv)) == -1
      || set_new (md, "creationTimestamp", json_string (row->created)) == -1)
    return NULL;
  if (json_is_object (row->metadata)) {
    /* labels and annotations first (in that order), then anything else the
     * manifest kept; the system fields above always win.
     */
    const char *first[] = { "labels", "annotations" };
    for (size_t i = 0; i < 2; i++) {
      v = json_object_get (row->metadata, first[i]);
      if (v && json_object_set (md, first[i], v) == -1)
        return NULL;
    }
    json_object_foreach (row->metadata, k, v) {
      bool skip = false;
      for (size_t i = 0; system_fields[i]; i++)
        skip |= strcmp (k, system_fields[i]) == 0;
      if (!skip && !json_object_get (md, k) && json_object_set (md, k, v) == -1)
        return NULL;
    }
  }
  return ferry_steal (&md);
}

static json_t *
base64_string (const char *p, size_t len)
{
  size_t blen = 4 * ((len + 2) / 3) + 1;
  char *b = malloc (blen);
  json_t *r;

  if (!b)
    return NULL;
  EVP_EncodeBlock ((unsigned char *) b, (const unsigned char *) p, (int) len);
  r = json_string (b);
  ferry_internal_free_secret (b, blen);
  return r;
}

/* Overwrite the plaintext values of a data object we own, then drop it. */
static void
wipe_data (json_t **data)
{
  const char *k;
  json_t *v;

  if (!*data)
    return;
  if ((*data)->refcount == 1)
    json_object_foreach (*data, k, v)
      if (json_is_string (v) && v->refcount == 1 && json_string_length (v) > 0)
        OPENSSL_cleanse ((char *) json_string_value (v), json_string_length (v));
  json_decref (*data);
}
#define CLEANUP_WIPE_DATA __attribute__((cleanup (wipe_data)))

static json_t *
secret_data (struct ferry *f, const struct ferry_store_row *row,
             unsigned flags)
{
  CLEANUP_WIPE_DATA json_t *plain = NULL;
  CLEANUP_JSON_DECREF json_t *data = json_object ();
  const char *k;
  json_t *v;

  if (!data) {
    ferry_error ("build Secret %s/%s: out of memory", row->ns, row->name);
    return NULL;
  }
  if (!row->sealed)
    return ferry_steal (&data);
  /* Even the hidden form needs the sizes, so the data is opened either
   * way; only the sizes leave this function then.
   */
  plain = ferry_internal_secret_unseal (f, row->ns, row->name, row->sealed,
                                        row->sealed_len);
  if (!plain)
    return NULL;
  json_object_foreach (plain, k, v) {
    json_t *shown;
    size_t n = json_string_length (v);

    if (flags & FERRY_GET_SECRET_VALUES)
      shown = base64_string (json_string_value (v), n);
    else {
      char hidden[64];
      snprintf (hidden, sizeof hidden, "(hidden: %zu bytes)", n);
      shown = json_string (hidden);
    }
    if (set_new (data, k, shown) == -1)
      return NULL;
  }
  return ferry_steal (&data);
}

json_t *
ferry_internal_row_to_object (struct ferry *f,
                              const struct ferry_store_row *row,
                              unsigned flags)
{
  CLEANUP_JSON_DECREF json_t *o = json_object ();
  bool secret = strcmp (row->kind, "Secret") == 0;

  if (!o
      || set_new (o, "apiVersion", json_string (row->api_version)) == -1
      || set_new (o, "kind", json_string (row->kind)) == -1
      || set_new (o, "metadata", build_metadata (row)) == -1)
    return NULL;

  if (secret) {
    json_t *type = json_object_get (row->spec, "type");
    if (set_new (o, "type", json_is_string (type) ? json_incref (type)
                 : json_string ("Opaque")) == -1)
      return NULL;
    json_t *data = secret_data (f, row, flags);
    if (!data || json_object_set_new (o, "data", data) == -1)
      return NULL;
  }
  else if (set_new (o, "spec",
                    row->spec ? json_incref (row->spec) : json_object ()) == -1)
    return NULL;

  if (row->status && set_new (o, "status", json_incref (row->status)) == -1)
    return NULL;
  return ferry_steal (&o);
}

/* ---- The library API --------------------------------------------------- */

static int
check_flags (const char *fn, unsigned flags, unsigned known)
{
  if (flags & ~known) {
    ferry_error ("%s: unknown flags 0x%x", fn, flags & ~known);
    return -1;
  }
  return 0;
}

json_t *
ferry_get (struct ferry *f, const char *kind, const char *ns,
           const char *name, unsigned flags)
{
  struct ferry_store_row row = { 0 };
  const char *k;
  json_t *o;
  int r;

  if (check_flags ("ferry_get", flags, FERRY_GET_SECRET_VALUES) == -1)
    return NULL;
  if (!(k = ferry_kind_canonical (kind)))
    return NULL;
  if (!ns)
    ns = DEFAULT_NS;
  r = ferry_internal_store_get (f->store, k, ns, name, &row);
  if (r == -1)
    return NULL;
  if (r == 0) {
    ferry_internal_not_found_error (k, ns, name);
    return NULL;
  }
  o = ferry_internal_row_to_object (f, &row, flags);
  ferry_internal_store_row_clear (&row);
  return o;
}

struct list_ctx {
  struct ferry *f;
  unsigned flags;
  json_t *items;
};

static int
list_one (void *opaque, const struct ferry_store_row *row)
{
  struct list_ctx *c = opaque;
  json_t *o = ferry_internal_row_to_object (c->f, row, c->flags);

  if (!o)
    return -1;
  if (json_array_append_new (c->items, o) == -1) {
    ferry_error ("list %s: out of memory", row->kind);
    return -1;
  }
  return 0;
}

json_t *
ferry_list (struct ferry *f, const char *kind, const char *ns,
            unsigned flags)
{
  CLEANUP_JSON_DECREF json_t *items = NULL;
  struct list_ctx c;
  const char *k;

  if (check_flags ("ferry_list", flags, FERRY_GET_SECRET_VALUES) == -1)
    return NULL;
  if (!(k = ferry_kind_canonical (kind)))
    return NULL;
  items = json_array ();
  if (!items) {
    ferry_error ("list %s: out of memory", k);
    return NULL;
  }
  c = (struct list_ctx) { .f = f, .flags = flags, .items = items };
  if (ferry_internal_store_list (f->store, k, ns, list_one, &c) == -1)
    return NULL;
  return ferry_steal (&items);
}

int
ferry_delete (struct ferry *f, const char *kind, const char *ns,
              const char *name)
{
  const char *k;
  int r;

  if (!(k = ferry_kind_canonical (kind)))
    return -1;
  if (!ns)
    ns = DEFAULT_NS;
  /* --- engine (issue 5): a plan with a running Migration is not deleted. */
  if (strcmp (k, "Plan") == 0) {
    char *running = ferry_plan_running_migration (f, ns, name);
    if (running) {
      ferry_error ("delete plan %s/%s: migration %s is running; cancel it first ('ferry cancel %s -n %s')",
                   ns, name, running, name, ns);
      free (running);
      return -1;
    }
    if (*ferry_get_error ())
      return -1;
  }
  /* --- end engine */
  r = ferry_internal_store_delete (f->store, k, ns, name);
  if (r == 0) {
    ferry_internal_not_found_error (k, ns, name);
    return -1;
  }
  return r == -1 ? -1 : 0;
}

int
ferry_set_status (struct ferry *f, const char *kind, const char *ns,
                  const char *name, const json_t *status)
{
  const char *k;

  if (!(k = ferry_kind_canonical (kind)))
    return -1;
  if (!ns)
    ns = DEFAULT_NS;
  return ferry_internal_store_set_status (f->store, k, ns, name, status);
}
