/* The vSphere provider module against govmomi's vCenter simulator.
 *
 * ferry-provider-vsphere.so is dlopen()ed as the loader would, and its
 * callbacks are driven directly: login failures, TLS without a CA, the
 * inventory (compared with the truth the simulator wrote through govmomi,
 * never with ferry's own output), VM description and spec, power off and
 * on through tasks, the cold-copy refusals, a disk read over the datastore
 * HTTP interface compared byte for byte with the simulator's file (its
 * extents from QueryChangedDiskAreas, which the peer adds), and a
 * re-login after the session expired, and incremental updates
 * (WaitForUpdatesEx) after a power change.
 *
 * Needs the simulator: tests/integration/test-vsphere-module.sh starts it
 * and sets VSPHERE_TEST_URL, VSPHERE_TEST_CACERT (a PEM file),
 * VSPHERE_TEST_TRUTH (JSON), VSPHERE_TEST_USER, VSPHERE_TEST_PASSWORD.
 * Without them the test skips (77).
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>

#include "ferry/provider.h"
#include "ferry/error.h"

static const struct ferry_provider *prov;
static json_t *truth;
static char *cacert_pem;

static const char *
env (const char *name)
{
  const char *v = getenv (name);
  return v ? v : "";
}

static char *
slurp (const char *path)
{
  FILE *f = fopen (path, "r");
  char *buf = NULL;
  size_t len = 0;

  if (!f)
    return NULL;
  buf = calloc (1, 1 << 16);
  if (buf)
    len = fread (buf, 1, (1 << 16) - 1, f);
  fclose (f);
  if (buf)
    buf[len] = '\0';
  return buf;
}

/* Opens a handle with the given secret entries (NULL-terminated pairs). */
static int
open_with (void **handle, const char *url, ...)
{
  json_t *secret = json_object ();
  json_t *spec = json_pack ("{s:s, s:s}", "type", "vsphere", "url", url);
  va_list ap;
  const char *k;
  int r;

  va_start (ap, url);
  while ((k = va_arg (ap, const char *)) != NULL)
    json_object_set_new (secret, k, json_string (va_arg (ap, const char *)));
  va_end (ap);
  struct ferry_open_args args = {
    .struct_size = sizeof args,
    .name = "vc",
    .ns = "default",
    .type = "vsphere",
    .url = url,
    .spec = spec,
    .secret = secret,
    .state_dir = NULL,
  };
  ferry_clear_error ();
  r = prov->open (&args, handle);
  json_decref (secret);
  json_decref (spec);
  return r;
}

static int
open_good (void **handle)
{
  return open_with (handle, env ("VSPHERE_TEST_URL"),
                    "user", env ("VSPHERE_TEST_USER"),
                    "password", env ("VSPHERE_TEST_PASSWORD"),
                    "cacert", cacert_pem, NULL);
}

static int
setup (void **state)
{
  char *path;
  void *dl;
  const struct ferry_module_header *(*entry) (void);
  const struct ferry_module_header *hdr;
  const char *b = getenv ("abs_top_builddir");

  if (asprintf (&path, "%s/providers/vsphere/.libs/ferry-provider-vsphere.so",
                b ? b : "..") == -1)
    return -1;
  dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (!dl) {
    fprintf (stderr, "dlopen %s: %s\n", path, dlerror ());
    free (path);
    return -1;
  }
  free (path);
  *(void **) &entry = dlsym (dl, FERRY_MODULE_ENTRY_SYMBOL);
  if (!entry)
    return -1;
  hdr = entry ();
  if (hdr->kind != FERRY_MODULE_PROVIDER)
    return -1;
  prov = (const struct ferry_provider *) hdr;
  truth = json_load_file (env ("VSPHERE_TEST_TRUTH"), 0, NULL);
  cacert_pem = slurp (env ("VSPHERE_TEST_CACERT"));
  return truth && cacert_pem ? 0 : -1;
}

static int
teardown (void **state)
{
  json_decref (truth);
  free (cacert_pem);
  return 0;
}

