/* ferry name templates: Go text/template + a Sprig subset, in C.
 *
 * Compile a template once with ferry_template_parse, execute it many times
 * with ferry_template_execute against a small typed key/value set.  This
 * library is standalone (libc, PCRE2, libm); it does not use libferry.
 *
 * Ownership: every function that returns a pointer returns a new object the
 * caller frees with the matching *_free (or free(3) for char *).  Errors are
 * returned through "char **err" as a malloc'd one-line message in Go's
 * format ("template: pvc:1:23: function \"trimm\" not defined"); pass NULL
 * to ignore it.  Compiled templates are immutable: one may be executed from
 * several threads at once.  Data sets are not locked.
 */
#ifndef FERRY_TEMPLATE_H
#define FERRY_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct ferry_template;
struct ferry_template_data;

/* Which template a data set is for.  Each kind pre-declares Forklift's
 * fields (zero-valued) with their Go types, so unknown fields and type
 * errors are reported as Go reports them on Forklift's structs:
 *   PVC:     VmName TargetVmName PlanName VmId (string) DiskIndex
 *            RootDiskIndex (int) Shared (bool) FileName WinDriveLetter
 *            DiskId (string)
 *   VOLUME:  PVCName (string) VolumeIndex (int)
 *   NETWORK: NetworkName NetworkNamespace NetworkType (string)
 *            NetworkIndex (int)
 *   CUSTOM:  no fields; whatever the caller sets.
 */
enum ferry_template_kind {
  FERRY_TEMPLATE_KIND_CUSTOM = 0,
  FERRY_TEMPLATE_KIND_PVC,
  FERRY_TEMPLATE_KIND_VOLUME,
  FERRY_TEMPLATE_KIND_NETWORK,
};

/* Compile TEXT under NAME (the name appears in error messages).  Returns
 * NULL and sets *err on a parse error.
 */
struct ferry_template *ferry_template_parse (const char *name,
                                             const char *text, char **err);
void ferry_template_free (struct ferry_template *t);
/* Borrowed name of a compiled template. */
const char *ferry_template_get0_name (const struct ferry_template *t);

/* Execute T against DATA (may be NULL: no fields).  Returns the output
 * (NUL-terminated, caller frees) or NULL and *err.  If len_out is not
 * NULL it receives the output length (output may contain NUL bytes).
 */
char *ferry_template_execute (const struct ferry_template *t,
                              const struct ferry_template_data *data,
                              char **err);
char *ferry_template_execute_len (const struct ferry_template *t,
                                  const struct ferry_template_data *data,
                                  size_t *len_out, char **err);

/* Data sets.  Setters copy keys and values.  They return 0, or -1 with
 * errno EINVAL if KEY is declared by the kind with another type, or ENOMEM.
 */
struct ferry_template_data *ferry_template_data_new (enum ferry_template_kind kind);
void ferry_template_data_free (struct ferry_template_data *d);
int ferry_template_data_set_string (struct ferry_template_data *d,
                                    const char *key, const char *value);
int ferry_template_data_set_int (struct ferry_template_data *d,
                                 const char *key, int64_t value);
int ferry_template_data_set_bool (struct ferry_template_data *d,
                                  const char *key, bool value);
int ferry_template_data_set_list (struct ferry_template_data *d,
                                  const char *key,
                                  const char *const *items, size_t n);
/* Set KEY from text the way "ferry template eval --set" does: the kind's
 * declared type decides (int: decimal, bool: true/false); undeclared keys
 * become strings.  -1/EINVAL if VALUE does not parse.
 */
int ferry_template_data_set_parsed (struct ferry_template_data *d,
                                    const char *key, const char *value);

/* Template lookup for PVC names: the VM's template, else the plan's, else
 * the configured default, else FERRY_TEMPLATE_PVC_DEFAULT.  NULL or ""
 * means unset.  Returns a borrowed pointer to one of the arguments or to
 * the built-in default.
 */
#define FERRY_TEMPLATE_PVC_DEFAULT \
  "{{trunc 15 .PlanName}}-{{trunc 15 .TargetVmName}}-disk-{{.DiskIndex}}"
const char *ferry_template_get0_pvc_template (const char *vm_template,
                                              const char *plan_template,
                                              const char *configured_default);

/* Names. */
/* RFC 1123 label: 1-63 chars, [a-z0-9]([-a-z0-9]*[a-z0-9])?.  On failure
 * and if reason is not NULL, *reason is a static English sentence.
 */
bool ferry_template_is_dns1123_label (const char *s, const char **reason);
/* RFC 1123 subdomain: <= 253 chars, dot-separated labels as above. */
bool ferry_template_is_dns1123_subdomain (const char *s, const char **reason);

/* Random source: fill BUF with N random bytes; return 0 or -1.  NULL
 * means the default (getrandom(2)).  Tests inject a fixed sequence.
 */
typedef int (*ferry_template_random_fn) (void *user_data, void *buf, size_t n);

/* Does NAME collide with a name already in use (another VM of the plan, or
 * a VM at the destination)?  Return true if taken.
 */
typedef bool (*ferry_template_taken_fn) (void *user_data, const char *name);

/* Forklift's automatic VM renaming (see templates/README.md for the rules).
 * Returns a new valid DNS-1123 subdomain, or NULL with errno set.
 * taken may be NULL (no collisions).  random may be NULL (default).
 */
char *ferry_template_vm_name (const char *source_name,
                              ferry_template_taken_fn taken, void *taken_data,
                              ferry_template_random_fn random, void *random_data);

/* Kubernetes generateName: PREFIX (cut to 58 bytes) plus 5 random chars
 * from [bcdfghjklmnpqrstvwxz2456789].  Returns a new string or NULL.
 */
char *ferry_template_generate_name (const char *prefix,
                                    ferry_template_random_fn random,
                                    void *random_data);

#ifdef __cplusplus
}
#endif

#endif /* FERRY_TEMPLATE_H */
