/* ferry kubevirt destination: what its files share (module-private).
 *
 * Every function reports its own error through ferry_error() ("kubevirt:
 * ...") and returns -1 / NULL.  Tokens and keys are never logged.
 */
#ifndef FERRY_KUBEVIRT_H
#define FERRY_KUBEVIRT_H

#include <pthread.h>
#include <stddef.h>
#include <jansson.h>

#include "ferry/destination.h"
#include "common.h"

/* ---- kubeconfig.c: where the cluster is and who we are ---------------- */

struct kube_conn {
  char *server;                         /* "https://host:port", no trailing '/' */
  char *token;                          /* bearer token, or NULL; never logged */
  char *ca_pem;                         /* PEM bundle (may hold several), or NULL: system store */
  char *cert_pem;                       /* client certificate (PEM), or NULL */
  char *key_pem;                        /* client key (PEM), or NULL; never logged */
  int insecure;                         /* non-zero: TLS not verified */
  char *ns;                             /* the context's namespace, or NULL */
};

void kube_conn_clear (struct kube_conn *c);

/* Parse a kubeconfig document (YAML or JSON): its current-context, that
 * context's cluster, user and namespace.  Relative file paths
 * (certificate-authority, client-certificate, client-key, tokenFile) are
 * read relative to base_dir.  name is used in messages.
 */
int kube_conn_parse_kubeconfig (const char *name, const char *text, size_t len,
                                const char *base_dir, struct kube_conn *c);

/* path NULL: the first file of $KUBECONFIG, else ~/.kube/config. */
int kube_conn_from_kubeconfig (const char *path, struct kube_conn *c);

/* The pod's service account: sa_dir (NULL: the standard
 * /var/run/secrets/kubernetes.io/serviceaccount) holds token, ca.crt and
 * namespace; the server is $KUBERNETES_SERVICE_HOST:$KUBERNETES_SERVICE_PORT.
 */
int kube_conn_in_cluster (const char *sa_dir, struct kube_conn *c);

/* Strict base64 (RFC 4648, padding optional, whitespace skipped); the
 * result is NUL-terminated.  NULL on bad input (no error recorded).
 */
char *kube_base64_decode (const char *in, size_t *len);

/* Read a whole file (at most 16 MiB), NUL-terminated.  what names it in
 * the error.
 */
char *kube_read_file (const char *what, const char *path, size_t *len);

/* ---- status.c: HTTP failures as sentences ------------------------------ */

/* "kubevirt: VERB RESOURCE[ "NAME"][ in namespace NS]: REASON" for a
 * non-2xx answer to METHOD PATH, from the Status object in body (or the
 * raw text when it is not one): 403 names the verb and resource, 409
 * says "already exists" or "conflict", 422 lists the field causes.
 * Caller frees.  Pure: the unit tests call it directly.
 */
char *kube_status_message (const char *method, const char *path, long http,
                           const json_t *body, const char *raw);

/* ---- client.c: requests ----------------------------------------------- */

struct kube_client {
  struct kube_conn conn;
};

/* METHOD base+path with body (JSON, or NULL) and content_type (NULL:
 * application/json).  base NULL: the API server.  Returns the HTTP status
 * (2xx with *out the decoded body when out is non-NULL), or -1 for a
 * transport error.  A non-2xx answer also records the error sentence of
 * kube_status_message, so a caller that treats it as failure just returns
 * -1; one that expects it (404 on a probe) clears it.
 */
long kube_request (struct kube_client *k, const char *method,
                   const char *base, const char *path, const json_t *body,
                   const char *content_type, json_t **out);

/* Same, returning 0 only for 2xx, -1 otherwise. */
int kube_call (struct kube_client *k, const char *method, const char *path,
               const json_t *body, json_t **out);

/* Every item of a list (path may hold a query), following
 * metadata.continue with limit=500.  Returns a new array, or NULL.
 */
json_t *kube_list (struct kube_client *k, const char *path);
/* Same with limit items a page (tests page with small limits). */
json_t *kube_list_limit (struct kube_client *k, const char *path,
                         unsigned limit);

