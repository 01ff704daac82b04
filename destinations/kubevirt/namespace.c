/* ferry kubevirt destination: the plan's target namespace, created when
 * the destination Provider says settings.createNamespace: "true" (as
 * Forklift ensures the target namespace before it migrates).  The
 * Namespace is labelled app.kubernetes.io/created-by=ferry but not with
 * a plan or VM: other VMs and plans share it, so cleanup never deletes it.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

int
kv_ensure_namespace (struct kv_handle *h, const char *ns)
{
  DEST_CLEANUP_JSON json_t *obj = NULL;
  long http;

  if (kv_check_namespace (h, ns) == 0)
    return 0;
  if (!h->create_namespace || strstr (ferry_get_error (), "not found") == NULL)
    return -1;
  ferry_clear_error ();
  if (vmspec_check_name ("kubevirt", "target namespace", ns) == -1)
    return -1;
  obj = json_pack ("{s:s, s:s, s:{s:s, s:{s:s}}}",
                   "apiVersion", "v1", "kind", "Namespace",
                   "metadata", "name", ns,
                   "labels", "app.kubernetes.io/created-by", "ferry");
  if (obj == NULL) {
    ferry_error ("kubevirt: namespace %s: out of memory", ns);
    return -1;
  }
  http = kube_request (&h->k, "POST", NULL, "/api/v1/namespaces", obj, NULL, NULL);
  if (http == 409) {                    /* someone made it meanwhile */
    ferry_clear_error ();
    return 0;
  }
  if (http < 200 || http >= 300) {
    ferry_error_prefix ("kubevirt: creating the target namespace %s (settings.createNamespace)", ns);
    return -1;
  }
  ferry_info ("kubevirt: namespace %s created (settings.createNamespace)", ns);
  return 0;
}
