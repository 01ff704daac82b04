/* ferry command: the small part of kubectl's JSONPath that CRD printer
 * columns use: .a.b, [N], and [?(@.field=='value')] (first match).
 */
#include <config.h>

#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Borrowed result, or NULL when the path does not resolve. */
const json_t *
cli_jsonpath (const json_t *v, const char *path)
{
  const char *p = path;

  while (v && *p) {
    if (*p == '.') {
      p++;
      size_t n = strcspn (p, ".[");
      char key[256];
      if (n == 0 || n >= sizeof key)
        return NULL;
      memcpy (key, p, n);
      key[n] = '\0';
      v = json_object_get (v, key);
      p += n;
    }
    else if (p[0] == '[' && p[1] == '?') {
      /* [?(@.field=='value')] */
      const char *f = strstr (p, "@.");
      const char *eq = strstr (p, "==");
      const char *end = strstr (p, ")]");
      if (!f || !eq || !end || !(f < eq && eq < end))
        return NULL;
      char field[128], want[256];
      size_t fl = (size_t) (eq - (f + 2));
      const char *q = eq + 2;
      char quote = *q;
      if ((quote != '\'' && quote != '"') || fl >= sizeof field)
        return NULL;
      const char *qe = strchr (q + 1, quote);
      if (!qe || qe > end || (size_t) (qe - q - 1) >= sizeof want)
        return NULL;
      memcpy (field, f + 2, fl);
      field[fl] = '\0';
      memcpy (want, q + 1, (size_t) (qe - q - 1));
      want[qe - q - 1] = '\0';
      const json_t *found = NULL, *e;
      size_t i;
      json_array_foreach (v, i, e) {
        const char *s = json_string_value (json_object_get (e, field));
        if (s && strcmp (s, want) == 0) {
          found = e;
          break;
        }
      }
      v = found;
      p = end + 2;
    }
    else if (*p == '[') {
      char *e;
      long i = strtol (p + 1, &e, 10);
      if (*e != ']')
        return NULL;
      v = json_array_get (v, (size_t) i);
      p = e + 1;
    }
    else
      return NULL;
  }
  return v;
}
