/* Unit tests of the module loader (core/loader.c) through the public API,
 * linked against the shared libferry, so the modules and the test share one
 * libferry as third-party programs do.
 *
 * Group "loader": the test modules (tests/modules/) laid out as
 *   a/providers/     good-provider bad-abi no-entry missing-callback
 *                    old-size wrong-kind (a destination) empty-name
 *                    junk.so (not ELF)
 *   a/destinations/  good-destination
 *   b/providers/     dup-name (a second "good", found later)
 * Group "null": the null provider and destination of the build tree,
 * driven through the ABI end to end.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <setjmp.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

#include "ferry/ferry.h"

#include "test-common.h"

#ifndef TEST_MODULES_DIR
#error "TEST_MODULES_DIR must point to the built test modules"
#endif
#ifndef TEST_BUILDDIR
#error "TEST_BUILDDIR must point to the top build directory"
#endif

static char tmpdir[] = "/tmp/ferry-test-loader.XXXXXX";

static void
xsystem (const char *fs, ...)
{
  char cmd[4096];
  va_list args;

  va_start (args, fs);
  vsnprintf (cmd, sizeof cmd, fs, args);
  va_end (args);
  if (system (cmd) != 0) {
    fprintf (stderr, "command failed: %s\n", cmd);
    abort ();
  }
}

static void
place (const char *module, const char *dir, const char *as)
{
  char src[1024], dst[1024];

  snprintf (src, sizeof src, "%s/%s.so", TEST_MODULES_DIR, module);
  snprintf (dst, sizeof dst, "%s/%s/%s.so", tmpdir, dir, as ? as : module);
  if (access (src, R_OK) != 0) {
    fprintf (stderr, "test module %s missing: run make check\n", src);
    abort ();
  }
  if (symlink (src, dst) != 0) {
    perror (dst);
    abort ();
  }
}

static int
setup_loader (void **state)
{
  char path[4096];
  struct ferry *f;

  if (!mkdtemp (tmpdir))
    return -1;
  xsystem ("mkdir -p %s/a/providers %s/a/destinations %s/b/providers %s/state",
           tmpdir, tmpdir, tmpdir, tmpdir);
  place ("good-provider", "a/providers", NULL);
  place ("bad-abi", "a/providers", NULL);
  place ("no-entry", "a/providers", NULL);
  place ("missing-callback", "a/providers", NULL);
  place ("old-size", "a/providers", NULL);
  place ("wrong-kind", "a/providers", NULL);
  place ("empty-name", "a/providers", NULL);
  place ("good-destination", "a/destinations", NULL);
  place ("dup-name", "b/providers", NULL);
  /* Not *.so: never looked at.  *.so but not ELF: refused. */
  xsystem ("echo not a module > %s/a/providers/README.txt", tmpdir);
  xsystem ("echo not a module > %s/a/providers/junk.so", tmpdir);

  /* a/providers twice (via a trailing slash) is scanned once; a missing
   * directory is skipped.
   */
  snprintf (path, sizeof path,
            "%s/a/providers:%s/a/destinations::%s/b/providers:%s/a/providers/:%s/nonexistent",
            tmpdir, tmpdir, tmpdir, tmpdir, tmpdir);
  f = test_open_modules (tmpdir, path);
  if (!f)
    return -1;
  *state = f;
  return 0;
}

static int
teardown_loader (void **state)
{
  ferry_close (*state);
  xsystem ("rm -rf %s", tmpdir);
  return 0;
}

static bool
ends_with (const char *s, const char *suffix)
{
  size_t a = strlen (s), b = strlen (suffix);
  return a >= b && strcmp (s + a - b, suffix) == 0;
}

/* The ferry_modules() entry whose file ends with suffix. */
static json_t *
entry_for (json_t *list, const char *suffix)
{
  size_t i;
  json_t *e;

  json_array_foreach (list, i, e) {
    const char *file = json_string_value (json_object_get (e, "file"));
    if (file && ends_with (file, suffix))
      return e;
  }
  fail_msg ("no module entry for %s", suffix);
  return NULL;
}

