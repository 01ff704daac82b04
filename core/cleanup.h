/* ferry core: cleanup attributes.  Every allocation has one owner; these
 * helpers free it when the owning variable goes out of scope.  Use
 * ferry_steal() (or set to NULL) to hand ownership on.
 */
#ifndef FERRY_CORE_CLEANUP_H
#define FERRY_CORE_CLEANUP_H

#include <stdio.h>
#include <stdlib.h>
#include <pthread.h>
#include <jansson.h>

void ferry_internal_cleanup_free (void *ptr);
void ferry_internal_cleanup_json (json_t **ptr);
void ferry_internal_cleanup_fclose (FILE **ptr);
void ferry_internal_cleanup_close (int *fd);
void ferry_internal_cleanup_strv (char ***ptr);
void ferry_internal_cleanup_unlock (pthread_mutex_t **ptr);

#define CLEANUP_FREE __attribute__((cleanup (ferry_internal_cleanup_free)))
#define CLEANUP_JSON_DECREF __attribute__((cleanup (ferry_internal_cleanup_json)))
#define CLEANUP_FCLOSE __attribute__((cleanup (ferry_internal_cleanup_fclose)))
#define CLEANUP_CLOSE __attribute__((cleanup (ferry_internal_cleanup_close)))
#define CLEANUP_STRV __attribute__((cleanup (ferry_internal_cleanup_strv)))

/* Holds m until the end of the enclosing scope. */
#define FERRY_CONCAT_(a, b) a##b
#define FERRY_CONCAT(a, b) FERRY_CONCAT_ (a, b)
#define FERRY_SCOPED_LOCK(m)                                            \
  __attribute__((cleanup (ferry_internal_cleanup_unlock)))              \
  pthread_mutex_t *FERRY_CONCAT (ferry_scoped_lock_, __LINE__) =        \
    (pthread_mutex_lock (m), (m))

/* Return p and set the variable to NULL: ownership moves to the caller. */
#define ferry_steal(pp) ({ __typeof__ (*(pp)) ferry_s_ = *(pp); *(pp) = NULL; ferry_s_; })

#endif /* FERRY_CORE_CLEANUP_H */
