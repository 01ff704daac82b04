/* ferry kubevirt destination: requests to the API server on libcurl.
 *
 * One easy handle per request, so a kube_client is safe to share between
 * threads (it is read-only after open).  TLS is verified unless the
 * Provider says insecureSkipVerify; the CA bundle is handed to libcurl
 * from memory (CURLOPT_CAINFO_BLOB), never written to a file.
 */
#include <config.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <curl/curl.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "kubevirt.h"

#define BODY_MAX (64u * 1024 * 1024)    /* bytes of an answer we accept */
#define REQUEST_TIMEOUT 120L            /* seconds for one request */

struct buf {
  char *data;
  size_t len;
  int too_big;
};

static size_t
on_data (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct buf *b = opaque;
  size_t n = size * nmemb;
  char *p;

  if (b->len + n > BODY_MAX) {
    b->too_big = 1;
    return 0;
  }
  p = realloc (b->data, b->len + n + 1);
  if (p == NULL)
    return 0;
  memcpy (p + b->len, ptr, n);
  b->data = p;
  b->len += n;
  b->data[b->len] = '\0';
  return n;
}

char *
kube_escape (const char *s)
{
  static const char hex[] = "0123456789ABCDEF";
  char *out = malloc (strlen (s) * 3 + 1), *o = out;

  if (out == NULL)
    return NULL;
  for (; *s; ++s) {
    unsigned char c = (unsigned char) *s;
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
        (c >= '0' && c <= '9') || c == '-' || c == '.' || c == '_' || c == '~')
      *o++ = (char) c;
    else {
      *o++ = '%';
      *o++ = hex[c >> 4];
      *o++ = hex[c & 15];
    }
  }
  *o = '\0';
  return out;
}

int
kube_curl_tls (struct kube_client *k, void *curl)
{
  const struct kube_conn *c = &k->conn;

  if (c->insecure) {
    curl_easy_setopt (curl, CURLOPT_SSL_VERIFYPEER, 0L);
    curl_easy_setopt (curl, CURLOPT_SSL_VERIFYHOST, 0L);
  }
  else if (c->ca_pem != NULL) {
    struct curl_blob blob = {
      .data = c->ca_pem, .len = strlen (c->ca_pem), .flags = CURL_BLOB_COPY,
    };
    if (curl_easy_setopt (curl, CURLOPT_CAINFO_BLOB, &blob) != CURLE_OK) {
      ferry_error ("kubevirt: this libcurl cannot take a CA bundle from memory (CURLOPT_CAINFO_BLOB)");
      return -1;
    }
  }
  if (c->cert_pem != NULL && c->key_pem != NULL) {
    struct curl_blob cert = {
      .data = c->cert_pem, .len = strlen (c->cert_pem), .flags = CURL_BLOB_COPY,
    };
    struct curl_blob key = {
      .data = c->key_pem, .len = strlen (c->key_pem), .flags = CURL_BLOB_COPY,
    };
    curl_easy_setopt (curl, CURLOPT_SSLCERTTYPE, "PEM");
    curl_easy_setopt (curl, CURLOPT_SSLKEYTYPE, "PEM");
    if (curl_easy_setopt (curl, CURLOPT_SSLCERT_BLOB, &cert) != CURLE_OK ||
        curl_easy_setopt (curl, CURLOPT_SSLKEY_BLOB, &key) != CURLE_OK) {
      ferry_error ("kubevirt: this libcurl cannot take a client certificate from memory");
      return -1;
    }
  }
  curl_easy_setopt (curl, CURLOPT_PROTOCOLS_STR, "https");
  curl_easy_setopt (curl, CURLOPT_NOSIGNAL, 1L);
  return 0;
}

long
kube_request (struct kube_client *k, const char *method, const char *base,
              const char *path, const json_t *body, const char *content_type,
              json_t **out)
{
  CURL *curl = curl_easy_init ();
  struct curl_slist *headers = NULL;
  DEST_CLEANUP_FREE char *url = NULL, *auth = NULL, *ctype = NULL;
  DEST_CLEANUP_FREE char *payload = NULL;
  struct buf answer = { 0 };
  char errbuf[CURL_ERROR_SIZE] = "";
  long http = -1;
  CURLcode rc;
  json_t *decoded = NULL;

  if (out)
    *out = NULL;
  if (curl == NULL) {
    ferry_error ("kubevirt: %s %s: cannot start libcurl", method, path);
    return -1;
  }
  if (asprintf (&url, "%s%s", base ? base : k->conn.server, path) == -1 ||
      asprintf (&ctype, "Content-Type: %s",
                content_type ? content_type : "application/json") == -1) {
    url = ctype = NULL;
    ferry_error ("kubevirt: %s %s: out of memory", method, path);
    goto done;
  }
  if (body != NULL) {
    payload = json_dumps (body, JSON_COMPACT);
    if (payload == NULL) {
      ferry_error ("kubevirt: %s %s: encoding the body: out of memory", method, path);
      goto done;
    }
    curl_easy_setopt (curl, CURLOPT_POSTFIELDS, payload);
    curl_easy_setopt (curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) strlen (payload));
    headers = curl_slist_append (headers, ctype);
  }
  headers = curl_slist_append (headers, "Accept: application/json");
  if (k->conn.token != NULL) {
    if (asprintf (&auth, "Authorization: Bearer %s", k->conn.token) == -1) {
      auth = NULL;
      ferry_error ("kubevirt: %s %s: out of memory", method, path);
      goto done;
    }
    headers = curl_slist_append (headers, auth);
  }
  if (kube_curl_tls (k, curl) == -1)
    goto done;
  curl_easy_setopt (curl, CURLOPT_URL, url);
  curl_easy_setopt (curl, CURLOPT_CUSTOMREQUEST, method);
  if (strcmp (method, "GET") == 0)
    curl_easy_setopt (curl, CURLOPT_HTTPGET, 1L);
  curl_easy_setopt (curl, CURLOPT_HTTPHEADER, headers);
  curl_easy_setopt (curl, CURLOPT_WRITEFUNCTION, on_data);
  curl_easy_setopt (curl, CURLOPT_WRITEDATA, &answer);
  curl_easy_setopt (curl, CURLOPT_ERRORBUFFER, errbuf);
  curl_easy_setopt (curl, CURLOPT_TIMEOUT, REQUEST_TIMEOUT);
  curl_easy_setopt (curl, CURLOPT_CONNECTTIMEOUT, 20L);

  rc = curl_easy_perform (curl);
  if (rc != CURLE_OK) {
    ferry_error ("kubevirt: %s %s: %s", method, url,
                 answer.too_big ? "answer larger than 64 MiB"
                 : errbuf[0] ? errbuf : curl_easy_strerror (rc));
    goto done;
  }
  curl_easy_getinfo (curl, CURLINFO_RESPONSE_CODE, &http);
  if (answer.len > 0)
    decoded = json_loadb (answer.data, answer.len, 0, NULL);
  if (http >= 200 && http < 300) {
    if (out) {
      if (decoded == NULL && answer.len > 0) {
        ferry_error ("kubevirt: %s %s: the answer is not JSON", method, path);
        http = -1;
        goto done;
      }
      *out = decoded;
      decoded = NULL;
    }
  }
  else {
    char raw[201];
    char *msg;
    snprintf (raw, sizeof raw, "%s", answer.data ? answer.data : "");
    raw[strcspn (raw, "\r\n")] = '\0';
    msg = kube_status_message (method, path, http, decoded, raw);
    ferry_error ("%s", msg ? msg : "kubevirt: request failed");
    free (msg);
  }
 done:
  json_decref (decoded);
  free (answer.data);
  curl_slist_free_all (headers);
  curl_easy_cleanup (curl);
  return http;
}

