/* ferry destinations: the neutral spec fields both KubeVirt and libvirt
 * translations read the same way (moved here from destinations/local/names.c
 * so the kubevirt module shares them).
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <jansson.h>

#include "ferry/error.h"
#include "common.h"

#define LABEL_MAX 63                    /* characters, RFC 1123 label */

static int
is_lower_alnum (char c)
{
  return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

int
vmspec_check_name (const char *who, const char *what, const char *name)
{
  size_t len, i;

  if (name == NULL || name[0] == '\0') {
    ferry_error ("%s: %s is empty or missing", who, what);
    return -1;
  }
  len = strlen (name);
  if (strchr (name, '/') != NULL) {
    ferry_error ("%s: %s \"%s\": must not contain '/'", who, what, name);
    return -1;
  }
  if (strstr (name, "..") != NULL) {
    ferry_error ("%s: %s \"%s\": must not contain \"..\"", who, what, name);
    return -1;
  }
  if (len > LABEL_MAX) {
    ferry_error ("%s: %s \"%.20s...\": longer than %d characters (a DNS-1123 label)", who,
                 what, name, LABEL_MAX);
    return -1;
  }
  for (i = 0; i < len; ++i) {
    if (!is_lower_alnum (name[i]) && name[i] != '-') {
      ferry_error ("%s: %s \"%s\": not a DNS-1123 label (only lowercase letters, digits and '-')", who,
                   what, name);
      return -1;
    }
  }
  if (!is_lower_alnum (name[0]) || !is_lower_alnum (name[len - 1])) {
    ferry_error ("%s: %s \"%s\": not a DNS-1123 label (must start and end with a letter or digit)", who,
                 what, name);
    return -1;
  }
  return 0;
}

const json_t *
vmspec_disk_volume (const char *who, const json_t *spec,
                    const json_t *volumes, size_t index)
{
  const json_t *disk = json_array_get (json_object_get (spec, "disks"), index);
  const char *want = json_string_value (json_object_get (disk, "volume"));
  const json_t *v;
  size_t i;

  if (want != NULL) {
    json_array_foreach (volumes, i, v) {
      const char *name = json_string_value (json_object_get (v, "name"));
      if (name != NULL && strcmp (name, want) == 0)
        return v;
    }
    ferry_error ("%s: disk %zu: volume \"%s\" is not among the VM's volumes", who,
                 index, want);
    return NULL;
  }
  v = json_array_get (volumes, index);
  if (v == NULL) {
    ferry_error ("%s: disk %zu: no volume for it (%zu volumes given)", who,
                 index, json_array_size (volumes));
    return NULL;
  }
  return v;
}

const char *
vmspec_namespace (const json_t *spec, const json_t *volumes)
{
  const char *ns = json_string_value (json_object_get (spec, "namespace"));

  if (ns == NULL || ns[0] == '\0')
    ns = json_string_value (json_object_get (json_array_get (volumes, 0),
                                             "namespace"));
  if (ns == NULL || ns[0] == '\0')
    ns = "default";
  return ns;
}

const char *
vmspec_name (const char *who, const json_t *spec)
{
  const char *name = json_string_value (json_object_get (spec, "name"));

  if (vmspec_check_name (who, "VM name", name) == -1)
    return NULL;
  return name;
}

int
vmspec_compatibility_mode (const json_t *spec)
{
  return json_is_true (json_object_get (spec, "compatibilityMode"));
}

static int
is_hex (char c)
{
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') ||
    (c >= 'A' && c <= 'F');
}

int
vmspec_check_mac (const char *who, const char *vm, const char *mac)
{
  size_t i;

  if (strlen (mac) != 17)
    goto bad;
  for (i = 0; i < 17; ++i) {
    if (i % 3 == 2 ? mac[i] != ':' : !is_hex (mac[i]))
      goto bad;
  }
  return 0;
 bad:
  ferry_error ("%s: VM %s: MAC address \"%s\": not of the form xx:xx:xx:xx:xx:xx", who,
               vm, mac);
  return -1;
}

static int
get_count (const char *who, const json_t *obj, const char *key,
           json_int_t *out, const char *what)
{
  const json_t *v = json_object_get (obj, key);

  if (v == NULL || json_is_null (v)) {
    *out = 1;
    return 0;
  }
  if (!json_is_integer (v) || json_integer_value (v) < 1 ||
      json_integer_value (v) > 4096) {
    ferry_error ("%s: %s: not an integer between 1 and 4096", who, what);
    return -1;
  }
  *out = json_integer_value (v);
  return 0;
}

int
vmspec_cpu_topology (const char *who, const json_t *spec,
                     json_int_t *sockets, json_int_t *cores,
                     json_int_t *threads)
{
  const json_t *cpu = json_object_get (spec, "cpu");

  if (get_count (who, cpu, "sockets", sockets, "cpu.sockets") == -1 ||
      get_count (who, cpu, "cores", cores, "cpu.cores") == -1 ||
      get_count (who, cpu, "threads", threads, "cpu.threads") == -1)
    return -1;
  return 0;
}

int
vmspec_memory_mib (const char *who, const json_t *spec, json_int_t *mib)
{
  const json_t *v = json_object_get (spec, "memoryMB");

  /* Upper bound keeps the KiB value of the domain XML far from overflow. */
  if (!json_is_integer (v) || json_integer_value (v) < 1 ||
      json_integer_value (v) > ((json_int_t) 1 << 32)) {
    ferry_error ("%s: memoryMB: missing or not a positive integer (MiB)", who);
    return -1;
  }
  *mib = json_integer_value (v);
  return 0;
}
