/* ferry kubevirt destination: the CDI upload path.
 *
 * kv_upload_token asks upload.cdi.kubevirt.io for a token for one PVC.
 * kv_upload_* stream the disk to the upload proxy in one POST: libcurl
 * pulls the body through a read callback in a thread of its own, while
 * the transfer engine pushes bytes in through kv_upload_write.  A ring
 * buffer of RING bytes between them bounds memory whatever the disk size.
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

#define RING (8u * 1024 * 1024)         /* bytes buffered between engine and libcurl */
#define ANSWER_MAX 4096                 /* bytes of the proxy's answer kept */

char *
kv_upload_token (struct kv_handle *h, const char *ns, const char *pvc)
{
  DEST_CLEANUP_FREE char *en = kube_escape (ns), *path = NULL;
  DEST_CLEANUP_JSON json_t *req = NULL, *answer = NULL;
  const char *tok;
  long http;

  req = json_pack ("{s:s, s:s, s:{s:s, s:s}, s:{s:s}}",
                   "apiVersion", "upload.cdi.kubevirt.io/v1beta1",
                   "kind", "UploadTokenRequest",
                   "metadata", "name", pvc, "namespace", ns,
                   "spec", "pvcName", pvc);
  if (en == NULL || req == NULL ||
      asprintf (&path, "/apis/upload.cdi.kubevirt.io/v1beta1/namespaces/%s/uploadtokenrequests",
                en) == -1) {
    ferry_error ("kubevirt: upload token for %s/%s: out of memory", ns, pvc);
    return NULL;
  }
  http = kube_request (&h->k, "POST", h->upload_api_url, path, req, NULL, &answer);
  if (http < 200 || http >= 300) {
    ferry_error_prefix ("kubevirt: upload token for PVC %s/%s", ns, pvc);
    return NULL;
  }
  tok = json_string_value (json_object_get (json_object_get (answer, "status"), "token"));
  if (tok == NULL || tok[0] == '\0') {
    ferry_error ("kubevirt: upload token for PVC %s/%s: the answer has no status.token", ns, pvc);
    return NULL;
  }
  return strdup (tok);
}

struct kv_upload {
  pthread_t thread;
  pthread_mutex_t lock;                 /* guards everything below it */
  pthread_cond_t cond;                  /* signalled on every change */
  char *ring;                           /* RING bytes */
  size_t head, len;                     /* bytes: read position, bytes held */
  int eof;                              /* the engine wrote its last byte */
  int aborted;                          /* stop now */
  int done;                             /* the libcurl thread has finished */
  CURLcode rc;
  long http;
  char errbuf[CURL_ERROR_SIZE];
  char answer[ANSWER_MAX + 1];
  size_t answer_len;
  CURL *curl;
  struct curl_slist *headers;
  char *what;                           /* "PVC ns/name", for messages */
};

static size_t
on_read (char *dest, size_t size, size_t nmemb, void *opaque)
{
  struct kv_upload *u = opaque;
  size_t want = size * nmemb, n, first;

  pthread_mutex_lock (&u->lock);
  while (u->len == 0 && !u->eof && !u->aborted)
    pthread_cond_wait (&u->cond, &u->lock);
  if (u->aborted) {
    pthread_mutex_unlock (&u->lock);
    return CURL_READFUNC_ABORT;
  }
  n = u->len < want ? u->len : want;
  first = RING - u->head < n ? RING - u->head : n;
  memcpy (dest, u->ring + u->head, first);
  memcpy (dest + first, u->ring, n - first);
  u->head = (u->head + n) % RING;
  u->len -= n;
  pthread_cond_broadcast (&u->cond);
  pthread_mutex_unlock (&u->lock);
  return n;                             /* 0 at the end of the data */
}

static size_t
on_answer (char *ptr, size_t size, size_t nmemb, void *opaque)
{
  struct kv_upload *u = opaque;
  size_t n = size * nmemb, room = ANSWER_MAX - u->answer_len;

  memcpy (u->answer + u->answer_len, ptr, n < room ? n : room);
  u->answer_len += n < room ? n : room;
  u->answer[u->answer_len] = '\0';
  return n;
}

static void *
run (void *opaque)
{
  struct kv_upload *u = opaque;
  CURLcode rc = curl_easy_perform (u->curl);
  long http = 0;

  curl_easy_getinfo (u->curl, CURLINFO_RESPONSE_CODE, &http);
  pthread_mutex_lock (&u->lock);
  u->rc = rc;
  u->http = http;
  u->done = 1;
  pthread_cond_broadcast (&u->cond);
  pthread_mutex_unlock (&u->lock);
  return NULL;
}

static void
upload_free (struct kv_upload *u)
{
  curl_slist_free_all (u->headers);
  if (u->curl)
    curl_easy_cleanup (u->curl);
  pthread_mutex_destroy (&u->lock);
  pthread_cond_destroy (&u->cond);
  free (u->ring);
  free (u->what);
  free (u);
}

