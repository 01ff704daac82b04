/* ferry core: the public face of the YAML parser (ferry_yaml_parse), for
 * modules that read YAML from outside, e.g. a kubeconfig (kubevirt).
 */
#include <config.h>

#include <jansson.h>

#include "ferry/ferry.h"
#include "internal.h"
#include "yaml.h"

json_t *
ferry_yaml_parse (const char *name, const char *buf, size_t len)
{
  struct ferry_yaml_doc *docs = NULL;
  size_t n = 0;
  json_t *v;

  if (ferry_internal_yaml_parse (name, buf, len, &docs, &n) == -1)
    return NULL;
  if (n != 1) {
    ferry_error ("%s: %zu YAML documents, expected one", name, n);
    ferry_internal_yaml_docs_free (docs, n);
    return NULL;
  }
  v = json_incref (docs[0].value);
  ferry_internal_yaml_docs_free (docs, n);
  return v;
}
