/* ferry local destination: the module.
 *
 * Provider spec.type "local", spec.url the output directory (empty: the
 * provider's state directory + "/local").  Volumes are sparse raw or qcow2
 * files (volumes.c); a VM is written as <vm>.vm.yaml (KubeVirt
 * VirtualMachine, kubevirt-vm.c) and <vm>.domain.xml (libvirt domain,
 * libvirt-xml.c) next to its volumes.  What it creates is listed in a
 * ledger (ledger.c) so cleanup removes exactly that.
 *
 * vm_power_on is not provided: nothing runs here, the output is files.
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <jansson.h>

#include "ferry/destination.h"
#include "ferry/error.h"
#include "ferry/ferry.h"
#include "ferry/log.h"
#include "local.h"

static int
local_open (const struct ferry_open_args *args, void **handlep)
{
  struct local_handle *h;
  const char *url = args->url;
  char *dir = NULL;
  size_t len;

  if (url != NULL && strncmp (url, "file://", 7) == 0)
    url += 7;
  if (url != NULL && strstr (url, "://") != NULL) {
    ferry_error ("local: provider url \"%s\": not a directory (use a path or file:///path)",
                 args->url);
    return FERRY_OPEN_ERROR;
  }
  if (url == NULL || url[0] == '\0') {
    if (args->state_dir == NULL || args->state_dir[0] == '\0') {
      ferry_error ("local: provider has no url and no state directory");
      return FERRY_OPEN_ERROR;
    }
    if (asprintf (&dir, "%s/local", args->state_dir) == -1)
      dir = NULL;
  }
  else if (url[0] == '/')
    dir = strdup (url);
  else {
    /* Absolute, so qemu-img and qemu-nbd never see "name:" as a protocol. */
    char cwd[4096];
    if (getcwd (cwd, sizeof cwd) == NULL) {
      ferry_error_errno (errno, "local: getcwd");
      return FERRY_OPEN_ERROR;
    }
    if (asprintf (&dir, "%s/%s", cwd, url) == -1)
      dir = NULL;
  }
  if (dir == NULL) {
    ferry_error ("local: open: out of memory");
    return FERRY_OPEN_ERROR;
  }
  len = strlen (dir);
  while (len > 1 && dir[len - 1] == '/')
    dir[--len] = '\0';
  h = calloc (1, sizeof *h);
  if (h == NULL) {
    free (dir);
    ferry_error ("local: open: out of memory");
    return FERRY_OPEN_ERROR;
  }
  h->dir = dir;
  *handlep = h;
  return FERRY_OPEN_OK;
}

static void
local_close (void *handle)
{
  struct local_handle *h = handle;

  if (h) {
    free (h->dir);
    free (h);
  }
}

static int
local_test_connection (void *handle)
{
  struct local_handle *h = handle;
  LOCAL_CLEANUP_FREE char *probe = NULL;
  struct stat st;
  int fd;

  if (local_mkdir_root (h->dir) == -1)
    return -1;
  if (stat (h->dir, &st) == -1 || !S_ISDIR (st.st_mode)) {
    ferry_error ("local: %s: not a directory", h->dir);
    return -1;
  }
  if (asprintf (&probe, "%s/.ferry-probe-%ld", h->dir, (long) getpid ()) == -1) {
    probe = NULL;
    ferry_error ("local: out of memory");
    return -1;
  }
  fd = open (probe, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd == -1) {
    ferry_error_errno (errno, "local: directory %s is not writable", h->dir);
    return -1;
  }
  close (fd);
  unlink (probe);
  return 0;
}

/* Write data to dir_fd/file: a temporary in the same directory, fsync,
 * rename, fsync the directory.  A reader never sees a partial file.
 */
