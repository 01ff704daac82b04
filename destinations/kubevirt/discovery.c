/* ferry kubevirt destination: what the cluster serves and holds, asked
 * before anything is created (API groups, namespace, StorageClasses,
 * NetworkAttachmentDefinitions, the CDI upload proxy's address).
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

static int
group_served (const json_t *apis, const char *group)
{
  const json_t *g;
  size_t i;

  json_array_foreach (json_object_get (apis, "groups"), i, g) {
    const char *n = json_string_value (json_object_get (g, "name"));
    if (n != NULL && strcmp (n, group) == 0)
      return 1;
  }
  return 0;
}

int
kv_check_apis (struct kv_handle *h)
{
  DEST_CLEANUP_JSON json_t *apis = NULL;

  if (kube_call (&h->k, "GET", "/apis", NULL, &apis) == -1)
    return -1;
  if (!group_served (apis, "kubevirt.io")) {
    ferry_error ("kubevirt: %s does not serve the kubevirt.io API group: KubeVirt is not installed",
                 h->k.conn.server);
    return -1;
  }
  /* transfer: job fills plain PVCs from Jobs: no CDI needed. */
  if (!h->transfer_job && !group_served (apis, "cdi.kubevirt.io")) {
    ferry_error ("kubevirt: %s does not serve the cdi.kubevirt.io API group: CDI (Containerized Data Importer) is not installed (install it, or set the destination Provider's settings.transfer: job)",
                 h->k.conn.server);
    return -1;
  }
  return 0;
}

/* GET path: 0 found; 1 not found (error cleared: the caller words it);
 * -1 with the API's error otherwise.  A 403 counts as found: credentials
 * scoped to the target namespace may not read cluster-scoped objects, and
 * the create that follows reports what is really missing.
 */
static int
probe (struct kv_handle *h, const char *path)
{
  long http = kube_request (&h->k, "GET", NULL, path, NULL, NULL, NULL);

  if (http >= 200 && http < 300)
    return 0;
  if (http == 404 || http == 403) {
    if (http == 403)
      ferry_debug ("kubevirt: %s: not allowed to look; not checked", path);
    ferry_clear_error ();
    return http == 404 ? 1 : 0;
  }
  return -1;
}

int
kv_check_namespace (struct kv_handle *h, const char *ns)
{
  DEST_CLEANUP_FREE char *e = kube_escape (ns), *path = NULL;

  if (e == NULL || asprintf (&path, "/api/v1/namespaces/%s", e) == -1) {
    ferry_error ("kubevirt: out of memory");
    return -1;
  }
  switch (probe (h, path)) {
  case 0: return 0;
  case 1:
    ferry_error ("kubevirt: namespace %s not found in the destination cluster (create it, set the destination Provider's settings.createNamespace: \"true\", or fix the plan's targetNamespace)",
                 ns);
    return -1;
  default: return -1;
  }
}

int
kv_check_storage_class (struct kv_handle *h, const char *sc)
{
  DEST_CLEANUP_FREE char *e = kube_escape (sc), *path = NULL;

  if (e == NULL ||
      asprintf (&path, "/apis/storage.k8s.io/v1/storageclasses/%s", e) == -1) {
    ferry_error ("kubevirt: out of memory");
    return -1;
  }
  switch (probe (h, path)) {
  case 0: return 0;
  case 1:
    ferry_error ("kubevirt: StorageClass %s not found in the destination cluster (fix the StorageMap's destination storageClass)",
                 sc);
    return -1;
  default: return -1;
  }
}

int
kv_check_nad (struct kv_handle *h, const char *ns, const char *name)
{
  DEST_CLEANUP_FREE char *en = kube_escape (ns), *ename = kube_escape (name);
  DEST_CLEANUP_FREE char *path = NULL;

  if (en == NULL || ename == NULL ||
      asprintf (&path, "/apis/k8s.cni.cncf.io/v1/namespaces/%s/network-attachment-definitions/%s",
                en, ename) == -1) {
    ferry_error ("kubevirt: out of memory");
    return -1;
  }
  switch (probe (h, path)) {
  case 0: return 0;
  case 1:
    ferry_error ("kubevirt: Destination network not found: NetworkAttachmentDefinition %s/%s (fix the NetworkMap's destination)",
                 ns, name);
    return -1;
  default: return -1;
  }
}

char *
kv_upload_proxy_url (struct kv_handle *h)
{
  DEST_CLEANUP_JSON json_t *cfg = NULL;
  const char *url;

  if (h->upload_proxy_url != NULL)
    return strdup (h->upload_proxy_url);
  if (kube_call (&h->k, "GET", "/apis/cdi.kubevirt.io/v1beta1/cdiconfigs/config",
                 NULL, &cfg) == -1) {
    ferry_error_prefix ("kubevirt: finding the CDI upload proxy (or set the Provider's settings.uploadProxyURL)");
    return NULL;
  }
  url = json_string_value (json_object_get (json_object_get (cfg, "status"),
                                            "uploadProxyURL"));
  if (url == NULL || url[0] == '\0') {
    ferry_error ("kubevirt: CDIConfig config has no status.uploadProxyURL: set the Provider's settings.uploadProxyURL");
    return NULL;
  }
  if (strncmp (url, "https://", 8) == 0)
    return strdup (url);
  {
    char *full = NULL;                  /* CDI publishes a bare host[:port] */
    if (asprintf (&full, "https://%s", url) == -1)
      return NULL;
    return full;
  }
}
