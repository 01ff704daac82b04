/* The kubevirt destination's transfer: job objects, built without a
 * cluster (destinations/kubevirt/jobspec.c, pvc.c): names that a label
 * cannot hold are shortened with a hash, the PVC's size with and without
 * the filesystem overhead, refusals, the Job's command with a snapshot.
 * integration/test-kubevirt-job.sh checks the same objects as the real
 * apiserver stores them.
 */
#include <config.h>

#include "unit/test-common.h"

#include <jansson.h>

#include "../../destinations/kubevirt/kubevirt.h"

static void
test_names (void **state)
{
  const char *long_pvc = "a-very-long-virtual-machine-name-from-vsphere-with-disk-d0123";
  char *a, *b, *c;

  (void) state;
  a = kv_copy_name ("web-d0", "-copy");
  assert_string_equal (a, "web-d0-copy");
  free (a);
  /* 61 + 5 > 63: shortened, with a hash of the whole name, still unique. */
  a = kv_copy_name (long_pvc, "-copy");
  b = kv_copy_name ("a-very-long-virtual-machine-name-from-vsphere-with-disk-d0124", "-copy");
  c = kv_copy_name (long_pvc, "-copy");
  assert_true (strlen (a) <= 63);
  assert_string_equal (a + strlen (a) - 5, "-copy");
  assert_string_not_equal (a, b);
  assert_string_equal (a, c);
  assert_int_equal (strncmp (a, long_pvc, 40), 0);
  free (a);
  free (b);
  free (c);
}

static json_t *
volume (const char *name, json_int_t capacity)
{
  json_t *v = json_pack ("{s:s, s:s, s:I, s:s, s:{s:s, s:s}}",
                         "name", name, "namespace", "vms", "capacity", capacity,
                         "storageClass", "standard",
                         "labels", "plan", "p-uid", "vmID", "vm-7");
  assert_non_null (v);
  return v;
}

static void
test_pvc (void **state)
{
  json_t *v = volume ("web-d0", 100 * 1024 * 1024);
  json_t *pvc;
  const json_t *spec;

  (void) state;
  /* Filesystem: 100 MiB / (1 - 0.055) = 105.82 MiB, rounded up to 106 MiB. */
  pvc = kv_pvc_object (v, "ReadWriteOnce", "Filesystem", 0.055);
  assert_non_null (pvc);
  spec = json_object_get (pvc, "spec");
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (spec, "resources"), "requests"), "storage")),
                       "111149056");
  assert_string_equal (json_string_value (json_object_get (spec, "storageClassName")), "standard");
  assert_string_equal (json_string_value (json_array_get (json_object_get (spec, "accessModes"), 0)), "ReadWriteOnce");
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (pvc, "metadata"), "labels"), "app.kubernetes.io/created-by")),
                       "ferry");
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (pvc, "metadata"), "labels"), "plan")),
                       "p-uid");
  json_decref (pvc);
  /* Block: the disk's size exactly. */
  pvc = kv_pvc_object (v, "ReadWriteMany", "Block", 0.055);
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (json_object_get (pvc, "spec"), "resources"), "requests"), "storage")),
                       "104857600");
  json_decref (pvc);
  assert_null (kv_pvc_object (v, "ReadWriteOnce", "Raw", 0.055));
  assert_string_equal (ferry_get_error (),
                       "kubevirt: volume web-d0: volumeMode \"Raw\": must be Block or Filesystem (fix the StorageMap's destination)");
  json_decref (v);
  v = volume ("Web_D0", 1024);
  assert_null (kv_pvc_object (v, "ReadWriteOnce", "Block", 0));
  assert_non_null (strstr (ferry_get_error (), "volume name \"Web_D0\""));
  json_decref (v);
}

static void
test_job (void **state)
{
  json_t *labels = json_pack ("{s:s, s:s}", "plan", "p-uid", "vmID", "vm-7");
  struct kv_copy_spec c = {
    .ns = "vms", .pvc = "web-d0", .labels = labels, .image = "ferry:1",
    .provider = "default/vcenter", .vm = "vm-7", .disk = "vm-7/2000",
    .snapshot = "snapshot-3", .block = 1,
  };
  json_t *job = kv_copy_job (&c), *role = kv_copy_role (&c);
  char *cmd;
  const json_t *ctr;

  (void) state;
  assert_non_null (job);
  ctr = json_array_get (json_object_get (json_object_get (json_object_get (json_object_get (job, "spec"), "template"), "spec"), "containers"), 0);
  cmd = json_dumps (json_object_get (ctr, "command"), JSON_COMPACT);
  assert_string_equal (cmd, "[\"ferry\",\"copy-disk\",\"--manifests\",\"/etc/ferry/source/source.yaml\","
                       "\"--provider\",\"default/vcenter\",\"--vm\",\"vm-7\",\"--disk\",\"vm-7/2000\","
                       "\"--snapshot\",\"snapshot-3\",\"--output\",\"/dev/ferry-disk\","
                       "\"--report\",\"vms/web-d0-copy\",\"-o\",\"json\"]");
  free (cmd);
  assert_string_equal (json_string_value (json_object_get (json_array_get (json_object_get (ctr, "volumeDevices"), 0), "devicePath")),
                       "/dev/ferry-disk");
  assert_int_equal (json_array_size (json_object_get (ctr, "volumeMounts")), 1);
  assert_string_equal (json_string_value (json_object_get (json_object_get (json_object_get (job, "metadata"), "annotations"), "ferry.konveyor.io/disk")),
                       "vm-7/2000");
  cmd = json_dumps (json_object_get (role, "rules"), JSON_COMPACT);
  assert_string_equal (cmd, "[{\"apiGroups\":[\"batch\"],\"resources\":[\"jobs\"],\"resourceNames\":[\"web-d0-copy\"],\"verbs\":[\"get\",\"patch\"]}]");
  free (cmd);
  json_decref (job);
  json_decref (role);
  json_decref (labels);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_names),
    cmocka_unit_test (test_pvc),
    cmocka_unit_test (test_job),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
