/* ferry: errors.
 *
 * The function that detects an error reports it once, with context, through
 * ferry_error(), then returns -1 or NULL.  Callers add nothing (they may use
 * ferry_error_prefix() to put the object they were working on in front).
 * The last error is thread-local; the CLI prints it.
 */
#ifndef FERRY_ERROR_H
#define FERRY_ERROR_H

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__)
#define FERRY_PRINTF(fmt, args) __attribute__((format (printf, fmt, args)))
#else
#define FERRY_PRINTF(fmt, args)
#endif

#if defined(__GNUC__)
#define FERRY_API __attribute__((visibility ("default")))
#else
#define FERRY_API
#endif

/* Record an error for this thread and log it at debug level.  The message
 * is one sentence naming the operation and the object, without a trailing
 * period.  errno is preserved across the call.
 */
FERRY_API void ferry_error (const char *fs, ...) FERRY_PRINTF (1, 2);

/* Same, with strerror(errnum) appended after ": ". */
FERRY_API void ferry_error_errno (int errnum, const char *fs, ...)
  FERRY_PRINTF (2, 3);

/* Put "PREFIX: " in front of this thread's last error. */
FERRY_API void ferry_error_prefix (const char *fs, ...) FERRY_PRINTF (1, 2);

/* Borrowed: valid until the next ferry_error* call on this thread.
 * Never NULL: "" when no error was recorded.
 */
FERRY_API const char *ferry_get_error (void);

/* The errno that went with the last error, or 0. */
FERRY_API int ferry_get_errno (void);

FERRY_API void ferry_clear_error (void);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_ERROR_H */
