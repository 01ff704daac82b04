/* ferry vSphere provider: what its files share (module-private). */
#ifndef FERRY_VSPHERE_H
#define FERRY_VSPHERE_H

#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>
#include <stdbool.h>
#include <pthread.h>
#include <libxml/tree.h>
#include <jansson.h>
#include <curl/curl.h>

#define VSPHERE_CLEANUP_FREE __attribute__((cleanup (vsphere_cleanup_free)))
#define VSPHERE_CLEANUP_JSON __attribute__((cleanup (vsphere_cleanup_json)))
#define VSPHERE_CLEANUP_XML __attribute__((cleanup (vsphere_cleanup_xml)))

static inline void vsphere_cleanup_free (void *p) { free (*(void **) p); }
/* For strings that held a credential: zeroed before they are freed. */
#define VSPHERE_CLEANUP_SCRUB __attribute__((cleanup (vsphere_cleanup_scrub)))
static inline void vsphere_cleanup_scrub (char **p)
{
  if (*p) {
    explicit_bzero (*p, strlen (*p));
    free (*p);
  }
}
static inline void vsphere_cleanup_json (json_t **p) { json_decref (*p); }
static inline void vsphere_cleanup_xml (xmlDocPtr *p) { if (*p) xmlFreeDoc (*p); }

/* ---- soap.c: the SOAP envelope and its parser ------------------------ */

/* A fault from the server: type (e.g. "InvalidLogin", "NotAuthenticated")
 * and the faultstring.  Both the caller's to free.
 */
struct vsphere_fault {
  char *type;
  char *message;
};
void vsphere_fault_clear (struct vsphere_fault *f);

/* Parse a SOAP response (outside data: any bytes).  Returns 0 with *doc set
 * and *body the first element inside soapenv:Body; 1 when the body is a
 * Fault (fault filled, *doc NULL); -1 on malformed input (error reported,
 * naming what).
 */
int vsphere_soap_parse (const char *buf, size_t len, xmlDocPtr *doc,
                        xmlNodePtr *body, struct vsphere_fault *fault);

/* Element helpers; namespaces are ignored, names compared exactly. */
xmlNodePtr vsphere_xml_child (xmlNodePtr n, const char *name);
xmlNodePtr vsphere_xml_next (xmlNodePtr n, const char *name); /* next sibling named */
/* Follows "a/b/c"; NULL when any step is missing. */
xmlNodePtr vsphere_xml_path (xmlNodePtr n, const char *path);
/* Text content of path (malloc'd), or NULL. */
char *vsphere_xml_text (xmlNodePtr n, const char *path);
/* The xsi:type of n (malloc'd), or NULL. */
char *vsphere_xml_type (xmlNodePtr n);
/* The text of path as JSON: integer / boolean / string; NULL if absent. */
json_t *vsphere_xml_int (xmlNodePtr n, const char *path);
json_t *vsphere_xml_bool (xmlNodePtr n, const char *path);
json_t *vsphere_xml_str (xmlNodePtr n, const char *path);

/* XML-escape s into a new string. */
char *vsphere_xml_escape (const char *s);

/* ---- The provider handle ------------------------------------------- */

struct vsphere_handle {
  char *name;                           /* Provider metadata.name */
  char *url;                            /* https://host/sdk */
  char *base;                           /* https://host[:port] */
  char *user, *password;                /* from the Secret; never logged */
  char *cafile;                         /* PEM file, or NULL: system store */
  bool insecure;                        /* insecureSkipVerify */
  long call_timeout;                    /* seconds per SOAP call */
  long task_timeout;                    /* seconds for a task or a shutdown */
  char *state_dir;

  char *vddk_libdir;                    /* settings.vddkLibDir, or NULL */
  char *thumbprint;                     /* Secret thumbprint (SHA-1), or NULL */
  bool quiesce;                         /* settings.snapshotQuiesce */

  /* Guards curl, headers, cookie and the session: SOAP calls come from
   * the caller's thread, and a disk source's re-login from the transfer
   * engine's workers.  Recursive: a call that re-logs in calls again.
   */
  pthread_mutex_t lock;
  CURL *curl;
  struct curl_slist *headers;
  char *cookie;                         /* "vmware_soap_session=..."; never logged */
  bool logged_in;
  unsigned logins;                      /* successful logins: objects a
                                           session made (views, collectors,
                                           tokens) die with it */

  /* From RetrieveServiceContent. */
  char *root, *property_collector, *view_manager, *session_manager;
  char *api_type, *api_version;

