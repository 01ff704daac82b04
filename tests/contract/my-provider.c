/* The contract test's third-party provider: built out of tree with only
 *   cc -shared -fPIC my-provider.c $(pkg-config --cflags --libs ferry)
 * against the installed headers and libferry, as an outside author would.
 * It serves Providers of type "my": one VM with one 1 MiB disk of zeroes.
 * Keep it to the public ABI; it must stay strict C99.
 */
#include <stdlib.h>
#include <string.h>

#include <ferry/provider.h>

struct my_handle {
  int connected;
};

static int
my_open (const struct ferry_open_args *args, void **handle)
{
  struct my_handle *h;

  if (!args->type || strcmp (args->type, "my") != 0)
    return FERRY_OPEN_DECLINED;         /* not mine */
  if (args->url && strcmp (args->url, "my://fail") == 0) {
    ferry_error ("my-provider: open %s: refused by the url", args->url);
    return FERRY_OPEN_ERROR;
  }
  h = calloc (1, sizeof *h);
  if (!h) {
    ferry_error ("my-provider: open: out of memory");
    return FERRY_OPEN_ERROR;
  }
  *handle = h;
  return FERRY_OPEN_OK;
}

static void
my_close (void *handle)
{
  free (handle);
}

static int
my_test_connection (void *handle)
{
  struct my_handle *h = handle;
  h->connected = 1;
  return 0;
}

static int
my_inventory (void *handle, struct ferry_inventory_sink *sink)
{
  json_t *vm = json_pack ("{s:s, s:s, s:i, s:i}", "id", "vm-1", "name", "my-vm",
                          "cpuCount", 1, "memoryMB", 512);
  int r;

  (void) handle;
  if (!vm)
    return -1;
  r = sink->put (sink, FERRY_INV_VM, "vm-1", "my-vm", NULL, vm);
  json_decref (vm);
  return r == 0 ? sink->prune (sink) : -1;
}

static json_t *
my_vm_describe (void *handle, const char *vm_id)
{
  (void) handle;
  if (strcmp (vm_id, "vm-1") != 0) {
    ferry_error ("my-provider: VM %s not found", vm_id);
    return NULL;
  }
  return json_pack ("{s:s, s:s}", "id", "vm-1", "name", "my-vm");
}

static json_t *
my_vm_spec (void *handle, const char *vm_id)
{
  (void) handle;
  if (strcmp (vm_id, "vm-1") != 0) {
    ferry_error ("my-provider: VM %s not found", vm_id);
    return NULL;
  }
  return json_pack ("{s:s, s:s, s:i, s:s}",
                    FERRY_VMSPEC_NAME, "my-vm", FERRY_VMSPEC_SOURCE_ID, "vm-1",
                    FERRY_VMSPEC_MEMORY_MB, 512, FERRY_VMSPEC_FIRMWARE, "bios");
}

/* A disk of zeroes. */
static int64_t
my_disk_size (struct ferry_disk_source *src)
{
  (void) src;
  return 1048576;
}

static uint32_t
my_disk_block_size (struct ferry_disk_source *src)
{
  (void) src;
  return 512;
}

static int
my_disk_pread (struct ferry_disk_source *src, void *buf, size_t count,
               uint64_t offset)
{
  (void) src;
  if (offset > 1048576 || count > 1048576 - offset) {
    ferry_error ("my-provider: read beyond the end of the disk");
    return -1;
  }
  memset (buf, 0, count);
  return 0;
}

static void
my_disk_close (struct ferry_disk_source *src)
{
  free (src);
}

static const struct ferry_disk_source_ops my_disk_ops = {
  sizeof (struct ferry_disk_source_ops),
  "my",
  my_disk_size,
  my_disk_block_size,
  my_disk_pread,
  NULL,                                 /* extents: all data */
  NULL,                                 /* can_multi_conn: no */
  NULL,                                 /* clone */
  my_disk_close,
};

static struct ferry_disk_source *
my_disk_open (void *handle, const char *vm_id, const char *disk_id,
              const char *snapshot)
{
  struct ferry_disk_source *src;

  (void) handle;
  (void) snapshot;
  if (strcmp (vm_id, "vm-1") != 0 || strcmp (disk_id, "disk-0") != 0) {
    ferry_error ("my-provider: disk %s of VM %s not found", disk_id, vm_id);
    return NULL;
  }
  src = calloc (1, sizeof *src);
  if (!src) {
    ferry_error ("my-provider: out of memory");
    return NULL;
  }
  src->ops = &my_disk_ops;
  return src;
}

static struct ferry_provider my_provider = {
  .name = "my-provider",
  .description = "the contract test's out-of-tree provider",
  .version = "0.1",
  .thread_model = FERRY_THREAD_MODEL_SERIALIZE_HANDLE,
  .open = my_open,
  .close = my_close,
  .test_connection = my_test_connection,
  .inventory = my_inventory,
  .vm_describe = my_vm_describe,
  .vm_spec = my_vm_spec,
  .disk_open = my_disk_open,
};

FERRY_REGISTER_PROVIDER (my_provider)
