/* Golden-file tests of the kubevirt destination's objects:
 * neutral VM spec (tests/data/vmspec/NAME.json) -> the VirtualMachine it
 * creates in a cluster and the DataVolumes for its disks
 * (NAME.kubevirt.json: {"virtualMachine": ..., "dataVolumes": [...]}),
 * compared byte for byte.
 *
 *   FERRY_REGENERATE=1 make check TESTS=unit/test-kubevirt-translate
 *
 * rewrites the expected files instead (review the diff).  The real API
 * server validates these shapes against the CRD schemas in the
 * integration test (integration/test-kubevirt-module.sh).
 */
#include <config.h>

#include "unit/test-common.h"

#include <jansson.h>

#include "../../destinations/kubevirt/kubevirt.h"

static const char *const cases[] = {
  "vmware-efi-secureboot",
  "virtualbox-bios",
  "rawcopy-compat",
  "efi-no-secureboot",
};

/* The volumes the engine hands over: plan labels, a StorageMap entry. */
static json_t *
volumes_for (const json_t *spec)
{
  json_t *vols = json_array ();
  const json_t *d;
  size_t i;

  json_array_foreach (json_object_get (spec, "disks"), i, d) {
    const char *ns = json_string_value (json_object_get (spec, "namespace"));
    json_t *v = json_pack ("{s:O, s:s, s:s, s:O, s:s, s:s?, s:s, s:s, s:{s:s, s:s, s:s?}}",
                           "name", json_object_get (d, "volume"),
                           "namespace", ns ? ns : "default",
                           "vm", json_string_value (json_object_get (spec, "name")),
                           "capacity", json_object_get (d, "capacity"),
                           "format", "raw",
                           "diskId", json_string_value (json_object_get (d, "id")),
                           "storageClass", "standard",
                           "volumeMode", i == 0 ? "Filesystem" : "Block",
                           "labels", "plan", "plan-1", "migration", "plan-1-abcde",
                           "vmID", json_string_value (json_object_get (spec, "sourceId")));
    assert_non_null (v);
    if (i == 0)
      json_object_set_new (v, "accessMode", json_string ("ReadWriteOnce"));
    assert_int_equal (json_array_append_new (vols, v), 0);
  }
  return vols;
}

static void
test_golden (void **state)
{
  const char *name = *state;
  char *file, *path, *text, *expected;
  json_t *spec, *vols, *vm, *dvs, *out;
  json_error_t err;
  const json_t *v;
  size_t i;

  assert_true (asprintf (&file, "%s.json", name) > 0);
  path = test_data_path ("vmspec", file);
  spec = json_load_file (path, 0, &err);
  if (spec == NULL)
    fail_msg ("%s:%d: %s", path, err.line, err.text);
  free (path);
  free (file);
  /* The core adds what the plan says before the destination sees it. */
  json_object_set_new (spec, "sourceName", json_string ("Source VM 1"));
  vols = volumes_for (spec);
  {
    const struct kubevirt_vm_options opts = { .who = "kubevirt", .cluster = 1 };
    vm = kubevirt_vm_build (&opts, spec, vols);
  }
  if (vm == NULL)
    fail_msg ("%s: %s", name, ferry_get_error ());
  dvs = json_array ();
  json_array_foreach (vols, i, v) {
    json_t *dv = kv_datavolume (v);
    if (dv == NULL)
      fail_msg ("%s: %s", name, ferry_get_error ());
    json_array_append_new (dvs, dv);
  }
  out = json_pack ("{s:o, s:o}", "virtualMachine", vm, "dataVolumes", dvs);
  text = json_dumps (out, JSON_INDENT (2) | JSON_PRESERVE_ORDER);
  assert_non_null (text);

  assert_true (asprintf (&file, "%s.kubevirt.json", name) > 0);
  path = test_data_path ("vmspec", file);
  {
    char *with_nl;
    assert_true (asprintf (&with_nl, "%s\n", text) > 0);
    free (text);
    text = with_nl;
  }
  if (getenv ("FERRY_REGENERATE") && strcmp (getenv ("FERRY_REGENERATE"), "1") == 0) {
    FILE *fp = fopen (path, "wb");
    assert_non_null (fp);
    fputs (text, fp);
    assert_int_equal (fclose (fp), 0);
    fprintf (stderr, "regenerated %s\n", path);
  }
  else {
    expected = test_read_text (path);
    if (expected == NULL)
      fail_msg ("%s: missing; run with FERRY_REGENERATE=1 to create it", path);
    if (strcmp (expected, text) != 0) {
      fprintf (stderr, "---- %s differs; got:\n%s\n", path, text);
      fail_msg ("%s: output differs from the golden file", path);
    }
    free (expected);
  }
  free (path);
  free (file);
  free (text);
  json_decref (out);
  json_decref (vols);
  json_decref (spec);
}