static const char *
error_of (json_t *e)
{
  const char *s = json_string_value (json_object_get (e, "error"));
  assert_non_null (s);
  return s;
}

static void
test_good_provider (void **state)
{
  struct ferry *f = *state;
  const struct ferry_provider *p = ferry_get0_provider (f, "good");
  json_t *list = ferry_modules (f), *e, *caps;
  void *h = NULL;
  struct ferry_open_args args = { .struct_size = sizeof args, .type = "good" };

  assert_non_null (p);
  assert_int_equal (p->hdr.abi_version, FERRY_MODULE_ABI_VERSION);
  assert_int_equal (p->hdr.kind, FERRY_MODULE_PROVIDER);
  assert_int_equal (p->hdr.struct_size, sizeof (struct ferry_provider));
  assert_string_equal (p->name, "good");
  assert_non_null (p->can_warm);
  assert_null (p->can_power);
  assert_null (p->watch);
  /* The callbacks of the copy work. */
  assert_int_equal (p->open (&args, &h), FERRY_OPEN_OK);
  assert_int_equal (p->test_connection (h), 0);
  p->close (h);

  assert_non_null (list);
  e = entry_for (list, "/a/providers/good-provider.so");
  assert_null (json_object_get (e, "error"));
  assert_string_equal (json_string_value (json_object_get (e, "name")), "good");
  assert_string_equal (json_string_value (json_object_get (e, "kind")), "provider");
  assert_int_equal (json_integer_value (json_object_get (e, "abiVersion")), 1);
  assert_int_equal (json_integer_value (json_object_get (e, "structSize")),
                    sizeof (struct ferry_provider));
  assert_string_equal (json_string_value (json_object_get (e, "threadModel")),
                       "serialize_handle");
  caps = json_object_get (e, "capabilities");
  assert_int_equal (json_array_size (caps), 2);
  assert_string_equal (json_string_value (json_array_get (caps, 0)), "warm");
  assert_string_equal (json_string_value (json_array_get (caps, 1)), "extents");
  json_decref (list);
}

static void
test_good_destination (void **state)
{
  struct ferry *f = *state;
  const struct ferry_destination *d = ferry_get0_destination (f, "good");

  assert_non_null (d);
  assert_int_equal (d->hdr.kind, FERRY_MODULE_DESTINATION);
  assert_int_equal (d->hdr.struct_size, sizeof (struct ferry_destination));
  assert_non_null (d->cleanup);
  assert_null (d->vm_power_on);
}

static void
test_bad_abi (void **state)
{
  json_t *list = ferry_modules (*state);
  json_t *e = entry_for (list, "/a/providers/bad-abi.so");
  const char *err = error_of (e);

  assert_true (strstr (err, "/a/providers/bad-abi.so: ") == err + strlen (tmpdir));
  assert_non_null (strstr (err, "unsupported ABI version 999 (this ferry supports 1)"));
  assert_null (json_object_get (e, "name"));
  assert_null (ferry_get0_provider (*state, "bad-abi"));
  json_decref (list);
}

static void
test_no_entry (void **state)
{
  json_t *list = ferry_modules (*state);
  const char *err = error_of (entry_for (list, "/a/providers/no-entry.so"));

  assert_non_null (strstr (err, "/a/providers/no-entry.so: "));
  assert_non_null (strstr (err, "ferry_module_entry"));
  json_decref (list);
}

static void
test_missing_callback (void **state)
{
  json_t *list = ferry_modules (*state);
  json_t *e = entry_for (list, "/a/providers/missing-callback.so");
  const char *err = error_of (e);

  assert_non_null (strstr (err, "/a/providers/missing-callback.so: "));
  assert_non_null (strstr (err, "missing mandatory callback: disk_open"));
  assert_string_equal (json_string_value (json_object_get (e, "kind")), "provider");
  assert_null (ferry_get0_provider (*state, "missing-callback"));
  json_decref (list);
}

