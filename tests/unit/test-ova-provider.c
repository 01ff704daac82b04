/* Tests of the OVA provider as a whole (every providers/ova source compiled in):
 * real OVAs built by tests/make-ova.sh (qemu-img, tar), damaged copies of
 * them, an unpacked OVF directory, inventory through a recording sink,
 * stable ids across rescans and handles, the neutral spec, and disks read
 * straight out of the .ova by qemu-nbd (through nbdcopy, which starts it
 * with socket activation as ferry_nbd_source_spawn does) compared byte for
 * byte with the source images.
 */
#include <config.h>

#include "../../providers/ova/ova.c"
#include "../../providers/ova/ovf.c"
#include "../../providers/ova/manifest.c"
#include "../../providers/ova/vmdk.c"
#include "../../providers/ova/tar.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <sys/wait.h>
#include <cmocka.h>

#include <ferry/error.h>

#include "test-common.h"

static char tmp[] = "/tmp/ferry-test-ova.XXXXXX";
static char inv[4200];
static bool have_qemu;

/* ---- A stand-in for libferry's NBD source: records the argv ------------ */

static char *spawned[16];
static size_t nr_spawned;

static void
spawned_free (void)
{
  for (size_t i = 0; i < nr_spawned; i++)
    free (spawned[i]);
  nr_spawned = 0;
}

static void dummy_close (struct ferry_disk_source *src) { free (src); }
static const struct ferry_disk_source_ops dummy_ops = {
  .struct_size = sizeof dummy_ops, .name = "test", .close = dummy_close,
};

struct ferry_disk_source *
ferry_nbd_source_spawn (const char *const *argv)
{
  struct ferry_disk_source *src = calloc (1, sizeof *src);
  spawned_free ();
  for (size_t i = 0; argv[i] && i < 15; i++)
    spawned[nr_spawned++] = strdup (argv[i]);
  src->ops = &dummy_ops;
  return src;
}

/* ---- Fixtures ------------------------------------------------------------ */

static int
setup (void **state)
{
  int r;

  if (!mkdtemp (tmp) || !test_srcdir ())
    return -1;
  snprintf (inv, sizeof inv, "%s/inv", tmp);
  r = test_sh ("sh %s/tests/make-ova.sh %s/src vm1 >/dev/null",
               test_srcdir (), tmp);
  if (r == 77)
    return 0;                           /* no qemu-img: those tests skip */
  if (r != 0)
    return -1;
  have_qemu = true;
  return test_sh ("set -e; cd %s; mkdir -p inv/good inv/dir inv/bad inv/x;"
                  "cp src/vm1.ova inv/good/;"
                  /* members named ./x, as some tools write them */
                  "(cd src/vm1 && tar --format=ustar -cf ../../inv/good/dot.ova ./vm1.ovf ./vm1.mf ./vm1-disk1.vmdk ./vm1-disk2.vmdk);"
                  "cp -r src/vm1 inv/dir/;"
                  /* an OVF directory whose disk1 is monolithicFlat (descriptor
                   * plus a -flat extent beside it), no manifest */
                  "mkdir -p inv/flat;"
                  "qemu-img convert -q -f raw -O vmdk -o subformat=monolithicFlat src/vm1-disk1.raw inv/flat/vm1-disk1.vmdk;"
                  "cp src/vm1/vm1-disk2.vmdk inv/flat/;"
                  "sed -e 's/ ovf:size=\"[0-9]*\"//' src/vm1/vm1.ovf > inv/flat/vm1.ovf;"
                  /* cut inside disk1's data */
                  "head -c 600000 src/vm1.ova > inv/bad/truncated.ova;"
                  /* disk2 changed after the manifest was written */
                  "mkdir mm; cp src/vm1/* mm/;"
                  "printf X | dd of=mm/vm1-disk2.vmdk bs=1 seek=70000 conv=notrunc status=none;"
                  "(cd mm && tar --format=ustar -cf ../inv/bad/mismatch.ova vm1.ovf vm1.mf vm1-disk1.vmdk vm1-disk2.vmdk);"
                  /* disk2 left out, no manifest */
                  "(cd src/vm1 && tar --format=ustar -cf ../../inv/bad/missing-disk.ova vm1.ovf vm1-disk1.vmdk);"
                  /* an OVF that is not XML */
                  "mkdir nx; printf 'not xml <' > nx/nx.ovf;"
                  "(cd nx && tar --format=ustar -cf ../inv/bad/notxml.ova nx.ovf);"
                  /* not a tar at all */
                  "echo 'hello, I am not a tar' > inv/bad/notatar.ova;"
                  /* an unpacked OVF with absurd sizes and absent files */
                  "cp %s/tests/data/ova/absurd-sizes.ovf inv/x/;"
                  "cp %s/tests/data/ova/dangling-refs.ovf inv/x/;",
                  tmp, test_srcdir (), test_srcdir ());
}

