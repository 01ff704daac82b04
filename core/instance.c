/* ferry core: opening a stored Provider through its module. */
#include <config.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "instance.h"
#include "objects.h"

void
ferry_internal_instance_close (struct ferry_instance *inst)
{
  if (!inst)
    return;
  if (inst->handle) {
    if (inst->provider)
      inst->provider->close (inst->handle);
    else if (inst->destination)
      inst->destination->close (inst->handle);
  }
  free (inst->ns);
  free (inst->name);
  free (inst->uid);
  free (inst->type);
  free (inst);
}

/* The decrypted data of the Secret the Provider spec names, or NULL with
 * *err set to -1 on error (0 when the spec names no Secret).
 */
bool
ferry_internal_secret_ref (const json_t *spec, const char *obj_ns,
                           const char **ns, const char **name)
{
  const json_t *ref = json_object_get (spec, "secret");

  *name = json_string_value (json_object_get (ref, "name"));
  *ns = json_string_value (json_object_get (ref, "namespace"));
  if (!*ns || !**ns)
    *ns = obj_ns;
  return *name && **name;
}

bool
ferry_internal_host_of (const struct ferry_store_row *row, const char *ns,
                        const char *name)
{
  const json_t *prov = json_object_get (row->spec, "provider");
  const char *pname = json_string_value (json_object_get (prov, "name"));
  const char *pns = json_string_value (json_object_get (prov, "namespace"));

  return pname && strcmp (pname, name) == 0
    && strcmp (pns && *pns ? pns : row->ns, ns) == 0;
}

static json_t *
load_secret (struct ferry *f, const char *pns, const char *pname,
             const json_t *spec, int *err)
{
  const char *sname, *sns;
  struct ferry_store_row row = { 0 };

  *err = 0;
  if (!ferry_internal_secret_ref (spec, pns, &sns, &sname))
    return NULL;
  int r = ferry_internal_store_get (f->store, "Secret", sns, sname, &row);
  if (r <= 0) {
    if (r == 0)
      ferry_error ("provider %s/%s: its secret %s/%s does not exist: "
                   "apply the Secret first", pns, pname, sns, sname);
    *err = -1;
    return NULL;
  }
  json_t *data = ferry_internal_secret_unseal (f, sns, sname, row.sealed,
                                               row.sealed_len);
  ferry_internal_store_row_clear (&row);
  if (!data)
    *err = -1;
  return data;
}

/* vSphere area: the Host objects of provider ns/name, with their Secrets. */
struct host_list {
  struct ferry *f;
  const char *ns, *name;
  json_t *hosts;
  int err;
};

static int
add_host (void *opaque, const struct ferry_store_row *row)
{
  struct host_list *l = opaque;
  const char *id = json_string_value (json_object_get (row->spec, "id"));
  const char *ip = json_string_value (json_object_get (row->spec, "ipAddress"));
  json_t *secret;
  int err;

  if (!ferry_internal_host_of (row, l->ns, l->name) || !id || !ip)
    return 0;
  secret = load_secret (l->f, row->ns, row->name, row->spec, &err);
  if (err) {
    ferry_error_prefix ("host %s/%s", row->ns, row->name);
    l->err = -1;
    return -1;
  }
  json_array_append_new (l->hosts, json_pack ("{s:s, s:s, s:o}", "id", id,
                                              "ipAddress", ip, "secret",
                                              secret ? secret : json_object ()));
  return 0;
}

static json_t *
provider_hosts (struct ferry *f, const char *ns, const char *name)
{
  struct host_list l = { f, ns, name, json_array (), 0 };

  if (!l.hosts) {
    ferry_error ("provider %s/%s: hosts: out of memory", ns, name);
    return NULL;
  }
  if (ferry_internal_store_list (f->store, "Host", NULL, add_host, &l) == -1
      && l.err) {
    json_decref (l.hosts);
    return NULL;
  }
  return l.hosts;
}