static void
test_old_size (void **state)
{
  struct ferry *f = *state;
  const struct ferry_provider *p = ferry_get0_provider (f, "old-size");
  json_t *d, *cb;

  assert_non_null (p);
  assert_int_equal (p->hdr.struct_size, offsetof (struct ferry_provider, can_warm));
  assert_non_null (p->disk_open);
  /* The module's static struct has garbage here: never read. */
  assert_null (p->can_warm);
  assert_null (p->can_extents);
  assert_null (p->can_power);
  assert_null (p->can_multi_conn);
  assert_null (p->snapshot_create);
  assert_null (p->snapshot_remove);
  assert_null (p->changed_extents);
  assert_null (p->pre_transfer);
  assert_null (p->finalize);

  d = ferry_module_dump (f, "old-size");
  assert_non_null (d);
  assert_int_equal (json_integer_value (json_object_get (d, "structSize")),
                    offsetof (struct ferry_provider, can_warm));
  assert_int_equal (json_array_size (json_object_get (d, "capabilities")), 0);
  cb = json_object_get (d, "callbacks");
  assert_true (json_is_true (json_object_get (cb, "disk_open")));
  assert_true (json_is_false (json_object_get (cb, "can_warm")));
  assert_true (json_is_false (json_object_get (cb, "finalize")));
  json_decref (d);
}

static void
test_duplicate (void **state)
{
  struct ferry *f = *state;
  json_t *list = ferry_modules (f);
  const char *err = error_of (entry_for (list, "/b/providers/dup-name.so"));
  const struct ferry_provider *p = ferry_get0_provider (f, "good");
  json_t *d;

  assert_non_null (strstr (err, "/b/providers/dup-name.so: "));
  assert_non_null (strstr (err, "duplicate provider name \"good\""));
  assert_non_null (strstr (err, "/a/providers/good-provider.so"));
  /* The first one wins. */
  assert_non_null (p);
  d = ferry_module_dump (f, "provider/good");
  assert_true (ends_with (json_string_value (json_object_get (d, "file")),
                          "/a/providers/good-provider.so"));
  json_decref (d);
  json_decref (list);
}

static void
test_wrong_kind (void **state)
{
  json_t *list = ferry_modules (*state);
  json_t *e = entry_for (list, "/a/providers/wrong-kind.so");
  const char *err = error_of (e);

  assert_non_null (strstr (err, "/a/providers/wrong-kind.so: "));
  assert_non_null (strstr (err, "a destination module in a providers directory"));
  assert_string_equal (json_string_value (json_object_get (e, "kind")),
                       "destination");
  assert_null (ferry_get0_destination (*state, "wrong-kind"));
  json_decref (list);
}

static void
test_not_loadable (void **state)
{
  json_t *list = ferry_modules (*state);
  const char *err = error_of (entry_for (list, "/a/providers/junk.so"));

  assert_non_null (strstr (err, "/a/providers/junk.so: cannot load: "));
  json_decref (list);
}

static void
test_empty_name (void **state)
{
  json_t *list = ferry_modules (*state);
  const char *err = error_of (entry_for (list, "/a/providers/empty-name.so"));

  assert_non_null (strstr (err, "empty module name"));
  json_decref (list);
}

/* Loaded first (in search order, names sorted), then refused. */
static void
test_list_order (void **state)
{
  json_t *list = ferry_modules (*state), *e;
  static const char *const want[] = {
    "/a/providers/good-provider.so",
    "/a/providers/old-size.so",
    "/a/destinations/good-destination.so",
    "/a/providers/bad-abi.so",
    "/a/providers/empty-name.so",
    "/a/providers/junk.so",
    "/a/providers/missing-callback.so",
    "/a/providers/no-entry.so",
    "/a/providers/wrong-kind.so",
    "/b/providers/dup-name.so",
  };
  size_t i;

  assert_int_equal (json_array_size (list), sizeof want / sizeof want[0]);
  json_array_foreach (list, i, e) {
    const char *file = json_string_value (json_object_get (e, "file"));
    assert_non_null (file);
    if (!ends_with (file, want[i]))
      fail_msg ("entry %zu is %s, expected *%s", i, file, want[i]);
    assert_int_equal (json_object_get (e, "error") != NULL, i >= 3);
  }
  json_decref (list);
}

