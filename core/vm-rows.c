/* ferry core: group commit of Migration VM status rows (see vm-rows.h). */
#include <config.h>

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "internal.h"
#include "vm-rows.h"

/* One writer's row, on the writer's stack while it waits. */
struct pending_row {
  struct pending_row *next;
  const char *uid;                      /* borrowed from the writer */
  size_t position;
  const char *vm_id;                    /* borrowed from the writer */
  const char *json;                     /* borrowed from the writer */
  bool done;                            /* its batch ended (queue lock) */
  int result;                           /* 0 or -1, when done */
  char *error;                          /* why, when -1 (owned by writer) */
};

/* The queue of one state directory.  Queues are never freed (a process
 * writes to few state directories).
 */
struct row_queue {
  struct row_queue *next;
  pthread_mutex_t lock;                 /* guards pending, committing and
                                           the done/result of its rows */
  pthread_cond_t ended;                 /* a batch ended */
  struct pending_row *pending;          /* waiting for the next batch
                                           (newest first) */
  bool committing;                      /* a writer is writing a batch */
  char state_dir[];
};

static pthread_mutex_t queues_lock = PTHREAD_MUTEX_INITIALIZER;  /* guards queues */
static struct row_queue *queues;
static unsigned long long nr_rows, nr_commits;  /* under queues_lock */

static struct row_queue *
queue_of (const char *state_dir)
{
  struct row_queue *q;

  pthread_mutex_lock (&queues_lock);
  for (q = queues; q; q = q->next)
    if (strcmp (q->state_dir, state_dir) == 0)
      break;
  if (!q) {
    q = calloc (1, sizeof *q + strlen (state_dir) + 1);
    if (q) {
      pthread_mutex_init (&q->lock, NULL);
      pthread_cond_init (&q->ended, NULL);
      strcpy (q->state_dir, state_dir);
      q->next = queues;
      queues = q;
    }
  }
  pthread_mutex_unlock (&queues_lock);
  if (!q)
    ferry_error_errno (errno, "store VM status in %s", state_dir);
  return q;
}

/* Write batch (oldest first) in one transaction: 0 or -1 (error set). */
static int
write_batch (struct ferry_store *store, struct pending_row *batch)
{
  if (ferry_internal_store_begin (store) == -1)
    return -1;
  for (struct pending_row *p = batch; p; p = p->next)
    if (ferry_internal_store_set_vm_status (store, p->uid, p->position,
                                            p->vm_id, p->json) == -1) {
      ferry_internal_store_rollback (store);
      return -1;
    }
  return ferry_internal_store_commit (store);
}

int
ferry_internal_vm_row_commit (struct ferry_store *store, const char *state_dir,
                              const char *migration_uid, size_t position,
                              const char *vm_id, const char *vm_json)
{
  struct row_queue *q = queue_of (state_dir);
  struct pending_row mine = { .uid = migration_uid, .position = position,
                              .vm_id = vm_id, .json = vm_json };

  if (!q)
    return -1;
  pthread_mutex_lock (&q->lock);
  mine.next = q->pending;
  q->pending = &mine;
  while (!mine.done) {
    if (q->committing) {
      pthread_cond_wait (&q->ended, &q->lock);
      continue;
    }
    /* This thread writes everything queued, its own row included. */
    struct pending_row *batch = NULL, *p, *next;
    size_t n = 0;
    for (p = q->pending; p; p = next) {  /* reverse: oldest first */
      next = p->next;
      p->next = batch;
      batch = p;
      n++;
    }
    q->pending = NULL;
    q->committing = true;
    pthread_mutex_unlock (&q->lock);

    int r = write_batch (store, batch);
    const char *why = r == -1 ? ferry_get_error () : NULL;

    pthread_mutex_lock (&queues_lock);
    nr_rows += n;
    nr_commits++;
    pthread_mutex_unlock (&queues_lock);
    pthread_mutex_lock (&q->lock);
    for (p = batch; p; p = next) {
      next = p->next;                   /* p may be gone once done */
      p->result = r;
      if (r == -1 && p != &mine)
        p->error = strdup (why);
      p->done = true;
    }
    q->committing = false;
    pthread_cond_broadcast (&q->ended);
  }
  pthread_mutex_unlock (&q->lock);

  if (mine.result == -1 && mine.error) {
    /* Written by another thread: its error, in this thread's. */
    ferry_error ("%s", mine.error);
    free (mine.error);
  }
  else if (mine.result == -1 && !*ferry_get_error ())
    ferry_error ("store VM %zu of migration %s: the commit failed (out of memory)",
                 position, migration_uid);
  return mine.result;
}

void
ferry_internal_vm_row_stats (unsigned long long *rows,
                             unsigned long long *commits)
{
  pthread_mutex_lock (&queues_lock);
  *rows = nr_rows;
  *commits = nr_commits;
  pthread_mutex_unlock (&queues_lock);
}
