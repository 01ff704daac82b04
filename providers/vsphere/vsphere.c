/* ferry vSphere provider: vCenter or ESXi over the vSphere Web Services
 * API (vim25 SOAP), with libcurl and libxml2.
 *
 * Provider spec:   type: vsphere, url: https://vcenter.example.com/sdk
 *                  settings.taskTimeout (seconds, default 600),
 *                  settings.snapshotQuiesce ("true"/"false"),
 *                  settings.vddkLibDir (VMware's VDDK, for nbdkit's vddk)
 * Secret data:     user, password; cacert (PEM text) or
 *                  insecureSkipVerify: "true"; thumbprint (for VDDK)
 *
 * Thread model: SERIALIZE_HANDLE (one curl handle and one session per
 * provider handle; the /folder sources' workers share the session under
 * the handle's lock).  See README.md for what is tested and how.
 */
#include <config.h>

#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <ferry/provider.h>
#include <ferry/log.h>

#include "vsphere.h"

/* ---- Configuration and open ------------------------------------------ */

static const char *
secret_get (const json_t *secret, const char *key)
{
  return json_string_value (json_object_get (secret, key));
}

/* Writes the Secret's cacert (PEM text) to a private file. */
int
vsphere_write_cacert (struct vsphere_handle *h, const char *pem)
{
  char tmpl[] = "/tmp/ferry-vsphere-ca.XXXXXX";
  const char *dir = h->state_dir;
  char *path = NULL;
  int fd;
  size_t len = strlen (pem);

  if (dir && *dir) {
    if (asprintf (&path, "%s/vsphere-ca.XXXXXX", dir) == -1)
      path = NULL;
  }
  else
    path = strdup (tmpl);
  if (!path) {
    ferry_error ("vsphere: %s: cacert: out of memory", h->name);
    return -1;
  }
  fd = mkstemp (path);
  if (fd == -1 && dir && *dir) {
    /* The state directory may not exist yet; fall back to /tmp. */
    free (path);
    path = strdup (tmpl);
    fd = path ? mkstemp (path) : -1;
  }
  if (fd == -1) {
    ferry_error_errno (errno, "vsphere: %s: cannot write the Secret's cacert",
                       h->name);
    free (path);
    return -1;
  }
  if (write (fd, pem, len) != (ssize_t) len) {
    ferry_error_errno (errno, "vsphere: %s: write %s", h->name, path);
    close (fd);
    unlink (path);
    free (path);
    return -1;
  }
  close (fd);
  h->cafile = path;
  return 0;
}

static void vsphere_close (void *handle);