static void
test_dump (void **state)
{
  struct ferry *f = *state;
  json_t *d, *cb;

  /* "good" is both a provider and a destination. */
  assert_null (ferry_module_dump (f, "good"));
  assert_non_null (strstr (ferry_get_error (), "provider/good"));
  assert_null (ferry_module_dump (f, "nosuch"));
  assert_non_null (strstr (ferry_get_error (), "nosuch"));
  assert_null (ferry_module_dump (f, "widget/good"));
  assert_null (ferry_get0_provider (f, "nosuch"));
  assert_non_null (strstr (ferry_get_error (), "no provider module named nosuch"));

  d = ferry_module_dump (f, "destination/good");
  assert_non_null (d);
  assert_string_equal (json_string_value (json_object_get (d, "kind")), "destination");
  cb = json_object_get (d, "callbacks");
  assert_true (json_is_true (json_object_get (cb, "volume_create")));
  assert_true (json_is_false (json_object_get (cb, "vm_power_on")));
  assert_int_equal (json_object_size (cb), 13);
  json_decref (d);

  d = ferry_module_dump (f, "provider/good");
  assert_non_null (d);
  cb = json_object_get (d, "callbacks");
  assert_int_equal (json_object_size (cb), 20);
  assert_true (json_is_true (json_object_get (cb, "power_state")));
  assert_true (json_is_false (json_object_get (cb, "power_off")));
  json_decref (d);
}

/* A second context loads again and agrees (handles are shared, never
 * unloaded); with FERRY_OPEN_NO_MODULES nothing is loaded.
 */
static void
test_reopen (void **state)
{
  char sd[1024];
  struct ferry *f2;
  json_t *a, *b;

  snprintf (sd, sizeof sd, "%s/state", tmpdir);
  f2 = ferry_open (sd, 0);
  assert_non_null (f2);
  a = ferry_modules (*state);
  b = ferry_modules (f2);
  assert_true (json_equal (a, b));
  json_decref (a);
  json_decref (b);
  ferry_close (f2);

  f2 = ferry_open (sd, FERRY_OPEN_NO_MODULES);
  assert_non_null (f2);
  assert_null (ferry_modules (f2));
  assert_null (ferry_get0_provider (f2, "good"));
  ferry_close (f2);
}

/* ---- The null provider and destination, end to end ------------------ */

static int
setup_null (void **state)
{
  char path[4096];
  struct ferry *f;

  if (!mkdtemp (tmpdir))
    return -1;
  snprintf (path, sizeof path,
            "%s/providers/null/.libs:%s/destinations/null/.libs",
            TEST_BUILDDIR, TEST_BUILDDIR);
  f = test_open_modules (tmpdir, path);
  if (!f)
    return -1;
  *state = f;
  return 0;
}

static void *
null_provider_open (const struct ferry_provider *p, const char *url,
                    json_t *spec, int want)
{
  struct ferry_open_args args = {
    .struct_size = sizeof args,
    .name = "src", .ns = "default", .type = "null",
    .url = url, .spec = spec, .state_dir = tmpdir,
  };
  void *h = NULL;

  assert_int_equal (p->open (&args, &h), want);
  return h;
}