  /* watch(): a private PropertyCollector and its views (one per kind). */
  char *watch_collector;
  char *watch_views[16];
  size_t nr_watch_views;
  unsigned watch_logins;                /* h->logins when they were made */
  int vddk_state;                       /* 0 unknown, 1 available, -1 not */

  /* Forklift's Host objects: [{id, ipAddress, secret}] or NULL; and the
   * sessions opened to those hosts for disk transfers (hosts.c).
   */
  json_t *hosts;
  struct vsphere_host_session *host_sessions;
  size_t nr_host_sessions;
};

/* vsphere.c */
int vsphere_write_cacert (struct vsphere_handle *h, const char *pem);
void vsphere_handle_close (struct vsphere_handle *h);

/* ---- hosts.c: Host objects ------------------------------------------- */

struct vsphere_host_session {
  char *id;                             /* HostSystem moref */
  struct vsphere_handle *h;             /* owned */
};
/* The session disk transfers of VMs on host_id go through: the session
 * to the Host object's address with its Secret (opened once, kept), or h
 * itself when host_id has no Host object.  NULL after an error.
 */
struct vsphere_handle *vsphere_transfer_session (struct vsphere_handle *h,
                                                 const char *host_id);
void vsphere_hosts_close (struct vsphere_handle *h);

/* ---- session.c ------------------------------------------------------ */

int vsphere_http_init (struct vsphere_handle *h);
void vsphere_http_close (struct vsphere_handle *h);
/* RetrieveServiceContent, then Login. */
int vsphere_connect (struct vsphere_handle *h);
int vsphere_login (struct vsphere_handle *h);
void vsphere_logout (struct vsphere_handle *h);
/* Makes sure the session is alive (SessionManager.currentSession), and
 * logs in again if it is not.
 */
int vsphere_session_check (struct vsphere_handle *h);

/* Call METHOD on _this (THIS_TYPE, THIS_VALUE) with ARGS (XML, already
 * escaped).  On success *doc (caller frees) holds the response and
 * *result its returnval (NULL for void methods).  Faults are reported as
 * "vsphere: METHOD on OBJECT: FaultType: message" (OBJECT defaults to
 * THIS_VALUE).  A NotAuthenticated answer logs in again once and retries.
 */
int vsphere_call (struct vsphere_handle *h, const char *method,
                  const char *this_type, const char *this_value,
                  const char *args, const char *object,
                  xmlDocPtr *doc, xmlNodePtr *result);

/* ---- collect.c ------------------------------------------------------ */

/* One object of a RetrievePropertiesEx answer; borrowed for the callback. */
struct vsphere_object {
  const char *type;                     /* e.g. "VirtualMachine" */
  const char *id;                       /* managed object id, e.g. "vm-42" */
  xmlNodePtr node;                      /* the <objects> element */
};
typedef int (*vsphere_object_fn) (struct vsphere_handle *h,
                                  const struct vsphere_object *obj,
                                  void *opaque);

/* Every object of TYPE under the root folder, in pages. */
int vsphere_retrieve_all (struct vsphere_handle *h, const char *type,
                          const char *const *paths, vsphere_object_fn fn,
                          void *opaque);
/* One object. */
int vsphere_retrieve_one (struct vsphere_handle *h, const char *type,
                          const char *id, const char *const *paths,
                          vsphere_object_fn fn, void *opaque);
/* The <val> of property NAME, or NULL (not set, or not asked for). */
xmlNodePtr vsphere_prop (const struct vsphere_object *obj, const char *name);
/* A ManagedObjectReference element as {kind, id} (Forklift's ref). */
json_t *vsphere_ref_json (xmlNodePtr ref);
/* Forklift's kind name for a vSphere type ("HostSystem" -> "Host"). */
const char *vsphere_kind_of (const char *type);

/* ---- inventory.c ---------------------------------------------------- */

struct ferry_inventory_sink;
extern const char *const vsphere_vm_paths[];
/* The VM document (Forklift's shape) from an object read with
 * vsphere_vm_paths; caller frees.
 */
json_t *vsphere_vm_doc (const struct vsphere_object *obj);
/* Puts every entity; returns how many, or -1. */
int vsphere_inventory_sync (struct vsphere_handle *h,
                            struct ferry_inventory_sink *sink);

/* ---- cbt.c ---------------------------------------------------------- */