static int
write_atomic (int dir_fd, const char *vm_dir, const char *file,
              const char *data)
{
  LOCAL_CLEANUP_FREE char *tmp = NULL;
  size_t len = strlen (data), done = 0;
  int fd;

  if (asprintf (&tmp, ".%s.tmp", file) == -1) {
    tmp = NULL;
    ferry_error ("local: out of memory");
    return -1;
  }
  fd = openat (dir_fd, tmp, O_WRONLY | O_CREAT | O_TRUNC | O_NOFOLLOW | O_CLOEXEC,
               0600);
  if (fd == -1) {
    ferry_error_errno (errno, "local: create %s/%s", vm_dir, tmp);
    return -1;
  }
  while (done < len) {
    ssize_t r = write (fd, data + done, len - done);
    if (r == -1) {
      if (errno == EINTR)
        continue;
      ferry_error_errno (errno, "local: write %s/%s", vm_dir, tmp);
      goto fail;
    }
    done += (size_t) r;
  }
  if (fsync (fd) == -1) {
    ferry_error_errno (errno, "local: fsync %s/%s", vm_dir, tmp);
    goto fail;
  }
  close (fd);
  if (renameat (dir_fd, tmp, dir_fd, file) == -1) {
    ferry_error_errno (errno, "local: rename %s/%s to %s", vm_dir, tmp, file);
    unlinkat (dir_fd, tmp, 0);
    return -1;
  }
  fsync (dir_fd);
  return 0;
 fail:
  close (fd);
  unlinkat (dir_fd, tmp, 0);
  return -1;
}

/* Every disk's volume belongs to this VM directory and its file exists. */
static int
check_volumes_exist (int dir_fd, const char *vm_dir, const char *ns,
                     const char *vm, const json_t *spec, const json_t *volumes)
{
  const json_t *disks = json_object_get (spec, "disks");
  size_t i;

  for (i = 0; i < json_array_size (disks); ++i) {
    const json_t *vol = local_disk_volume (spec, volumes, i);
    const char *name, *format, *vns, *vvm;
    LOCAL_CLEANUP_FREE char *file = NULL;
    struct stat st;

    if (vol == NULL)
      return -1;
    name = json_string_value (json_object_get (vol, "name"));
    if (local_check_name ("volume name", name) == -1)
      return -1;
    vns = json_string_value (json_object_get (vol, "namespace"));
    vvm = json_string_value (json_object_get (vol, "vm"));
    if ((vns != NULL && vns[0] != '\0' && strcmp (vns, ns) != 0) ||
        (vvm != NULL && strcmp (vvm, vm) != 0)) {
      ferry_error ("local: VM %s/%s: volume %s belongs to %s/%s",
                   ns, vm, name, vns ? vns : ns, vvm ? vvm : vm);
      return -1;
    }
    format = local_volume_format (vol);
    if (format == NULL)
      return -1;
    if (asprintf (&file, "%s.%s", name, local_format_extension (format)) == -1) {
      file = NULL;
      ferry_error ("local: out of memory");
      return -1;
    }
    if (fstatat (dir_fd, file, &st, AT_SYMLINK_NOFOLLOW) == -1 ||
        !S_ISREG (st.st_mode)) {
      ferry_error ("local: VM %s/%s: volume file %s/%s does not exist; create the volumes first",
                   ns, vm, vm_dir, file);
      return -1;
    }
  }
  return 0;
}