static int
vsphere_open (const struct ferry_open_args *args, void **handle)
{
  const json_t *settings = json_object_get (args->spec, "settings");
  const char *user, *password, *cacert, *insecure, *s;
  struct vsphere_handle *h;
  size_t hostlen;

  if (!args->type || strcmp (args->type, "vsphere") != 0)
    return FERRY_OPEN_DECLINED;
  if (!args->url || !*args->url) {
    ferry_error ("vsphere: provider %s has no url (expected "
                 "https://vcenter.example.com/sdk)",
                 args->name ? args->name : "");
    return FERRY_OPEN_ERROR;
  }
  if (strncmp (args->url, "https://", 8) != 0
      && strncmp (args->url, "http://", 7) != 0) {
    ferry_error ("vsphere: provider %s: url %s: the scheme must be https://",
                 args->name ? args->name : "", args->url);
    return FERRY_OPEN_ERROR;
  }
  user = secret_get (args->secret, "user");
  password = secret_get (args->secret, "password");
  if (!user || !*user || !password) {
    ferry_error ("vsphere: provider %s: its Secret must hold user and "
                 "password", args->name ? args->name : "");
    return FERRY_OPEN_ERROR;
  }
  cacert = secret_get (args->secret, "cacert");
  insecure = secret_get (args->secret, "insecureSkipVerify");

  h = calloc (1, sizeof *h);
  if (!h) {
    ferry_error_errno (errno, "vsphere: open");
    return FERRY_OPEN_ERROR;
  }
  {
    pthread_mutexattr_t attr;
    pthread_mutexattr_init (&attr);
    pthread_mutexattr_settype (&attr, PTHREAD_MUTEX_RECURSIVE);
    pthread_mutex_init (&h->lock, &attr);
    pthread_mutexattr_destroy (&attr);
  }
  h->call_timeout = 300;
  h->task_timeout = 600;
  if ((s = json_string_value (json_object_get (settings, "taskTimeout")))) {
    char *end;
    long v = strtol (s, &end, 10);
    if (*end || v <= 0) {
      ferry_error ("vsphere: provider %s: settings.taskTimeout \"%s\" is not "
                   "a positive number of seconds", args->name, s);
      pthread_mutex_destroy (&h->lock);
      free (h);
      return FERRY_OPEN_ERROR;
    }
    h->task_timeout = v;
  }
  if ((s = json_string_value (json_object_get (settings, "snapshotQuiesce")))) {
    if (strcmp (s, "true") != 0 && strcmp (s, "false") != 0) {
      ferry_error ("vsphere: provider %s: settings.snapshotQuiesce \"%s\" must "
                   "be \"true\" or \"false\"", args->name, s);
      pthread_mutex_destroy (&h->lock);
      free (h);
      return FERRY_OPEN_ERROR;
    }
    h->quiesce = strcmp (s, "true") == 0;
  }
  if ((s = json_string_value (json_object_get (settings, "vddkLibDir"))) && *s)
    h->vddk_libdir = strdup (s);
  if ((s = secret_get (args->secret, "thumbprint")) && *s)
    h->thumbprint = strdup (s);
  h->name = strdup (args->name ? args->name : "vsphere");
  h->user = strdup (user);
  h->password = strdup (password);
  h->state_dir = args->state_dir ? strdup (args->state_dir) : NULL;
  /* https://host:port/sdk -> url as given, base https://host:port */
  s = strstr (args->url, "://") + 3;
  hostlen = strcspn (s, "/?#");
  h->base = strndup (args->url, (size_t) (s - args->url) + hostlen);
  if (s[hostlen] == '\0' || strcmp (s + hostlen, "/") == 0) {
    if (asprintf (&h->url, "%s/sdk", h->base) == -1)
      h->url = NULL;
  }
  else
    h->url = strdup (args->url);
  if (!h->name || !h->user || !h->password || !h->base || !h->url) {
    ferry_error_errno (ENOMEM, "vsphere: open");
    goto err;
  }
  h->insecure = insecure && strcmp (insecure, "true") == 0;
  if (h->insecure)
    ferry_warn ("vsphere: provider %s: insecureSkipVerify is set: the "
                "server's TLS certificate is not verified", h->name);
  else if (cacert && *cacert && vsphere_write_cacert (h, cacert) == -1)
    goto err;

  if (args->struct_size > offsetof (struct ferry_open_args, hosts)
      && json_array_size (args->hosts) > 0)
    h->hosts = json_deep_copy (args->hosts);
  if (vsphere_http_init (h) == -1 || vsphere_connect (h) == -1)
    goto err;
  *handle = h;
  return FERRY_OPEN_OK;

 err:
  vsphere_close (h);
  return FERRY_OPEN_ERROR;
}

void
vsphere_handle_close (struct vsphere_handle *h)
{
  vsphere_close (h);
}

static void
vsphere_close (void *handle)
{
  struct vsphere_handle *h = handle;

  if (!h)
    return;
  vsphere_hosts_close (h);
  json_decref (h->hosts);
  vsphere_watch_close (h);
  vsphere_logout (h);
  vsphere_http_close (h);
  if (h->cafile) {
    unlink (h->cafile);
    free (h->cafile);
  }
  if (h->password) {
    memset (h->password, 0, strlen (h->password));
    free (h->password);
  }
  free (h->cookie);
  free (h->user);
  free (h->name);
  free (h->url);
  free (h->base);
  free (h->state_dir);
  free (h->root);
  free (h->property_collector);
  free (h->view_manager);
  free (h->session_manager);
  free (h->api_type);
  free (h->api_version);
  free (h->vddk_libdir);
  free (h->thumbprint);
  pthread_mutex_destroy (&h->lock);
  free (h);
}

static int
vsphere_test_connection (void *handle)
{
  struct vsphere_handle *h = handle;
  static const char *const names[] = { "name", NULL };

  /* An authenticated read of the root folder proves URL, TLS and login. */
  return vsphere_retrieve_one (h, "Folder", h->root, names, NULL, NULL);
}