static int
teardown (void **state)
{
  spawned_free ();
  return test_sh ("rm -rf %s", tmp) == 0 ? 0 : -1;
}

static void *
open_provider (const char *url, const char *name)
{
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = name, .ns = "default",
    .type = "ova", .url = url,
  };
  void *h = NULL;

  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_OK);
  assert_non_null (h);
  return h;
}

#define S(obj, key) json_string_value (json_object_get ((obj), (key)))
#define I(obj, key) json_integer_value (json_object_get ((obj), (key)))

/* The VM doc whose path is rel (and vs id). */
static const json_t *
find_vm (const json_t *put, const char *rel)
{
  const char *id;
  json_t *v;

  json_object_foreach (json_object_get (put, "vm"), id, v)
    if (strcmp (S (json_object_get (v, "doc"), "path"), rel) == 0)
      return json_object_get (v, "doc");
  print_error ("no VM for %s\n", rel);
  fail ();
  return NULL;
}

static bool
has_concern (const json_t *vm, const char *category, const char *n1,
             const char *n2)
{
  size_t i;
  const json_t *c;

  json_array_foreach (json_object_get (vm, "concerns"), i, c)
    if (strcmp (S (c, "category"), category) == 0
        && strstr (S (c, "assessment"), n1)
        && (!n2 || strstr (S (c, "assessment"), n2)))
      return true;
  print_error ("no %s concern with \"%s\" / \"%s\" in %s\n", category, n1,
               n2 ? n2 : "", json_dumps (json_object_get (vm, "concerns"), 0));
  return false;
}

/* ---- Tests -------------------------------------------------------------- */

static void
test_open (void **state)
{
  struct ferry_open_args args = { .struct_size = sizeof args, .name = "p",
                                  .type = "vsphere", .url = "/tmp" };
  void *h = NULL;

  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_DECLINED);
  args.type = "ova";
  args.url = "";
  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "spec.url is empty"));
  args.url = "nfs.example.com:/exports/ova-not-mounted-here";
  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (),
                           "nfs.example.com:/exports/ova-not-mounted-here"));
  assert_non_null (strstr (ferry_get_error (), "not mounted"));
  assert_non_null (strstr (ferry_get_error (), "mount -t nfs"));
  args.url = "relative/dir";
  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "relative/dir"));

  args.url = "/nonexistent/ferry/ova";
  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_OK);
  assert_int_equal (ova_test_connection (h), -1);
  assert_non_null (strstr (ferry_get_error (), "/nonexistent/ferry/ova"));
  ova_close (h);
  h = open_provider (tmp, "p");
  assert_int_equal (ova_test_connection (h), 0);
  ova_close (h);
}

static void
test_nfs_mounts (void **state)
{
  char mounts[4300], *p;
  FILE *fp;

  snprintf (mounts, sizeof mounts, "%s/mounts", tmp);
  fp = fopen (mounts, "w");
  assert_non_null (fp);
  fprintf (fp, "/dev/sda1 / ext4 rw 0 0\n"
           "srv:/export /mnt/export nfs4 rw 0 0\n"
           "srv:/export/ova /mnt/ova nfs rw 0 0\n"
           "other:/export/ova /mnt/other nfs rw 0 0\n"
           "srv:/exportfoo /mnt/foo nfs rw 0 0\n"
           "srv:/with\\040space /mnt/with\\040space nfs4 rw 0 0\n");
  fclose (fp);
  p = ova_nfs_local_path ("srv:/export/ova", mounts);
  assert_string_equal (p, "/mnt/ova");
  free (p);
  p = ova_nfs_local_path ("srv:/export/ova/sub", mounts);
  assert_string_equal (p, "/mnt/ova/sub");
  free (p);
  p = ova_nfs_local_path ("srv:/export/other", mounts);
  assert_string_equal (p, "/mnt/export/other");
  free (p);
  p = ova_nfs_local_path ("srv:/with space/x", mounts);
  assert_string_equal (p, "/mnt/with space/x");
  free (p);
  assert_null (ova_nfs_local_path ("srv:/exp", mounts));
  assert_null (ova_nfs_local_path ("nobody:/export/ova", mounts));
}

