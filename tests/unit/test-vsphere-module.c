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
 * (WaitForUpdatesEx) after a power change; warm migration: snapshots,
 * change ids, QueryChangedDiskAreas deltas between snapshots with guest
 * writes (the peer's test-only /ferry-test/write), a full copy plus deltas
 * byte-identical to the disk, a session terminated mid-copy, clones.
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
#include <inttypes.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dlfcn.h>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>
#include <jansson.h>
#include <curl/curl.h>

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

  /* A snapshot that does not exist: an error naming it. */
  assert_null (prov->disk_open (h, id, key, "snapshot-1"));
  assert_non_null (strstr (ferry_get_error (), "snapshot-1"));
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

    /* The datastore file vanishes in the middle of the copy (the
     * datastore unmounted, the file deleted): the read fails with an
     * error naming the file, rather than returning anything.
     */
    char *gone;
    assert_true (asprintf (&gone, "%s.gone", flat) > 0);
    assert_int_equal (rename (flat, gone), 0);
    memset (b, 0xaa, 4096);
    int r = src->ops->pread (src, b, 4096, 0);
    fprintf (stderr, "vanished datastore file: pread = %d: %s\n", r, ferry_get_error ());
    assert_int_equal (rename (gone, flat), 0);
    free (gone);
    assert_int_equal (r, -1);
    {
      const char *base = strrchr (flat, '/');
      assert_non_null (strstr (ferry_get_error (), base ? base + 1 : flat));
    }
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


/* ---- Warm migration ------------------------------------------------------ */

/* A test-only control of the peer: POST base/ferry-test/PATH with body. */
static void
peer_post (const char *path, const void *body, size_t len)
{
  CURL *c = curl_easy_init ();
  char url[1024];
  const char *sdk = env ("VSPHERE_TEST_URL");
  long status = 0;
  FILE *devnull = fopen ("/dev/null", "w");

  assert_non_null (c);
  snprintf (url, sizeof url, "%.*s/ferry-test/%s",
            (int) (strlen (sdk) - strlen ("/sdk")), sdk, path);
  curl_easy_setopt (c, CURLOPT_URL, url);
  curl_easy_setopt (c, CURLOPT_CAINFO, env ("VSPHERE_TEST_CACERT"));
  curl_easy_setopt (c, CURLOPT_POST, 1L);
  curl_easy_setopt (c, CURLOPT_POSTFIELDS, body ? body : "");
  curl_easy_setopt (c, CURLOPT_POSTFIELDSIZE, (long) len);
  curl_easy_setopt (c, CURLOPT_WRITEDATA, devnull);
  assert_int_equal (curl_easy_perform (c), CURLE_OK);
  curl_easy_getinfo (c, CURLINFO_RESPONSE_CODE, &status);
  if (status != 200 && status != 204)
    fail_msg ("POST %s: HTTP %ld", url, status);
  curl_easy_cleanup (c);
  fclose (devnull);
}

/* The guest writes len bytes of pattern at off (in the peer and in the
 * test's own model of the disk).
 */
static void
guest_write (const char *vm, const char *key, unsigned char *model,
             uint64_t off, size_t len, unsigned char pattern)
{
  unsigned char *buf = malloc (len);
  char path[256];

  assert_non_null (buf);
  for (size_t i = 0; i < len; i++)
    buf[i] = (unsigned char) (pattern + i);
  snprintf (path, sizeof path, "write?vm=%s&disk=%s&offset=%" PRIu64, vm, key,
            off);
  peer_post (path, buf, len);
  if (model)
    memcpy (model + off, buf, len);
  free (buf);
}

struct area_list {
  uint64_t start[64], length[64];
  int n;
};

static int
area_add (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct area_list *a = opaque;
  assert_int_equal (flags, FERRY_EXTENT_DATA);
  assert_true (a->n < 64);
  if (a->n)
    assert_true (offset > a->start[a->n - 1] + a->length[a->n - 1]);
  a->start[a->n] = offset;
  a->length[a->n] = length;
  a->n++;
  return 0;
}

/* Reads the areas from src into buf at the same offsets. */
static void
copy_areas (struct ferry_disk_source *src, const struct area_list *a,
            unsigned char *buf)
{
  for (int i = 0; i < a->n; i++)
    if (src->ops->pread (src, buf + a->start[i], a->length[i], a->start[i]) != 0)
      fail_msg ("pread %" PRIu64 "+%" PRIu64 ": %s", a->start[i],
                a->length[i], ferry_get_error ());
}

static long long
seq_of (const char *change_id)
{
  const char *slash = strrchr (change_id, '/');
  assert_non_null (slash);
  return atoll (slash + 1);
}

static void
test_warm (void **state)
{
  void *h = NULL;
  json_t *vms = json_object_get (truth, "vms");
  const json_t *t = json_array_get (vms, json_array_size (vms) - 1);
  const char *id = json_string_value (json_object_get (t, "id"));
  const json_t *td = json_array_get (json_object_get (t, "disks"), 0);
  const char *flat = json_string_value (json_object_get (td, "flatPath"));
  size_t size = (size_t) json_integer_value (json_object_get (td, "capacity"));
  unsigned char *model, *copy, *chk;
  char key[32], *s1 = NULL, *s2 = NULL, *c1 = NULL, *c2 = NULL, *c3 = NULL;
  struct area_list all = { .n = 0 }, delta = { .n = 0 }, none = { .n = 0 };
  struct ferry_disk_source *src, *clone;
  FILE *f;

  snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT,
            json_integer_value (json_object_get (td, "key")));
  assert_true (flat && *flat);
  model = malloc (size);
  copy = calloc (1, size);
  chk = malloc (size);
  assert_true (model && copy && chk);
  f = fopen (flat, "rb");
  assert_non_null (f);
  assert_int_equal (fread (model, 1, size, f), size);
  fclose (f);

  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  assert_non_null (prov->can_warm);
  assert_int_equal (prov->can_warm (h), 1);
  assert_int_equal (prov->can_multi_conn (h), 1);
  assert_int_equal (prov->power_on (h, id), 0);

  /* Precopy 1: a snapshot, the allocated areas ("*"), a full copy. */
  if (prov->snapshot_create (h, id, &s1) != 0)
    fail_msg ("snapshot_create: %s", ferry_get_error ());
  if (prov->changed_extents (h, id, key, s1, NULL, area_add, &all, &c1) != 0)
    fail_msg ("changed_extents *: %s", ferry_get_error ());
  assert_non_null (c1);
  assert_true (all.n >= 2);             /* data at the start and the middle */
  src = prov->disk_open (h, id, key, s1);
  if (!src)
    fail_msg ("disk_open at %s: %s", s1, ferry_get_error ());
  assert_int_equal (src->ops->size (src), (int64_t) size);
  /* The guest writes while the first copy runs: not in snapshot 1. */
  guest_write (id, key, model, 4096, 1000, 0x11);
  guest_write (id, key, model, 2 * 1048576 - 100, 300, 0x22);  /* crosses an answer */
  memcpy (chk, model, size);
  copy_areas (src, &all, copy);
  src->ops->close (src);
  /* The full copy is the disk as of snapshot 1 (before the writes). */
  f = fopen (flat, "rb");
  assert_non_null (f);
  {
    unsigned char *base = malloc (size);
    assert_non_null (base);
    assert_int_equal (fread (base, 1, size, f), size);
    assert_memory_equal (copy, base, size);
    free (base);
  }
  fclose (f);

  /* Precopy 2: change ids advance; exactly the written areas changed. */
  if (prov->snapshot_create (h, id, &s2) != 0)
    fail_msg ("snapshot_create 2: %s", ferry_get_error ());
  guest_write (id, key, NULL, 0, 100, 0x33);   /* after snapshot 2 */
  if (prov->changed_extents (h, id, key, s2, c1, area_add, &delta, &c2) != 0)
    fail_msg ("changed_extents since %s: %s", c1, ferry_get_error ());
  assert_string_not_equal (c1, c2);
  assert_true (seq_of (c2) > seq_of (c1));
  assert_int_equal (delta.n, 2);
  assert_int_equal (delta.start[0], 4096);
  assert_int_equal (delta.length[0], 1000);
  assert_int_equal (delta.start[1], 2 * 1048576 - 100);
  assert_int_equal (delta.length[1], 300);
  /* Since its own change id, nothing changed in snapshot 2. */
  assert_int_equal (prov->changed_extents (h, id, key, s2, c2, area_add,
                                           &none, &c3), 0);
  assert_int_equal (none.n, 0);
  assert_string_equal (c2, c3);
  free (c3);
  c3 = NULL;

  /* Unknown, stale and malformed change ids are the server's errors. */
  assert_int_equal (prov->changed_extents (h, id, key, s2,
                                           "52 00 00 00 00 00 00 ff-00 00 00 00 00 00 00 00/1",
                                           area_add, &none, &c3), -1);
  assert_non_null (strstr (ferry_get_error (), "FileFault"));
  assert_non_null (strstr (ferry_get_error (), id));
  assert_null (c3);
  {
    char future[256];
    snprintf (future, sizeof future, "%.*s/%lld",
              (int) (strrchr (c2, '/') - c2), c2, seq_of (c2) + 1000);
    assert_int_equal (prov->changed_extents (h, id, key, s2, future,
                                             area_add, &none, &c3), -1);
    assert_non_null (strstr (ferry_get_error (), "FileFault"));
  }
  assert_int_equal (prov->changed_extents (h, id, key, s2, "not-a-change-id",
                                           area_add, &none, &c3), -1);
  assert_non_null (strstr (ferry_get_error (), "InvalidArgument"));
  assert_int_equal (none.n, 0);

  /* Snapshot 2's disk is a delta over snapshot 1 (ferry's own): the
   * /folder path removes snapshot 1 so that snapshot 2 sits on the base
   * disk, and reads it.
   */
  src = prov->disk_open (h, id, key, s2);
  if (!src)
    fail_msg ("disk_open at %s: %s", s2, ferry_get_error ());
  assert_int_equal (prov->snapshot_remove (h, id, s1), 0);   /* gone: fine */
  assert_int_equal (prov->changed_extents (h, id, key, s1, NULL, area_add,
                                           &none, &c3), -1);

  /* The session ends mid-copy (an administrator's TerminateSession): the
   * next read logs in again and goes on.
   */
  {
    struct area_list first = { .n = 1, .start = { delta.start[0] },
                               .length = { delta.length[0] } };
    struct area_list rest = { .n = 1, .start = { delta.start[1] },
                              .length = { delta.length[1] } };
    copy_areas (src, &first, copy);
    peer_post ("terminate-sessions", NULL, 0);
    copy_areas (src, &rest, copy);
  }
  /* Full copy + deltas = the disk as of snapshot 2, byte for byte (the
   * write after snapshot 2 is not in it).
   */
  assert_memory_equal (copy, chk, size);

  /* Several connections: a clone reads the same bytes. */
  clone = src->ops->clone (src);
  if (!clone)
    fail_msg ("clone: %s", ferry_get_error ());
  {
    unsigned char *b = malloc (size);
    assert_non_null (b);
    assert_int_equal (clone->ops->pread (clone, b, size, 0), 0);
    assert_memory_equal (b, chk, size);
    free (b);
  }
  clone->ops->close (clone);
  src->ops->close (src);

  if (prov->snapshot_remove (h, id, s2) != 0)
    fail_msg ("snapshot_remove %s: %s", s2, ferry_get_error ());
  /* All consolidated: the base disk has every write. */
  memcpy (chk, model, size);
  for (size_t i = 0; i < 100; i++)
    chk[i] = (unsigned char) (0x33 + i);
  f = fopen (flat, "rb");
  assert_non_null (f);
  assert_int_equal (fread (copy, 1, size, f), size);
  fclose (f);
  assert_memory_equal (copy, chk, size);

  free (s1);
  free (s2);
  free (c1);
  free (c2);
  free (model);
  free (copy);
  free (chk);
  prov->close (h);
}

