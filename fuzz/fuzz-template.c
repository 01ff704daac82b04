/* fuzz: the name-template engine (templates/): lexer, parser, executor,
 * printf, regexp replacement; and the VM renaming rules.
 *
 * Any template may be refused, but never crash, leak or hang; a refused
 * template always comes with a "template: " message; whatever the VM
 * renaming returns is a valid RFC 1123 subdomain.
 */
#include <config.h>

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ferry-template.h"
#include "replay.h"

static int
fixed_random (void *user_data, void *buf, size_t n)
{
  (void) user_data;
  memset (buf, 7, n);
  return 0;
}

static bool
taken_if_short (void *user_data, const char *name)
{
  (void) user_data;
  return strlen (name) < 8;
}

static void
check_error (char *err)
{
  if (!err || strncmp (err, "template: ", 10) != 0)
    abort ();
  free (err);
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  if (size > 8192)              /* keep each run short */
    return 0;
  char *text = malloc (size + 1);
  if (!text) return 0;
  memcpy (text, data, size);
  text[size] = '\0';

  struct ferry_template_data *pvc = ferry_template_data_new (FERRY_TEMPLATE_KIND_PVC);
  struct ferry_template_data *custom = ferry_template_data_new (FERRY_TEMPLATE_KIND_CUSTOM);
  static const char *const items[] = { "a", "B", "" };
  if (pvc && custom) {
    ferry_template_data_set_string (pvc, "VmName", "My.VM_01");
    ferry_template_data_set_int (pvc, "DiskIndex", 3);
    ferry_template_data_set_bool (pvc, "Shared", true);
    ferry_template_data_set_list (custom, "List", items, 3);
    ferry_template_data_set_string (custom, "Name", "x");
    ferry_template_data_set_int (custom, "Num", -1);

    char *err = NULL;
    struct ferry_template *t = ferry_template_parse ("fuzz", text, &err);
    if (!t)
      check_error (err);
    else {
      const struct ferry_template_data *sets[] = { pvc, custom, NULL };
      for (size_t k = 0; k < 3; k++) {
        size_t len;
        char *out = ferry_template_execute_len (t, sets[k], &len, &err);
        if (out) {
          if (out[len] != '\0') abort ();
          free (out);
        }
        else
          check_error (err);
      }
      ferry_template_free (t);
    }
  }
  ferry_template_data_free (pvc);
  ferry_template_data_free (custom);

  char *name = ferry_template_vm_name (text, taken_if_short, NULL, fixed_random, NULL);
  if (name) {
    if (!ferry_template_is_dns1123_subdomain (name, NULL) || strlen (name) > 63)
      abort ();
    free (name);
  }
  free (text);
  return 0;
}