static void
test_null_provider_inventory (void **state)
{
  const struct ferry_provider *p = ferry_get0_provider (*state, "null");
  struct test_inventory ts;
  json_t *vm, *spec;
  void *h;

  assert_non_null (p);
  assert_int_equal (p->thread_model, FERRY_THREAD_MODEL_PARALLEL);
  h = null_provider_open (p, "null://?vms=3&disks=2&size=1048576", NULL,
                          FERRY_OPEN_OK);
  assert_int_equal (p->test_connection (h), 0);
  test_inventory_init (&ts);
  assert_int_equal (p->inventory (h, &ts.sink), 0);
  assert_int_equal (ts.prunes, 1);
  assert_int_equal (json_object_size (json_object_get (ts.put, "vm")), 3);
  assert_int_equal (json_object_size (json_object_get (ts.put, "network")), 2);
  assert_int_equal (json_object_size (json_object_get (ts.put, "storage")), 1);
  assert_int_equal (json_object_size (json_object_get (ts.put, "host")), 1);
  vm = test_inventory_doc (&ts, "vm", "vm-2");
  assert_non_null (vm);
  assert_string_equal (json_string_value (json_object_get (vm, "name")), "null-vm-2");
  assert_int_equal (json_integer_value (json_object_get (vm, "cpuCount")), 2);
  assert_int_equal (json_array_size (json_object_get (vm, "disks")), 2);
  assert_int_equal (json_integer_value (json_object_get (
      json_array_get (json_object_get (vm, "disks"), 1), "capacity")), 1048576);
  assert_non_null (json_object_get (json_array_get (json_object_get (vm, "nics"), 0), "mac"));

  spec = p->vm_spec (h, "vm-1");
  assert_non_null (spec);
  assert_string_equal (json_string_value (json_object_get (spec, FERRY_VMSPEC_NAME)), "null-vm-1");
  assert_string_equal (json_string_value (json_object_get (spec, FERRY_VMSPEC_FIRMWARE)), "efi");
  assert_int_equal (json_array_size (json_object_get (spec, FERRY_VMSPEC_DISKS)), 2);
  assert_string_equal (json_string_value (json_object_get (spec, FERRY_VMSPEC_POWER_STATE)), "on");
  json_decref (spec);
  assert_null (p->vm_describe (h, "vm-4"));
  assert_non_null (strstr (ferry_get_error (), "vm-4 not found"));

  /* Power, kept in memory. */
  assert_int_equal (p->power_state (h, "vm-1"), FERRY_POWER_ON);
  assert_int_equal (p->power_off (h, "vm-1"), 0);
  assert_int_equal (p->power_state (h, "vm-1"), FERRY_POWER_OFF);
  vm = p->vm_describe (h, "vm-1");
  assert_string_equal (json_string_value (json_object_get (vm, "powerState")), "poweredOff");
  json_decref (vm);
  assert_int_equal (p->power_on (h, "vm-1"), 0);
  assert_int_equal (p->power_state (h, "vm-1"), FERRY_POWER_ON);

  p->close (h);
  json_decref (ts.put);
}

struct extent_list { uint64_t off[16], len[16]; uint32_t flags[16]; int n; };

static int
collect_extent (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct extent_list *l = opaque;
  assert_true (l->n < 16);
  l->off[l->n] = offset;
  l->len[l->n] = length;
  l->flags[l->n] = flags;
  l->n++;
  return 0;
}

