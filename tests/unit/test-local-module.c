/* The local destination module, driven through its descriptor: the built
 * ferry-destination-local.so is dlopen()ed as the loader would, and each
 * callback is exercised against a scratch directory.
 *
 * Volume writing needs libferry's sinks (ferry_file_sink_open,
 * ferry_nbd_sink_spawn) and, for qcow2, qemu-img and qemu-nbd; those cases
 * skip, saying why, when something is missing.
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
#include <fcntl.h>
#include <unistd.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <cmocka.h>
#include <jansson.h>

#include "ferry/destination.h"
#include "ferry/error.h"

#define GiB (UINT64_C (1) << 30)

static const struct ferry_destination *dest;
static char scratch[] = "/tmp/ferry-test-local-XXXXXX";

static const char *
builddir (void)
{
  const char *b = getenv ("FERRY_BUILDDIR");

  if (b == NULL)
    b = getenv ("abs_top_builddir");
  return b ? b : "..";
}

static int
setup (void **state)
{
  char *path;
  void *dl;
  const struct ferry_module_header *(*entry) (void);
  const struct ferry_module_header *hdr;

  if (asprintf (&path, "%s/destinations/local/.libs/ferry-destination-local.so",
                builddir ()) == -1)
    return -1;
  dl = dlopen (path, RTLD_NOW | RTLD_LOCAL);
  if (dl == NULL)                       /* lazily bound sinks may be missing */
    dl = dlopen (path, RTLD_LAZY | RTLD_LOCAL);
  if (dl == NULL) {
    fprintf (stderr, "dlopen %s: %s\n", path, dlerror ());
    free (path);
    return -1;
  }
  free (path);
  *(void **) &entry = dlsym (dl, FERRY_MODULE_ENTRY_SYMBOL);
  if (entry == NULL)
    return -1;
  hdr = entry ();
  if (hdr->kind != FERRY_MODULE_DESTINATION ||
      hdr->abi_version != FERRY_MODULE_ABI_VERSION)
    return -1;
  dest = (const struct ferry_destination *) hdr;
  if (mkdtemp (scratch) == NULL)
    return -1;
  /* The module is never unloaded, like the loader does. */
  return 0;
}

static int
teardown (void **state)
{
  char *cmd;

  if (asprintf (&cmd, "rm -rf '%s'", scratch) > 0) {
    if (system (cmd) != 0)
      fprintf (stderr, "could not remove %s\n", scratch);
    free (cmd);
  }
  return 0;
}

static void *
open_dir (const char *url, const char *state_dir)
{
  struct ferry_open_args args = {
    .struct_size = sizeof args,
    .name = "host",
    .ns = "default",
    .type = "local",
    .url = url,
    .state_dir = state_dir,
  };
  void *h = NULL;

  if (dest->open (&args, &h) != FERRY_OPEN_OK)
    fail_msg ("open %s: %s", url, ferry_get_error ());
  return h;
}

static char *
sub (const char *fmt, ...)
{
  va_list ap;
  char *rel, *p;

  va_start (ap, fmt);
  assert_true (vasprintf (&rel, fmt, ap) > 0);
  va_end (ap);
  assert_true (asprintf (&p, "%s/%s", scratch, rel) > 0);
  free (rel);
  return p;
}

static int
exists (const char *path)
{
  struct stat st;
  return lstat (path, &st) == 0;
}

static void
touch (const char *path)
{
  int fd = open (path, O_WRONLY | O_CREAT, 0644);
  assert_true (fd >= 0);
  close (fd);
}

static int
have_symbol (const char *name)
{
  return dlsym (RTLD_DEFAULT, name) != NULL;
}

static int
have_program (const char *name)
{
  char *cmd;
  int r;

  assert_true (asprintf (&cmd, "command -v %s >/dev/null 2>&1", name) > 0);
  r = system (cmd);
  free (cmd);
  return r == 0;
}

static void
test_descriptor (void **state)
{
  assert_string_equal (dest->name, "local");
  assert_non_null (dest->open);
  assert_non_null (dest->close);
  assert_non_null (dest->test_connection);
  assert_non_null (dest->volume_create);
  assert_non_null (dest->vm_create);
  assert_non_null (dest->vm_exists);
  assert_non_null (dest->cleanup);
  assert_null (dest->vm_power_on);      /* documented: files only */
  assert_int_equal (dest->hdr.struct_size, sizeof (struct ferry_destination));
}