extern char **environ;

/* A snapshot a vSphere user takes (the peer's client mode, through the
 * API); its id in buf.
 */
static void
user_snapshot (const char *vm, const char *name, char *buf, size_t len)
{
  char out[] = "/tmp/ferry-vsphere-test.XXXXXX";
  int fd = mkstemp (out), status;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  const char *argv[] = {
    env ("VSPHERE_TEST_PEER"), "-change", env ("VSPHERE_TEST_URL"),
    "-user", env ("VSPHERE_TEST_USER"), "-pass", env ("VSPHERE_TEST_PASSWORD"),
    "-cacert", env ("VSPHERE_TEST_CACERT"), "snapshot", vm, name, NULL,
  };
  ssize_t n;

  assert_true (fd >= 0);
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_adddup2 (&fa, fd, 1);
  assert_int_equal (posix_spawn (&pid, argv[0], &fa, NULL, (char **) argv,
                                 environ), 0);
  posix_spawn_file_actions_destroy (&fa);
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status) && WEXITSTATUS (status) == 0);
  n = pread (fd, buf, len - 1, 0);
  assert_true (n > 0);
  buf[n] = '\0';
  buf[strcspn (buf, "\n")] = '\0';
  close (fd);
  unlink (out);
}

/* A ferry snapshot on top of a user's: the datastore HTTP path cannot
 * read it and will not remove the user's snapshot; the refusal says why
 * and what to do.
 */