struct kv_upload *
kv_upload_start (struct kv_handle *h, const char *url, const char *token,
                 uint64_t size, const char *what)
{
  struct kv_upload *u = calloc (1, sizeof *u);
  DEST_CLEANUP_FREE char *auth = NULL;

  if (u == NULL)
    goto oom;
  pthread_mutex_init (&u->lock, NULL);
  pthread_cond_init (&u->cond, NULL);
  u->ring = malloc (RING);
  u->what = strdup (what);
  u->curl = curl_easy_init ();
  if (u->ring == NULL || u->what == NULL || u->curl == NULL ||
      asprintf (&auth, "Authorization: Bearer %s", token) == -1) {
    auth = NULL;
    upload_free (u);
    goto oom;
  }
  u->headers = curl_slist_append (u->headers, auth);
  u->headers = curl_slist_append (u->headers, "Content-Type: application/octet-stream");
  u->headers = curl_slist_append (u->headers, "Expect:");
  if (kube_curl_tls (&h->k, u->curl) == -1) {
    upload_free (u);
    return NULL;
  }
  curl_easy_setopt (u->curl, CURLOPT_URL, url);
  curl_easy_setopt (u->curl, CURLOPT_POST, 1L);
  curl_easy_setopt (u->curl, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t) size);
  curl_easy_setopt (u->curl, CURLOPT_READFUNCTION, on_read);
  curl_easy_setopt (u->curl, CURLOPT_READDATA, u);
  curl_easy_setopt (u->curl, CURLOPT_WRITEFUNCTION, on_answer);
  curl_easy_setopt (u->curl, CURLOPT_WRITEDATA, u);
  curl_easy_setopt (u->curl, CURLOPT_HTTPHEADER, u->headers);
  curl_easy_setopt (u->curl, CURLOPT_ERRORBUFFER, u->errbuf);
  curl_easy_setopt (u->curl, CURLOPT_CONNECTTIMEOUT, 20L);
  /* No overall timeout (a disk takes what it takes), but a transfer that
   * moves nothing for uploadDoneTimeout seconds, in either direction, is dead.
   */
  curl_easy_setopt (u->curl, CURLOPT_LOW_SPEED_LIMIT, 1L);
  curl_easy_setopt (u->curl, CURLOPT_LOW_SPEED_TIME, (long) h->done_timeout);
  if (pthread_create (&u->thread, NULL, run, u) != 0) {
    ferry_error ("kubevirt: upload to %s: cannot start a thread", what);
    upload_free (u);
    return NULL;
  }
  return u;
 oom:
  ferry_error ("kubevirt: upload to %s: out of memory", what);
  return NULL;
}

/* The proxy's verdict, as an error, once the libcurl thread is done
 * (lock held).
 */
static void
report (struct kv_upload *u)
{
  if (u->rc != CURLE_OK)
    ferry_error ("kubevirt: upload to %s: %s%s%s", u->what,
                 u->errbuf[0] ? u->errbuf : curl_easy_strerror (u->rc),
                 u->answer_len ? ": " : "", u->answer);
  else
    ferry_error ("kubevirt: upload to %s: the upload proxy answered HTTP %ld%s%s",
                 u->what, u->http, u->answer_len ? ": " : "", u->answer);
}

int
kv_upload_write (struct kv_upload *u, const void *buf, size_t count)
{
  const char *p = buf;

  pthread_mutex_lock (&u->lock);
  while (count > 0) {
    size_t tail, n, first;

    while (u->len == RING && !u->done)
      pthread_cond_wait (&u->cond, &u->lock);
    if (u->done) {
      /* The proxy answered (or the connection broke) before all bytes. */
      if (u->rc == CURLE_OK && u->http >= 200 && u->http < 300)
        ferry_error ("kubevirt: upload to %s: the upload proxy answered HTTP %ld before all bytes were sent",
                     u->what, u->http);
      else
        report (u);
      pthread_mutex_unlock (&u->lock);
      return -1;
    }
    tail = (u->head + u->len) % RING;
    n = RING - u->len < count ? RING - u->len : count;
    first = RING - tail < n ? RING - tail : n;
    memcpy (u->ring + tail, p, first);
    memcpy (u->ring, p + first, n - first);
    u->len += n;
    p += n;
    count -= n;
    pthread_cond_broadcast (&u->cond);
  }
  pthread_mutex_unlock (&u->lock);
  return 0;
}

int
kv_upload_finish (struct kv_upload *u)
{
  int ok;

  pthread_mutex_lock (&u->lock);
  u->eof = 1;
  pthread_cond_broadcast (&u->cond);
  pthread_mutex_unlock (&u->lock);
  pthread_join (u->thread, NULL);
  ok = u->rc == CURLE_OK && u->http >= 200 && u->http < 300;
  if (!ok)
    report (u);
  upload_free (u);
  return ok ? 0 : -1;
}

void
kv_upload_abort (struct kv_upload *u)
{
  pthread_mutex_lock (&u->lock);
  u->aborted = 1;
  pthread_cond_broadcast (&u->cond);
  pthread_mutex_unlock (&u->lock);
  pthread_join (u->thread, NULL);
  upload_free (u);
}