static void
test_open_and_connection (void **state)
{
  char *state_dir = sub ("state");
  char *dir = sub ("state/local");
  char *file = sub ("a-file");
  char *below_file = sub ("a-file/out");
  struct ferry_open_args args = {
    .struct_size = sizeof args, .type = "local", .url = "https://x/y",
  };
  void *h;

  /* Empty url: <state_dir>/local, created by test_connection, 0700. */
  h = open_dir ("", state_dir);
  assert_int_equal (dest->test_connection (h), 0);
  {
    struct stat st;
    assert_int_equal (stat (dir, &st), 0);
    assert_true (S_ISDIR (st.st_mode));
    assert_int_equal (st.st_mode & 0777, 0700);
  }
  dest->close (h);

  touch (file);
  h = open_dir (below_file, NULL);
  ferry_clear_error ();
  assert_int_equal (dest->test_connection (h), -1);
  if (strstr (ferry_get_error (), "local: cannot create directory ") == NULL)
    fail_msg ("got \"%s\"", ferry_get_error ());
  dest->close (h);

  h = NULL;
  assert_int_equal (dest->open (&args, &h), FERRY_OPEN_ERROR);
  assert_non_null (strstr (ferry_get_error (), "not a directory"));

  free (state_dir);
  free (dir);
  free (file);
  free (below_file);
}

static void
expect_volume_refused (void *h, const char *json, const char *message)
{
  json_error_t err;
  json_t *v = json_loads (json, 0, &err);

  assert_non_null (v);
  ferry_clear_error ();
  assert_null (dest->volume_create (h, v));
  if (strcmp (ferry_get_error (), message) != 0)
    fail_msg ("got \"%s\", wanted \"%s\"", ferry_get_error (), message);
  json_decref (v);
}

static void
test_bad_names (void **state)
{
  char *dir = sub ("names");
  void *h = open_dir (dir, NULL);

  expect_volume_refused (h, "{\"name\": \"../../etc/passwd\", \"vm\": \"vm\", \"capacity\": 1}",
                         "local: volume name \"../../etc/passwd\": must not contain '/'");
  expect_volume_refused (h, "{\"name\": \"..\", \"vm\": \"vm\", \"capacity\": 1}",
                         "local: volume name \"..\": must not contain \"..\"");
  expect_volume_refused (h, "{\"name\": \"d\", \"namespace\": \"a/b\", \"vm\": \"vm\", \"capacity\": 1}",
                         "local: namespace \"a/b\": must not contain '/'");
  expect_volume_refused (h, "{\"name\": \"d\", \"vm\": \"..\", \"capacity\": 1}",
                         "local: VM name \"..\": must not contain \"..\"");
  expect_volume_refused (h, "{\"name\": \"d\", \"capacity\": 1}",
                         "local: VM name is empty or missing");
  expect_volume_refused (h, "{\"name\": \"Disk_0\", \"vm\": \"vm\", \"capacity\": 1}",
                         "local: volume name \"Disk_0\": not a DNS-1123 label (only lowercase letters, digits and '-')");
  expect_volume_refused (h, "{\"name\": \"-d\", \"vm\": \"vm\", \"capacity\": 1}",
                         "local: volume name \"-d\": not a DNS-1123 label (must start and end with a letter or digit)");
  expect_volume_refused (h, "{\"name\": \"d\", \"vm\": \"vm\", \"capacity\": 0}",
                         "local: volume default/d: capacity missing or not a positive integer (bytes)");
  expect_volume_refused (h, "{\"name\": \"d\", \"vm\": \"vm\", \"capacity\": 1, \"format\": \"vmdk\"}",
                         "local: volume format \"vmdk\": not supported (raw or qcow2)");

  ferry_clear_error ();
  assert_int_equal (dest->vm_exists (h, "default", "../x"), -1);
  assert_string_equal (ferry_get_error (), "local: VM name \"../x\": must not contain '/'");
  assert_int_equal (dest->vm_exists (h, "default", "nothing-here"), 0);

  /* Nothing was created outside (or inside) the directory. */
  assert_false (exists (dir));
  dest->close (h);
  free (dir);
}