static int
vsphere_inventory (void *handle, struct ferry_inventory_sink *sink)
{
  struct vsphere_handle *h = handle;

  if (!sink || !sink->put) {
    ferry_error ("vsphere: inventory of %s: the sink has no put", h->name);
    return -1;
  }
  if (vsphere_inventory_sync (h, sink) == -1)
    return -1;
  return sink->prune ? sink->prune (sink) : 0;
}

static int
vsphere_watch_cb (void *handle, struct ferry_inventory_sink *sink,
                  char **version)
{
  if (!sink || !sink->put || !version) {
    ferry_error ("vsphere: watch: no sink or version");
    return -1;
  }
  return vsphere_watch (handle, sink, version) == -1 ? -1 : 0;
}

/* ---- One VM ------------------------------------------------------------ */

static int
keep_vm_doc (struct vsphere_handle *h, const struct vsphere_object *obj,
             void *opaque)
{
  json_t **doc = opaque;

  json_decref (*doc);
  *doc = vsphere_vm_doc (obj);
  if (!*doc) {
    ferry_error ("vsphere: VM %s: out of memory", obj->id);
    return -1;
  }
  return 0;
}

/* The VM's document, read now; NULL after an error naming the VM. */
static json_t *
vm_read (struct vsphere_handle *h, const char *vm_id)
{
  json_t *doc = NULL;

  if (!vm_id || !*vm_id) {
    ferry_error ("vsphere: no VM id given");
    return NULL;
  }
  if (vsphere_retrieve_one (h, "VirtualMachine", vm_id, vsphere_vm_paths,
                            keep_vm_doc, &doc) == -1) {
    json_decref (doc);
    return NULL;
  }
  if (!doc)
    ferry_error ("vsphere: VM %s not found on %s", vm_id, h->url);
  return doc;
}

static json_t *
vsphere_vm_describe (void *handle, const char *vm_id)
{
  return vm_read (handle, vm_id);
}

static json_t *
vsphere_vm_spec (void *handle, const char *vm_id)
{
  VSPHERE_CLEANUP_JSON json_t *doc = vm_read (handle, vm_id);

  if (!doc)
    return NULL;
  return vsphere_spec_from_doc (doc, vm_id);
}

/* ---- Power and tasks ---------------------------------------------------- */

static int
keep_props (struct vsphere_handle *h, const struct vsphere_object *obj,
            void *opaque)
{
  /* opaque: {char **values; const char *const *names} */
  struct { char **values; const char *const *names; } *want = opaque;

  for (size_t i = 0; want->names[i]; i++) {
    xmlNodePtr v = vsphere_prop (obj, want->names[i]);
    free (want->values[i]);
    want->values[i] = v ? vsphere_xml_text (v, NULL) : NULL;
  }
  return 0;
}

static int
vsphere_power_state (void *handle, const char *vm_id)
{
  struct vsphere_handle *h = handle;
  static const char *const names[] = { "runtime.powerState", NULL };
  char *values[1] = { NULL };
  struct { char **values; const char *const *names; } want = { values, names };
  int r;

  if (vsphere_retrieve_one (h, "VirtualMachine", vm_id, names, keep_props,
                            &want) == -1)
    return -1;
  if (!values[0]) {
    ferry_error ("vsphere: VM %s: no runtime.powerState", vm_id);
    return -1;
  }
  r = strcmp (values[0], "poweredOn") == 0 ? FERRY_POWER_ON
    : strcmp (values[0], "poweredOff") == 0 ? FERRY_POWER_OFF
    : strcmp (values[0], "suspended") == 0 ? FERRY_POWER_SUSPENDED
    : FERRY_POWER_UNKNOWN;
  free (values[0]);
  return r;
}

