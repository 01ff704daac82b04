/* ferry kubevirt destination: the module (Provider spec.type "openshift",
 * Forklift's name for a KubeVirt cluster).
 *
 * Where the cluster is: spec.url with the Secret's token, cacert (PEM,
 * may hold several certificates) and insecureSkipVerify; with no url and
 * no token, the current kubeconfig ($KUBECONFIG, ~/.kube/config), else
 * the pod's service account.  Optional spec.settings: uploadProxyURL,
 * cdiUploadAPIURL, uploadAsync ("true"), uploadReadyTimeout and
 * uploadDoneTimeout (seconds); transfer ("upload", the default, or "job":
 * each disk copied by a Job in the cluster, job.c), transferImage (the
 * Jobs' image, default ferry:VERSION) and createNamespace ("true": a
 * missing target namespace is created).
 */
#include <config.h>

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <curl/curl.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

#define READY_TIMEOUT 300               /* seconds: DataVolume to UploadReady */
#define DONE_TIMEOUT 600                /* seconds: upload to Succeeded */

static const char *
setting (const struct ferry_open_args *args, const char *key)
{
  const char *s = json_string_value (json_object_get (json_object_get (args->spec, "settings"), key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

static const char *
secret_value (const struct ferry_open_args *args, const char *key)
{
  const char *s = json_string_value (json_object_get (args->secret, key));
  return s != NULL && s[0] != '\0' ? s : NULL;
}

static int
seconds (const struct ferry_open_args *args, const char *key, unsigned dflt,
         unsigned *out)
{
  const char *s = setting (args, key);
  char *end;
  unsigned long v;

  *out = dflt;
  if (s == NULL)
    return 0;
  v = strtoul (s, &end, 10);
  if (*end != '\0' || v == 0 || v > 86400) {
    ferry_error ("kubevirt: provider %s/%s: settings.%s \"%s\": not a number of seconds (1..86400)",
                 args->ns, args->name, key, s);
    return -1;
  }
  *out = (unsigned) v;
  return 0;
}

static char *
trimmed_url (const char *what, const struct ferry_open_args *args, const char *url)
{
  char *s;

  if (strncmp (url, "https://", 8) != 0) {
    ferry_error ("kubevirt: provider %s/%s: %s \"%s\": must be an https:// URL",
                 args->ns, args->name, what, url);
    return NULL;
  }
  s = strdup (url);
  while (s != NULL && strlen (s) > 8 && s[strlen (s) - 1] == '/')
    s[strlen (s) - 1] = '\0';
  return s;
}

static int
connect_params (const struct ferry_open_args *args, struct kube_conn *c)
{
  const char *token = secret_value (args, "token");
  const char *cacert = secret_value (args, "cacert");
  const char *insecure = secret_value (args, "insecureSkipVerify");

  if (args->url == NULL || args->url[0] == '\0') {
    const char *env = getenv ("KUBECONFIG");
    const char *home = getenv ("HOME");
    DEST_CLEANUP_FREE char *def = NULL;

    if (token != NULL) {
      ferry_error ("kubevirt: provider %s/%s: a token without a url: set spec.url to the API server",
                   args->ns, args->name);
      return -1;
    }
    if ((env != NULL && env[0] != '\0') ||
        (home != NULL && asprintf (&def, "%s/.kube/config", home) != -1 &&
         access (def, R_OK) == 0))
      return kube_conn_from_kubeconfig (NULL, c);
    return kube_conn_in_cluster (getenv ("FERRY_KUBE_SA_DIR"), c);
  }
  c->server = trimmed_url ("url", args, args->url);
  if (c->server == NULL)
    return -1;
  if (token == NULL) {
    ferry_error ("kubevirt: provider %s/%s: its Secret has no token", args->ns, args->name);
    return -1;
  }
  c->token = strdup (token);
  c->ca_pem = cacert ? strdup (cacert) : NULL;
  c->insecure = insecure != NULL && strcmp (insecure, "true") == 0;
  if (c->token == NULL || (cacert && c->ca_pem == NULL)) {
    ferry_error ("kubevirt: out of memory");
    return -1;
  }
  return 0;
}

/* settings.KEY: "true" or "false" (absent: false). */
static int
boolean (const struct ferry_open_args *args, const char *key, int *out)
{
  const char *s = setting (args, key);

  *out = s != NULL && strcmp (s, "true") == 0;
  if (s != NULL && strcmp (s, "true") != 0 && strcmp (s, "false") != 0) {
    ferry_error ("kubevirt: provider %s/%s: settings.%s \"%s\": must be \"true\" or \"false\"",
                 args->ns, args->name, key, s);
    return -1;
  }
  return 0;
}

/* settings.transfer and transferImage. */
static int
transfer_settings (const struct ferry_open_args *args, struct kv_handle *h)
{
  const char *mode = setting (args, "transfer");
  const char *image = setting (args, "transferImage");

  if (mode != NULL && strcmp (mode, "job") != 0 && strcmp (mode, "upload") != 0) {
    ferry_error ("kubevirt: provider %s/%s: settings.transfer \"%s\": must be \"upload\" (the engine streams through the CDI upload proxy) or \"job\" (a Job in the cluster copies each disk)",
                 args->ns, args->name, mode);
    return -1;
  }
  h->transfer_job = mode != NULL && strcmp (mode, "job") == 0;
  if (image != NULL && strpbrk (image, " \t\n") != NULL) {
    ferry_error ("kubevirt: provider %s/%s: settings.transferImage \"%s\": an image reference has no spaces",
                 args->ns, args->name, image);
    return -1;
  }
  h->transfer_image = strdup (image ? image : "ferry:" PACKAGE_VERSION);
  if (h->transfer_image == NULL) {
    ferry_error ("kubevirt: out of memory");
    return -1;
  }
  return 0;
}

static void kv_close (void *handle);

static int
kv_open (const struct ferry_open_args *args, void **handle)
{
  struct kv_handle *h = calloc (1, sizeof *h);
  const char *proxy = setting (args, "uploadProxyURL");
  const char *api = setting (args, "cdiUploadAPIURL");

  *handle = NULL;
  if (h == NULL) {
    ferry_error ("kubevirt: out of memory");
    return FERRY_OPEN_ERROR;
  }
  pthread_mutex_init (&h->lock, NULL);
  h->namespaces = json_object ();
  curl_global_init (CURL_GLOBAL_DEFAULT);
  if (connect_params (args, &h->k.conn) == -1 ||
      seconds (args, "uploadReadyTimeout", READY_TIMEOUT, &h->ready_timeout) == -1 ||
      seconds (args, "uploadDoneTimeout", DONE_TIMEOUT, &h->done_timeout) == -1 ||
      transfer_settings (args, h) == -1 ||
      boolean (args, "createNamespace", &h->create_namespace) == -1 ||
      (proxy && (h->upload_proxy_url = trimmed_url ("settings.uploadProxyURL", args, proxy)) == NULL) ||
      (api && (h->upload_api_url = trimmed_url ("settings.cdiUploadAPIURL", args, api)) == NULL)) {
    kv_close (h);
    return FERRY_OPEN_ERROR;
  }
  h->upload_async = setting (args, "uploadAsync") != NULL &&
    strcmp (setting (args, "uploadAsync"), "true") == 0;
  if (h->k.conn.insecure)
    ferry_warn ("kubevirt: provider %s/%s: insecureSkipVerify: the API server's certificate is not verified",
                args->ns, args->name);
  *handle = h;
  return FERRY_OPEN_OK;
}

static void
kv_close (void *handle)
{
  struct kv_handle *h = handle;

  if (h == NULL)
    return;
  kube_conn_clear (&h->k.conn);
  free (h->upload_proxy_url);
  free (h->upload_api_url);
  free (h->transfer_image);
  json_decref (h->namespaces);
  pthread_mutex_destroy (&h->lock);
  free (h);
  curl_global_cleanup ();
}

void
kv_note_namespace (struct kv_handle *h, const char *ns)
{
  pthread_mutex_lock (&h->lock);
  json_object_set_new (h->namespaces, ns, json_true ());
  pthread_mutex_unlock (&h->lock);
}

/* Reachable, authenticated (GET /apis needs it), KubeVirt and (unless
 * transfer is job) CDI served, and the context's namespace present.
 */
static int
kv_test_connection (void *handle)
{
  struct kv_handle *h = handle;

  if (kv_check_apis (h) == -1)
    return -1;
  if (h->k.conn.ns != NULL && kv_check_namespace (h, h->k.conn.ns) == -1)
    return -1;
  return 0;
}

static struct ferry_destination kubevirt_destination = {
  .name = "kubevirt",
  .description = "KubeVirt cluster (Provider type openshift): CDI DataVolumes filled through the upload proxy, or PVCs filled by Jobs in the cluster (transfer: job); VirtualMachines",
  .version = PACKAGE_VERSION,
  .thread_model = FERRY_THREAD_MODEL_PARALLEL,
  .open = kv_open,
  .close = kv_close,
  .test_connection = kv_test_connection,
  .volume_create = kv_volume_create,
  .vm_create = kv_vm_create,
  .vm_exists = kv_vm_exists,
  .vm_power_on = kv_vm_power_on,
  .cleanup = kv_cleanup,
  .validate_targets = kv_validate_targets,
  .disk_copy = kv_disk_copy,
  .report_progress = kv_report_progress,
};

FERRY_REGISTER_DESTINATION (kubevirt_destination)