/* What a cluster VM carries that the local manifest does not. */
static void
test_cluster_specifics (void **state)
{
  json_t *spec = json_pack ("{s:s, s:s, s:s, s:i, s:s, s:[{s:I, s:s}], s:{s:s, s:s}}",
                            "name", "web", "namespace", "vms", "sourceId", "vm-7",
                            "memoryMB", 512, "serial", "4213-abcd",
                            "disks", "capacity", (json_int_t) 1 << 30, "volume", "web-disk-0",
                            "labels", "plan", "p", "vmID", "vm-7");
  json_t *vols = volumes_for (spec);
  const struct kubevirt_vm_options cluster = { .who = "kubevirt", .cluster = 1 };
  const struct kubevirt_vm_options local = { .who = "local" };
  json_t *vm = kubevirt_vm_build (&cluster, spec, vols);
  json_t *lvm = kubevirt_vm_build (&local, spec, vols);
  const json_t *meta, *tspec;

  assert_non_null (vm);
  assert_non_null (lvm);
  meta = json_object_get (vm, "metadata");
  assert_string_equal (json_string_value (json_object_get (json_object_get (meta, "annotations"), "original-ID")), "vm-7");
  assert_string_equal (json_string_value (json_object_get (json_object_get (meta, "annotations"), "openshift.io/display-name")), "web");
  assert_string_equal (json_string_value (json_object_get (json_object_get (meta, "labels"), "app.kubernetes.io/created-by")), "ferry");
  tspec = json_object_get (json_object_get (json_object_get (vm, "spec"), "template"), "spec");
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_array_get (json_object_get (tspec, "volumes"), 0), "dataVolume"), "name")), "web-disk-0");
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (tspec, "domain"), "firmware"), "serial")), "4213-abcd");
  /* The local manifest keeps its PVC reference and no serial. */
  tspec = json_object_get (json_object_get (json_object_get (lvm, "spec"), "template"), "spec");
  assert_non_null (json_object_get (json_array_get (json_object_get (tspec, "volumes"), 0), "persistentVolumeClaim"));
  assert_null (json_object_get (json_object_get (json_object_get (tspec, "domain"), "firmware"), "serial"));
  /* Errors carry the module's name. */
  json_object_set_new (spec, "firmware", json_string ("uefi"));
  ferry_clear_error ();
  assert_null (kubevirt_vm_build (&cluster, spec, vols));
  assert_string_equal (ferry_get_error (), "kubevirt: VM web: firmware \"uefi\": unknown (bios or efi)");
  json_decref (vm);
  json_decref (lvm);
  json_decref (vols);
  json_decref (spec);
}

static void
test_datavolume_refusals (void **state)
{
  json_t *v = json_pack ("{s:s, s:s, s:i}", "name", "Bad_Name", "namespace", "vms",
                         "capacity", 1);
  ferry_clear_error ();
  assert_null (kv_datavolume (v));
  assert_non_null (strstr (ferry_get_error (), "kubevirt: volume name \"Bad_Name\": not a DNS-1123 label"));
  json_object_set_new (v, "name", json_string ("ok"));
  json_object_set_new (v, "capacity", json_integer (0));
  assert_null (kv_datavolume (v));
  assert_non_null (strstr (ferry_get_error (), "capacity missing or not a positive integer"));
  json_decref (v);
}

int
main (void)
{
  struct CMUnitTest tests[sizeof cases / sizeof cases[0] + 2];
  size_t i;

  for (i = 0; i < sizeof cases / sizeof cases[0]; ++i) {
    struct CMUnitTest t = {
      .name = cases[i], .test_func = test_golden,
      .initial_state = (void *) cases[i],
    };
    tests[i] = t;
  }
  {
    struct CMUnitTest t = { .name = "cluster_specifics", .test_func = test_cluster_specifics };
    tests[i++] = t;
  }
  {
    struct CMUnitTest t = { .name = "datavolume_refusals", .test_func = test_datavolume_refusals };
    tests[i++] = t;
  }
  return _cmocka_run_group_tests ("kubevirt-translate", tests, i, NULL, NULL);
}