struct vsphere_area {
  uint64_t start, length;               /* bytes */
};
/* QueryChangedDiskAreas(snapshot or NULL, deviceKey, startOffset,
 * change_id) looped on startOffset until the answers cover [0, capacity).
 * *areas (caller frees) is sorted, disjoint, inside the disk; adjacent
 * areas are joined.  change_id "*" lists the allocated areas.
 */
int vsphere_changed_areas (struct vsphere_handle *h, const char *vm_id,
                           const char *snapshot, const char *disk_key,
                           uint64_t capacity, const char *change_id,
                           struct vsphere_area **areas, size_t *nr_areas);

/* ---- folder.c: a disk read over the datastore HTTP interface ---------- */

struct ferry_disk_source;
/* Opens url (…/folder/…-flat.vmdk?dcPath=&dsName=) with the session
 * cookie.  A read that fails is retried once on a new connection after
 * the session was checked and, if it had expired, renewed (the transfer
 * can outlive a session).  areas (taken; NULL: every byte is data) give
 * the extents.  Several connections: clone().  The source must be closed
 * before the handle.  what names the disk in messages.
 */
struct ferry_disk_source *
vsphere_folder_source_open (struct vsphere_handle *h, const char *url,
                            const char *what, uint64_t capacity,
                            struct vsphere_area *areas, size_t nr_areas);

/* ---- snapshot.c: warm migration ---------------------------------------- */

/* One disk as a snapshot (or the VM) holds it. */
struct vsphere_disk_at {
  char *file;                           /* "[ds] dir/name.vmdk" */
  char *datastore;                      /* Datastore moref */
  char *change_id;                      /* backing.changeId, or NULL */
  uint64_t capacity;                    /* bytes */
  bool has_parent;                      /* a delta over older snapshots */
  bool flat;                            /* VirtualDiskFlatVer2BackingInfo */
};
void vsphere_disk_at_clear (struct vsphere_disk_at *d);
/* The disk with key disk_key in snapshot's config.hardware.device. */
int vsphere_snapshot_disk (struct vsphere_handle *h, const char *vm_id,
                           const char *snapshot, const char *disk_key,
                           struct vsphere_disk_at *d);
int vsphere_snapshot_create (void *handle, const char *vm_id, char **snapshot_id);
int vsphere_snapshot_remove (void *handle, const char *vm_id,
                             const char *snapshot_id);
int vsphere_changed_extents (void *handle, const char *vm_id,
                             const char *disk_id, const char *snapshot_id,
                             const char *change_id,
                             int (*fn) (void *, uint64_t, uint64_t, uint32_t),
                             void *opaque, char **new_change_id);
/* For the datastore HTTP path: removes (consolidates) the snapshots below
 * snapshot in the VM's tree when all of them are ferry's own precopy
 * snapshots (named ferry-precopy-*); refuses, naming the snapshot, when one
 * is not.
 */
int vsphere_remove_older_own_snapshots (struct vsphere_handle *h,
                                        const char *vm_id,
                                        const char *snapshot);
/* Polls a Task to its end; *result (may be NULL) gets info.result. */
int vsphere_task_wait (struct vsphere_handle *h, const char *task,
                       const char *what, const char *vm_id, char **result);
/* "2000" or "vm-42-2000" -> "2000" in buf. */
int vsphere_disk_key (const char *vm_id, const char *disk_id, char *buf,
                      size_t len);

/* ---- vddk.c: nbdkit's vddk plugin --------------------------------------- */

/* Whether settings.vddkLibDir is set and nbdkit has a working vddk plugin
 * for it (asked once per handle with `nbdkit vddk libdir=DIR --dump-plugin`).
 */
bool vsphere_vddk_available (struct vsphere_handle *h);
/* The disk file (as the snapshot or the VM names it) through nbdkit's
 * vddk plugin, at snapshot (may be NULL).
 */
struct ferry_disk_source *
vsphere_vddk_open (struct vsphere_handle *h, const char *vm_id,
                   const char *snapshot, const char *file);

/* ---- spec.c --------------------------------------------------------- */

/* The neutral VM spec from the VM's document; caller frees. */
json_t *vsphere_spec_from_doc (const json_t *doc, const char *vm_id);

/* Incremental sync with WaitForUpdatesEx (never blocks: maxWaitSeconds
 * 0).  *version: the previous call's version (NULL: none); replaced.
 * The first call on a handle lists everything (a fresh collector).
 * Returns the number of entities put or removed, or -1.
 */
int vsphere_watch (struct vsphere_handle *h, struct ferry_inventory_sink *sink,
                   char **version);
void vsphere_watch_close (struct vsphere_handle *h);

#endif /* FERRY_VSPHERE_H */