static void
test_inventory (void **state)
{
  struct test_inventory r;
  void *h;
  const json_t *vm, *d, *n;
  const char *id;
  json_t *v;
  char path[4300];

  if (!have_qemu)
    skip ();
  test_inventory_init (&r);
  h = open_provider (inv, "test-ova");
  assert_int_equal (ova_inventory (h, &r.sink), 0);
  assert_int_equal (r.prunes, 1);

  /* good, dot, dir, flat, 5 bad archives, absurd, dangling */
  assert_int_equal (json_object_size (json_object_get (r.put, "vm")), 11);
  vm = find_vm (r.put, "flat/vm1.ovf");
  assert_int_equal (json_array_size (json_object_get (vm, "concerns")), 0);
  d = json_array_get (json_object_get (vm, "disks"), 0);
  assert_string_equal (S (d, "format"), "vmdk-descriptor");
  assert_string_equal (S (d, "subformat"), "monolithicFlat");
  vm = find_vm (r.put, "good/dot.ova");
  assert_int_equal (json_array_size (json_object_get (vm, "concerns")), 0);
  assert_int_equal (json_array_size (json_object_get (vm, "disks")), 2);

  vm = find_vm (r.put, "good/vm1.ova");
  assert_int_equal (json_array_size (json_object_get (vm, "concerns")), 0);
  assert_string_equal (S (vm, "name"), "vm1");
  snprintf (path, sizeof path, "%s/good/vm1.ova", inv);
  assert_string_equal (S (vm, "ovaPath"), path);
  assert_string_equal (S (vm, "ovaSource"), "VMware");
  assert_string_equal (S (vm, "osType"), "otherLinux64Guest");
  assert_string_equal (S (vm, "powerState"), "Off");
  assert_string_equal (S (vm, "firmware"), "bios");
  assert_int_equal (I (vm, "cpuCount"), 2);
  assert_int_equal (I (vm, "coresPerSocket"), 2);
  assert_int_equal (I (vm, "memoryMB"), 1024);
  assert_int_equal (json_array_size (json_object_get (vm, "disks")), 2);
  d = json_array_get (json_object_get (vm, "disks"), 0);
  assert_int_equal (I (d, "capacity"), 16777216);
  assert_string_equal (S (d, "format"), "vmdk");
  assert_string_equal (S (d, "subformat"), "streamOptimized");
  assert_int_equal (I (d, "virtualSize"), 16777216);
  assert_string_equal (S (d, "file"), "vm1-disk1.vmdk");
  assert_string_equal (S (d, "bus"), "scsi");
  assert_string_equal (S (json_object_get (d, "datastore"), "id"),
                       ((struct ova_handle *) h)->storage_id);
  d = json_array_get (json_object_get (vm, "disks"), 1);
  assert_int_equal (I (d, "capacity"), 4196352);
  assert_string_equal (S (d, "subformat"), "monolithicSparse");
  n = json_array_get (json_object_get (vm, "nics"), 0);
  assert_string_equal (S (n, "mac"), "00:50:56:00:00:2a");
  assert_string_equal (S (n, "network"), "VM Network");

  /* Disks are entities too, children of their VM. */
  assert_int_equal (json_object_size (json_object_get (r.put, "disk")) >= 4, 1);
  v = json_object_get (json_object_get (r.put, "disk"), S (d, "id"));
  assert_non_null (v);
  assert_string_equal (S (v, "parent"), S (vm, "id"));
  /* One storage, the name Forklift's StorageMap expects. */
  assert_int_equal (json_object_size (json_object_get (r.put, "storage")), 1);
  json_object_foreach (json_object_get (r.put, "storage"), id, v)
    assert_string_equal (S (v, "name"),
                         "Dummy storage for source provider test-ova");
  /* The network, by its stable id. */
  {
    char nid[37];
    ova_network_id (nid, "VM Network");
    v = json_object_get (json_object_get (r.put, "network"), nid);
    assert_non_null (v);
    assert_string_equal (S (v, "name"), "VM Network");
    assert_string_equal (S (n, "networkId"), nid);
  }

  vm = find_vm (r.put, "dir/vm1/vm1.ovf");
  assert_int_equal (json_array_size (json_object_get (vm, "concerns")), 0);
  assert_int_equal (json_array_size (json_object_get (vm, "disks")), 2);

  /* The damaged ones: each names its file and what is wrong. */
  vm = find_vm (r.put, "bad/truncated.ova");
  assert_true (has_concern (vm, "Critical", "bad/truncated.ova", "truncated"));
  vm = find_vm (r.put, "bad/mismatch.ova");
  assert_true (has_concern (vm, "Critical", "vm1-disk2.vmdk",
                            "SHA256 digest mismatch"));
  vm = find_vm (r.put, "bad/missing-disk.ova");
  assert_true (has_concern (vm, "Critical", "bad/missing-disk.ova",
                            "vm1-disk2.vmdk is not in the archive"));
  vm = find_vm (r.put, "bad/notxml.ova");
  assert_true (has_concern (vm, "Critical", "bad/notxml.ova!nx.ovf",
                            "not well-formed XML"));
  assert_string_equal (S (vm, "name"), "notxml");
  vm = find_vm (r.put, "bad/notatar.ova");
  assert_true (has_concern (vm, "Critical", "bad/notatar.ova", NULL));
  vm = find_vm (r.put, "x/absurd-sizes.ovf");
  assert_true (has_concern (vm, "Critical", "disk huge", "64 TiB"));
  assert_true (has_concern (vm, "Critical", "disk neg", "negative"));
  vm = find_vm (r.put, "x/dangling-refs.ovf");
  assert_true (has_concern (vm, "Critical", "disk d1",
                            "nosuchfile is not in References"));
  assert_true (has_concern (vm, "Critical", "disk d2",
                            "outside the OVF's directory"));

  json_decref (r.put);
  ova_close (h);
}

