/* ferry vSphere provider: Forklift's Host objects for disk transfers.
 *
 * A Host object names an ESXi host (its HostSystem id), the address ferry
 * should reach it on (usually its interface on a migration network) and a
 * Secret of its own (user, password; cacert or insecureSkipVerify).  The
 * disks of VMs running on that host are then read from that address with
 * a session logged in with that Secret, instead of through the vCenter in
 * spec.url.  An ESXi host's own datastore interface has one datacenter,
 * "ha-datacenter" (its RetrieveServiceContent says apiType HostAgent).
 * The address may carry a port ("ADDRESS:PORT"; an IPv6 address in
 * brackets); the default is 443.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/error.h>
#include <ferry/log.h>

#include "vsphere.h"

static const json_t *
host_object (struct vsphere_handle *h, const char *host_id)
{
  const json_t *e;
  size_t i;

  json_array_foreach (h->hosts, i, e)
    if (strcmp (json_string_value (json_object_get (e, "id")) ?: "",
                host_id) == 0)
      return e;
  return NULL;
}

/* A logged-in session to the Host object's address; NULL after an error. */
static struct vsphere_handle *
host_open (struct vsphere_handle *h, const char *host_id, const json_t *e)
{
  const char *ip = json_string_value (json_object_get (e, "ipAddress"));
  const json_t *secret = json_object_get (e, "secret");
  const char *user = json_string_value (json_object_get (secret, "user"));
  const char *password = json_string_value (json_object_get (secret, "password"));
  const char *cacert = json_string_value (json_object_get (secret, "cacert"));
  const char *insecure = json_string_value (json_object_get (secret, "insecureSkipVerify"));
  struct vsphere_handle *x;
  pthread_mutexattr_t attr;
  bool v6 = ip && strchr (ip, ':') != strrchr (ip, ':') && ip[0] != '[';

  if (!ip || !*ip || strpbrk (ip, "/?#@ ")) {
    ferry_error ("vsphere: provider %s: the Host object of %s has no usable "
                 "ipAddress (\"%s\"): set spec.ipAddress to the host's "
                 "address", h->name, host_id, ip ? ip : "");
    return NULL;
  }
  if (!user || !*user || !password) {
    ferry_error ("vsphere: provider %s: the Secret of the Host object of %s "
                 "must hold user and password", h->name, host_id);
    return NULL;
  }
  x = calloc (1, sizeof *x);
  if (!x) {
    ferry_error_errno (errno, "vsphere: host %s", host_id);
    return NULL;
  }
  pthread_mutexattr_init (&attr);
  pthread_mutexattr_settype (&attr, PTHREAD_MUTEX_RECURSIVE);
  pthread_mutex_init (&x->lock, &attr);
  pthread_mutexattr_destroy (&attr);
  x->call_timeout = h->call_timeout;
  x->task_timeout = h->task_timeout;
  if (asprintf (&x->name, "%s/host %s (%s)", h->name, host_id, ip) == -1)
    x->name = NULL;
  if (asprintf (&x->base, v6 ? "https://[%s]" : "https://%s", ip) == -1)
    x->base = NULL;
  if (x->base && asprintf (&x->url, "%s/sdk", x->base) == -1)
    x->url = NULL;
  x->user = strdup (user);
  x->password = strdup (password);
  x->state_dir = h->state_dir ? strdup (h->state_dir) : NULL;
  if (!x->name || !x->base || !x->url || !x->user || !x->password
      || (h->state_dir && !x->state_dir)) {
    ferry_error_errno (ENOMEM, "vsphere: host %s", host_id);
    goto err;
  }
  x->insecure = insecure && strcmp (insecure, "true") == 0;
  if (x->insecure)
    ferry_warn ("vsphere: %s: insecureSkipVerify is set in the Host's "
                "Secret: the host's TLS certificate is not verified",
                x->name);
  else if (cacert && *cacert && vsphere_write_cacert (x, cacert) == -1)
    goto err;
  if (vsphere_http_init (x) == -1 || vsphere_connect (x) == -1) {
    ferry_error_prefix ("vsphere: Host object of %s at %s", host_id, ip);
    goto err;
  }
  ferry_debug ("vsphere: %s: disk transfers of VMs on %s go to %s",
               h->name, host_id, x->base);
  return x;

 err:
  vsphere_handle_close (x);
  return NULL;
}

struct vsphere_handle *
vsphere_transfer_session (struct vsphere_handle *h, const char *host_id)
{
  const json_t *e;
  struct vsphere_host_session *p;
  struct vsphere_handle *x;

  if (!host_id || !h->hosts || !(e = host_object (h, host_id)))
    return h;
  for (size_t i = 0; i < h->nr_host_sessions; i++)
    if (strcmp (h->host_sessions[i].id, host_id) == 0)
      return h->host_sessions[i].h;
  x = host_open (h, host_id, e);
  if (!x)
    return NULL;
  char *id = strdup (host_id);
  p = realloc (h->host_sessions, (h->nr_host_sessions + 1) * sizeof *p);
  if (p)
    h->host_sessions = p;
  if (!p || !id) {
    ferry_error_errno (ENOMEM, "vsphere: host %s", host_id);
    free (id);
    vsphere_handle_close (x);
    return NULL;
  }
  p[h->nr_host_sessions++] = (struct vsphere_host_session) { id, x };
  return x;
}

void
vsphere_hosts_close (struct vsphere_handle *h)
{
  for (size_t i = 0; i < h->nr_host_sessions; i++) {
    vsphere_handle_close (h->host_sessions[i].h);
    free (h->host_sessions[i].id);
  }
  free (h->host_sessions);
  h->host_sessions = NULL;
  h->nr_host_sessions = 0;
}