static void
test_declines_other_types (void **state)
{
  void *h = NULL;
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = "x", .type = "ova", .url = "/tmp",
  };
  assert_int_equal (prov->open (&args, &h), FERRY_OPEN_DECLINED);
}

static void
test_wrong_password (void **state)
{
  void *h = NULL;
  assert_int_equal (open_with (&h, env ("VSPHERE_TEST_URL"),
                               "user", env ("VSPHERE_TEST_USER"),
                               "password", "wrong",
                               "cacert", cacert_pem, NULL),
                    FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "Login"));
  assert_non_null (strstr (ferry_get_error (), "InvalidLogin"));
  /* The password never shows. */
  assert_null (strstr (ferry_get_error (), "wrong"));
}

static void
test_tls_unknown_ca (void **state)
{
  void *h = NULL;
  /* No cacert: the system store does not know the simulator's CA. */
  assert_int_equal (open_with (&h, env ("VSPHERE_TEST_URL"),
                               "user", env ("VSPHERE_TEST_USER"),
                               "password", env ("VSPHERE_TEST_PASSWORD"),
                               NULL),
                    FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "TLS"));
  assert_non_null (strstr (ferry_get_error (), "cacert"));
  assert_non_null (strstr (ferry_get_error (), "insecureSkipVerify"));
}

static void
test_insecure (void **state)
{
  void *h = NULL;
  assert_int_equal (open_with (&h, env ("VSPHERE_TEST_URL"),
                               "user", env ("VSPHERE_TEST_USER"),
                               "password", env ("VSPHERE_TEST_PASSWORD"),
                               "insecureSkipVerify", "true", NULL),
                    FERRY_OPEN_OK);
  assert_int_equal (prov->test_connection (h), 0);
  prov->close (h);
}

struct counts {
  int vm, host, cluster, datacenter, storage, network, disk, pruned;
  json_t *vms;                          /* id -> doc */
};

static int
count_put (struct ferry_inventory_sink *sink, const char *kind,
           const char *id, const char *name, const char *parent,
           const json_t *doc)
{
  struct counts *c = sink->opaque;
  if (strcmp (kind, FERRY_INV_VM) == 0) {
    c->vm++;
    json_object_set_new (c->vms, id, json_deep_copy (doc));
  }
  else if (strcmp (kind, FERRY_INV_HOST) == 0) c->host++;
  else if (strcmp (kind, FERRY_INV_CLUSTER) == 0) c->cluster++;
  else if (strcmp (kind, FERRY_INV_DATACENTER) == 0) c->datacenter++;
  else if (strcmp (kind, FERRY_INV_STORAGE) == 0) c->storage++;
  else if (strcmp (kind, FERRY_INV_NETWORK) == 0) c->network++;
  else if (strcmp (kind, FERRY_INV_DISK) == 0) c->disk++;
  assert_non_null (id);
  assert_non_null (doc);
  return 0;
}

static int
count_prune (struct ferry_inventory_sink *sink)
{
  struct counts *c = sink->opaque;
  c->pruned++;
  return 0;
}

static const json_t *
truth_vm (const char *id)
{
  size_t i;
  json_t *v;
  json_array_foreach (json_object_get (truth, "vms"), i, v)
    if (strcmp (json_string_value (json_object_get (v, "id")), id) == 0)
      return v;
  return NULL;
}