static json_t *
ids_of (const char *url, int rescans)
{
  struct test_inventory r;
  void *h = open_provider (url, "test-ova");
  json_t *ids = json_array ();
  const char *kind, *id;
  json_t *k, *v;

  test_inventory_init (&r);
  for (int i = 0; i <= rescans; i++) {
    json_decref (r.put);
    test_inventory_init (&r);
    assert_int_equal (ova_inventory (h, &r.sink), 0);
  }
  json_object_foreach (r.put, kind, k)
    json_object_foreach (k, id, v)
      json_array_append_new (ids, json_sprintf ("%s/%s", kind, id));
  json_decref (r.put);
  ova_close (h);
  return ids;
}

static void
test_stable_ids (void **state)
{
  char url2[4300];
  json_t *a, *b, *c;

  if (!have_qemu)
    skip ();
  snprintf (url2, sizeof url2, "%s/", inv);
  a = ids_of (inv, 0);
  b = ids_of (inv, 2);                  /* rescans (cached and not) */
  c = ids_of (url2, 0);                 /* trailing slash */
  assert_true (json_array_size (a) > 10);
  assert_true (json_equal (a, b));
  assert_true (json_equal (a, c));
  json_decref (a);
  json_decref (b);
  json_decref (c);
}

static void
test_spec_and_power (void **state)
{
  void *h;
  char id[37];
  json_t *spec, *d, *desc;

  if (!have_qemu)
    skip ();
  h = open_provider (inv, "test-ova");
  ova_vm_id (id, "good/vm1.ova", "vm1");
  /* No inventory first: vm_spec scans by itself. */
  spec = ova_vm_spec (h, id);
  assert_non_null (spec);
  assert_string_equal (S (spec, "name"), "vm1");
  assert_string_equal (S (spec, "sourceId"), id);
  assert_int_equal (I (json_object_get (spec, "cpu"), "sockets"), 1);
  assert_int_equal (I (json_object_get (spec, "cpu"), "cores"), 2);
  assert_int_equal (I (json_object_get (spec, "cpu"), "threads"), 1);
  assert_int_equal (I (spec, "memoryMB"), 1024);
  assert_string_equal (S (spec, "firmware"), "bios");
  assert_true (json_is_false (json_object_get (spec, "secureBoot")));
  assert_true (json_is_false (json_object_get (spec, "tpm")));
  assert_string_equal (S (spec, "powerState"), "off");
  assert_string_equal (S (json_object_get (spec, "guest"), "os"),
                       "otherLinux64Guest");
  d = json_array_get (json_object_get (spec, "disks"), 0);
  assert_int_equal (I (d, "capacity"), 16777216);
  assert_string_equal (S (d, "bus"), "virtio");
  assert_string_equal (S (d, "sourceBus"), "scsi");
  assert_int_equal (I (d, "bootOrder"), 1);
  d = json_array_get (json_object_get (spec, "disks"), 1);
  assert_null (json_object_get (d, "bootOrder"));
  d = json_array_get (json_object_get (spec, "nics"), 0);
  assert_string_equal (S (d, "mac"), "00:50:56:00:00:2a");
  assert_string_equal (S (d, "model"), "virtio");
  assert_string_equal (S (d, "sourceModel"), "VmxNet3");
  json_decref (spec);

  desc = ova_vm_describe (h, id);
  assert_non_null (desc);
  assert_string_equal (S (desc, "id"), id);
  json_decref (desc);

  assert_int_equal (ova_power_state (h, id), FERRY_POWER_OFF);
  assert_int_equal (ova_power_state (h, "no-such-vm"), -1);
  assert_non_null (strstr (ferry_get_error (), "no-such-vm"));
  assert_null (ova_vm_spec (h, "no-such-vm"));
  ova_close (h);
}

