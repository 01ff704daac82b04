/* ferry kubevirt destination: plan validation's questions to the cluster
 * (validate_targets): KubeVirt and CDI (unless transfer: job) served,
 * the target namespace (unless settings.createNamespace), the
 * StorageMap's StorageClasses and the NetworkMap's
 * NetworkAttachmentDefinitions present.  Each answer is a condition worded
 * as Forklift's plan validation words it; the API being unreachable or
 * refusing us is an error, not a condition.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

/* A condition whose message names its items: Forklift's sentence, then
 * ": a, b." (so `ferry start`'s one-line refusal says which).
 */
static int
add (json_t *conds, const char *type, const char *reason, const char *message,
     json_t *items)
{
  char text[1024];
  size_t len = strlen (message), i;
  const json_t *it;

  if (len > 0 && message[len - 1] == '.' && json_array_size (items) > 0)
    len--;
  snprintf (text, sizeof text, "%.*s", (int) len, message);
  json_array_foreach (items, i, it) {
    size_t used = strlen (text);
    snprintf (text + used, sizeof text - used, "%s%s", i == 0 ? ": " : ", ",
              json_string_value (it) ? json_string_value (it) : "");
  }
  if (len < strlen (message) && strlen (text) + 1 < sizeof text)
    strcat (text, ".");

  json_t *c = json_pack ("{s:s, s:s, s:s, s:s, s:o}", "type", type,
                         "category", "Critical", "reason", reason,
                         "message", text, "items", items);
  if (c == NULL || json_array_append_new (conds, c) == -1) {
    ferry_error ("kubevirt: validation: out of memory");
    return -1;
  }
  return 0;
}

/* The check's error told apart: "not found" (a condition) or anything
 * else (the call fails).
 */
static int
missing (void)
{
  int m = strstr (ferry_get_error (), "not found") != NULL;
  if (m)
    ferry_clear_error ();
  return m;
}

json_t *
kv_validate_targets (void *handle, const json_t *targets)
{
  struct kv_handle *h = handle;
  const char *ns = json_string_value (json_object_get (targets, "namespace"));
  DEST_CLEANUP_JSON json_t *conds = json_array ();
  json_t *scs = json_array (), *nets = json_array ();
  const json_t *v;
  size_t i;

  if (conds == NULL || scs == NULL || nets == NULL) {
    json_decref (scs);
    json_decref (nets);
    ferry_error ("kubevirt: validation: out of memory");
    return NULL;
  }
  if (kv_check_apis (h) == -1) {
    json_decref (scs);
    json_decref (nets);
    if (strstr (ferry_get_error (), "is not installed") == NULL)
      return NULL;
    if (add (conds, "DestinationProviderNotReady", "NotSupported",
             ferry_get_error (), json_array ()) == -1)
      return NULL;
    ferry_clear_error ();
    return dest_steal_json (&conds);
  }
  if (ns != NULL && kv_check_namespace (h, ns) == -1) {
    if (!missing ()) {
      json_decref (scs);
      json_decref (nets);
      return NULL;
    }
    /* settings.createNamespace: made before the first disk. */
    if (!h->create_namespace &&
        add (conds, "NamespaceNotValid", "NotFound",
             "The target namespace does not exist in the destination cluster (create it, or set the destination Provider's settings.createNamespace: \"true\").",
             json_pack ("[s]", ns)) == -1) {
      json_decref (scs);
      json_decref (nets);
      return NULL;
    }
  }
  json_array_foreach (json_object_get (targets, "storageClasses"), i, v) {
    const char *sc = json_string_value (v);
    if (sc == NULL || sc[0] == '\0')
      continue;
    if (kv_check_storage_class (h, sc) == -1) {
      if (!missing ()) {
        json_decref (scs);
        json_decref (nets);
        return NULL;
      }
      json_array_append_new (scs, json_string (sc));
    }
  }
  json_array_foreach (json_object_get (targets, "networks"), i, v) {
    const char *type = json_string_value (json_object_get (v, "type"));
    const char *name = json_string_value (json_object_get (v, "name"));
    const char *nns = json_string_value (json_object_get (v, "namespace"));
    if (type == NULL || strcmp (type, "multus") != 0 || name == NULL)
      continue;
    if (nns == NULL || nns[0] == '\0')
      nns = ns ? ns : "default";
    if (kv_check_nad (h, nns, name) == -1) {
      char item[300];
      if (!missing ()) {
        json_decref (scs);
        json_decref (nets);
        return NULL;
      }
      snprintf (item, sizeof item, "%s/%s", nns, name);
      json_array_append_new (nets, json_string (item));
    }
  }
  if (json_array_size (scs) > 0) {
    if (add (conds, "DestinationStorageNotValid", "NotFound",
             "Destination storage class not found.", scs) == -1) {
      json_decref (nets);
      return NULL;
    }
  }
  else
    json_decref (scs);
  if (json_array_size (nets) > 0) {
    if (add (conds, "DestinationNetworkNotValid", "NotFound",
             "Destination network not found.", nets) == -1)
      return NULL;
  }
  else
    json_decref (nets);
  return dest_steal_json (&conds);
}
