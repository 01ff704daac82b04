/* ferry core: admission of VMs per source host (see scheduler.h). */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "scheduler.h"

struct sched_host {
  struct sched_host *next;
  unsigned inflight;                    /* disks of admitted VMs */
  unsigned running;                     /* admitted VMs */
  uint64_t reserved;                    /* ticket the host waits for, or 0 */
  char name[];
};

/* lock guards hosts and every sched_host; released is signalled on each
 * release.  Hosts are never freed (a process sees few of them).
 */
static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t released = PTHREAD_COND_INITIALIZER;
static struct sched_host *hosts;
static uint64_t next_ticket = 1;        /* tickets handed out, in order */
static uint64_t epoch;                  /* releases and withdraws so far */

static unsigned
parse_limit (const json_t *v)
{
  if (json_is_integer (v))
    return json_integer_value (v) > 0 && json_integer_value (v) < 1000000
      ? (unsigned) json_integer_value (v) : 0;
  if (json_is_string (v)) {
    char *end;
    errno = 0;
    long n = strtol (json_string_value (v), &end, 10);
    if (errno == 0 && *end == '\0' && end != json_string_value (v)
        && n > 0 && n < 1000000)
      return (unsigned) n;
  }
  return 0;
}

unsigned
ferry_internal_sched_limit (const json_t *provider_spec)
{
  const char *env = getenv ("FERRY_MAX_VM_INFLIGHT");
  unsigned n = 0;

  if (env && *env) {
    json_t *s = json_string (env);
    n = parse_limit (s);
    json_decref (s);
  }
  if (!n)
    n = parse_limit (json_object_get (json_object_get (provider_spec, "settings"),
                                      "maxVmInflight"));
  return n ? n : FERRY_MAX_VM_INFLIGHT_DEFAULT;
}

/* The host's entry, created when absent; NULL when out of memory. Under lock. */
static struct sched_host *
host_get (const char *name)
{
  struct sched_host *h;
  for (h = hosts; h; h = h->next)
    if (strcmp (h->name, name) == 0)
      return h;
  h = calloc (1, sizeof *h + strlen (name) + 1);
  if (!h)
    return NULL;
  strcpy (h->name, name);
  h->next = hosts;
  hosts = h;
  return h;
}

bool
ferry_internal_sched_try_admit (const char *host, unsigned cost,
                                unsigned limit, uint64_t *ticket)
{
  bool ok = false;
  pthread_mutex_lock (&lock);
  struct sched_host *h = host_get (host);
  if (h) {
    bool fits = h->running == 0 || h->inflight + cost <= limit;
    bool mine = h->reserved == 0 || (*ticket && h->reserved == *ticket);
    if (fits && mine) {
      h->inflight += cost;
      h->running++;
      if (h->reserved && h->reserved == *ticket)
        h->reserved = 0;
      *ticket = 0;
      ok = true;
    }
    else {
      if (!*ticket)
        *ticket = next_ticket++;
      /* The oldest refused VM holds the reservation. */
      if (h->reserved == 0 || *ticket < h->reserved)
        h->reserved = *ticket;
    }
  }
  pthread_mutex_unlock (&lock);
  return ok;
}

void
ferry_internal_sched_withdraw (const char *host, uint64_t *ticket)
{
  if (!*ticket)
    return;
  pthread_mutex_lock (&lock);
  struct sched_host *h = host_get (host);
  if (h && h->reserved == *ticket) {
    h->reserved = 0;
    epoch++;
    pthread_cond_broadcast (&released);
  }
  *ticket = 0;
  pthread_mutex_unlock (&lock);
}

void
ferry_internal_sched_release (const char *host, unsigned cost)
{
  pthread_mutex_lock (&lock);
  struct sched_host *h = host_get (host);
  if (h) {
    h->inflight -= cost <= h->inflight ? cost : h->inflight;
    if (h->running)
      h->running--;
  }
  epoch++;
  pthread_cond_broadcast (&released);
  pthread_mutex_unlock (&lock);
}

void
ferry_internal_sched_release_disks (const char *host, unsigned n)
{
  pthread_mutex_lock (&lock);
  struct sched_host *h = host_get (host);
  if (h)
    h->inflight -= n <= h->inflight ? n : h->inflight;
  epoch++;
  pthread_cond_broadcast (&released);
  pthread_mutex_unlock (&lock);
}

uint64_t
ferry_internal_sched_epoch (void)
{
  pthread_mutex_lock (&lock);
  uint64_t e = epoch;
  pthread_mutex_unlock (&lock);
  return e;
}

void
ferry_internal_sched_wait_since (uint64_t since, unsigned ms)
{
  struct timespec ts;
  clock_gettime (CLOCK_REALTIME, &ts);
  ts.tv_sec += ms / 1000;
  ts.tv_nsec += (long) (ms % 1000) * 1000000L;
  if (ts.tv_nsec >= 1000000000L) {
    ts.tv_sec++;
    ts.tv_nsec -= 1000000000L;
  }
  pthread_mutex_lock (&lock);
  while (epoch == since
         && pthread_cond_timedwait (&released, &lock, &ts) == 0)
    ;
  pthread_mutex_unlock (&lock);
}

void
ferry_internal_sched_wait (unsigned ms)
{
  ferry_internal_sched_wait_since (ferry_internal_sched_epoch (), ms);
}

unsigned
ferry_internal_sched_inflight (const char *host)
{
  unsigned n = 0;
  pthread_mutex_lock (&lock);
  for (struct sched_host *h = hosts; h; h = h->next)
    if (strcmp (h->name, host) == 0)
      n = h->inflight;
  pthread_mutex_unlock (&lock);
  return n;
}

uint64_t
ferry_internal_sched_reserved (const char *host)
{
  uint64_t t = 0;
  pthread_mutex_lock (&lock);
  for (struct sched_host *h = hosts; h; h = h->next)
    if (strcmp (h->name, host) == 0)
      t = h->reserved;
  pthread_mutex_unlock (&lock);
  return t;
}
