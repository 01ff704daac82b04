/* ferry: logging.
 *
 * Messages go to stderr (level-filtered, FERRY_LOG_LEVEL or ferry_set_log_level)
 * and, for ferry_log_object, also to a per-object log file in the state
 * directory:  logs/<kind>/<namespace>/<name>.log, mode 0600.
 * Never pass a credential to these functions.
 */
#ifndef FERRY_LOG_H
#define FERRY_LOG_H

#include "ferry/error.h"

#ifdef __cplusplus
extern "C" {
#endif

enum ferry_log_level {
  FERRY_LOG_ERROR = 0,
  FERRY_LOG_WARN = 1,
  FERRY_LOG_INFO = 2,
  FERRY_LOG_DEBUG = 3,
};

FERRY_API void ferry_set_log_level (enum ferry_log_level level);
FERRY_API enum ferry_log_level ferry_get_log_level (void);

/* Parse "error", "warn", "info", "debug".  Returns -1 on an unknown name. */
FERRY_API int ferry_log_level_from_string (const char *s);

FERRY_API void ferry_log (enum ferry_log_level level, const char *fs, ...)
  FERRY_PRINTF (2, 3);

/* Log about one object; also appended to that object's log file when the
 * library was opened with a state directory.
 */
FERRY_API void ferry_log_object (enum ferry_log_level level,
                                 const char *kind, const char *ns,
                                 const char *name, const char *fs, ...)
  FERRY_PRINTF (5, 6);

#define ferry_warn(...) ferry_log (FERRY_LOG_WARN, __VA_ARGS__)
#define ferry_info(...) ferry_log (FERRY_LOG_INFO, __VA_ARGS__)
#define ferry_debug(...) ferry_log (FERRY_LOG_DEBUG, __VA_ARGS__)

#ifdef __cplusplus
}
#endif

#endif /* FERRY_LOG_H */