static void
test_inventory (void **state)
{
  void *h = NULL;
  struct counts c = { .vms = json_object () };
  struct ferry_inventory_sink sink = {
    .struct_size = sizeof sink, .opaque = &c,
    .put = count_put, .prune = count_prune,
  };
  const char *id;
  json_t *doc;

  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  assert_int_equal (prov->inventory (h, &sink), 0);
  assert_int_equal (c.pruned, 1);
  assert_int_equal (c.vm, json_array_size (json_object_get (truth, "vms")));
  assert_int_equal (c.host, json_integer_value (json_object_get (truth, "hosts")));
  assert_int_equal (c.cluster, json_integer_value (json_object_get (truth, "clusters")));
  assert_int_equal (c.datacenter, json_integer_value (json_object_get (truth, "datacenters")));
  assert_int_equal (c.storage, json_integer_value (json_object_get (truth, "datastores")));
  /* DVPGs include the uplink port group the model creates with its switch. */
  assert_true (c.network >= json_integer_value (json_object_get (truth, "networks")));

  json_object_foreach (c.vms, id, doc) {
    const json_t *t = truth_vm (id);
    const json_t *td = json_array_get (json_object_get (t, "disks"), 0);
    const json_t *d = json_array_get (json_object_get (doc, "disks"), 0);
    assert_non_null (t);
    assert_string_equal (json_string_value (json_object_get (doc, "name")),
                         json_string_value (json_object_get (t, "name")));
    assert_string_equal (json_string_value (json_object_get (doc, "uuid")),
                         json_string_value (json_object_get (t, "uuid")));
    assert_string_equal (json_string_value (json_object_get (doc, "powerState")),
                         json_string_value (json_object_get (t, "powerState")));
    assert_int_equal (json_integer_value (json_object_get (doc, "cpuCount")),
                      json_integer_value (json_object_get (t, "cpuCount")));
    assert_int_equal (json_integer_value (json_object_get (doc, "memoryMB")),
                      json_integer_value (json_object_get (t, "memoryMB")));
    assert_int_equal (json_array_size (json_object_get (doc, "nics")),
                      json_integer_value (json_object_get (t, "nics")));
    assert_int_equal (json_integer_value (json_object_get (d, "key")),
                      json_integer_value (json_object_get (td, "key")));
    assert_int_equal (json_integer_value (json_object_get (d, "capacity")),
                      json_integer_value (json_object_get (td, "capacity")));
    assert_string_equal (json_string_value (json_object_get (d, "file")),
                         json_string_value (json_object_get (td, "file")));
    assert_string_equal (json_string_value (json_object_get (json_object_get (d, "datastore"), "id")),
                         json_string_value (json_object_get (td, "datastore")));
    assert_non_null (json_object_get (doc, "firmware"));
    assert_non_null (json_object_get (doc, "changeTrackingEnabled"));
    assert_non_null (json_object_get (doc, "host"));
    assert_non_null (json_object_get (json_array_get (json_object_get (doc, "nics"), 0), "mac"));
    assert_non_null (json_object_get (json_object_get (json_array_get (json_object_get (doc, "nics"), 0), "network"), "id"));
  }
  json_decref (c.vms);
  prov->close (h);
}

static void
test_describe_and_spec (void **state)
{
  void *h = NULL;
  const json_t *t = json_array_get (json_object_get (truth, "vms"), 0);
  const char *id = json_string_value (json_object_get (t, "id"));
  json_t *doc, *spec;

  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  doc = prov->vm_describe (h, id);
  assert_non_null (doc);
  assert_string_equal (json_string_value (json_object_get (doc, "id")), id);
  json_decref (doc);

  spec = prov->vm_spec (h, id);
  assert_non_null (spec);
  assert_string_equal (json_string_value (json_object_get (spec, "name")),
                       json_string_value (json_object_get (t, "name")));
  assert_int_equal (json_integer_value (json_object_get (spec, "memoryMB")),
                    json_integer_value (json_object_get (t, "memoryMB")));
  assert_int_equal (json_integer_value (json_object_get (json_object_get (spec, "cpu"), "sockets"))
                    * json_integer_value (json_object_get (json_object_get (spec, "cpu"), "cores")),
                    json_integer_value (json_object_get (t, "cpuCount")));
  assert_string_equal (json_string_value (json_object_get (json_array_get (json_object_get (spec, "disks"), 0), "datastore")),
                       json_string_value (json_object_get (json_array_get (json_object_get (t, "disks"), 0), "datastore")));
  assert_non_null (json_object_get (json_array_get (json_object_get (spec, "nics"), 0), "network"));
  json_decref (spec);

  assert_null (prov->vm_describe (h, "vm-does-not-exist"));
  assert_non_null (strstr (ferry_get_error (), "vm-does-not-exist"));
  prov->close (h);
}

struct ext_sum {
  uint64_t data, zero, next;
  uint32_t first_flags;
  int n;
};