static double
now (void)
{
  struct timespec ts;
  clock_gettime (CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Polls a Task until success, error or h->task_timeout. */
int
vsphere_task_wait (struct vsphere_handle *h, const char *task,
                   const char *what, const char *vm_id, char **result)
{
  static const char *const names[] = {
    "info.state", "info.error", "info.result", NULL,
  };
  double deadline = now () + (double) h->task_timeout;
  useconds_t delay = 50000;

  for (;;) {
    char *values[3] = { NULL, NULL, NULL };
    struct { char **values; const char *const *names; } want = { values, names };
    int r = 1;

    if (vsphere_retrieve_one (h, "Task", task, names, keep_props, &want) == -1)
      r = -1;
    else if (values[0] && strcmp (values[0], "success") == 0) {
      if (result) {
        *result = values[2];
        values[2] = NULL;
      }
      r = 0;
    }
    else if (values[0] && strcmp (values[0], "error") == 0) {
      ferry_error ("vsphere: %s %s: task %s failed: %s", what, vm_id, task,
                   values[1] && *values[1] ? values[1] : "no reason given");
      r = -1;
    }
    else if (now () > deadline) {
      ferry_error ("vsphere: %s %s: task %s still running after %ld seconds "
                   "(settings.taskTimeout)", what, vm_id, task,
                   h->task_timeout);
      r = -1;
    }
    for (size_t i = 0; i < 3; i++)
      free (values[i]);
    if (r != 1)
      return r;
    usleep (delay);
    if (delay < 1000000)
      delay *= 2;
  }
}

static int
vm_task (struct vsphere_handle *h, const char *method, const char *vm_id,
         const char *what)
{
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  VSPHERE_CLEANUP_FREE char *task = NULL;
  xmlNodePtr rv;

  if (vsphere_call (h, method, "VirtualMachine", vm_id, NULL, NULL, &doc,
                    &rv) == -1)
    return -1;
  task = vsphere_xml_text (rv, NULL);
  if (!task || !*task) {
    ferry_error ("vsphere: %s on %s: no task in the answer", method, vm_id);
    return -1;
  }
  return vsphere_task_wait (h, task, what, vm_id, NULL);
}

static int
vsphere_power_off (void *handle, const char *vm_id)
{
  struct vsphere_handle *h = handle;
  static const char *const names[] = {
    "runtime.powerState", "guest.toolsRunningStatus", NULL,
  };
  char *values[2] = { NULL, NULL };
  struct { char **values; const char *const *names; } want = { values, names };
  bool on, tools;

  if (vsphere_retrieve_one (h, "VirtualMachine", vm_id, names, keep_props,
                            &want) == -1)
    return -1;
  on = values[0] && strcmp (values[0], "poweredOff") != 0;
  tools = values[1] && strcmp (values[1], "guestToolsRunning") == 0;
  free (values[0]);
  free (values[1]);
  if (!on)
    return 0;
  if (tools) {
    /* A clean shutdown through the guest tools, then wait for it. */
    VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
    xmlNodePtr rv;
    double deadline = now () + (double) h->task_timeout;
    if (vsphere_call (h, "ShutdownGuest", "VirtualMachine", vm_id, NULL,
                      NULL, &doc, &rv) == 0) {
      for (;;) {
        int s = vsphere_power_state (h, vm_id);
        if (s == -1)
          return -1;
        if (s == FERRY_POWER_OFF)
          return 0;
        if (now () > deadline)
          break;
        usleep (500000);
      }
      ferry_warn ("vsphere: VM %s did not shut down within %ld seconds; "
                  "powering it off", vm_id, h->task_timeout);
    }
    else
      ferry_warn ("vsphere: ShutdownGuest on %s failed (%s); powering it off",
                  vm_id, ferry_get_error ());
  }
  return vm_task (h, "PowerOffVM_Task", vm_id, "power off");
}

static int
vsphere_power_on (void *handle, const char *vm_id)
{
  struct vsphere_handle *h = handle;
  int s = vsphere_power_state (h, vm_id);

  if (s == -1)
    return -1;
  if (s == FERRY_POWER_ON)
    return 0;
  return vm_task (h, "PowerOnVM_Task", vm_id, "power on");
}

/* ---- Disks -------------------------------------------------------------- */

struct name_parent {
  char *name, *parent_type, *parent_id;
};

static int
keep_name_parent (struct vsphere_handle *h, const struct vsphere_object *obj,
                  void *opaque)
{
  struct name_parent *np = opaque;
  xmlNodePtr p = vsphere_prop (obj, "parent");
  xmlChar *t = p ? xmlGetNoNsProp (p, (const xmlChar *) "type") : NULL;

  np->name = vsphere_xml_text (vsphere_prop (obj, "name"), NULL);
  np->parent_id = p ? vsphere_xml_text (p, NULL) : NULL;
  np->parent_type = t ? strdup ((const char *) t) : NULL;
  xmlFree (t);
  return 0;
}

/* The inventory path of the datacenter holding object (type, id), e.g.
 * "DC0" or "Folder1/DC0" (what the datastore HTTP interface's dcPath
 * wants).  Caller frees.
 */
static char *
datacenter_path (struct vsphere_handle *h, const char *type, const char *id)
{
  static const char *const names[] = { "name", "parent", NULL };
  char *cur_type = strdup (type), *cur_id = strdup (id);
  char *path = NULL;
  bool in_dc = false, failed = false;

  for (int depth = 0; cur_type && cur_id && depth < 64; depth++) {
    struct name_parent np = { NULL, NULL, NULL };

    if (strcmp (cur_id, h->root) == 0)
      break;
    if (vsphere_retrieve_one (h, cur_type, cur_id, names, keep_name_parent,
                              &np) == -1) {
      free (np.name), free (np.parent_type), free (np.parent_id);
      free (path);
      path = NULL;
      failed = true;
      goto out;
    }
    if (strcmp (cur_type, "Datacenter") == 0)
      in_dc = true;
    if (in_dc && np.name) {
      char *p;
      if (asprintf (&p, "%s%s%s", np.name, path ? "/" : "",
                    path ? path : "") == -1)
        p = NULL;
      free (path);
      path = p;
    }
    free (np.name);
    free (cur_type);
    free (cur_id);
    cur_type = np.parent_type;
    cur_id = np.parent_id;
  }
 out:
  free (cur_type);
  free (cur_id);
  if (!path && !failed)
    ferry_error ("vsphere: cannot find the datacenter of %s %s", type, id);
  return path;
}

static char *
url_escape_path (CURL *c, const char *s)
{
  size_t len = strlen (s) * 3 + 1;
  char *r = malloc (len), *p = r;

  if (!r)
    return NULL;
  while (*s) {
    size_t seg = strcspn (s, "/");
    char *e = curl_easy_escape (c, s, (int) seg);
    if (!e) {
      free (r);
      return NULL;
    }
    p += sprintf (p, "%s", e);
    curl_free (e);
    s += seg;
    if (*s == '/')
      *p++ = '/', s++;
  }
  *p = '\0';
  return r;
}

/* The datastore HTTP URL of the flat extent of file ("[ds] dir/name.vmdk"
 * on datastore ds_id): https://host/folder/dir/name-flat.vmdk?dcPath=&dsName=.
 */
static char *
folder_url (struct vsphere_handle *h, struct vsphere_handle *xh,
            const char *vm_label, const char *file, const char *ds_id)
{
  VSPHERE_CLEANUP_FREE char *dc = NULL, *path_esc = NULL, *dc_esc = NULL;
  VSPHERE_CLEANUP_FREE char *ds_esc = NULL, *flat = NULL, *ds_name = NULL;
  const char *close_br, *rel;
  char *url;

  if (!file || file[0] != '[' || !(close_br = strchr (file, ']'))
      || !ds_id || strlen (file) < 6
      || strcmp (file + strlen (file) - 5, ".vmdk") != 0) {
    ferry_error ("vsphere: VM %s: cannot read the disk file name \"%s\"",
                 vm_label, file ? file : "");
    return NULL;
  }
  rel = close_br + 1;
  while (*rel == ' ')
    rel++;
  if (asprintf (&flat, "%.*s-flat.vmdk", (int) (strlen (rel) - 5), rel) == -1) {
    flat = NULL;
    ferry_error ("vsphere: VM %s: out of memory", vm_label);
    return NULL;
  }
  ds_name = strndup (file + 1, (size_t) (close_br - file - 1));
  /* An ESXi host's own datastore interface has one datacenter. */
  if (xh != h && xh->api_type && strcmp (xh->api_type, "HostAgent") == 0)
    dc = strdup ("ha-datacenter");
  else
    dc = datacenter_path (h, "Datastore", ds_id);
  if (!dc || !ds_name)
    return NULL;
  path_esc = url_escape_path (h->curl, flat);
  dc_esc = curl_easy_escape (h->curl, dc, 0);
  ds_esc = curl_easy_escape (h->curl, ds_name, 0);
  if (!path_esc || !dc_esc || !ds_esc
      || asprintf (&url, "%s/folder/%s?dcPath=%s&dsName=%s", xh->base,
                   path_esc, dc_esc, ds_esc) == -1) {
    ferry_error ("vsphere: VM %s: out of memory", vm_label);
    return NULL;
  }
  return url;
}

/* The /folder source of one disk file, with its allocated areas when CBT
 * is on (QueryChangedDiskAreas "*", at the snapshot if one is given).
 */
static struct ferry_disk_source *
folder_open (struct vsphere_handle *h, const char *vm_id, const char *name,
             const char *host_id, const char *key, const char *snapshot,
             const char *file, const char *ds_id, uint64_t capacity, bool cbt)
{
  VSPHERE_CLEANUP_FREE char *url = NULL, *what = NULL;
  struct vsphere_area *areas = NULL;
  size_t n = 0;
  /* The Host object of the VM's host, if any: its address and session. */
  struct vsphere_handle *xh = vsphere_transfer_session (h, host_id);

  if (!xh) {
    ferry_error_prefix ("vsphere: VM %s (%s)", name, vm_id);
    return NULL;
  }

  if (asprintf (&what, "VM %s (%s) disk %s (%s)%s%s", name, vm_id, key,
                file, snapshot ? " at snapshot " : "",
                snapshot ? snapshot : "") == -1) {
    what = NULL;
    ferry_error ("vsphere: VM %s: out of memory", vm_id);
    return NULL;
  }
  url = folder_url (h, xh, what, file, ds_id);
  if (!url)
    return NULL;
  /* With CBT on, ask which areas are allocated, so holes are skipped
   * rather than downloaded; without it (or if the server will not say),
   * every byte is read.
   */
  if (cbt && vsphere_changed_areas (h, vm_id, snapshot, key, capacity, "*",
                                    &areas, &n) == -1) {
    ferry_warn ("vsphere: %s: reading every byte: %s", what,
                ferry_get_error ());
    areas = NULL;
    n = 0;
  }
  return vsphere_folder_source_open (xh, url, what, capacity, areas, n);
}

static struct ferry_disk_source *
vsphere_disk_open (void *handle, const char *vm_id, const char *disk_id,
                   const char *snapshot)
{
  struct vsphere_handle *h = handle;
  VSPHERE_CLEANUP_JSON json_t *doc = vm_read (h, vm_id);
  const json_t *disk = NULL, *d;
  const char *name, *power, *file, *ds_id, *host_id;
  bool cbt, vddk;
  char key[32];
  size_t i;

  if (!doc)
    return NULL;
  name = json_string_value (json_object_get (doc, "name"));
  host_id = json_string_value (json_object_get (doc, "host"));
  if (vsphere_disk_key (vm_id, disk_id, key, sizeof key) == 0)
    json_array_foreach (json_object_get (doc, "disks"), i, d) {
      char k[32];
      snprintf (k, sizeof k, "%" JSON_INTEGER_FORMAT,
                json_integer_value (json_object_get (d, "key")));
      if (strcmp (k, key) == 0)
        disk = d;
    }
  if (!disk) {
    ferry_error ("vsphere: VM %s (%s): disk %s not found", name, vm_id,
                 disk_id ? disk_id : "(null)");
    return NULL;
  }
  if (json_is_true (json_object_get (disk, "rdm"))) {
    ferry_error ("vsphere: VM %s (%s): disk %s is a raw device mapping, "
                 "which neither the datastore HTTP interface nor ferry's "
                 "VDDK path reads; map it in the plan or detach it",
                 name, vm_id, disk_id);
    return NULL;
  }
  cbt = json_is_true (json_object_get (doc, "changeTrackingEnabled"));
  vddk = vsphere_vddk_available (h);

  if (snapshot) {
    /* The disk as of the snapshot: the snapshot's own disk backing. */
    struct vsphere_disk_at at;
    struct ferry_disk_source *src;

    if (vsphere_snapshot_disk (h, vm_id, snapshot, key, &at) == -1)
      return NULL;
    if (!vddk && at.has_parent) {
      /* The datastore interface reads one file: the snapshot must sit on
       * the base disk.  ferry's own earlier precopy snapshots (the engine
       * removes them after this copy anyway) are removed now.
       */
      if (vsphere_remove_older_own_snapshots (h, vm_id, snapshot) == -1) {
        ferry_error ("vsphere: VM %s (%s): disk %s at snapshot %s is a "
                     "delta over older snapshots (%s): %s; the datastore "
                     "HTTP interface reads one flat file, not a snapshot "
                     "chain: remove the VM's older snapshots, or set the "
                     "Provider's settings.vddkLibDir for nbdkit's vddk "
                     "plugin", name, vm_id, key, snapshot, at.file,
                     ferry_get_error ());
        vsphere_disk_at_clear (&at);
        return NULL;
      }
      vsphere_disk_at_clear (&at);
      if (vsphere_snapshot_disk (h, vm_id, snapshot, key, &at) == -1)
        return NULL;
    }
    if (vddk)
      src = vsphere_vddk_open (h, vm_id, snapshot, at.file);
    else if (at.has_parent || !at.flat) {
      ferry_error ("vsphere: VM %s (%s): disk %s at snapshot %s is %s (%s); "
                   "the datastore HTTP interface reads one flat file, not a "
                   "snapshot chain: remove the VM's older snapshots so this "
                   "one sits on the base disk (a warm migration removes its "
                   "previous precopy snapshot before copying), or set the "
                   "Provider's settings.vddkLibDir for nbdkit's vddk plugin",
                   name, vm_id, key, snapshot,
                   at.has_parent ? "a delta over older snapshots"
                   : "not a flat disk", at.file);
      src = NULL;
    }
    else
      src = folder_open (h, vm_id, name, host_id, key, snapshot, at.file,
                         at.datastore, at.capacity, cbt);
    vsphere_disk_at_clear (&at);
    return src;
  }

  power = json_string_value (json_object_get (doc, "powerState"));
  if (!power || strcmp (power, "poweredOff") != 0) {
    ferry_error ("vsphere: VM %s (%s) is %s: power it off before a cold "
                 "copy of its disks (or migrate it warm, from snapshots)",
                 name, vm_id, power ? power : "in an unknown power state");
    return NULL;
  }
  file = json_string_value (json_object_get (disk, "file"));
  if (vddk)
    return vsphere_vddk_open (h, vm_id, NULL, file);
  if (json_object_get (doc, "snapshot")) {
    ferry_error ("vsphere: VM %s (%s) has snapshots: the datastore HTTP "
                 "interface reads only the base disk, not the current "
                 "state; delete (consolidate) its snapshots in vCenter, or "
                 "set the Provider's settings.vddkLibDir for nbdkit's vddk "
                 "plugin", name, vm_id);
    return NULL;
  }
  ds_id = json_string_value (json_object_get (json_object_get (disk, "datastore"), "id"));
  return folder_open (h, vm_id, name, host_id, key, NULL, file, ds_id,
                      (uint64_t) json_integer_value (json_object_get (disk, "capacity")),
                      cbt);
}

/* Warm migration: snapshots, change ids and QueryChangedDiskAreas are in
 * every vCenter and ESXi this module speaks to; whether a VM is ready (CBT
 * on, change ids on its disks) is per VM: the inventory's
 * changeTrackingEnabled, and snapshot_create's check of the change ids.
 */
static int
vsphere_can_warm (void *handle)
{
  return 1;
}

static int
vsphere_can_extents (void *handle)
{
  return 1;
}

/* Every /folder connection is a Range GET of a file that does not change
 * under it (a powered-off VM's disk, or a snapshot's frozen disk).
 */
static int
vsphere_can_multi_conn (void *handle)
{
  return 1;
}

static int
vsphere_can_power (void *handle)
{
  return 1;
}

static struct ferry_provider vsphere_provider = {
  .name = "vsphere",
  .description = "VMware vCenter or ESXi over the vSphere Web Services API",
  .version = "0.1",
  .thread_model = FERRY_THREAD_MODEL_SERIALIZE_HANDLE,
  .open = vsphere_open,
  .close = vsphere_close,
  .test_connection = vsphere_test_connection,
  .inventory = vsphere_inventory,
  .watch = vsphere_watch_cb,
  .vm_describe = vsphere_vm_describe,
  .vm_spec = vsphere_vm_spec,
  .power_state = vsphere_power_state,
  .power_off = vsphere_power_off,
  .power_on = vsphere_power_on,
  .disk_open = vsphere_disk_open,
  .can_warm = vsphere_can_warm,
  .can_extents = vsphere_can_extents,
  .can_power = vsphere_can_power,
  .can_multi_conn = vsphere_can_multi_conn,
  .snapshot_create = vsphere_snapshot_create,
  .snapshot_remove = vsphere_snapshot_remove,
  .changed_extents = vsphere_changed_extents,
};

FERRY_REGISTER_PROVIDER (vsphere_provider)
