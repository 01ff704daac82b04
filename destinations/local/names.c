/* ferry local destination: volume formats.  The spec fields both
 * translations read the same way live in destinations/common/vmspec-read.c.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "ferry/error.h"
#include "local.h"

const char *
local_volume_format (const json_t *volume)
{
  const json_t *f = json_object_get (volume, "format");
  const char *s;

  if (f == NULL || json_is_null (f))
    return "raw";
  s = json_string_value (f);
  if (s == NULL) {
    ferry_error ("local: volume format: not a string");
    return NULL;
  }
  if (strcmp (s, "raw") == 0 || s[0] == '\0')
    return "raw";
  if (strcmp (s, "qcow2") == 0)
    return "qcow2";
  ferry_error ("local: volume format \"%s\": not supported (raw or qcow2)", s);
  return NULL;
}

const char *
local_format_extension (const char *format)
{
  return strcmp (format, "qcow2") == 0 ? "qcow2" : "img";
}
