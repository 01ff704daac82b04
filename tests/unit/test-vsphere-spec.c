/* Golden files for the vSphere provider's translations: a
 * RetrievePropertiesEx answer -> the VM document (Forklift's shape) -> the
 * neutral VM spec, compared with checked-in JSON in
 * providers/vsphere/testdata/.  VSPHERE_GOLDEN_REGENERATE=1 rewrites the
 * expected files (then review the diff).
 *
 * Inputs: vm-efi-secureboot.xml (hand-written from the vim25 schema: EFI
 * with secure boot, vTPM, PVSCSI + SATA disks, multi-writer, DVPG and
 * standard NICs, USB, snapshot, CBT) and vm-vcsim.xml (one VM as govmomi's
 * simulator answers).
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../providers/vsphere/soap.c"
#include "../../providers/vsphere/session.c"
#include "../../providers/vsphere/collect.c"
#include "../../providers/vsphere/inventory.c"
#include "../../providers/vsphere/spec.c"

static char *
slurp (const char *path, size_t *len)
{
  FILE *f = fopen (path, "rb");
  char *buf;
  long n;

  if (!f)
    return NULL;
  fseek (f, 0, SEEK_END);
  n = ftell (f);
  fseek (f, 0, SEEK_SET);
  buf = malloc ((size_t) n + 1);
  if (buf && fread (buf, 1, (size_t) n, f) != (size_t) n) {
    free (buf);
    buf = NULL;
  }
  fclose (f);
  if (buf) {
    buf[n] = '\0';
    *len = (size_t) n;
  }
  return buf;
}

static int
keep_doc (struct vsphere_handle *h, const struct vsphere_object *obj,
          void *opaque)
{
  json_t **doc = opaque;
  if (!*doc)
    *doc = vsphere_vm_doc (obj);
  return 0;
}

static void
compare (const char *name, const char *suffix, json_t *got)
{
  char *path;
  json_t *want;
  char *g, *w;

  assert_true (asprintf (&path, "%s/providers/vsphere/testdata/%s.%s",
                         TOP_SRCDIR, name, suffix) != -1);
  if (getenv ("VSPHERE_GOLDEN_REGENERATE")) {
    assert_int_equal (json_dump_file (got, path, JSON_INDENT (2) | JSON_SORT_KEYS), 0);
    free (path);
    return;
  }
  want = json_load_file (path, 0, NULL);
  if (!want)
    fail_msg ("%s missing (VSPHERE_GOLDEN_REGENERATE=1 writes it)", path);
  g = json_dumps (got, JSON_INDENT (2) | JSON_SORT_KEYS);
  w = json_dumps (want, JSON_INDENT (2) | JSON_SORT_KEYS);
  if (!json_equal (got, want))
    fail_msg ("%s differs:\n--- want\n%s\n--- got\n%s", path, w, g);
  free (g);
  free (w);
  json_decref (want);
  free (path);
}

static void
golden (const char *name, const char *vm_id)
{
  char *path, *buf;
  size_t len = 0;
  xmlDocPtr doc;
  xmlNodePtr body;
  struct vsphere_fault f = { 0 };
  json_t *vm = NULL, *spec;

  assert_true (asprintf (&path, "%s/providers/vsphere/testdata/%s.xml",
                         TOP_SRCDIR, name) != -1);
  buf = slurp (path, &len);
  assert_non_null (buf);
  assert_int_equal (vsphere_soap_parse (buf, len, &doc, &body, &f), 0);
  assert_int_equal (page (NULL, vsphere_xml_child (body, "returnval"),
                          keep_doc, &vm), 0);
  assert_non_null (vm);
  compare (name, "doc.json", vm);
  spec = vsphere_spec_from_doc (vm, vm_id);
  assert_non_null (spec);
  compare (name, "spec.json", spec);
  json_decref (spec);
  json_decref (vm);
  xmlFreeDoc (doc);
  free (buf);
  free (path);
}

static void
test_efi_secureboot (void **state)
{
  golden ("vm-efi-secureboot", "vm-2044");
}

static void
test_vcsim (void **state)
{
  golden ("vm-vcsim", "vm-48");
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_efi_secureboot),
    cmocka_unit_test (test_vcsim),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