static int
local_vm_create (void *handle, const json_t *spec, const json_t *volumes)
{
  struct local_handle *h = handle;
  LOCAL_CLEANUP_JSON json_t *vm_json = NULL;
  LOCAL_CLEANUP_FREE char *yaml = NULL;
  LOCAL_CLEANUP_FREE char *xml = NULL;
  LOCAL_CLEANUP_FREE char *vm_dir = NULL;
  LOCAL_CLEANUP_FREE char *yaml_file = NULL;
  LOCAL_CLEANUP_FREE char *xml_file = NULL;
  LOCAL_CLEANUP_CLOSE int dir_fd = -1;
  const char *vm, *ns, *plan, *vm_id;

  vm = local_vm_name (spec);
  if (vm == NULL)
    return -1;
  ns = local_vm_namespace (spec, volumes);
  if (local_check_name ("namespace", ns) == -1)
    return -1;
  if (asprintf (&vm_dir, "%s/%s/%s", h->dir, ns, vm) == -1 ||
      asprintf (&yaml_file, "%s.vm.yaml", vm) == -1 ||
      asprintf (&xml_file, "%s.domain.xml", vm) == -1) {
    ferry_error ("local: out of memory");
    return -1;
  }

  /* Translate first: a spec we cannot express leaves no file behind. */
  vm_json = local_kubevirt_vm (spec, volumes);
  if (vm_json == NULL)
    return -1;
  yaml = ferry_to_yaml (vm_json);
  if (yaml == NULL) {
    ferry_error_prefix ("local: VM %s/%s", ns, vm);
    return -1;
  }
  xml = local_domain_xml (spec, volumes, vm_dir);
  if (xml == NULL)
    return -1;

  /* With disks, the directory must already hold their volumes. */
  dir_fd = local_open_vm_dir (h, ns, vm,
                              json_array_size (json_object_get (spec, "disks")) == 0);
  if (dir_fd == -1) {
    ferry_error_prefix ("local: VM %s/%s: create the volumes first", ns, vm);
    return -1;
  }
  if (check_volumes_exist (dir_fd, vm_dir, ns, vm, spec, volumes) == -1)
    return -1;

  local_owner (spec, &plan, &vm_id);
  if (local_ledger_claim (dir_fd, vm_dir, yaml_file, plan, vm_id) == -1 ||
      local_ledger_claim (dir_fd, vm_dir, xml_file, plan, vm_id) == -1)
    return -1;
  if (write_atomic (dir_fd, vm_dir, yaml_file, yaml) == -1 ||
      write_atomic (dir_fd, vm_dir, xml_file, xml) == -1)
    return -1;
  ferry_debug ("local: VM %s/%s written to %s", ns, vm, vm_dir);
  return 0;
}

static int
local_vm_exists (void *handle, const char *ns, const char *name)
{
  struct local_handle *h = handle;
  LOCAL_CLEANUP_FREE char *path = NULL;
  struct stat st;

  if (local_check_name ("namespace", ns) == -1 ||
      local_check_name ("VM name", name) == -1)
    return -1;
  if (asprintf (&path, "%s/%s/%s/%s.vm.yaml", h->dir, ns, name, name) == -1) {
    path = NULL;
    ferry_error ("local: out of memory");
    return -1;
  }
  if (lstat (path, &st) == 0)
    return S_ISREG (st.st_mode) ? 1 : 0;
  if (errno == ENOENT || errno == ENOTDIR)
    return 0;
  ferry_error_errno (errno, "local: stat %s", path);
  return -1;
}

static int
local_cleanup (void *handle, const char *plan, const char *vm_id)
{
  return local_ledger_cleanup (handle, plan, vm_id);
}

static struct ferry_destination local_destination = {
  .name = "local",
  .description = "sparse raw or qcow2 volumes in a directory, with a KubeVirt VirtualMachine manifest and a libvirt domain XML per VM",
  .version = PACKAGE_VERSION,
  .thread_model = FERRY_THREAD_MODEL_SERIALIZE_HANDLE,
  .open = local_open,
  .close = local_close,
  .test_connection = local_test_connection,
  .volume_create = local_volume_create,
  .vm_create = local_vm_create,
  .vm_exists = local_vm_exists,
  .vm_power_on = NULL,                  /* nothing runs here: files only */
  .cleanup = local_cleanup,
  .volume_open = local_volume_open,     /* warm migration */
  .volume_path = local_volume_path,     /* guest conversion */
};

FERRY_REGISTER_DESTINATION (local_destination)