static void
test_warm_user_snapshot (void **state)
{
  void *h = NULL;
  const json_t *t = json_array_get (json_object_get (truth, "vms"), 1);
  const char *id = json_string_value (json_object_get (t, "id"));
  const json_t *td = json_array_get (json_object_get (t, "disks"), 0);
  char key[32], user[64];
  char *snap = NULL;

  if (!*env ("VSPHERE_TEST_PEER"))
    skip ();
  snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT,
            json_integer_value (json_object_get (td, "key")));
  user_snapshot (id, "before-upgrade", user, sizeof user);
  assert_non_null (strstr (user, "snapshot-"));
  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  if (prov->snapshot_create (h, id, &snap) != 0)
    fail_msg ("snapshot_create: %s", ferry_get_error ());
  assert_null (prov->disk_open (h, id, key, snap));
  assert_non_null (strstr (ferry_get_error (), id));
  assert_non_null (strstr (ferry_get_error (), user));
  assert_non_null (strstr (ferry_get_error (), "which ferry did not take"));
  assert_non_null (strstr (ferry_get_error (), "vddkLibDir"));
  /* The user's snapshot is still there: removing it works. */
  assert_int_equal (prov->snapshot_remove (h, id, snap), 0);
  assert_int_equal (prov->snapshot_remove (h, id, user), 0);
  free (snap);
  prov->close (h);
}