int
kube_call (struct kube_client *k, const char *method, const char *path,
           const json_t *body, json_t **out)
{
  long http = kube_request (k, method, NULL, path, body, NULL, out);
  return http >= 200 && http < 300 ? 0 : -1;
}

json_t *
kube_list (struct kube_client *k, const char *path)
{
  return kube_list_limit (k, path, 500);
}

json_t *
kube_list_limit (struct kube_client *k, const char *path, unsigned limit)
{
  json_t *items = json_array ();
  DEST_CLEANUP_FREE char *cont = NULL;
  const char *sep = strchr (path, '?') ? "&" : "?";

  if (items == NULL) {
    ferry_error ("kubevirt: list %s: out of memory", path);
    return NULL;
  }
  do {
    DEST_CLEANUP_FREE char *page = NULL;
    DEST_CLEANUP_JSON json_t *list = NULL;
    const char *next;

    if (asprintf (&page, "%s%slimit=%u%s%s", path, sep, limit,
                  cont ? "&continue=" : "", cont ? cont : "") == -1) {
      page = NULL;
      ferry_error ("kubevirt: list %s: out of memory", path);
      json_decref (items);
      return NULL;
    }
    if (kube_call (k, "GET", page, NULL, &list) == -1) {
      json_decref (items);
      return NULL;
    }
    json_array_extend (items, json_object_get (list, "items"));
    next = json_string_value (json_object_get (json_object_get (list, "metadata"),
                                               "continue"));
    free (cont);
    cont = next && next[0] ? kube_escape (next) : NULL;
  } while (cont != NULL);
  return items;
}

int
kube_update (struct kube_client *k, const char *path,
             int (*mutate) (json_t *obj, void *opaque), void *opaque)
{
  int attempt;

  for (attempt = 0; attempt < 5; ++attempt) {
    DEST_CLEANUP_JSON json_t *obj = NULL;
    long http;

    if (kube_call (k, "GET", path, NULL, &obj) == -1)
      return -1;
    if (mutate (obj, opaque) == -1)
      return -1;
    /* obj carries the resourceVersion we read: a 409 means it changed. */
    http = kube_request (k, "PUT", NULL, path, obj, NULL, NULL);
    if (http >= 200 && http < 300)
      return 0;
    if (http != 409)
      return -1;
    ferry_debug ("kubevirt: update %s: conflict, retrying with a fresh copy", path);
  }
  ferry_error_prefix ("after 5 attempts");
  return -1;
}

static void
sleep_ms (unsigned ms)
{
  struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
  nanosleep (&ts, NULL);
}

int
kube_wait (struct kube_client *k, const char *path, unsigned timeout,
           int (*check) (const json_t *obj, void *opaque), void *opaque,
           const char *what)
{
  struct timespec start, now;
  unsigned delay = 100;                 /* ms */

  clock_gettime (CLOCK_MONOTONIC, &start);
  for (;;) {
    DEST_CLEANUP_JSON json_t *obj = NULL;
    long http = kube_request (k, "GET", NULL, path, NULL, NULL, &obj);
    int r;

    if (http == -1 || (http != 404 && (http < 200 || http >= 300)))
      return -1;
    if (http == 404)
      ferry_clear_error ();
    r = check (http == 404 ? NULL : obj, opaque);
    if (r != 0)
      return r == 1 ? 0 : -1;
    clock_gettime (CLOCK_MONOTONIC, &now);
    if (now.tv_sec - start.tv_sec >= (time_t) timeout) {
      ferry_error ("kubevirt: %s: still not ready after %u seconds", what, timeout);
      return -1;
    }
    sleep_ms (delay);
    delay = delay * 2 > 2000 ? 2000 : delay * 2;
  }
}