/* nbdcopy -- [ ARGV ] OUT: exactly how libnbd starts the server. */
static void
copy_with_spawned_argv (const char *out)
{
  const char *argv[32];
  size_t n = 0;
  pid_t pid;
  int status;

  argv[n++] = "nbdcopy";
  argv[n++] = "--";
  argv[n++] = "[";
  for (size_t i = 0; i < nr_spawned; i++)
    argv[n++] = spawned[i];
  argv[n++] = "]";
  argv[n++] = out;
  argv[n] = NULL;
  pid = fork ();
  assert_true (pid >= 0);
  if (pid == 0) {
    execvp ("nbdcopy", (char **) argv);
    _exit (127);
  }
  assert_int_equal (waitpid (pid, &status, 0), pid);
  assert_true (WIFEXITED (status));
  assert_int_equal (WEXITSTATUS (status), 0);
}

static void
read_disk_and_compare (void *h, const char *rel, const char *vs,
                       const char *disk, const char *raw, bool member)
{
  char vm_id[37], disk_id[37], out[4300];
  struct ferry_disk_source *src;

  ova_vm_id (vm_id, rel, vs);
  ova_disk_id (disk_id, rel, vs, disk);
  src = ova_disk_open (h, vm_id, disk_id, NULL);
  assert_non_null (src);
  src->ops->close (src);
  assert_int_equal (nr_spawned, 5);
  assert_string_equal (spawned[0], "qemu-nbd");
  assert_string_equal (spawned[1], "-r");
  assert_string_equal (spawned[2], "--shared=8");
  assert_string_equal (spawned[3], "--image-opts");
  assert_non_null (strstr (spawned[4], "driver=vmdk,"));
  if (member) {
    assert_non_null (strstr (spawned[4], "file.driver=raw,file.offset="));
    assert_non_null (strstr (spawned[4], "file.file.filename="));
    assert_non_null (strstr (spawned[4], "/good/vm1.ova"));
  }
  else
    assert_null (strstr (spawned[4], "file.offset="));
  snprintf (out, sizeof out, "%s/out.raw", tmp);
  unlink (out);
  copy_with_spawned_argv (out);
  assert_int_equal (test_sh ("cmp -s %s %s/src/%s", out, tmp, raw), 0);
}