static void
test_null_provider_disk (void **state)
{
  const struct ferry_provider *p = ferry_get0_provider (*state, "null");
  void *h = null_provider_open (p, "null://?vms=1&disks=1&size=1048576", NULL,
                                FERRY_OPEN_OK);
  struct ferry_disk_source *src, *src2;
  struct extent_list el = { .n = 0 };
  unsigned char a[4096], b[4096];
  char *snap = NULL, *change = NULL;

  assert_null (p->disk_open (h, "vm-1", "disk-1", NULL));
  src = p->disk_open (h, "vm-1", "disk-0", NULL);
  assert_non_null (src);
  assert_int_equal (src->ops->size (src), 1048576);
  assert_int_equal (src->ops->can_multi_conn (src), 1);

  /* Data, a hole at [256K, 512K), data. */
  assert_int_equal (src->ops->extents (src, 0, 1048576, collect_extent, &el), 0);
  assert_int_equal (el.n, 3);
  assert_int_equal (el.off[1], 262144);
  assert_int_equal (el.len[1], 262144);
  assert_int_equal (el.flags[1], FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO);
  assert_int_equal (el.flags[2], FERRY_EXTENT_DATA);

  assert_int_equal (src->ops->pread (src, a, sizeof a, 8192), 0);
  assert_memory_equal (a, "ferry-null vm-1 disk-0 gen-0 offset 8192\n", 41);
  assert_int_equal (src->ops->pread (src, a, 100, 300000), 0);
  for (int i = 0; i < 100; i++)
    assert_int_equal (a[i], 0);
  /* Unaligned reads agree with aligned ones; clones read the same. */
  src2 = src->ops->clone (src);
  assert_int_equal (src->ops->pread (src, a, 4096, 512 * 3), 0);
  assert_int_equal (src2->ops->pread (src2, b, 1000, 512 * 3 + 7), 0);
  assert_memory_equal (a + 7, b, 1000);
  assert_int_equal (src->ops->pread (src, a, 2, 1048575), -1);
  src2->ops->close (src2);
  src->ops->close (src);

  /* Warm: a snapshot rewrites one block; changed extents name it. */
  assert_int_equal (p->can_warm (h), 1);
  assert_int_equal (p->snapshot_create (h, "vm-1", &snap), 0);
  assert_string_equal (snap, "snapshot-1");
  el.n = 0;
  assert_int_equal (p->changed_extents (h, "vm-1", "disk-0", snap, NULL,
                                        collect_extent, &el, &change), 0);
  assert_int_equal (el.n, 2);           /* all allocated data */
  assert_string_equal (change, "1");
  free (change);
  el.n = 0;
  assert_int_equal (p->changed_extents (h, "vm-1", "disk-0", snap, "0",
                                        collect_extent, &el, &change), 0);
  assert_int_equal (el.n, 1);
  assert_true (el.len[0] > 0 && el.off[0] + el.len[0] <= 262144);
  src = p->disk_open (h, "vm-1", "disk-0", snap);
  assert_non_null (src);
  assert_int_equal (src->ops->pread (src, a, 512, el.off[0]), 0);
  assert_non_null (strstr ((char *) a, " gen-1 "));
  src->ops->close (src);
  assert_int_equal (p->snapshot_remove (h, "vm-1", snap), 0);
  assert_null (p->disk_open (h, "vm-1", "disk-0", snap));
  assert_non_null (strstr (ferry_get_error (), "snapshot-1 not found"));
  free (snap);
  free (change);
  p->close (h);
}

static void
test_null_provider_errors (void **state)
{
  const struct ferry_provider *p = ferry_get0_provider (*state, "null");
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = "src", .type = "vsphere", .url = "",
  };
  void *h = NULL;
  json_t *spec;
  struct ferry_disk_source *src;
  unsigned char buf[512];

  /* Not mine: declined, no error. */
  assert_int_equal (p->open (&args, &h), FERRY_OPEN_DECLINED);
  spec = json_pack ("{s:{s:s}}", "settings", "failOpen", "true");
  null_provider_open (p, "", spec, FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "settings.failOpen"));
  json_decref (spec);
  null_provider_open (p, "null://?vms=x", NULL, FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "url vms"));
  null_provider_open (p, "http://x", NULL, FERRY_OPEN_ERROR);

  spec = json_pack ("{s:{s:s, s:s, s:s, s:s}}", "settings",
                    "vms", "1", "diskSize", "65536",
                    "failTestConnection", "true", "failReadAt", "4096");
  h = null_provider_open (p, "", spec, FERRY_OPEN_OK);
  json_decref (spec);
  assert_int_equal (p->test_connection (h), -1);
  assert_non_null (strstr (ferry_get_error (), "failTestConnection"));
  src = p->disk_open (h, "vm-1", "2000", NULL);
  assert_non_null (src);
  assert_int_equal (src->ops->size (src), 65536);
  assert_int_equal (src->ops->pread (src, buf, 512, 0), 0);
  assert_int_equal (src->ops->pread (src, buf, 512, 4096), -1);
  assert_non_null (strstr (ferry_get_error (), "failReadAt"));
  src->ops->close (src);
  p->close (h);
}