static struct ferry_instance *
instance_open (struct ferry *f, const char *ns, const char *name,
               bool as_destination)
{
  struct ferry_store_row row = { 0 };
  CLEANUP_JSON_DECREF json_t *secret = NULL;
  CLEANUP_JSON_DECREF json_t *hosts = NULL;   /* vSphere area */
  CLEANUP_FREE char *scratch = NULL;
  struct ferry_instance *inst = NULL;
  const char *type, *url;
  int r, err;

  r = ferry_internal_store_get (f->store, "Provider", ns, name, &row);
  if (r == -1)
    return NULL;
  if (r == 0) {
    if (as_destination && strcmp (name, "host") == 0) {
      /* Forklift manifests name a "host" destination that is never
       * defined: it is the cluster ferry runs against.  Here that is the
       * local destination in the state directory.
       */
      CLEANUP_FREE char *local = NULL;
      if (asprintf (&local, "%s/local", f->state_dir) == -1)
        local = NULL;
      row.uid = strdup ("host");
      row.spec = local ? json_pack ("{s:s, s:s}", "type", "local", "url", local) : NULL;
      if (!row.uid || !row.spec) {
        ferry_error ("open destination host: out of memory");
        ferry_internal_store_row_clear (&row);
        return NULL;
      }
    }
    else {
      ferry_error ("provider %s/%s does not exist: apply its Provider manifest first",
                   ns, name);
      return NULL;
    }
  }

  type = json_string_value (json_object_get (row.spec, "type"));
  url = json_string_value (json_object_get (row.spec, "url"));
  if (!type || !*type) {
    ferry_error ("provider %s/%s has no spec.type", ns, name);
    goto err;
  }
  if (as_destination && strcmp (type, "openshift") == 0 && strcmp (name, "host") == 0
      && (!url || !*url) && !ferry_get0_destination (f, "kubevirt")) {
    ferry_error ("provider %s/%s is the local cluster (type openshift, no url), "
                 "but no kubevirt destination module is installed", ns, name);
    goto err;
  }

  inst = calloc (1, sizeof *inst);
  if (!inst) {
    ferry_error_errno (errno, "open provider %s/%s", ns, name);
    goto err;
  }
  inst->ns = strdup (ns);
  inst->name = strdup (name);
  inst->uid = strdup (row.uid);
  inst->type = strdup (type);
  if (!inst->ns || !inst->name || !inst->uid || !inst->type) {
    ferry_error_errno (errno, "open provider %s/%s", ns, name);
    goto err;
  }

  /* Forklift calls a KubeVirt cluster "openshift". */
  const char *module = type;
  if (as_destination && strcmp (type, "openshift") == 0)
    module = "kubevirt";
  if (as_destination)
    inst->destination = ferry_get0_destination (f, module);
  else
    inst->provider = ferry_get0_provider (f, module);
  if (!inst->provider && !inst->destination) {
    ferry_error ("provider %s/%s has type %s, but no %s module for it is loaded "
                 "(see 'ferry modules')", ns, name, type,
                 as_destination ? "destination" : "provider");
    goto err;
  }

  secret = load_secret (f, ns, name, row.spec, &err);
  if (err)
    goto err;

  if (asprintf (&scratch, "%s/providers/%s", f->state_dir, row.uid) == -1) {
    ferry_error_errno (errno, "open provider %s/%s", ns, name);
    goto err;
  }
  if (ferry_internal_mkdir_p (scratch, 0700) == -1)
    goto err;

  if (!as_destination && !(hosts = provider_hosts (f, ns, name)))
    goto err;
  struct ferry_open_args args = {
    .struct_size = sizeof args,
    .name = name,
    .ns = ns,
    .type = type,
    .url = url ? url : "",
    .spec = row.spec,
    .secret = secret,
    .state_dir = scratch,
    .hosts = hosts,
  };
  r = as_destination ? inst->destination->open (&args, &inst->handle)
                     : inst->provider->open (&args, &inst->handle);
  if (r == FERRY_OPEN_DECLINED) {
    ferry_error ("provider %s/%s: the %s module declined it (url '%s' is not one it serves)",
                 ns, name, module, args.url);
    goto err;
  }
  if (r != FERRY_OPEN_OK) {
    ferry_error_prefix ("provider %s/%s", ns, name);
    goto err;
  }
  ferry_internal_store_row_clear (&row);
  return inst;

 err:
  ferry_internal_store_row_clear (&row);
  ferry_internal_instance_close (inst);
  return NULL;
}

struct ferry_instance *
ferry_internal_source_open (struct ferry *f, const char *ns, const char *name)
{
  return instance_open (f, ns, name, false);
}

struct ferry_instance *
ferry_internal_destination_open (struct ferry *f, const char *ns,
                                 const char *name)
{
  return instance_open (f, ns, name, true);
}
