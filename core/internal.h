/* ferry core: the library context and what core files share. */
#ifndef FERRY_CORE_INTERNAL_H
#define FERRY_CORE_INTERNAL_H

#include <stdbool.h>
#include <jansson.h>

#include "ferry/ferry.h"
#include "cleanup.h"
#include "crypto.h"
#include "store.h"

struct ferry_modules;                   /* loader.h */

struct ferry {
  char *state_dir;                      /* absolute, created 0700 */
  unsigned flags;                       /* FERRY_OPEN_* */
  struct ferry_store *store;            /* <state>/ferry.db */
  bool have_key;                        /* key loaded (lazily, on first secret) */
  unsigned char key[FERRY_SECRET_KEY_LEN];
  struct ferry_modules *modules;        /* NULL with FERRY_OPEN_NO_MODULES */
  bool log_dir_set;                     /* ferry_internal_log_set_dir called (once) */
};

/* The secret key, loaded (or created) on first use.  NULL on error. */
const unsigned char *ferry_internal_get0_key (struct ferry *f);

/* Resolve the state directory: explicit, $FERRY_STATE_DIR,
 * $XDG_STATE_HOME/ferry, ~/.local/state/ferry.  Caller frees.
 */
char *ferry_internal_state_dir_resolve (const char *explicit_dir);

/* mkdir -p with mode for every created component. */
int ferry_internal_mkdir_p (const char *path, unsigned mode);

/* Where per-object log files go: ferry_open sets it, ferry_close releases
 * it with NULL (cleared when no open context is left). */
void ferry_internal_log_set_dir (const char *logs_dir);

/* Current time as RFC 3339 UTC, "2026-11-26T04:47:49Z".  Caller frees. */
char *ferry_internal_now_rfc3339 (void);

#endif /* FERRY_CORE_INTERNAL_H */