static void
test_disk_read (void **state)
{
  void *h;
  char vm_id[37], disk_id[37];

  if (!have_qemu)
    skip ();
  if (test_sh ("command -v nbdcopy >/dev/null && command -v qemu-nbd >/dev/null") != 0)
    skip ();
  h = open_provider (inv, "test-ova");
  read_disk_and_compare (h, "good/vm1.ova", "vm1", "vmdisk1", "vm1-disk1.raw", true);
  read_disk_and_compare (h, "good/vm1.ova", "vm1", "vmdisk2", "vm1-disk2.raw", true);
  read_disk_and_compare (h, "dir/vm1/vm1.ovf", "vm1", "vmdisk1", "vm1-disk1.raw", false);
  read_disk_and_compare (h, "flat/vm1.ovf", "vm1", "vmdisk1", "vm1-disk1.raw", false);
  /* The disk is complete in the truncated archive? No: disk1 is cut. */
  ova_vm_id (vm_id, "bad/mismatch.ova", "vm1");
  ova_disk_id (disk_id, "bad/mismatch.ova", "vm1", "vmdisk2");
  assert_null (ova_disk_open (h, vm_id, disk_id, NULL));
  assert_non_null (strstr (ferry_get_error (), "digest mismatch"));
  /* ...while its intact disk1 is still served. */
  ova_disk_id (disk_id, "bad/mismatch.ova", "vm1", "vmdisk1");
  {
    struct ferry_disk_source *src = ova_disk_open (h, vm_id, disk_id, NULL);
    assert_non_null (src);
    src->ops->close (src);
  }
  assert_null (ova_disk_open (h, vm_id, disk_id, "snap-1"));
  assert_non_null (strstr (ferry_get_error (), "no snapshots"));
  assert_null (ova_disk_open (h, vm_id, "nope", NULL));
  assert_non_null (strstr (ferry_get_error (), "nope"));
  ova_close (h);
}

static void
test_no_verify (void **state)
{
  json_t *spec = json_pack ("{s:{s:s}}", "settings", "verifyDigests", "false");
  struct ferry_open_args args = {
    .struct_size = sizeof args, .name = "nv", .type = "ova", .url = inv,
    .spec = spec,
  };
  struct test_inventory r;
  void *h = NULL;
  const json_t *vm;

  if (!have_qemu)
    skip ();
  assert_int_equal (ova_open (&args, &h), FERRY_OPEN_OK);
  test_inventory_init (&r);
  assert_int_equal (ova_inventory (h, &r.sink), 0);
  vm = find_vm (r.put, "bad/mismatch.ova");
  assert_true (has_concern (vm, "Information", "bad/mismatch.ova",
                            "verifyDigests"));
  assert_int_equal (json_array_size (json_object_get (vm, "concerns")), 1);
  json_decref (r.put);
  json_decref (spec);
  ova_close (h);
}

static void
test_module_entry (void **state)
{
  const struct ferry_module_header *hdr = ferry_module_entry ();
  const struct ferry_provider *p = (const struct ferry_provider *) hdr;

  assert_int_equal (hdr->kind, FERRY_MODULE_PROVIDER);
  assert_int_equal (hdr->abi_version, FERRY_MODULE_ABI_VERSION);
  assert_string_equal (p->name, "ova");
  assert_non_null (p->open);
  assert_non_null (p->close);
  assert_non_null (p->test_connection);
  assert_non_null (p->inventory);
  assert_non_null (p->vm_describe);
  assert_non_null (p->vm_spec);
  assert_non_null (p->disk_open);
  assert_null (p->can_power);
  assert_null (p->power_off);
  assert_int_equal (p->can_extents (NULL), 1);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_module_entry),
    cmocka_unit_test (test_open),
    cmocka_unit_test (test_nfs_mounts),
    cmocka_unit_test (test_inventory),
    cmocka_unit_test (test_stable_ids),
    cmocka_unit_test (test_spec_and_power),
    cmocka_unit_test (test_disk_read),
    cmocka_unit_test (test_no_verify),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