/* GET path, let mutate change the object, PUT it back; a 409 Conflict
 * (someone else wrote it) is retried with a fresh resourceVersion, up to
 * 5 times.
 */
int kube_update (struct kube_client *k, const char *path,
                 int (*mutate) (json_t *obj, void *opaque), void *opaque);

/* Poll GET path with backoff (0.1 s doubling to 2 s) until check returns
 * 1 (done) or -1 (failed, error recorded), for at most timeout seconds.
 * check sees the object (NULL when 404).
 */
int kube_wait (struct kube_client *k, const char *path, unsigned timeout,
               int (*check) (const json_t *obj, void *opaque), void *opaque,
               const char *what);

/* Apply the connection's TLS and identity to a libcurl easy handle
 * (without the bearer header).
 */
int kube_curl_tls (struct kube_client *k, void *curl);

/* "a%2Fb": every byte but unreserved characters escaped.  Caller frees. */
char *kube_escape (const char *s);

/* ---- the module handle (kubevirt.c) ----------------------------------- */

struct kv_handle {
  struct kube_client k;
  char *upload_proxy_url;               /* settings.uploadProxyURL, or NULL: discover */
  char *upload_api_url;                 /* settings.cdiUploadAPIURL, or NULL: server */
  unsigned ready_timeout;               /* seconds for a DataVolume to be UploadReady */
  unsigned done_timeout;                /* seconds for it to be Succeeded after the upload */
  int upload_async;                     /* settings.uploadAsync "true": POST /v1beta1/upload-async */
  int transfer_job;                     /* settings.transfer "job": disks copied by Jobs (job.c) */
  char *transfer_image;                 /* settings.transferImage: the Jobs' image */
  int create_namespace;                 /* settings.createNamespace "true": make a missing target namespace */
  pthread_mutex_t lock;                 /* guards namespaces */
  json_t *namespaces;                   /* object: namespaces this handle wrote into */
};

void kv_note_namespace (struct kv_handle *h, const char *ns);

/* ---- owned.c: objects of one VM of one plan (labels plan, vmID) ------- */

/* GET path (an object of want's name that exists already): 0 and *old
 * (caller's) when it is ours, else -1 with an error naming want's kind,
 * namespace and name and what to do.
 */
int kv_get_ours (struct kv_handle *h, const char *path, const json_t *want,
                 json_t **old);

/* ---- discovery.c ------------------------------------------------------ */

/* kubevirt.io served, and cdi.kubevirt.io unless transfer is job (GET
 * /apis); the error names the missing group.
 */
int kv_check_apis (struct kv_handle *h);
/* 0 exists, -1 with "namespace NS not found" or another error. */
int kv_check_namespace (struct kv_handle *h, const char *ns);
/* namespace.c: 0 when NS exists or was made now (settings.createNamespace
 * "true": a Namespace labelled app.kubernetes.io/created-by=ferry), else
 * -1 with kv_check_namespace's error saying how to fix it.
 */
int kv_ensure_namespace (struct kv_handle *h, const char *ns);
int kv_check_storage_class (struct kv_handle *h, const char *sc);
/* "Destination network not found: NS/NAME" when the NAD is absent. */
int kv_check_nad (struct kv_handle *h, const char *ns, const char *name);
/* CDIConfig "config" status.uploadProxyURL, else settings.  Caller frees. */
char *kv_upload_proxy_url (struct kv_handle *h);

/* ---- preflight.c ------------------------------------------------------ */

/* validate_targets: see include/ferry/destination.h. */
json_t *kv_validate_targets (void *handle, const json_t *targets);

/* ---- volumes.c: DataVolumes ------------------------------------------- */

/* The DataVolume for a volume object (the ABI's {name, namespace,
 * capacity, storageClass, accessMode, volumeMode, labels}).  Pure.
 */
json_t *kv_datavolume (const json_t *volume);
/* A volume object's checked basics, shared by the DataVolume and the
 * plain PVC: its capacity in bytes (> 0), or 0 with an error naming the
 * volume when its name, namespace or capacity is missing or bad.
 */