static int
ext_add (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct ext_sum *e = opaque;
  assert_int_equal (offset, e->next);   /* ascending, contiguous */
  e->next = offset + length;
  if (e->n++ == 0)
    e->first_flags = flags;
  if (flags & FERRY_EXTENT_ZERO)
    e->zero += length;
  else
    e->data += length;
  return 0;
}

static void
test_power_and_disk (void **state)
{
  void *h = NULL;
  const json_t *t = json_array_get (json_object_get (truth, "vms"), 0);
  const char *id = json_string_value (json_object_get (t, "id"));
  const json_t *td = json_array_get (json_object_get (t, "disks"), 0);
  char key[32];
  struct ferry_disk_source *src;
  const char *flat = json_string_value (json_object_get (td, "flatPath"));
  int64_t size = json_integer_value (json_object_get (td, "capacity"));

  snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT,
            json_integer_value (json_object_get (td, "key")));
  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  assert_int_equal (prov->power_on (h, id), 0);
  assert_int_equal (prov->power_state (h, id), FERRY_POWER_ON);

  /* Powered on: a clear refusal naming the VM. */
  assert_null (prov->disk_open (h, id, key, NULL));
  assert_non_null (strstr (ferry_get_error (), id));
  assert_non_null (strstr (ferry_get_error (), "power it off"));

  assert_int_equal (prov->power_off (h, id), 0);
  assert_int_equal (prov->power_state (h, id), FERRY_POWER_OFF);
  assert_int_equal (prov->power_off (h, id), 0);          /* idempotent */

  /* A snapshot id: refused, naming VDDK. */
  assert_null (prov->disk_open (h, id, key, "snapshot-1"));
  assert_non_null (strstr (ferry_get_error (), "VDDK"));
  assert_null (prov->disk_open (h, id, "99999", NULL));
  assert_non_null (strstr (ferry_get_error (), "99999"));

  src = prov->disk_open (h, id, key, NULL);
  if (!src)
    fail_msg ("disk_open: %s", ferry_get_error ());
  assert_int_equal (src->ops->size (src), size);
  /* CBT is on (-cbt): extents come from QueryChangedDiskAreas("*") and
   * describe the flat file's data and holes (-flat 1 MiB of 4 MiB: data
   * at 0 and from the middle, holes elsewhere).
   */
  assert_non_null (src->ops->extents);
  {
    struct ext_sum e = { 0 };
    assert_int_equal (src->ops->extents (src, 0, size, ext_add, &e), 0);
    assert_int_equal (e.data + e.zero, size);
    assert_true (e.data >= 1048576);
    assert_true (e.zero >= 1048576);
    assert_int_equal (e.first_flags, FERRY_EXTENT_DATA);
  }
  if (flat && *flat) {
    FILE *f = fopen (flat, "rb");
    unsigned char *a = malloc (size), *b = malloc (size);
    assert_non_null (f);
    assert_int_equal (fread (a, 1, size, f), (size_t) size);
    fclose (f);
    assert_int_equal (src->ops->pread (src, b, size, 0), 0);
    assert_memory_equal (a, b, size);
    assert_int_equal (src->ops->pread (src, b, 4096, size - 4096), 0);
    assert_memory_equal (a + size - 4096, b, 4096);
    free (a);
    free (b);
  }
  src->ops->close (src);

  assert_int_equal (prov->power_on (h, id), 0);
  assert_int_equal (prov->power_state (h, id), FERRY_POWER_ON);
  prov->close (h);
}

struct watched {
  int puts, removes;
  json_t *last_vm;                      /* the last VM document put */
};

static int
watch_put (struct ferry_inventory_sink *sink, const char *kind,
           const char *id, const char *name, const char *parent,
           const json_t *doc)
{
  struct watched *w = sink->opaque;
  w->puts++;
  if (strcmp (kind, FERRY_INV_VM) == 0) {
    json_decref (w->last_vm);
    w->last_vm = json_deep_copy (doc);
  }
  return 0;
}

static int
watch_remove (struct ferry_inventory_sink *sink, const char *kind,
              const char *id)
{
  struct watched *w = sink->opaque;
  w->removes++;
  return 0;
}