/* A file ferry did not create is never overwritten. */
static void
test_refuses_foreign_file (void **state)
{
  char *dir = sub ("foreign");
  char *vm_dir = sub ("foreign/ns/vm");
  char *file = sub ("foreign/ns/vm/disk-0.img");
  char *yaml = sub ("foreign/ns/vm2/vm2.vm.yaml");
  char *vm2_dir = sub ("foreign/ns/vm2");
  void *h = open_dir (dir, NULL);
  json_t *vol = json_pack ("{s:s, s:s, s:s, s:I}", "name", "disk-0",
                           "namespace", "ns", "vm", "vm", "capacity", (json_int_t) GiB);
  json_t *spec = json_pack ("{s:s, s:s, s:i}", "name", "vm2", "namespace", "ns",
                            "memoryMB", 512);
  json_t *none = json_array ();
  char *msg;

  assert_int_equal (dest->test_connection (h), 0);
  {
    char *ns_dir = sub ("foreign/ns");
    assert_int_equal (mkdir (ns_dir, 0755), 0);
    free (ns_dir);
  }
  assert_int_equal (mkdir (vm_dir, 0755), 0);
  touch (file);
  ferry_clear_error ();
  assert_null (dest->volume_create (h, vol));
  assert_true (asprintf (&msg, "local: %s/disk-0.img: already exists and ferry did not create it; refusing to overwrite it",
                         vm_dir) > 0);
  assert_string_equal (ferry_get_error (), msg);
  free (msg);

  assert_int_equal (mkdir (vm2_dir, 0755), 0);
  touch (yaml);
  ferry_clear_error ();
  assert_int_equal (dest->vm_create (h, spec, none), -1);
  assert_non_null (strstr (ferry_get_error (), "vm2.vm.yaml: already exists and ferry did not create it"));

  json_decref (vol);
  json_decref (spec);
  json_decref (none);
  dest->close (h);
  free (dir);
  free (vm_dir);
  free (vm2_dir);
  free (file);
  free (yaml);
}

/* vm_create before the volumes exist fails and writes nothing. */
static void
test_vm_needs_volumes (void **state)
{
  char *dir = sub ("novol");
  void *h = open_dir (dir, NULL);
  json_t *spec = json_pack ("{s:s, s:s, s:i, s:[{s:I, s:s}]}",
                            "name", "vm", "namespace", "ns", "memoryMB", 512,
                            "disks", "capacity", (json_int_t) GiB, "volume", "vm-disk-0");
  json_t *vols = json_pack ("[{s:s, s:s, s:s, s:I}]", "name", "vm-disk-0",
                            "namespace", "ns", "vm", "vm", "capacity", (json_int_t) GiB);

  ferry_clear_error ();
  assert_int_equal (dest->vm_create (h, spec, vols), -1);
  if (strncmp (ferry_get_error (), "local: VM ns/vm: create the volumes first: ", 43) != 0)
    fail_msg ("got \"%s\"", ferry_get_error ());
  assert_int_equal (dest->vm_exists (h, "ns", "vm"), 0);

  /* The directory is there, the volume file is not. */
  {
    char *ns_dir = sub ("novol/ns"), *vm_dir = sub ("novol/ns/vm"), *msg;
    assert_int_equal (mkdir (dir, 0700), 0);
    assert_int_equal (mkdir (ns_dir, 0700), 0);
    assert_int_equal (mkdir (vm_dir, 0700), 0);
    ferry_clear_error ();
    assert_int_equal (dest->vm_create (h, spec, vols), -1);
    assert_true (asprintf (&msg, "local: VM ns/vm: volume file %s/vm-disk-0.img does not exist; create the volumes first",
                           vm_dir) > 0);
    assert_string_equal (ferry_get_error (), msg);
    assert_int_equal (dest->vm_exists (h, "ns", "vm"), 0);
    free (msg);
    free (ns_dir);
    free (vm_dir);
  }
  json_decref (spec);
  json_decref (vols);
  dest->close (h);
  free (dir);
}

/* A disk-less VM: manifests, ledger, vm_exists, then cleanup removes
 * exactly its own files and leaves an unrelated one (and so the dir).
 */