uint64_t kv_volume_capacity (const json_t *volume);
/* The volume's labels (strings only) plus app.kubernetes.io/created-by:
 * ferry; a new object.
 */
json_t *kv_volume_labels (const json_t *volume);

/* One line of the DataVolume's (and its PVC's) conditions and recent
 * events, for an error message.  Caller frees; never NULL.
 */
char *kv_dv_diagnosis (struct kv_handle *h, const char *ns, const char *name);

struct ferry_volume_sink *kv_volume_create (void *handle, const json_t *volume);

/* ---- upload.c: token request and the streaming POST ------------------- */

struct kv_upload;

/* Ask the upload API for a token for PVC ns/pvc.  Caller frees. */
char *kv_upload_token (struct kv_handle *h, const char *ns, const char *pvc);

/* Start POSTing size bytes to url with the upload token; bytes are handed
 * in through kv_upload_write, at most a bounded amount buffered.
 */
struct kv_upload *kv_upload_start (struct kv_handle *h, const char *url,
                                   const char *token, uint64_t size,
                                   const char *what);
int kv_upload_write (struct kv_upload *u, const void *buf, size_t count);
/* End of data: wait for the proxy's answer.  Frees u.  0 on HTTP 200. */
int kv_upload_finish (struct kv_upload *u);
/* Stop a transfer that failed elsewhere.  Frees u. */
void kv_upload_abort (struct kv_upload *u);

/* ---- pvc.c: plain PersistentVolumeClaims (transfer: job) --------------- */

/* The PVC for a volume object: access and volume mode from the volume,
 * else the StorageProfile of its class (when CDI serves one), else
 * ReadWriteOnce / Filesystem; size the capacity, plus the filesystem
 * overhead (CDIConfig status.filesystemOverhead, else 5.5%) for
 * Filesystem.  Created, or an existing one of the same plan and VM
 * reused (one being deleted is waited for, then made again).  *block is
 * set for volumeMode Block.
 */
int kv_pvc_ensure (struct kv_handle *h, const json_t *volume, int *block,
                   volatile int *cancel);

/* Pure builder for the above (the unit tests call it). */
json_t *kv_pvc_object (const json_t *volume, const char *access_mode,
                       const char *volume_mode, double fs_overhead);

/* ---- jobspec.c: the objects of one disk's copy Job (pure) -------------- */

struct kv_copy_spec {
  const char *ns;                       /* the target namespace */
  const char *pvc;                      /* the volume (PVC) name */
  const json_t *labels;                 /* the volume's labels (plan, migration, vmID) */
  const char *image;                    /* transferImage */
  const char *provider, *vm, *disk;     /* what the worker copies */
  const char *snapshot;                 /* or NULL */
  int block;                            /* volumeMode Block */
};

/* "<pvc>-copy", "<pvc>-source", "<pvc>-worker" (shortened with a hash
 * when longer than a label allows).  Caller frees.
 */
char *kv_copy_name (const char *pvc, const char *suffix);

json_t *kv_copy_secret (const struct kv_copy_spec *c, const char *manifests);
json_t *kv_copy_service_account (const struct kv_copy_spec *c);
json_t *kv_copy_role (const struct kv_copy_spec *c);
json_t *kv_copy_role_binding (const struct kv_copy_spec *c);
json_t *kv_copy_job (const struct kv_copy_spec *c);

/* ---- job.c: disk_copy and report_progress ------------------------------ */

#define KV_PROGRESS_ANNOTATION "ferry.konveyor.io/progress"

int kv_disk_copy (void *handle, const json_t *volume, const json_t *source,
                  ferry_progress_fn progress, void *opaque,
                  volatile int *cancel);
int kv_report_progress (void *handle, const char *job, const json_t *progress);

/* ---- vm.c, cleanup.c -------------------------------------------------- */

int kv_vm_create (void *handle, const json_t *spec, const json_t *volumes);
int kv_vm_exists (void *handle, const char *ns, const char *name);
int kv_vm_power_on (void *handle, const char *ns, const char *name);
int kv_cleanup (void *handle, const char *plan, const char *vm_id);

#endif /* FERRY_KUBEVIRT_H */
