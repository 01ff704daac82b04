/* ferry core: what is known of each kind (names, printer columns), from the
 * compiled-in Forklift CRDs.
 */
#include <config.h>

#include <pthread.h>
#include <string.h>
#include <strings.h>

#include "internal.h"
#include "schema.h"

json_t *
ferry_kind_info (const char *kind)
{
  if (kind && strcmp (kind, "Secret") == 0) {
    return json_pack ("{s:s, s:s, s:s, s:s, s:[], s:[{s:s,s:s,s:s},{s:s,s:s,s:s},{s:s,s:s,s:s}]}",
                      "kind", "Secret", "apiVersion", "v1",
                      "plural", "secrets", "singular", "secret",
                      "shortNames",
                      "printerColumns",
                      "name", "TYPE", "type", "string", "jsonPath", ".type",
                      "name", "DATA", "type", "integer", "jsonPath", ".data",
                      "name", "AGE", "type", "date", "jsonPath", ".metadata.creationTimestamp");
  }
  for (size_t i = 0; kind && ferry_internal_schema_sources[i].name; i++) {
    if (strcasecmp (ferry_internal_schema_sources[i].name, kind) != 0)
      continue;
    json_error_t jerr;
    CLEANUP_JSON_DECREF json_t *crd =
      json_loads (ferry_internal_schema_sources[i].json, 0, &jerr);
    if (!crd) {
      ferry_error ("compiled-in schema for %s is not valid JSON: %s", kind, jerr.text);
      return NULL;
    }
    const char *group = json_string_value (json_object_get (crd, "group"));
    const char *version = json_string_value (json_object_get (crd, "version"));
    CLEANUP_FREE char *api = NULL;
    if (asprintf (&api, "%s/%s", group ? group : "", version ? version : "") == -1) {
      ferry_error ("kind info for %s: out of memory", kind);
      return NULL;
    }
    json_t *cols = json_array ();
    json_t *c;
    size_t j;
    json_array_foreach (json_object_get (crd, "printerColumns"), j, c)
      json_array_append_new (cols, json_pack ("{s:O?,s:O?,s:O?}",
                                              "name", json_object_get (c, "name"),
                                              "type", json_object_get (c, "type"),
                                              "jsonPath", json_object_get (c, "jsonPath")));
    return json_pack ("{s:O?, s:s, s:O?, s:O?, s:O?, s:o}",
                      "kind", json_object_get (crd, "kind"),
                      "apiVersion", api,
                      "plural", json_object_get (crd, "plural"),
                      "singular", json_object_get (crd, "singular"),
                      "shortNames", json_object_get (crd, "shortNames"),
                      "printerColumns", cols);
  }
  ferry_error ("no such kind '%s'", kind ? kind : "(null)");
  return NULL;
}
