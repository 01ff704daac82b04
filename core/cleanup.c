/* ferry core: cleanup attribute helpers (see cleanup.h). */
#include <config.h>

#include <errno.h>
#include <unistd.h>

#include "cleanup.h"

void
ferry_internal_cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}

void
ferry_internal_cleanup_json (json_t **ptr)
{
  json_decref (*ptr);
}

void
ferry_internal_cleanup_fclose (FILE **ptr)
{
  if (*ptr)
    fclose (*ptr);
}

void
ferry_internal_cleanup_close (int *fd)
{
  if (*fd >= 0) {
    int saved = errno;
    close (*fd);
    errno = saved;
  }
}

void
ferry_internal_cleanup_strv (char ***ptr)
{
  char **v = *ptr;
  if (v) {
    for (size_t i = 0; v[i]; i++)
      free (v[i]);
    free (v);
  }
}

void
ferry_internal_cleanup_unlock (pthread_mutex_t **ptr)
{
  if (*ptr)
    pthread_mutex_unlock (*ptr);
}
