/* fuzz: the YAML reader (core/yaml.c) and writer (core/yamlemit.c).
 *
 * Any input may be refused, but never crash, leak or hang; and whatever is
 * accepted must survive ferry_to_yaml and read back as the same value.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "yaml.h"
#include "replay.h"

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  struct ferry_yaml_doc *docs;
  size_t n;

  ferry_set_log_level (FERRY_LOG_ERROR);
  if (ferry_internal_yaml_parse ("fuzz.yaml", (const char *) data, size,
                                 &docs, &n) == -1)
    return 0;
  for (size_t i = 0; i < n; ++i) {
    char *y = ferry_to_yaml (docs[i].value);
    struct ferry_yaml_doc *back;
    size_t nback;
    size_t line, col;

    ferry_internal_yaml_pos (&docs[i], "spec.vms[0].name", &line, &col);
    if (!y)
      abort ();
    if (ferry_internal_yaml_parse ("again.yaml", y, strlen (y), &back,
                                   &nback) == -1 ||
        nback != 1 || !json_equal (back[0].value, docs[i].value)) {
      fprintf (stderr, "round trip failed (%s) for:\n%s\n",
               ferry_get_error (), y);
      abort ();
    }
    ferry_internal_yaml_docs_free (back, nback);
    free (y);
  }
  ferry_internal_yaml_docs_free (docs, n);
  return 0;
}