/* WaitForUpdatesEx: the first call lists everything, an unchanged
 * simulator gives nothing, a power change gives that VM again.
 */
static void
test_watch (void **state)
{
  void *h = NULL;
  const json_t *t = json_array_get (json_object_get (truth, "vms"), 1);
  const char *id = json_string_value (json_object_get (t, "id"));
  struct watched w = { 0 };
  struct ferry_inventory_sink sink = {
    .struct_size = sizeof sink, .opaque = &w,
    .put = watch_put, .remove = watch_remove,
  };
  char *version = NULL;

  assert_non_null (prov->watch);
  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  assert_int_equal (prov->power_on (h, id), 0);
  if (prov->watch (h, &sink, &version) != 0)
    fail_msg ("watch: %s", ferry_get_error ());
  assert_non_null (version);
  assert_true ((size_t) w.puts >= json_array_size (json_object_get (truth, "vms")));

  w.puts = 0;
  assert_int_equal (prov->watch (h, &sink, &version), 0);
  assert_int_equal (w.puts, 0);

  assert_int_equal (prov->power_off (h, id), 0);
  json_decref (w.last_vm);
  w.last_vm = NULL;
  assert_int_equal (prov->watch (h, &sink, &version), 0);
  assert_true (w.puts >= 1);
  assert_non_null (w.last_vm);
  assert_string_equal (json_string_value (json_object_get (w.last_vm, "id")), id);
  assert_string_equal (json_string_value (json_object_get (w.last_vm, "powerState")),
                       "poweredOff");
  assert_int_equal (prov->power_on (h, id), 0);
  json_decref (w.last_vm);
  free (version);
  prov->close (h);
}

/* The simulator expires idle sessions (-session-idle); the module logs in
 * again by itself.
 */
static void
test_relogin (void **state)
{
  void *h = NULL;
  const char *idle = getenv ("VSPHERE_TEST_SESSION_IDLE");
  struct counts c = { .vms = json_object () };
  struct ferry_inventory_sink sink = {
    .struct_size = sizeof sink, .opaque = &c,
    .put = count_put, .prune = count_prune,
  };
  struct watched w = { 0 };
  struct ferry_inventory_sink wsink = {
    .struct_size = sizeof wsink, .opaque = &w,
    .put = watch_put, .remove = watch_remove,
  };
  char *version = NULL;
  size_t nr_vms = json_array_size (json_object_get (truth, "vms"));

  if (!idle || !*idle) {
    json_decref (c.vms);
    skip ();
  }
  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  assert_int_equal (prov->watch (h, &wsink, &version), 0);

  sleep ((unsigned) atoi (idle) + 2);
  if (prov->test_connection (h) != 0)
    fail_msg ("after the session expired: %s", ferry_get_error ());

  sleep ((unsigned) atoi (idle) + 2);
  if (prov->inventory (h, &sink) != 0)
    fail_msg ("inventory after the session expired: %s", ferry_get_error ());
  assert_int_equal (c.vm, nr_vms);

  /* The watch's collector died with the old session: a full listing. */
  sleep ((unsigned) atoi (idle) + 2);
  w.puts = 0;
  if (prov->watch (h, &wsink, &version) != 0)
    fail_msg ("watch after the session expired: %s", ferry_get_error ());
  assert_true ((size_t) w.puts >= nr_vms);

  json_decref (w.last_vm);
  json_decref (c.vms);
  free (version);
  prov->close (h);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_declines_other_types),
    cmocka_unit_test (test_wrong_password),
    cmocka_unit_test (test_tls_unknown_ca),
    cmocka_unit_test (test_insecure),
    cmocka_unit_test (test_inventory),
    cmocka_unit_test (test_describe_and_spec),
    cmocka_unit_test (test_power_and_disk),
    cmocka_unit_test (test_watch),
    cmocka_unit_test (test_relogin),
  };

  if (!getenv ("VSPHERE_TEST_URL")) {
    fprintf (stderr, "SKIP: VSPHERE_TEST_URL not set (run through "
             "tests/integration/test-vsphere-module.sh)\n");
    return 77;
  }
  return cmocka_run_group_tests (tests, setup, teardown);
}
