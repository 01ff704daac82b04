/* ferry kubevirt destination: whose object is it?  An object ferry made
 * for one VM of one plan carries that plan's uid and the VM's id as the
 * labels plan and vmID; a run after a crash (or a restart) finds what an
 * earlier attempt made by those labels and takes it up, and refuses
 * anything else of the same name.
 */
#include <config.h>

#include <string.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

static const char *
label (const json_t *obj, const char *key)
{
  const json_t *labels = json_object_get (json_object_get (obj, "metadata"), "labels");
  const char *s = json_string_value (json_object_get (labels, key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

/* 1 when have carries want's plan and vmID labels, else 0. */
static int
ours (const json_t *have, const json_t *want)
{
  static const char *const keys[] = { "plan", "vmID" };

  for (size_t i = 0; i < sizeof keys / sizeof keys[0]; ++i) {
    const char *a = label (have, keys[i]), *b = label (want, keys[i]);
    if (a == NULL || b == NULL || strcmp (a, b) != 0)
      return 0;
  }
  return 1;
}

int
kv_get_ours (struct kv_handle *h, const char *path, const json_t *want,
             json_t **old)
{
  const json_t *meta = json_object_get (want, "metadata");

  *old = NULL;
  ferry_clear_error ();
  if (kube_call (&h->k, "GET", path, NULL, old) == -1)
    return -1;
  if (!ours (*old, want)) {
    json_decref (*old);
    *old = NULL;
    ferry_error ("kubevirt: %s %s/%s already exists and was not created by this plan for this VM: remove it or rename the target (the plan's pvcNameTemplate)",
                 json_string_value (json_object_get (want, "kind")),
                 json_string_value (json_object_get (meta, "namespace")),
                 json_string_value (json_object_get (meta, "name")));
    return -1;
  }
  return 0;
}
