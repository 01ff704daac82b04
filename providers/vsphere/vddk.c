/* ferry vSphere provider: disks through nbdkit's vddk plugin.
 *
 * VMware's VDDK library reads a disk through its whole snapshot chain, at
 * a snapshot, while the VM runs (which the datastore HTTP interface
 * cannot).  It cannot be shipped or installed here, so it is used only
 * when the Provider sets settings.vddkLibDir and `nbdkit vddk
 * libdir=DIR --dump-plugin` succeeds (Debian's nbdkit has no vddk plugin):
 * detected, never assumed.  The password goes to nbdkit in a 0600 file
 * (password=+FILE), removed as soon as nbdkit serves; the Secret must hold
 * the server's SHA-1 thumbprint.  Not tested here (see README.md).
 */
#include <config.h>

#include <errno.h>
#include <fcntl.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <ferry/error.h>
#include <ferry/log.h>
#include <ferry/transfer.h>

#include "vsphere.h"

extern char **environ;

bool
vsphere_vddk_available (struct vsphere_handle *h)
{
  VSPHERE_CLEANUP_FREE char *libdir = NULL;
  posix_spawn_file_actions_t fa;
  pid_t pid;
  int status;

  if (!h->vddk_libdir)
    return false;
  if (h->vddk_state)
    return h->vddk_state > 0;
  h->vddk_state = -1;
  if (asprintf (&libdir, "libdir=%s", h->vddk_libdir) == -1) {
    libdir = NULL;
    return false;
  }
  char *argv[] = { (char *) "nbdkit", (char *) "vddk", libdir,
                   (char *) "--dump-plugin", NULL };
  posix_spawn_file_actions_init (&fa);
  posix_spawn_file_actions_addopen (&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen (&fa, 2, "/dev/null", O_WRONLY, 0);
  if (posix_spawnp (&pid, "nbdkit", &fa, NULL, argv, environ) == 0
      && waitpid (pid, &status, 0) == pid && WIFEXITED (status)
      && WEXITSTATUS (status) == 0)
    h->vddk_state = 1;
  posix_spawn_file_actions_destroy (&fa);
  if (h->vddk_state < 0)
    ferry_warn ("vsphere: provider %s: settings.vddkLibDir is %s, but "
                "`nbdkit vddk libdir=... --dump-plugin` fails (no vddk "
                "plugin, or no VDDK library there): not using VDDK",
                h->name, h->vddk_libdir);
  return h->vddk_state > 0;
}

struct ferry_disk_source *
vsphere_vddk_open (struct vsphere_handle *h, const char *vm_id,
                   const char *snapshot, const char *file)
{
  VSPHERE_CLEANUP_FREE char *a_libdir = NULL, *a_server = NULL;
  VSPHERE_CLEANUP_FREE char *a_user = NULL, *a_pass = NULL, *a_tp = NULL;
  VSPHERE_CLEANUP_FREE char *a_vm = NULL, *a_snap = NULL, *a_file = NULL;
  VSPHERE_CLEANUP_FREE char *server = NULL, *pwfile = NULL;
  struct ferry_disk_source *src;
  const char *host = strstr (h->base, "://");
  int fd;

  if (!h->thumbprint) {
    ferry_error ("vsphere: VM %s: reading through VDDK needs the server's "
                 "SHA-1 thumbprint: add thumbprint to provider %s's Secret",
                 vm_id, h->name);
    return NULL;
  }
  server = strdup (host ? host + 3 : h->base);
  if (server)
    server[strcspn (server, ":/")] = '\0';   /* VDDK takes a host name */
  if (asprintf (&pwfile, "%s/vddk-password.XXXXXX",
                h->state_dir ? h->state_dir : "/tmp") == -1)
    pwfile = NULL;
  if (!server || !pwfile) {
    ferry_error ("vsphere: VM %s: VDDK: out of memory", vm_id);
    return NULL;
  }
  fd = mkstemp (pwfile);                  /* mode 0600 */
  if (fd == -1) {
    ferry_error_errno (errno, "vsphere: VM %s: VDDK password file", vm_id);
    return NULL;
  }
  if (write (fd, h->password, strlen (h->password))
      != (ssize_t) strlen (h->password)) {
    ferry_error_errno (errno, "vsphere: VM %s: VDDK password file", vm_id);
    close (fd);
    unlink (pwfile);
    return NULL;
  }
  close (fd);
  if (asprintf (&a_libdir, "libdir=%s", h->vddk_libdir) == -1) a_libdir = NULL;
  if (asprintf (&a_server, "server=%s", server) == -1) a_server = NULL;
  if (asprintf (&a_user, "user=%s", h->user) == -1) a_user = NULL;
  if (asprintf (&a_pass, "password=+%s", pwfile) == -1) a_pass = NULL;
  if (asprintf (&a_tp, "thumbprint=%s", h->thumbprint) == -1) a_tp = NULL;
  if (asprintf (&a_vm, "vm=moref=%s", vm_id) == -1) a_vm = NULL;
  if (snapshot && asprintf (&a_snap, "snapshot=%s", snapshot) == -1) a_snap = NULL;
  if (asprintf (&a_file, "file=%s", file) == -1) a_file = NULL;
  if (!a_libdir || !a_server || !a_user || !a_pass || !a_tp || !a_vm
      || (snapshot && !a_snap) || !a_file) {
    ferry_error ("vsphere: VM %s: VDDK: out of memory", vm_id);
    unlink (pwfile);
    return NULL;
  }
  const char *argv[] = {
    "nbdkit", "-r", "vddk", a_libdir, a_server, a_user, a_pass, a_tp,
    a_vm, a_file, a_snap, NULL,
  };
  src = ferry_nbd_source_spawn (argv);
  /* nbdkit read the password before it served: the file can go. */
  unlink (pwfile);
  if (!src)
    ferry_error_prefix ("vsphere: VM %s: %s through nbdkit's vddk plugin",
                        vm_id, file);
  return src;
}