static void
test_vm_and_cleanup (void **state)
{
  char *dir = sub ("vms");
  char *vm_dir = sub ("vms/ns/web");
  char *yaml = sub ("vms/ns/web/web.vm.yaml");
  char *xml = sub ("vms/ns/web/web.domain.xml");
  char *ledger = sub ("vms/ns/web/.ferry-created.json");
  char *mine = sub ("vms/ns/web/notes.txt");
  char *vm2_dir = sub ("vms/ns/db");
  void *h = open_dir (dir, NULL);
  json_t *spec = json_pack ("{s:s, s:s, s:s, s:i, s:{s:s}, s:s}",
                            "name", "web", "namespace", "ns", "sourceId", "vm-1",
                            "memoryMB", 1024, "labels", "plan", "plan-a",
                            "powerState", "on");
  json_t *spec2 = json_pack ("{s:s, s:s, s:s, s:i, s:{s:s}}",
                             "name", "db", "namespace", "ns", "sourceId", "vm-2",
                             "memoryMB", 1024, "labels", "plan", "plan-a");
  json_t *none = json_array ();
  struct stat st;

  assert_int_equal (dest->vm_create (h, spec, none), 0);
  assert_int_equal (dest->vm_create (h, spec2, none), 0);
  assert_int_equal (dest->vm_exists (h, "ns", "web"), 1);
  assert_int_equal (dest->vm_exists (h, "other", "web"), 0);
  assert_int_equal (stat (yaml, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);
  assert_int_equal (stat (vm_dir, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0700);
  assert_true (exists (xml));
  assert_true (exists (ledger));
  /* Re-running the step (after a crash) is fine. */
  assert_int_equal (dest->vm_create (h, spec, none), 0);

  touch (mine);
  /* Another plan's or VM's cleanup touches nothing here. */
  assert_int_equal (dest->cleanup (h, "plan-b", "vm-1"), 0);
  assert_int_equal (dest->cleanup (h, "plan-a", "vm-9"), 0);
  assert_true (exists (yaml));

  assert_int_equal (dest->cleanup (h, "plan-a", "vm-1"), 0);
  assert_false (exists (yaml));
  assert_false (exists (xml));
  assert_false (exists (ledger));
  assert_true (exists (mine));          /* not ours: survives, so does the dir */
  assert_int_equal (dest->vm_exists (h, "ns", "web"), 0);
  assert_true (exists (vm2_dir));       /* the other VM is untouched */
  assert_int_equal (dest->vm_exists (h, "ns", "db"), 1);

  /* Without a foreign file the directory goes too. */
  assert_int_equal (dest->cleanup (h, "plan-a", "vm-2"), 0);
  assert_false (exists (vm2_dir));

  json_decref (spec);
  json_decref (spec2);
  json_decref (none);
  dest->close (h);
  free (dir); free (vm_dir); free (yaml); free (xml); free (ledger);
  free (mine); free (vm2_dir);
}

static void
write_and_close (struct ferry_volume_sink *sink)
{
  char buf[4096];

  memset (buf, 0xa5, sizeof buf);
  assert_int_equal (sink->ops->pwrite (sink, buf, sizeof buf, GiB / 2), 0);
  assert_int_equal (sink->ops->pwrite (sink, buf, sizeof buf, 0), 0);
  if (sink->ops->flush)
    assert_int_equal (sink->ops->flush (sink), 0);
  assert_int_equal (sink->ops->close (sink), 0);
}

static void
test_raw_volume (void **state)
{
  char *dir, *img;
  void *h;
  json_t *vol;
  struct ferry_volume_sink *sink;
  struct stat st;

  if (!have_symbol ("ferry_file_sink_open")) {
    fprintf (stderr, "libferry has no ferry_file_sink_open yet: raw volume not tested\n");
    skip ();
  }
  dir = sub ("raw");
  img = sub ("raw/ns/vm/vm-disk-0.img");
  h = open_dir (dir, NULL);
  vol = json_pack ("{s:s, s:s, s:s, s:I, s:s, s:{s:s, s:s}}",
                   "name", "vm-disk-0", "namespace", "ns", "vm", "vm",
                   "capacity", (json_int_t) GiB, "format", "raw",
                   "labels", "plan", "p", "vmID", "vm-1");
  sink = dest->volume_create (h, vol);
  if (sink == NULL)
    fail_msg ("volume_create: %s", ferry_get_error ());
  write_and_close (sink);
  assert_int_equal (stat (img, &st), 0);
  assert_int_equal ((uint64_t) st.st_size, GiB);
  assert_int_equal (st.st_mode & 0777, 0600);
  /* Sparse: two 4 KiB writes, nowhere near 1 GiB allocated. */
  assert_true ((uint64_t) st.st_blocks * 512 < 1024 * 1024);
  assert_int_equal (dest->cleanup (h, "p", "vm-1"), 0);
  assert_false (exists (img));
  json_decref (vol);
  dest->close (h);
  free (dir);
  free (img);
}

static void
test_qcow2_volume_and_vm (void **state)
{
  char *dir, *q, *xml, *cmd, *out;
  void *h;
  json_t *vols, *spec, *info;
  json_error_t err;
  struct ferry_volume_sink *sink;
  FILE *fp;
  struct stat st;

  if (!have_symbol ("ferry_nbd_sink_spawn")) {
    fprintf (stderr, "libferry has no ferry_nbd_sink_spawn yet: qcow2 volume not tested\n");
    skip ();
  }
  if (!have_program ("qemu-img") || !have_program ("qemu-nbd")) {
    fprintf (stderr, "qemu-img or qemu-nbd not installed: qcow2 volume not tested\n");
    skip ();
  }
  dir = sub ("qcow");
  q = sub ("qcow/ns/vm/vm-disk-0.qcow2");
  xml = sub ("qcow/ns/vm/vm.domain.xml");
  h = open_dir (dir, NULL);
  vols = json_pack ("[{s:s, s:s, s:s, s:I, s:s, s:s, s:s}]",
                    "name", "vm-disk-0", "namespace", "ns", "vm", "vm",
                    "capacity", (json_int_t) GiB, "format", "qcow2",
                    "plan", "p", "vmId", "vm-1");
  sink = dest->volume_create (h, json_array_get (vols, 0));
  if (sink == NULL)
    fail_msg ("volume_create: %s", ferry_get_error ());
  write_and_close (sink);
  assert_int_equal (stat (q, &st), 0);
  assert_int_equal (st.st_mode & 0777, 0600);

  assert_true (asprintf (&cmd, "qemu-img info --output=json '%s'", q) > 0);
  fp = popen (cmd, "r");
  assert_non_null (fp);
  info = json_loadf (fp, 0, &err);
  assert_int_equal (pclose (fp), 0);
  assert_non_null (info);
  assert_string_equal (json_string_value (json_object_get (info, "format")), "qcow2");
  assert_int_equal (json_integer_value (json_object_get (info, "virtual-size")),
                    (json_int_t) GiB);
  json_decref (info);
  free (cmd);

  /* The VM over it: the domain XML points at the qcow2 file. */
  spec = json_pack ("{s:s, s:s, s:s, s:i, s:[{s:I, s:s}], s:{s:s}}",
                    "name", "vm", "namespace", "ns", "sourceId", "vm-1",
                    "memoryMB", 512, "disks", "capacity", (json_int_t) GiB,
                    "volume", "vm-disk-0", "labels", "plan", "p");
  if (dest->vm_create (h, spec, vols) == -1)
    fail_msg ("vm_create: %s", ferry_get_error ());
  fp = fopen (xml, "r");
  assert_non_null (fp);
  out = calloc (1, 65536);
  assert_true (fread (out, 1, 65535, fp) > 0);
  fclose (fp);
  assert_non_null (strstr (out, "<driver name=\"qemu\" type=\"qcow2\"/>"));
  assert_non_null (strstr (out, q));
  free (out);
  if (have_program ("virt-xml-validate")) {
    assert_true (asprintf (&cmd, "virt-xml-validate '%s' domain >&2", xml) > 0);
    assert_int_equal (system (cmd), 0);
    free (cmd);
  }
  assert_int_equal (dest->cleanup (h, "p", "vm-1"), 0);
  assert_false (exists (q));
  assert_false (exists (xml));

  json_decref (spec);
  json_decref (vols);
  dest->close (h);
  free (dir);
  free (q);
  free (xml);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_descriptor),
    cmocka_unit_test (test_open_and_connection),
    cmocka_unit_test (test_bad_names),
    cmocka_unit_test (test_refuses_foreign_file),
    cmocka_unit_test (test_vm_needs_volumes),
    cmocka_unit_test (test_vm_and_cleanup),
    cmocka_unit_test (test_raw_volume),
    cmocka_unit_test (test_qcow2_volume_and_vm),
  };
  return cmocka_run_group_tests (tests, setup, teardown);
}
