/* ferry core: guest conversion (the ImageConversion step) with
 * virt-v2v-in-place.
 *
 * What is converted: the guests of source provider types whose guests
 * were built for another hypervisor and need KVM drivers (virtio), a
 * rebuilt initramfs and bootloader, and their hypervisor tools removed:
 * vsphere and ova, as Forklift converts them, and null (ferry's simulator
 * of such a source; its disks hold no operating system, so converting
 * them fails, as it does for any blank disk).  Plans with
 * spec.skipGuestConversion: true copy the disks raw instead.
 *
 * How: the copied volumes must be local files (the destination's
 * volume_path callback).  Each gets a disposable qcow2 overlay backed by
 * it; virt-v2v-in-place -i libvirtxml converts the overlays (never the
 * volumes); only when it succeeds are the overlays committed into the
 * volumes with qemu-img commit, which can be re-run from the intact
 * overlay after a crash.  See pipeline-convert.c for the states stored.
 */
#ifndef FERRY_CORE_CONVERSION_H
#define FERRY_CORE_CONVERSION_H

#include <stdbool.h>
#include <stdint.h>
#include <jansson.h>

#include "internal.h"

/* The program run, unless $FERRY_VIRT_V2V_IN_PLACE names another. */
#define FERRY_CONVERSION_TOOL "virt-v2v-in-place"
/* Seconds one conversion may run, unless $FERRY_CONVERSION_TIMEOUT says
 * otherwise (0: no limit).
 */
#define FERRY_CONVERSION_TIMEOUT_DEFAULT (4 * 3600)

/* Whether guests of a source provider of this type (Provider spec.type)
 * are converted: vsphere, ova, null.
 */
bool ferry_internal_conversion_needed (const char *provider_type);

/* Whether a plan (its spec) converts the guests of such a source: the
 * type needs it and spec.skipGuestConversion is not true.
 */
bool ferry_internal_conversion_planned (const json_t *plan_spec,
                                        const char *provider_type);

struct ferry_instance;

/* Why a plan that converts cannot convert here (for the plan's
 * GuestConversionNotAvailable condition), or NULL when it can or does not
 * convert: the destination has no local volume files (volume_path), or the
 * tool is missing.  The message ends with what to do, including "set
 * spec.skipGuestConversion: true for a raw copy".  source or destination
 * may be NULL (not opened: other conditions say why).  Caller frees.
 */
char *ferry_internal_conversion_unavailable (const json_t *plan_spec,
                                             const struct ferry_instance *source,
                                             const struct ferry_instance *destination);

/* The virt-v2v-in-place to run, as an absolute path: $FERRY_VIRT_V2V_IN_PLACE
 * (an executable; a name without '/' is looked up in $PATH) or
 * virt-v2v-in-place from $PATH.  Caller frees; NULL with an error saying
 * what was looked for and how to install it.
 */
char *ferry_internal_conversion_tool (void);

/* A helper program (qemu-img) from $PATH, as an absolute path.  Caller
 * frees; NULL with an error naming it.
 */
char *ferry_internal_conversion_program (const char *name);

/* $FERRY_CONVERSION_TIMEOUT (seconds, 0 none) or the default; -1 with an
 * error when the variable is not a non-negative integer.
 */
int64_t ferry_internal_conversion_timeout (void);

/* A minimal libvirt domain XML for virt-v2v-in-place -i libvirtxml: name,
 * memory and vCPUs from the neutral VM spec (vmspec.h; defaults 1024 MiB
 * and 1), a pflash loader when its firmware is efi, and disks[i] as a
 * qcow2 file (absolute paths, in boot order).  Caller frees; NULL with an
 * error.
 */
char *ferry_internal_conversion_domain_xml (const json_t *spec,
                                            const char *const *disks);

/* ---- Running a tool ------------------------------------------------- */

/* Called with each line of the tool's combined stdout and stderr (no
 * newline; over-long lines are split).
 */
typedef void (*ferry_conversion_line_fn) (void *opaque, const char *line);

struct ferry_conversion_cmd {
  const char *const *argv;              /* argv[0] an absolute path */
  const char *const *env;               /* NAME=VALUE set over environ, or NULL */
  int64_t timeout;                      /* seconds, 0 none */
  /* NULL-terminated flags set by other threads (NULL: none), checked at
   * least every 100 ms; any non-zero stops the tool.
   */
  const volatile int *const *stop;
  ferry_conversion_line_fn on_line;
  void *opaque;
};

/* How a run ended. */
struct ferry_conversion_status {
  bool timed_out;                       /* killed at the deadline */
  bool stopped;                         /* killed because a stop flag was set */
  int wait_status;                      /* waitpid's, otherwise */
};

/* Run cmd in its own process group with stdin /dev/null, until it exits,
 * its deadline passes or a stop flag is set; then the whole group is
 * killed (what the tool started goes with it).  The group's leader is a
 * small supervisor that kills the group when this thread dies
 * (PR_SET_PDEATHSIG), so a killed ferry leaves no conversion running.  0 when it ran (*st says how
 * it ended), -1 with an error when it could not be started.
 */
int ferry_internal_conversion_exec (const struct ferry_conversion_cmd *cmd,
                                    struct ferry_conversion_status *st);

/* 0 when st is a clean exit 0; otherwise -1 with an error
 * "WHAT exited with status N: DETAIL" (or was killed, timed out, was
 * stopped); detail may be NULL.
 */
int ferry_internal_conversion_check (const struct ferry_conversion_status *st,
                                     const char *what, const char *detail);

/* ---- virt-v2v-in-place's output ------------------------------------- */

/* What a run of virt-v2v-in-place --machine-readable said: its JSON
 * messages ({"message", "timestamp", "type"}) and its last plain lines.
 */
#define FERRY_CONVERSION_TAIL 5
struct ferry_conversion_output {
  char *error;                          /* the last "error" message */
  char *message;                        /* the last progress "message" */
  char *tail[FERRY_CONVERSION_TAIL];    /* last non-JSON, non-blank lines */
  unsigned ntail;                       /* lines seen (modulo: ring) */
};

/* Take one output line.  Returns 1 when the line is a new progress
 * message (o->message), 0 otherwise.
 */
int ferry_internal_conversion_output_line (struct ferry_conversion_output *o,
                                           const char *line);

/* A one-line account for an error message: the tool's error message
 * (blank lines and newlines folded into spaces, the "If reporting bugs"
 * advice dropped), else the last lines of its output joined by " | ".
 * Caller frees; NULL when there was no output.
 */
char *ferry_internal_conversion_output_summary (const struct ferry_conversion_output *o);

void ferry_internal_conversion_output_clear (struct ferry_conversion_output *o);

#endif /* FERRY_CORE_CONVERSION_H */