static void
test_null_destination (void **state)
{
  const struct ferry_destination *d = ferry_get0_destination (*state, "null");
  char sd[1024], file[1200];
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = "dst", .ns = "default",
    .type = "null", .url = "", .state_dir = sd,
  };
  void *h = NULL;
  json_t *vol, *spec, *vols, *doc;
  struct ferry_volume_sink *sink;
  unsigned char buf[1024];
  struct stat st;

  snprintf (sd, sizeof sd, "%s/dst", tmpdir);
  assert_non_null (d);
  assert_int_equal (d->open (&args, &h), FERRY_OPEN_OK);
  assert_int_equal (d->test_connection (h), 0);

  vol = json_pack ("{s:s, s:s, s:I, s:{s:s, s:s}}", "name", "v1",
                   "namespace", "ns1", "capacity", (json_int_t) 4096,
                   "labels", "plan", "p1", "vmID", "vm-1");
  sink = d->volume_create (h, vol);
  assert_non_null (sink);
  assert_null (d->volume_create (h, vol));   /* exists */
  memset (buf, 7, sizeof buf);
  assert_int_equal (sink->ops->can_out_of_order (sink), 1);
  assert_int_equal (sink->ops->pwrite (sink, buf, 1024, 1024), 0);
  assert_int_equal (sink->ops->pwrite (sink, buf, 512, 0), 0);
  assert_int_equal (sink->ops->zero (sink, 2048, 2048), 0);
  assert_int_equal (sink->ops->pwrite (sink, buf, 1024, 3584), -1);
  assert_int_equal (sink->ops->flush (sink), 0);
  assert_int_equal (sink->ops->close (sink), 0);
  snprintf (file, sizeof file, "%s/volumes/ns1/v1.json", sd);
  doc = json_load_file (file, 0, NULL);
  assert_non_null (doc);
  assert_int_equal (json_integer_value (json_object_get (doc, "bytesWritten")), 1536);
  assert_int_equal (json_integer_value (json_object_get (doc, "bytesZeroed")), 2048);
  json_decref (doc);

  spec = json_pack ("{s:s, s:s, s:[{s:s}], s:{s:s, s:s}}",
                    "name", "vm1", "namespace", "ns1", "disks", "id", "disk-0",
                    "labels", "plan", "p1", "vmID", "vm-1");
  vols = json_pack ("[O]", vol);
  assert_int_equal (d->vm_exists (h, "ns1", "vm1"), 0);
  assert_int_equal (d->vm_create (h, spec, vols), 0);
  assert_int_equal (d->vm_exists (h, "ns1", "vm1"), 1);
  assert_int_equal (d->vm_create (h, spec, vols), -1);
  assert_non_null (strstr (ferry_get_error (), "already exists"));
  snprintf (file, sizeof file, "%s/vms/ns1/vm1.json", sd);
  assert_int_equal (stat (file, &st), 0);

  assert_int_equal (d->cleanup (h, "p1", "vm-2"), 0);
  assert_int_equal (d->vm_exists (h, "ns1", "vm1"), 1);
  assert_int_equal (d->cleanup (h, "p1", "vm-1"), 0);
  assert_int_equal (d->vm_exists (h, "ns1", "vm1"), 0);
  assert_int_equal (stat (file, &st), -1);
  json_decref (spec);
  json_decref (vols);
  json_decref (vol);
  d->close (h);
}

/* Copy every byte of a null provider disk into a null destination volume,
 * skipping the hole, and compare the content sums.
 */
struct copy_ctx {
  struct ferry_disk_source *src;
  struct ferry_volume_sink *sink;
  uint64_t sum;
};

/* The content sum's mix, as documented at the top of
 * destinations/null/null.c.  A copy on purpose: the module is dlopen()ed
 * (its symbols hidden), and the test recomputes the sum independently
 * instead of sharing the code it checks.
 */
static uint64_t
mix64 (uint64_t x)
{
  x ^= x >> 30;
  x *= UINT64_C (0xbf58476d1ce4e5b9);
  x ^= x >> 27;
  x *= UINT64_C (0x94d049bb133111eb);
  x ^= x >> 31;
  return x;
}

