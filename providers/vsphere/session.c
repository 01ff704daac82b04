/* ferry vSphere provider: the HTTP side of the SOAP session.
 *
 * One libcurl easy handle per provider handle (the module declares
 * SERIALIZE_HANDLE).  Login with the Secret's user and password, keep the
 * vmware_soap_session cookie (never logged), log in again once when a call
 * answers NotAuthenticated, Logout on close.
 */
#include <config.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <ferry/error.h>
#include <ferry/log.h>

#include "vsphere.h"

struct buffer {
  char *data;
  size_t len, cap;                      /* bytes */
};

static size_t
write_cb (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct buffer *b = opaque;
  size_t n = size * nmemb;

  if (b->len + n + 1 > b->cap) {
    size_t cap = b->cap ? b->cap : 65536;
    while (cap < b->len + n + 1)
      cap *= 2;
    char *p = realloc (b->data, cap);
    if (!p)
      return 0;
    b->data = p;
    b->cap = cap;
  }
  memcpy (b->data + b->len, ptr, n);
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

/* Keeps "vmware_soap_session=VALUE" from Set-Cookie. */
static size_t
header_cb (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct vsphere_handle *h = opaque;
  size_t n = size * nmemb;
  static const char set_cookie[] = "set-cookie:";
  static const char name[] = "vmware_soap_session=";

  if (n > sizeof set_cookie - 1
      && strncasecmp (ptr, set_cookie, sizeof set_cookie - 1) == 0) {
    const char *p = ptr + sizeof set_cookie - 1, *end = ptr + n;
    while (p < end && (*p == ' ' || *p == '\t'))
      p++;
    if ((size_t) (end - p) > sizeof name - 1
        && strncmp (p, name, sizeof name - 1) == 0) {
      size_t len = 0;
      while (p + len < end && p[len] != ';' && p[len] != '\r'
             && p[len] != '\n')
        len++;
      char *c = strndup (p, len);
      if (c) {
        free (h->cookie);
        h->cookie = c;
      }
    }
  }
  return n;
}

int
vsphere_http_init (struct vsphere_handle *h)
{
  h->curl = curl_easy_init ();
  if (!h->curl) {
    ferry_error ("vsphere: %s: cannot initialise libcurl", h->url);
    return -1;
  }
  h->headers = curl_slist_append (NULL, "Content-Type: text/xml; charset=utf-8");
  if (h->headers)
    h->headers = curl_slist_append (h->headers, "SOAPAction: \"urn:vim25/6.5\"");
  if (!h->headers) {
    ferry_error ("vsphere: %s: out of memory", h->url);
    return -1;
  }
  curl_easy_setopt (h->curl, CURLOPT_URL, h->url);
  curl_easy_setopt (h->curl, CURLOPT_HTTPHEADER, h->headers);
  curl_easy_setopt (h->curl, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt (h->curl, CURLOPT_CONNECTTIMEOUT, 30L);
  curl_easy_setopt (h->curl, CURLOPT_TIMEOUT, (long) h->call_timeout);
  curl_easy_setopt (h->curl, CURLOPT_PROTOCOLS_STR, "http,https");
  curl_easy_setopt (h->curl, CURLOPT_HEADERFUNCTION, header_cb);
  curl_easy_setopt (h->curl, CURLOPT_HEADERDATA, h);
  curl_easy_setopt (h->curl, CURLOPT_WRITEFUNCTION, write_cb);
  if (h->cafile)
    curl_easy_setopt (h->curl, CURLOPT_CAINFO, h->cafile);
  if (h->insecure) {
    curl_easy_setopt (h->curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt (h->curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  return 0;
}

void
vsphere_http_close (struct vsphere_handle *h)
{
  if (h->curl)
    curl_easy_cleanup (h->curl);
  curl_slist_free_all (h->headers);
  h->curl = NULL;
  h->headers = NULL;
}

/* One POST; the response body in *out (caller frees). */
static int
post (struct vsphere_handle *h, const char *method, const char *object,
      const char *envelope, struct buffer *out, long *status)
{
  CURLcode rc;

  curl_easy_setopt (h->curl, CURLOPT_POSTFIELDS, envelope);
  curl_easy_setopt (h->curl, CURLOPT_WRITEDATA, out);
  curl_easy_setopt (h->curl, CURLOPT_COOKIE, h->cookie);
  rc = curl_easy_perform (h->curl);
  if (rc != CURLE_OK) {
    free (out->data);
    out->data = NULL;
    if (rc == CURLE_PEER_FAILED_VERIFICATION || rc == CURLE_SSL_CACERT_BADFILE
        || rc == CURLE_SSL_CONNECT_ERROR)
      ferry_error ("vsphere: %s on %s at %s: TLS: %s; trust the server with "
                   "the Secret's cacert (PEM of its CA), or set "
                   "insecureSkipVerify: \"true\" in the Secret to skip "
                   "verification", method, object, h->url,
                   curl_easy_strerror (rc));
    else
      ferry_error ("vsphere: %s on %s at %s: %s", method, object, h->url,
                   curl_easy_strerror (rc));
    return -1;
  }
  curl_easy_getinfo (h->curl, CURLINFO_RESPONSE_CODE, status);
  return 0;
}

static int call_locked (struct vsphere_handle *h, const char *method,
                        const char *this_type, const char *this_value,
                        const char *args, const char *object,
                        xmlDocPtr *doc, xmlNodePtr *result);

int
vsphere_call (struct vsphere_handle *h, const char *method,
              const char *this_type, const char *this_value,
              const char *args, const char *object,
              xmlDocPtr *doc, xmlNodePtr *result)
{
  int r;

  pthread_mutex_lock (&h->lock);
  r = call_locked (h, method, this_type, this_value, args, object, doc,
                   result);
  pthread_mutex_unlock (&h->lock);
  return r;
}

static int
call_locked (struct vsphere_handle *h, const char *method,
             const char *this_type, const char *this_value,
             const char *args, const char *object,
             xmlDocPtr *doc, xmlNodePtr *result)
{
  VSPHERE_CLEANUP_SCRUB char *env = NULL;   /* Login: holds the password */
  VSPHERE_CLEANUP_FREE char *this_esc = vsphere_xml_escape (this_value);
  int relogged = 0;

  if (!object)
    object = this_value;
  if (!this_esc
      || asprintf (&env,
                   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>"
                   "<soapenv:Envelope"
                   " xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\""
                   " xmlns:xsd=\"http://www.w3.org/2001/XMLSchema\""
                   " xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\">"
                   "<soapenv:Body><%s xmlns=\"urn:vim25\">"
                   "<_this type=\"%s\">%s</_this>%s</%s>"
                   "</soapenv:Body></soapenv:Envelope>",
                   method, this_type, this_esc, args ? args : "",
                   method) == -1) {
    env = NULL;
    ferry_error ("vsphere: %s on %s: out of memory", method, object);
    return -1;
  }

  for (;;) {
    struct buffer out = { 0 };
    struct vsphere_fault fault = { 0 };
    xmlNodePtr body;
    long status = 0;
    int r;

    if (post (h, method, object, env, &out, &status) == -1)
      return -1;
    if (status != 200 && status != 500) {
      ferry_error ("vsphere: %s on %s at %s: HTTP status %ld", method,
                   object, h->url, status);
      free (out.data);
      return -1;
    }
    r = vsphere_soap_parse (out.data, out.len, doc, &body, &fault);
    free (out.data);
    if (r == -1) {
      ferry_error_prefix ("vsphere: %s on %s", method, object);
      return -1;
    }
    if (r == 1) {
      /* An expired session: log in again once, then retry. */
      if (strcmp (fault.type, "NotAuthenticated") == 0 && !relogged
          && h->logged_in && strcmp (method, "Login") != 0
          && strcmp (method, "Logout") != 0) {
        vsphere_fault_clear (&fault);
        ferry_debug ("vsphere: %s: session expired, logging in again",
                     h->name);
        h->logged_in = false;
        if (vsphere_login (h) == -1)
          return -1;
        relogged = 1;
        continue;
      }
      ferry_error ("vsphere: %s on %s: %s%s%s", method, object, fault.type,
                   fault.message && *fault.message ? ": " : "",
                   fault.message ? fault.message : "");
      vsphere_fault_clear (&fault);
      return -1;
    }
    *result = vsphere_xml_child (body, "returnval");
    return 0;
  }
}

int
vsphere_connect (struct vsphere_handle *h)
{
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  xmlNodePtr rv;

  if (vsphere_call (h, "RetrieveServiceContent", "ServiceInstance",
                    "ServiceInstance", NULL, NULL, &doc, &rv) == -1)
    return -1;
  h->root = vsphere_xml_text (rv, "rootFolder");
  h->property_collector = vsphere_xml_text (rv, "propertyCollector");
  h->view_manager = vsphere_xml_text (rv, "viewManager");
  h->session_manager = vsphere_xml_text (rv, "sessionManager");
  h->api_type = vsphere_xml_text (rv, "about/apiType");
  h->api_version = vsphere_xml_text (rv, "about/apiVersion");
  if (!h->root || !h->property_collector || !h->view_manager
      || !h->session_manager) {
    ferry_error ("vsphere: RetrieveServiceContent at %s: the answer lacks "
                 "rootFolder, propertyCollector, viewManager or "
                 "sessionManager", h->url);
    return -1;
  }
  return vsphere_login (h);
}

int
vsphere_login (struct vsphere_handle *h)
{
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  VSPHERE_CLEANUP_FREE char *user = vsphere_xml_escape (h->user);
  VSPHERE_CLEANUP_SCRUB char *pass = vsphere_xml_escape (h->password);
  VSPHERE_CLEANUP_SCRUB char *args = NULL;
  xmlNodePtr rv;
  int r;

  if (!user || !pass
      || asprintf (&args, "<userName>%s</userName><password>%s</password>",
                   user, pass) == -1) {
    args = NULL;
    ferry_error ("vsphere: Login at %s: out of memory", h->url);
    return -1;
  }
  free (h->cookie);
  h->cookie = NULL;
  r = vsphere_call (h, "Login", "SessionManager", h->session_manager, args,
                    h->user, &doc, &rv);
  if (r == -1)
    return -1;
  if (!h->cookie) {
    ferry_error ("vsphere: Login as %s at %s: the server set no "
                 "vmware_soap_session cookie", h->user, h->url);
    return -1;
  }
  h->logged_in = true;
  h->logins++;
  return 0;
}

void
vsphere_logout (struct vsphere_handle *h)
{
  VSPHERE_CLEANUP_XML xmlDocPtr doc = NULL;
  xmlNodePtr rv;

  if (!h->logged_in || !h->curl)
    return;
  h->logged_in = false;
  if (vsphere_call (h, "Logout", "SessionManager", h->session_manager, NULL,
                    NULL, &doc, &rv) == -1)
    ferry_debug ("vsphere: %s: logout: %s", h->name, ferry_get_error ());
}

static int
keep_current_session (struct vsphere_handle *h,
                      const struct vsphere_object *obj, void *opaque)
{
  bool *active = opaque;
  xmlNodePtr v = vsphere_prop (obj, "currentSession");

  *active = v && vsphere_xml_child (v, "key") != NULL;
  return 0;
}

int
vsphere_session_check (struct vsphere_handle *h)
{
  static const char *const names[] = { "currentSession", NULL };
  bool active = false;
  int r;

  pthread_mutex_lock (&h->lock);
  /* A server that faults NotAuthenticated makes vsphere_call log in
   * again; one that answers without a currentSession (the property is
   * unset for a caller without a session) is logged in to here.
   */
  r = vsphere_retrieve_one (h, "SessionManager", h->session_manager, names,
                            keep_current_session, &active);
  if (r == 0 && !active) {
    ferry_debug ("vsphere: %s: no current session, logging in again",
                 h->name);
    h->logged_in = false;
    r = vsphere_login (h);
  }
  pthread_mutex_unlock (&h->lock);
  return r;
}