/* Opens a handle whose args carry Host objects. */
static int
open_hosts (void **handle, json_t *hosts)
{
  json_t *secret = json_pack ("{s:s, s:s, s:s}", "user", env ("VSPHERE_TEST_USER"),
                              "password", env ("VSPHERE_TEST_PASSWORD"),
                              "cacert", cacert_pem);
  json_t *spec = json_pack ("{s:s, s:s}", "type", "vsphere",
                            "url", env ("VSPHERE_TEST_URL"));
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = "vc", .ns = "default",
    .type = "vsphere", .url = env ("VSPHERE_TEST_URL"), .spec = spec,
    .secret = secret, .hosts = hosts,
  };
  int r;

  ferry_clear_error ();
  r = prov->open (&args, handle);
  json_decref (secret);
  json_decref (spec);
  return r;
}

/* Forklift's Host object: the disks of a VM on that host are read from
 * the Host's address with the Host's Secret.  The simulator serves /folder
 * itself, so the "host" is the simulator under another name (localhost
 * instead of 127.0.0.1): a wrong password in the Host's Secret and an
 * address nobody listens on must fail (proving both are used), the right
 * ones must read the same bytes.
 */
static void
test_host_object (void **state)
{
  void *h = NULL;
  const json_t *t = json_array_get (json_object_get (truth, "vms"), 0);
  const char *id = json_string_value (json_object_get (t, "id"));
  const json_t *td = json_array_get (json_object_get (t, "disks"), 0);
  const char *flat = json_string_value (json_object_get (td, "flatPath"));
  size_t size = (size_t) json_integer_value (json_object_get (td, "capacity"));
  const char *url = env ("VSPHERE_TEST_URL");
  const char *port = strrchr (url, ':');
  char key[32], addr[64], *host_id;
  json_t *doc, *hosts;
  struct ferry_disk_source *src;

  snprintf (key, sizeof key, "%" JSON_INTEGER_FORMAT,
            json_integer_value (json_object_get (td, "key")));
  assert_non_null (port);
  snprintf (addr, sizeof addr, "localhost:%.*s", (int) strcspn (port + 1, "/"),
            port + 1);
  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  doc = prov->vm_describe (h, id);
  assert_non_null (doc);
  host_id = strdup (json_string_value (json_object_get (doc, "host")));
  json_decref (doc);
  assert_int_equal (prov->power_off (h, id), 0);
  prov->close (h);

  /* The Host's Secret has a wrong password. */
  hosts = json_pack ("[{s:s, s:s, s:{s:s, s:s, s:s}}]", "id", host_id,
                     "ipAddress", addr, "secret", "user", env ("VSPHERE_TEST_USER"),
                     "password", "not-the-host-password", "cacert", cacert_pem);
  assert_int_equal (open_hosts (&h, hosts), FERRY_OPEN_OK);
  assert_null (prov->disk_open (h, id, key, NULL));
  assert_non_null (strstr (ferry_get_error (), "InvalidLogin"));
  assert_non_null (strstr (ferry_get_error (), host_id));
  assert_non_null (strstr (ferry_get_error (), addr));
  assert_null (strstr (ferry_get_error (), "not-the-host-password"));
  prov->close (h);
  json_decref (hosts);

  /* Nobody listens at the Host's address. */
  hosts = json_pack ("[{s:s, s:s, s:{s:s, s:s, s:s}}]", "id", host_id,
                     "ipAddress", "127.0.0.1:1", "secret", "user", env ("VSPHERE_TEST_USER"),
                     "password", env ("VSPHERE_TEST_PASSWORD"), "cacert", cacert_pem);
  assert_int_equal (open_hosts (&h, hosts), FERRY_OPEN_OK);
  assert_null (prov->disk_open (h, id, key, NULL));
  assert_non_null (strstr (ferry_get_error (), "127.0.0.1:1"));
  prov->close (h);
  json_decref (hosts);

  /* The right address and Secret: the same bytes as the datastore file. */
  hosts = json_pack ("[{s:s, s:s, s:{s:s, s:s, s:s}}]", "id", host_id,
                     "ipAddress", addr, "secret", "user", env ("VSPHERE_TEST_USER"),
                     "password", env ("VSPHERE_TEST_PASSWORD"), "cacert", cacert_pem);
  assert_int_equal (open_hosts (&h, hosts), FERRY_OPEN_OK);
  src = prov->disk_open (h, id, key, NULL);
  if (!src)
    fail_msg ("disk_open through the Host object: %s", ferry_get_error ());
  {
    unsigned char *a = malloc (size), *b = malloc (size);
    FILE *f = fopen (flat, "rb");
    assert_true (a && b && f);
    assert_int_equal (fread (a, 1, size, f), size);
    fclose (f);
    assert_int_equal (src->ops->pread (src, b, size, 0), 0);
    assert_memory_equal (a, b, size);
    free (a);
    free (b);
  }
  src->ops->close (src);
  assert_int_equal (prov->power_on (h, id), 0);
  prov->close (h);
  json_decref (hosts);
  free (host_id);
}

