/* ferry kubevirt destination: remove what ferry created for one VM of one
 * plan: every VirtualMachine, Job, DataVolume, PVC, Secret, RoleBinding,
 * Role and ServiceAccount carrying the labels plan=PLAN and vmID=VM, and
 * nothing else (Jobs with propagationPolicy Background: their pods go
 * too).  Idempotent: an object
 * already gone (404) is fine.
 *
 * The ABI gives no namespace, so the objects are found with a
 * cluster-wide list; where the credentials may not list cluster-wide, the
 * namespaces this handle wrote into and the context's namespace are
 * searched instead.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

/* Collections: prefix + ("" cluster-wide, or "namespaces/NS/") + resource.
 * VirtualMachines first, so no VM is left pointing at deleted volumes.
 */
static const struct {
  const char *prefix, *resource;
} kinds[] = {
  { "/apis/kubevirt.io/v1/", "virtualmachines" },
  { "/apis/batch/v1/", "jobs" },        /* before what their pods use */
  { "/apis/cdi.kubevirt.io/v1beta1/", "datavolumes" },
  { "/api/v1/", "persistentvolumeclaims" },
  { "/api/v1/", "secrets" },
  { "/apis/rbac.authorization.k8s.io/v1/", "rolebindings" },
  { "/apis/rbac.authorization.k8s.io/v1/", "roles" },
  { "/api/v1/", "serviceaccounts" },
};

static int
delete_items (struct kv_handle *h, size_t kind, const json_t *items)
{
  const json_t *it;
  size_t i;
  int r = 0;

  json_array_foreach (items, i, it) {
    const json_t *meta = json_object_get (it, "metadata");
    const char *ns = json_string_value (json_object_get (meta, "namespace"));
    const char *name = json_string_value (json_object_get (meta, "name"));
    DEST_CLEANUP_FREE char *en = ns ? kube_escape (ns) : NULL;
    DEST_CLEANUP_FREE char *ename = name ? kube_escape (name) : NULL;
    DEST_CLEANUP_FREE char *path = NULL;
    long http;

    if (en == NULL || ename == NULL ||
        asprintf (&path, "%snamespaces/%s/%s/%s?propagationPolicy=Background",
                  kinds[kind].prefix, en, kinds[kind].resource, ename) == -1) {
      ferry_error ("kubevirt: cleanup: out of memory");
      return -1;
    }
    http = kube_request (&h->k, "DELETE", NULL, path, NULL, NULL, NULL);
    if (http == 404)
      ferry_clear_error ();
    else if (http < 200 || http >= 300)
      r = -1;
    else
      ferry_info ("kubevirt: deleted %s %s/%s", kinds[kind].resource, ns, name);
  }
  return r;
}

static int
clean_scope (struct kv_handle *h, const char *scope, const char *selector,
             int *forbidden)
{
  size_t i;
  int r = 0;

  for (i = 0; i < sizeof kinds / sizeof kinds[0]; ++i) {
    DEST_CLEANUP_FREE char *path = NULL;
    DEST_CLEANUP_JSON json_t *items = NULL;

    if (asprintf (&path, "%s%s%s?labelSelector=%s", kinds[i].prefix, scope,
                  kinds[i].resource, selector) == -1) {
      ferry_error ("kubevirt: cleanup: out of memory");
      return -1;
    }
    items = kube_list (&h->k, path);
    if (items == NULL) {
      /* A kind this cluster does not serve holds nothing of ours. */
      if (strstr (ferry_get_error (), ": not found") != NULL) {
        ferry_clear_error ();
        continue;
      }
      if (forbidden && strstr (ferry_get_error (), "forbidden") != NULL) {
        *forbidden = 1;
        return -1;
      }
      r = -1;
      continue;
    }
    if (delete_items (h, i, items) == -1)
      r = -1;
  }
  return r;
}

int
kv_cleanup (void *handle, const char *plan, const char *vm_id)
{
  struct kv_handle *h = handle;
  DEST_CLEANUP_FREE char *raw = NULL, *selector = NULL;
  DEST_CLEANUP_JSON json_t *namespaces = NULL;
  int forbidden = 0, r;
  const char *ns;
  json_t *v;

  if (plan == NULL || plan[0] == '\0' || vm_id == NULL || vm_id[0] == '\0') {
    ferry_error ("kubevirt: cleanup needs a plan and a VM id (refusing to select by less)");
    return -1;
  }
  if (asprintf (&raw, "plan=%s,vmID=%s", plan, vm_id) == -1 ||
      (selector = kube_escape (raw)) == NULL) {
    ferry_error ("kubevirt: cleanup: out of memory");
    return -1;
  }
  r = clean_scope (h, "", selector, &forbidden);
  if (!forbidden)
    return r;

  /* Not allowed cluster-wide: the namespaces we know of. */
  ferry_clear_error ();
  pthread_mutex_lock (&h->lock);
  namespaces = json_deep_copy (h->namespaces);
  pthread_mutex_unlock (&h->lock);
  if (namespaces == NULL)
    namespaces = json_object ();
  if (h->k.conn.ns != NULL)
    json_object_set_new (namespaces, h->k.conn.ns, json_true ());
  r = 0;
  json_object_foreach (namespaces, ns, v) {
    DEST_CLEANUP_FREE char *en = kube_escape (ns), *scope = NULL;
    if (en == NULL || asprintf (&scope, "namespaces/%s/", en) == -1) {
      ferry_error ("kubevirt: cleanup: out of memory");
      return -1;
    }
    if (clean_scope (h, scope, selector, NULL) == -1)
      r = -1;
  }
  return r;
}