static int
copy_extent (void *opaque, uint64_t offset, uint64_t length, uint32_t flags)
{
  struct copy_ctx *c = opaque;
  unsigned char buf[8192];

  if (flags & FERRY_EXTENT_ZERO)
    return c->sink->ops->zero (c->sink, offset, length);
  /* Backwards, to exercise out-of-order writes. */
  for (uint64_t n = length; n > 0; ) {
    uint64_t chunk = n < sizeof buf ? n : sizeof buf;
    uint64_t off = offset + n - chunk;
    assert_int_equal (c->src->ops->pread (c->src, buf, chunk, off), 0);
    for (uint64_t i = 0; i < chunk; i++)
      if (buf[i])
        c->sum += mix64 ((off + i) * 256 + buf[i]);
    if (c->sink->ops->pwrite (c->sink, buf, chunk, off) == -1)
      return -1;
    n -= chunk;
  }
  return 0;
}

static void
test_null_copy (void **state)
{
  const struct ferry_provider *p = ferry_get0_provider (*state, "null");
  const struct ferry_destination *d = ferry_get0_destination (*state, "null");
  char sd[1024], file[1200], want[24];
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = "dst", .type = "null",
    .url = "", .state_dir = sd,
  };
  void *ph = null_provider_open (p, "null://?vms=1&size=200000", NULL,
                                 FERRY_OPEN_OK);
  void *dh = NULL;
  struct copy_ctx c = { .sum = 0 };
  json_t *vol, *doc;

  snprintf (sd, sizeof sd, "%s/copy", tmpdir);
  assert_int_equal (d->open (&args, &dh), FERRY_OPEN_OK);
  c.src = p->disk_open (ph, "vm-1", "disk-0", NULL);
  vol = json_pack ("{s:s, s:I}", "name", "disk0", "capacity",
                   (json_int_t) c.src->ops->size (c.src));
  c.sink = d->volume_create (dh, vol);
  assert_non_null (c.sink);
  assert_int_equal (c.src->ops->extents (c.src, 0, 200000, copy_extent, &c), 0);
  assert_int_equal (c.sink->ops->close (c.sink), 0);
  c.src->ops->close (c.src);

  snprintf (file, sizeof file, "%s/volumes/default/disk0.json", sd);
  doc = json_load_file (file, 0, NULL);
  assert_non_null (doc);
  snprintf (want, sizeof want, "%016" PRIx64, c.sum);
  assert_string_equal (json_string_value (json_object_get (doc, "contentSum")), want);
  assert_int_equal (json_integer_value (json_object_get (doc, "end")), 200000);
  json_decref (doc);
  json_decref (vol);
  d->close (dh);
  p->close (ph);
}

int
main (void)
{
  const struct CMUnitTest loader_tests[] = {
    cmocka_unit_test (test_good_provider),
    cmocka_unit_test (test_good_destination),
    cmocka_unit_test (test_bad_abi),
    cmocka_unit_test (test_no_entry),
    cmocka_unit_test (test_missing_callback),
    cmocka_unit_test (test_old_size),
    cmocka_unit_test (test_duplicate),
    cmocka_unit_test (test_wrong_kind),
    cmocka_unit_test (test_empty_name),
    cmocka_unit_test (test_not_loadable),
    cmocka_unit_test (test_list_order),
    cmocka_unit_test (test_dump),
    cmocka_unit_test (test_reopen),
  };
  const struct CMUnitTest null_tests[] = {
    cmocka_unit_test (test_null_provider_inventory),
    cmocka_unit_test (test_null_provider_disk),
    cmocka_unit_test (test_null_provider_errors),
    cmocka_unit_test (test_null_destination),
    cmocka_unit_test (test_null_copy),
  };
  int r;

  /* Refusals are logged as warnings; keep the output quiet. */
  ferry_set_log_level (FERRY_LOG_ERROR);
  r = cmocka_run_group_tests_name ("loader", loader_tests,
                                   setup_loader, teardown_loader);
  strcpy (tmpdir, "/tmp/ferry-test-loader.XXXXXX");
  r |= cmocka_run_group_tests_name ("null modules", null_tests,
                                    setup_null, teardown_loader);
  return r ? 1 : 0;
}