/* A VM without changed block tracking is not warm-ready, with the reason. */
static void
test_warm_not_ready (void **state)
{
  void *h = NULL;
  const json_t *t = json_array_get (json_object_get (truth, "vms"), 0);
  const char *id = json_string_value (json_object_get (t, "id"));
  char *snap = NULL;
  char path[256];

  snprintf (path, sizeof path, "cbt?vm=%s&enabled=false", id);
  peer_post (path, NULL, 0);
  assert_int_equal (open_good (&h), FERRY_OPEN_OK);
  assert_int_equal (prov->snapshot_create (h, id, &snap), -1);
  assert_null (snap);
  assert_non_null (strstr (ferry_get_error (), "not warm-ready"));
  assert_non_null (strstr (ferry_get_error (), "changed block tracking"));
  assert_non_null (strstr (ferry_get_error (), id));
  snprintf (path, sizeof path, "cbt?vm=%s&enabled=true", id);
  peer_post (path, NULL, 0);
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
    cmocka_unit_test (test_warm),
    cmocka_unit_test (test_warm_not_ready),
    cmocka_unit_test (test_warm_user_snapshot),
    cmocka_unit_test (test_host_object),
    cmocka_unit_test (test_relogin),
  };

  if (!getenv ("VSPHERE_TEST_URL")) {
    fprintf (stderr, "SKIP: VSPHERE_TEST_URL not set (run through "
             "tests/integration/test-vsphere-module.sh)\n");
    return 77;
  }
  return cmocka_run_group_tests (tests, setup, teardown);
}
