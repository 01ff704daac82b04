/* ferry null provider: a synthetic source.
 *
 * A complete provider with no outside dependency: it invents an inventory
 * (VMs, disks, NICs, networks, a datastore, a host) from a few numbers and
 * serves disks whose content is a pure function of (VM, disk, offset,
 * generation), so a copy can be checked byte for byte.  The tests drive the
 * module ABI end to end with it, and third parties start from it (README.md).
 *
 * Configuration (settings override the URL):
 *   url       null://?vms=N&disks=N&size=BYTES
 *   settings  vms, disksPerVm, diskSize (strings, as Kubernetes settings are)
 *   failure injection, settings "true"/offset:
 *             decline, failOpen, failTestConnection, failInventory,
 *             failDiskOpen, failPowerOff, failSnapshot, failReadAt=OFFSET
 *   slow disks: readDelayMs=N sleeps N milliseconds in every disk read, so
 *             tests can interrupt or overlap copies (the engine's tests)
 *   scheduling simulation (bench/sched-bench.sh): hosts=N spreads the VMs
 *             over host-1..host-N; disksPerVmMax=M draws each VM's disk
 *             count from [disksPerVm, M]; diskTimeMsMin/diskTimeMsMax draw
 *             each disk's copy time (slept in the read at offset 0); all
 *             draws are a pure function of seed
 *
 * Disk layout (size bytes, 512-byte sectors):
 *   [0, hole_start)         data: each sector starts with a text line
 *                           "ferry-null vm-V disk-D gen-G offset O" and is
 *                           filled after it with a byte pattern
 *   [hole_start, hole_end)  a hole: reads as zeroes, reported HOLE|ZERO
 *   [hole_end, size)        data, as above
 * with hole_start = size/4 and hole_end = size/2, both rounded down to 512.
 *
 * Warm migration: each snapshot_create advances the VM's generation G and
 * rewrites one block (at most 64 KiB, below hole_start) of every disk;
 * a sector's header names the last generation that rewrote it.  Snapshot
 * ids are "snapshot-G", change ids "G".
 *
 * The source's state (power, generation, live snapshots) is the VM's, not
 * the handle's: with a state directory it lives in
 * <state_dir>/vm-N.json = {powerState, generation, snapshots[]} (written
 * whole through a rename, read-modify-write under flock of
 * <state_dir>/vms.lock), so every handle and process, and a run after a
 * crash, sees the same source, as with a real hypervisor.  Without one it
 * stays in the handle's memory.
 */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE 1                   /* asprintf */
#endif
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <fcntl.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include <ferry/provider.h>
#include <ferry/log.h>

#define NULL_SECTOR 512u                /* bytes */
#define NULL_CHANGE_BLOCK 65536u        /* bytes rewritten per generation */
#define NULL_MAX_VMS 100000
#define NULL_MAX_DISKS 64
#define NULL_MAX_DISK_SIZE (UINT64_C (1) << 50) /* bytes; 1 PiB */
#define NULL_NO_FAIL UINT64_MAX

/* Frees a char * when it goes out of scope (modules do not see core's
 * cleanup.h, which is internal).
 */
static void
null_cleanup_free (void *ptr)
{
  free (*(void **) ptr);
}
#define CLEANUP_FREE_NULL __attribute__((cleanup (null_cleanup_free)))

struct null_vm {
  int power;                            /* enum ferry_power_state */
  uint32_t gen;                         /* generation: snapshots taken */
  uint64_t live_snapshots;              /* bit g-1 set: snapshot-g exists
                                           (g <= 64; older ones are gone) */
};

struct null_handle {
  char *name;                           /* Provider metadata.name */
  char *state_dir;                      /* VM state files, or NULL: memory */
  unsigned nr_vms;
  unsigned disks_per_vm;
  uint64_t disk_size;                   /* bytes */
  bool fail_test_connection, fail_inventory, fail_disk_open;
  bool fail_power_off, fail_snapshot;
  uint64_t fail_read_at;                /* byte offset, or NULL_NO_FAIL */
  unsigned read_delay_ms;               /* milliseconds slept per read (tests) */
  /* scheduling simulation (bench/sched-bench.sh) */
  unsigned hosts;                       /* VM i runs on host-(i % hosts + 1) */
  unsigned disks_per_vm_max;            /* > disks_per_vm: drawn per VM */
  unsigned disk_time_min_ms, disk_time_max_ms; /* a disk's copy time, drawn */
  uint64_t seed;                        /* of every draw */

  pthread_mutex_t lock;                 /* guards vms[].power, .gen,
                                           .live_snapshots (with state_dir,
                                           the files, with vms.lock too) */
  struct null_vm *vms;
};

/* ---- Scheduling simulation ------------------------------------------ */

/* A pure function of (seed, a, b) (splitmix64's finalizer): the draws are
 * the same in every process and run.
 */
static uint64_t
null_draw (uint64_t seed, uint64_t a, uint64_t b)
{
  uint64_t z = seed + 0x9e3779b97f4a7c15u * (a * 0x10001u + b + 1);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9u;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebu;
  return z ^ (z >> 31);
}

/* VM i's number of disks: disksPerVm, or drawn from [disksPerVm,
 * disksPerVmMax].
 */
static unsigned
null_vm_disks (const struct null_handle *h, unsigned i)
{
  if (h->disks_per_vm_max <= h->disks_per_vm)
    return h->disks_per_vm;
  return h->disks_per_vm
    + (unsigned) (null_draw (h->seed, i, UINT32_MAX)
                  % (h->disks_per_vm_max - h->disks_per_vm + 1));
}

/* Milliseconds a copy of disk d of VM i takes (0: as fast as it goes). */
static unsigned
null_disk_time_ms (const struct null_handle *h, unsigned i, unsigned d)
{
  if (!h->disk_time_max_ms)
    return 0;
  return h->disk_time_min_ms
    + (unsigned) (null_draw (h->seed, i, d)
                  % (h->disk_time_max_ms - h->disk_time_min_ms + 1));
}

/* ---- Configuration --------------------------------------------------- */

/* settings[key] as a string (integers accepted too), or NULL. */
static const char *
null_setting (const json_t *spec, const char *key, char *buf, size_t len)
{
  const json_t *settings = json_object_get (spec, "settings");
  const json_t *v = json_object_get (settings, key);

  if (json_is_string (v))
    return json_string_value (v);
  if (json_is_integer (v)) {
    snprintf (buf, len, "%" JSON_INTEGER_FORMAT, json_integer_value (v));
    return buf;
  }
  if (json_is_true (v))
    return "true";
  return NULL;
}

static bool
null_setting_true (const json_t *spec, const char *key)
{
  char buf[32];
  const char *s = null_setting (spec, key, buf, sizeof buf);
  return s && strcmp (s, "true") == 0;
}

static int
null_parse_u64 (const char *what, const char *s, uint64_t max, uint64_t *r)
{
  char *end;
  unsigned long long v;

  errno = 0;
  if (*s < '0' || *s > '9'
      || (v = strtoull (s, &end, 10), errno != 0) || *end || v > max) {
    ferry_error ("null: %s: expected an integer from 0 to %" PRIu64
                 ", got \"%s\"", what, max, s);
    return -1;
  }
  *r = v;
  return 0;
}

/* null://?vms=N&disks=N&size=BYTES (every part optional). */
static int
null_parse_url (struct null_handle *h, const char *url)
{
  const char *q;

  if (!url || !*url)
    return 0;
  if (strncmp (url, "null:", 5) != 0) {
    ferry_error ("null: url %s: the scheme must be null://", url);
    return -1;
  }
  q = strchr (url, '?');
  while (q && *q) {
    char key[16], value[32];
    size_t klen, vlen;
    uint64_t v;
    const char *eq;

    q++;
    klen = strcspn (q, "=&");
    eq = q + klen;
    if (*eq != '=' || klen >= sizeof key) {
      ferry_error ("null: url %s: bad query parameter at \"%s\"", url, q);
      return -1;
    }
    vlen = strcspn (eq + 1, "&");
    if (vlen >= sizeof value) {
      ferry_error ("null: url %s: value too long at \"%s\"", url, q);
      return -1;
    }
    memcpy (key, q, klen);
    key[klen] = '\0';
    memcpy (value, eq + 1, vlen);
    value[vlen] = '\0';
    q = eq + 1 + vlen;

    if (strcmp (key, "vms") == 0) {
      if (null_parse_u64 ("url vms", value, NULL_MAX_VMS, &v) == -1)
        return -1;
      h->nr_vms = v;
    }
    else if (strcmp (key, "disks") == 0) {
      if (null_parse_u64 ("url disks", value, NULL_MAX_DISKS, &v) == -1)
        return -1;
      h->disks_per_vm = v;
    }
    else if (strcmp (key, "size") == 0) {
      if (null_parse_u64 ("url size", value, NULL_MAX_DISK_SIZE, &v) == -1)
        return -1;
      h->disk_size = v;
    }
    else {
      ferry_error ("null: url %s: unknown parameter %s "
                   "(known: vms, disks, size)", url, key);
      return -1;
    }
  }
  return 0;
}

static void null_close (void *handle);

static int
null_open (const struct ferry_open_args *args, void **handle)
{
  struct null_handle *h;
  char buf[32];
  const char *s;
  uint64_t v;

  /* Probe: a Provider of another type is not ours, and that is no error. */
  if (!args->type || strcmp (args->type, "null") != 0
      || null_setting_true (args->spec, "decline"))
    return FERRY_OPEN_DECLINED;
  if (null_setting_true (args->spec, "failOpen")) {
    ferry_error ("null: open %s: failure injected by settings.failOpen",
                 args->name ? args->name : "provider");
    return FERRY_OPEN_ERROR;
  }

  h = calloc (1, sizeof *h);
  if (!h) {
    ferry_error_errno (errno, "null: open");
    return FERRY_OPEN_ERROR;
  }
  pthread_mutex_init (&h->lock, NULL);
  h->nr_vms = 2;
  h->disks_per_vm = 1;
  h->disk_size = 1048576;
  h->fail_read_at = NULL_NO_FAIL;

  if (null_parse_url (h, args->url) == -1)
    goto err;
  if ((s = null_setting (args->spec, "vms", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.vms", s, NULL_MAX_VMS, &v) == -1)
      goto err;
    h->nr_vms = v;
  }
  if ((s = null_setting (args->spec, "disksPerVm", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.disksPerVm", s, NULL_MAX_DISKS, &v) == -1)
      goto err;
    h->disks_per_vm = v;
  }
  if ((s = null_setting (args->spec, "diskSize", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.diskSize", s, NULL_MAX_DISK_SIZE, &v) == -1)
      goto err;
    h->disk_size = v;
  }
  if ((s = null_setting (args->spec, "failReadAt", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.failReadAt", s, UINT64_MAX - 1,
                        &h->fail_read_at) == -1)
      goto err;
  }
  if ((s = null_setting (args->spec, "readDelayMs", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.readDelayMs", s, 60000, &v) == -1)
      goto err;
    h->read_delay_ms = (unsigned) v;
  }
  /* scheduling simulation: hosts, disksPerVmMax, diskTimeMsMin/Max, seed */
  if ((s = null_setting (args->spec, "hosts", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.hosts", s, 1000, &v) == -1)
      goto err;
    h->hosts = (unsigned) v;
  }
  if ((s = null_setting (args->spec, "disksPerVmMax", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.disksPerVmMax", s, NULL_MAX_DISKS, &v) == -1)
      goto err;
    h->disks_per_vm_max = (unsigned) v;
  }
  if ((s = null_setting (args->spec, "diskTimeMsMin", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.diskTimeMsMin", s, 3600000, &v) == -1)
      goto err;
    h->disk_time_min_ms = (unsigned) v;
  }
  if ((s = null_setting (args->spec, "diskTimeMsMax", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.diskTimeMsMax", s, 3600000, &v) == -1)
      goto err;
    h->disk_time_max_ms = (unsigned) v;
  }
  if (h->disk_time_max_ms < h->disk_time_min_ms) {
    ferry_error ("null: open %s: settings.diskTimeMsMax (%u) is below diskTimeMsMin (%u)",
                 args->name ? args->name : "provider", h->disk_time_max_ms,
                 h->disk_time_min_ms);
    goto err;
  }
  if ((s = null_setting (args->spec, "seed", buf, sizeof buf))) {
    if (null_parse_u64 ("settings.seed", s, UINT64_MAX - 1, &h->seed) == -1)
      goto err;
  }
  h->fail_test_connection = null_setting_true (args->spec, "failTestConnection");
  h->fail_inventory = null_setting_true (args->spec, "failInventory");
  h->fail_disk_open = null_setting_true (args->spec, "failDiskOpen");
  h->fail_power_off = null_setting_true (args->spec, "failPowerOff");
  h->fail_snapshot = null_setting_true (args->spec, "failSnapshot");

  h->name = strdup (args->name ? args->name : "null");
  if (args->state_dir && *args->state_dir
      && !(h->state_dir = strdup (args->state_dir))) {
    ferry_error_errno (errno, "null: open");
    goto err;
  }
  h->vms = calloc (h->nr_vms ? h->nr_vms : 1, sizeof *h->vms);
  if (!h->name || !h->vms) {
    ferry_error_errno (errno, "null: open");
    goto err;
  }
  /* VMs with an odd number start powered on, the others off. */
  for (unsigned i = 0; i < h->nr_vms; i++)
    h->vms[i].power = (i % 2 == 0) ? FERRY_POWER_ON : FERRY_POWER_OFF;

  *handle = h;
  return FERRY_OPEN_OK;

 err:
  null_close (h);
  return FERRY_OPEN_ERROR;
}

static void
null_close (void *handle)
{
  struct null_handle *h = handle;

  if (!h)
    return;
  pthread_mutex_destroy (&h->lock);
  free (h->vms);
  free (h->state_dir);
  free (h->name);
  free (h);
}

static int
null_test_connection (void *handle)
{
  struct null_handle *h = handle;

  if (h->fail_test_connection) {
    ferry_error ("null: test connection to %s: failure injected by "
                 "settings.failTestConnection", h->name);
    return -1;
  }
  return 0;
}

/* ---- Names and lookups ----------------------------------------------- */

/* "vm-N" (N from 1) -> index, or -1 after an error. */
static int
null_vm_index (struct null_handle *h, const char *vm_id)
{
  char *end;
  unsigned long n;

  if (vm_id && strncmp (vm_id, "vm-", 3) == 0
      && vm_id[3] >= '1' && vm_id[3] <= '9') {
    errno = 0;
    n = strtoul (vm_id + 3, &end, 10);
    if (errno == 0 && *end == '\0' && n >= 1 && n <= h->nr_vms)
      return (int) (n - 1);
  }
  ferry_error ("null: VM %s not found", vm_id ? vm_id : "(null)");
  return -1;
}

/* "disk-N" (N from 0) or the disk key "200N" -> index, or -1. */
static int
null_disk_index (struct null_handle *h, const char *vm_id, const char *disk_id)
{
  char *end;
  unsigned long n = ULONG_MAX;

  if (disk_id && strncmp (disk_id, "disk-", 5) == 0
      && disk_id[5] >= '0' && disk_id[5] <= '9') {
    n = strtoul (disk_id + 5, &end, 10);
    if (*end)
      n = ULONG_MAX;
  }
  else if (disk_id && disk_id[0] >= '0' && disk_id[0] <= '9') {
    n = strtoul (disk_id, &end, 10);
    n = (*end || n < 2000) ? ULONG_MAX : n - 2000;
  }
  if (n < null_vm_disks (h, (unsigned) null_vm_index (h, vm_id)))
    return (int) n;
  ferry_error ("null: VM %s: disk %s not found", vm_id,
               disk_id ? disk_id : "(null)");
  return -1;
}

/* ---- The VMs' state (power, generation, snapshots) ------------------- */

/* Read VM i's state into *vm and keep it locked (h->lock, and with a state
 * directory an flock on vms.lock) until null_vm_put.  -1 after an error,
 * unlocked.
 */
static int
null_vm_get (struct null_handle *h, unsigned i, struct null_vm *vm,
             int *lock_fd)
{
  CLEANUP_FREE_NULL char *lock_path = NULL, *path = NULL;
  json_t *doc, *v;
  json_error_t jerr;
  size_t k;

  *lock_fd = -1;
  pthread_mutex_lock (&h->lock);
  *vm = h->vms[i];
  if (!h->state_dir)
    return 0;
  if (asprintf (&lock_path, "%s/vms.lock", h->state_dir) == -1
      || asprintf (&path, "%s/vm-%u.json", h->state_dir, i + 1) == -1) {
    lock_path = path = NULL;
    ferry_error ("null: vm-%u state: out of memory", i + 1);
    goto err;
  }
  *lock_fd = open (lock_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (*lock_fd == -1 || flock (*lock_fd, LOCK_EX) == -1) {
    ferry_error_errno (errno, "null: lock %s", lock_path);
    goto err;
  }
  if (access (path, F_OK) == -1 && errno == ENOENT)
    return 0;                           /* never changed: the defaults */
  doc = json_load_file (path, 0, &jerr);
  if (!doc) {
    ferry_error ("null: vm-%u state %s: %s", i + 1, path, jerr.text);
    goto err;
  }
  v = json_object_get (doc, "powerState");
  vm->power = !json_is_string (v) ? vm->power
    : strcmp (json_string_value (v), "poweredOn") == 0 ? FERRY_POWER_ON
    : strcmp (json_string_value (v), "poweredOff") == 0 ? FERRY_POWER_OFF
    : strcmp (json_string_value (v), "suspended") == 0 ? FERRY_POWER_SUSPENDED
    : FERRY_POWER_UNKNOWN;
  vm->gen = (uint32_t) json_integer_value (json_object_get (doc, "generation"));
  vm->live_snapshots = 0;
  json_array_foreach (json_object_get (doc, "snapshots"), k, v) {
    const char *sid = json_string_value (v);
    unsigned long g = sid && strncmp (sid, "snapshot-", 9) == 0
      ? strtoul (sid + 9, NULL, 10) : 0;
    if (g >= 1 && g <= 64)
      vm->live_snapshots |= UINT64_C (1) << (g - 1);
  }
  json_decref (doc);
  return 0;

 err:
  if (*lock_fd >= 0)
    close (*lock_fd);
  *lock_fd = -1;
  pthread_mutex_unlock (&h->lock);
  return -1;
}

/* The live snapshots of vm as a JSON array of ids. */
static json_t *
null_snapshot_list (const struct null_vm *vm)
{
  json_t *a = json_array ();
  for (unsigned g = 1; a && g <= 64; g++)
    if (vm->live_snapshots & (UINT64_C (1) << (g - 1))) {
      char sid[32];
      snprintf (sid, sizeof sid, "snapshot-%u", g);
      json_array_append_new (a, json_string (sid));
    }
  return a;
}

static const char *null_power_name (int power);

/* Store *vm as VM i's state (vm NULL: unchanged) and unlock. */
static int
null_vm_put (struct null_handle *h, unsigned i, const struct null_vm *vm,
             int lock_fd)
{
  CLEANUP_FREE_NULL char *path = NULL, *tmp = NULL;
  int r = 0;

  if (vm && !h->state_dir)
    h->vms[i] = *vm;
  else if (vm) {
    json_t *doc = json_pack ("{s:s, s:I, s:o}",
                             "powerState", null_power_name (vm->power),
                             "generation", (json_int_t) vm->gen,
                             "snapshots", null_snapshot_list (vm));
    if (asprintf (&path, "%s/vm-%u.json", h->state_dir, i + 1) == -1
        || asprintf (&tmp, "%s/.vm-%u.json.tmp", h->state_dir, i + 1) == -1) {
      path = tmp = NULL;
      r = -1;
    }
    if (!doc || r == -1) {
      ferry_error ("null: vm-%u state: out of memory", i + 1);
      r = -1;
    }
    else if (json_dump_file (doc, tmp, JSON_COMPACT) == -1
             || chmod (tmp, 0600) == -1 || rename (tmp, path) == -1) {
      ferry_error_errno (errno, "null: write %s", path);
      unlink (tmp);
      r = -1;
    }
    json_decref (doc);
  }
  if (lock_fd >= 0)
    close (lock_fd);                    /* releases the flock */
  pthread_mutex_unlock (&h->lock);
  return r;
}

static const char *
null_power_name (int power)
{
  switch (power) {
  case FERRY_POWER_ON: return "poweredOn";
  case FERRY_POWER_OFF: return "poweredOff";
  case FERRY_POWER_SUSPENDED: return "suspended";
  default: return "unknown";
  }
}

/* ---- Inventory ------------------------------------------------------- */

/* The VM as Forklift's vSphere inventory shows it. */
static json_t *
null_vm_doc (struct null_handle *h, unsigned i)
{
  json_t *vm, *disks, *nics;
  char id[32], name[32], uuid[40], file[96], mac[24];
  struct null_vm state;
  json_t *snapshots;
  int power, lock_fd;

  if (null_vm_get (h, i, &state, &lock_fd) == -1)
    return NULL;
  null_vm_put (h, i, NULL, lock_fd);
  power = state.power;
  snapshots = null_snapshot_list (&state);

  snprintf (id, sizeof id, "vm-%u", i + 1);
  snprintf (name, sizeof name, "null-vm-%u", i + 1);
  snprintf (uuid, sizeof uuid, "00000000-0000-4000-8000-%012u", i + 1);
  char host[24];
  snprintf (host, sizeof host, "host-%u", h->hosts > 1 ? i % h->hosts + 1 : 1);

  disks = json_array ();
  nics = json_array ();
  for (unsigned d = 0; disks && d < null_vm_disks (h, i); d++) {
    char did[16];
    unsigned ms = null_disk_time_ms (h, i, d);
    snprintf (did, sizeof did, "disk-%u", d);
    snprintf (file, sizeof file, "[datastore1] %s/%s_%u.vmdk", name, name, d);
    json_array_append_new (disks,
      json_pack ("{s:s, s:i, s:s, s:I, s:{s:s, s:s}, s:b, s:b, s:s, s:s}",
                 "id", did,
                 "key", 2000 + (int) d,
                 "file", file,
                 "capacity", (json_int_t) h->disk_size,
                 "datastore", "kind", "Datastore", "id", "datastore-1",
                 "shared", 0,
                 "rdm", 0,
                 "bus", "scsi",
                 "mode", "persistent"));
    if (ms)                             /* the simulation's, for bench/ */
      json_object_set_new (json_array_get (disks, d), "copyTimeMs", json_integer (ms));
  }
  snprintf (mac, sizeof mac, "00:50:56:%02x:%02x:%02x",
            (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
  if (nics)
    json_array_append_new (nics,
      json_pack ("{s:s, s:{s:s, s:s}}",
                 "mac", mac,
                 "network", "kind", "Network", "id", "network-1"));

  vm = json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s, s:s, s:s,"
                  " s:b, s:s, s:o*, s:o*, s:o*}",
                  "id", id,
                  "name", name,
                  "uuid", uuid,
                  "powerState", null_power_name (power),
                  "cpuCount", 2,
                  "coresPerSocket", 1,
                  "memoryMB", 2048,
                  "firmware", (i % 2 == 0) ? "efi" : "bios",
                  "guestId", "rhel9_64Guest",
                  "host", host,
                  "changeTrackingEnabled", 1,
                  "path", name,
                  "disks", disks,
                  "nics", nics,
                  "snapshots", snapshots);
  if (!vm)
    ferry_error ("null: VM %s: out of memory", id);
  return vm;
}

static int
null_put (struct ferry_inventory_sink *sink, const char *kind,
          const char *id, const char *name, const char *parent, json_t *doc)
{
  int r;

  if (!doc) {
    ferry_error ("null: inventory %s %s: out of memory", kind, id);
    return -1;
  }
  r = sink->put (sink, kind, id, name, parent, doc);
  json_decref (doc);
  return r;
}

static int
null_inventory (void *handle, struct ferry_inventory_sink *sink)
{
  struct null_handle *h = handle;
  uint64_t ds_capacity = h->disk_size * h->disks_per_vm * h->nr_vms;

  if (h->fail_inventory) {
    ferry_error ("null: inventory of %s: failure injected by "
                 "settings.failInventory", h->name);
    return -1;
  }
  if (!sink || !sink->put || !sink->prune) {
    ferry_error ("null: inventory of %s: the sink has no put or prune",
                 h->name);
    return -1;
  }

  if (null_put (sink, FERRY_INV_DATACENTER, "datacenter-1", "null-dc", NULL,
                json_pack ("{s:s, s:s}", "id", "datacenter-1",
                           "name", "null-dc")) == -1
      || null_put (sink, FERRY_INV_CLUSTER, "cluster-1", "null-cluster",
                   "datacenter-1",
                   json_pack ("{s:s, s:s}", "id", "cluster-1",
                              "name", "null-cluster")) == -1
      || null_put (sink, FERRY_INV_HOST, "host-1", "null-host-1", "cluster-1",
                   json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i}",
                              "id", "host-1", "name", "null-host-1",
                              "cluster", "cluster-1",
                              "productName", "ferry null provider",
                              "cpuSockets", 2, "cpuCores", 16)) == -1
      || null_put (sink, FERRY_INV_NETWORK, "network-1", "VM Network",
                   "datacenter-1",
                   json_pack ("{s:s, s:s, s:s}", "id", "network-1",
                              "name", "VM Network",
                              "variant", "Standard")) == -1
      || null_put (sink, FERRY_INV_NETWORK, "network-2", "Storage Network",
                   "datacenter-1",
                   json_pack ("{s:s, s:s, s:s}", "id", "network-2",
                              "name", "Storage Network",
                              "variant", "Standard")) == -1
      || null_put (sink, FERRY_INV_STORAGE, "datastore-1", "datastore1",
                   "datacenter-1",
                   json_pack ("{s:s, s:s, s:s, s:I, s:I}",
                              "id", "datastore-1", "name", "datastore1",
                              "type", "VMFS",
                              "capacity", (json_int_t) ds_capacity * 2,
                              "free", (json_int_t) ds_capacity)) == -1)
    return -1;

  for (unsigned k = 2; k <= h->hosts; k++) {
    char id[24], name[32];
    snprintf (id, sizeof id, "host-%u", k);
    snprintf (name, sizeof name, "null-host-%u", k);
    if (null_put (sink, FERRY_INV_HOST, id, name, "cluster-1",
                  json_pack ("{s:s, s:s, s:s, s:s, s:i, s:i}",
                             "id", id, "name", name, "cluster", "cluster-1",
                             "productName", "ferry null provider",
                             "cpuSockets", 2, "cpuCores", 16)) == -1)
      return -1;
  }
  for (unsigned i = 0; i < h->nr_vms; i++) {
    char id[32], name[32], host[24];
    snprintf (id, sizeof id, "vm-%u", i + 1);
    snprintf (name, sizeof name, "null-vm-%u", i + 1);
    snprintf (host, sizeof host, "host-%u", h->hosts > 1 ? i % h->hosts + 1 : 1);
    if (null_put (sink, FERRY_INV_VM, id, name, host,
                  null_vm_doc (h, i)) == -1)
      return -1;
  }
  return sink->prune (sink);
}

static json_t *
null_vm_describe (void *handle, const char *vm_id)
{
  struct null_handle *h = handle;
  int i = null_vm_index (h, vm_id);

  if (i == -1)
    return NULL;
  return null_vm_doc (h, i);
}

/* The neutral spec (include/ferry/vmspec.h). */
static json_t *
null_vm_spec (void *handle, const char *vm_id)
{
  struct null_handle *h = handle;
  int i = null_vm_index (h, vm_id);
  json_t *spec, *disks, *nics;
  char name[32], mac[24];
  int power;

  if (i == -1)
    return NULL;
  {
    struct null_vm state;
    int lock_fd;
    if (null_vm_get (h, (unsigned) i, &state, &lock_fd) == -1)
      return NULL;
    null_vm_put (h, (unsigned) i, NULL, lock_fd);
    power = state.power;
  }

  snprintf (name, sizeof name, "null-vm-%d", i + 1);
  disks = json_array ();
  for (unsigned d = 0; disks && d < null_vm_disks (h, (unsigned) i); d++) {
    char did[16], serial[32];
    json_t *disk;
    snprintf (did, sizeof did, "disk-%u", d);
    snprintf (serial, sizeof serial, "null-%d-%u", i + 1, d);
    disk = json_pack ("{s:s, s:I, s:s, s:b, s:s}",
                      "id", did,
                      "capacity", (json_int_t) h->disk_size,
                      "bus", "virtio",
                      "shared", 0,
                      "serial", serial);
    if (disk && d == 0)
      json_object_set_new (disk, "bootOrder", json_integer (1));
    json_array_append_new (disks, disk);
  }
  snprintf (mac, sizeof mac, "00:50:56:%02x:%02x:%02x",
            (i >> 16) & 0xff, (i >> 8) & 0xff, i & 0xff);
  nics = json_pack ("[{s:s, s:s, s:s}]",
                    "mac", mac, "model", "virtio", "network", "network-1");

  spec = json_pack ("{s:s, s:s, s:{s:i, s:i, s:i}, s:i, s:s, s:b, s:b,"
                    " s:s, s:{s:s, s:b}, s:{s:s, s:s, s:s, s:s},"
                    " s:o*, s:o*, s:s}",
                    FERRY_VMSPEC_NAME, name,
                    FERRY_VMSPEC_SOURCE_ID, vm_id,
                    FERRY_VMSPEC_CPU, "sockets", 2, "cores", 1, "threads", 1,
                    FERRY_VMSPEC_MEMORY_MB, 2048,
                    FERRY_VMSPEC_FIRMWARE, (i % 2 == 0) ? "efi" : "bios",
                    FERRY_VMSPEC_SECURE_BOOT, 0,
                    FERRY_VMSPEC_TPM, 0,
                    "machineType", "q35",
                    "clock", "timezone", "UTC", "utc", 1,
                    "guest", "os", "linux", "distro", "rhel",
                    "version", "9", "arch", "x86_64",
                    FERRY_VMSPEC_DISKS, disks,
                    FERRY_VMSPEC_NICS, nics,
                    FERRY_VMSPEC_POWER_STATE,
                    power == FERRY_POWER_ON ? "on" : "off");
  if (!spec)
    ferry_error ("null: VM %s: building the spec: out of memory", vm_id);
  return spec;
}

/* ---- Power ----------------------------------------------------------- */

static int
null_set_power (struct null_handle *h, unsigned i, int power)
{
  struct null_vm state;
  int lock_fd;

  if (null_vm_get (h, i, &state, &lock_fd) == -1)
    return -1;
  state.power = power;
  return null_vm_put (h, i, &state, lock_fd);
}

static int
null_power_state (void *handle, const char *vm_id)
{
  struct null_handle *h = handle;
  int i = null_vm_index (h, vm_id), r;

  struct null_vm state;
  int lock_fd;

  if (i == -1 || null_vm_get (h, (unsigned) i, &state, &lock_fd) == -1)
    return -1;
  r = state.power;
  null_vm_put (h, (unsigned) i, NULL, lock_fd);
  return r;
}

static int
null_power_off (void *handle, const char *vm_id)
{
  struct null_handle *h = handle;
  int i = null_vm_index (h, vm_id);

  if (i == -1)
    return -1;
  if (h->fail_power_off) {
    ferry_error ("null: power off %s: failure injected by "
                 "settings.failPowerOff", vm_id);
    return -1;
  }
  return null_set_power (h, (unsigned) i, FERRY_POWER_OFF);
}

static int
null_power_on (void *handle, const char *vm_id)
{
  struct null_handle *h = handle;
  int i = null_vm_index (h, vm_id);

  if (i == -1)
    return -1;
  return null_set_power (h, (unsigned) i, FERRY_POWER_ON);
}

/* ---- Disk content ---------------------------------------------------- */

static void
null_hole (uint64_t size, uint64_t *start, uint64_t *end)
{
  *start = (size / 4) & ~(uint64_t) (NULL_SECTOR - 1);
  *end = (size / 2) & ~(uint64_t) (NULL_SECTOR - 1);
}

/* The block generation g (>= 1) rewrites: [*off, *off + *len). */
static void
null_change_block (uint64_t size, uint32_t g, uint64_t *off, uint64_t *len)
{
  uint64_t hs, he, span;

  null_hole (size, &hs, &he);
  span = hs ? hs : size;                /* changes stay out of the hole */
  *off = ((uint64_t) g * 37 * 4096) % (span ? span : 1);
  *off &= ~(uint64_t) (NULL_SECTOR - 1);
  *len = span - *off < NULL_CHANGE_BLOCK ? span - *off : NULL_CHANGE_BLOCK;
}

/* The last generation <= gen that rewrote the sector at offset. */
static uint32_t
null_sector_gen (uint64_t size, uint32_t gen, uint64_t offset)
{
  for (uint32_t g = gen; g >= 1; g--) {
    uint64_t off, len;
    null_change_block (size, g, &off, &len);
    if (offset >= off && offset < off + len)
      return g;
  }
  return 0;
}

/* Fill one sector (NULL_SECTOR bytes) at offset. */
static void
null_fill_sector (unsigned char *buf, unsigned vm, unsigned disk,
                  uint64_t size, uint32_t gen, uint64_t offset)
{
  uint64_t hs, he;
  uint32_t g;

  null_hole (size, &hs, &he);
  if (offset >= hs && offset < he) {
    memset (buf, 0, NULL_SECTOR);
    return;
  }
  g = null_sector_gen (size, gen, offset);
  for (unsigned k = 0; k < NULL_SECTOR; k++)
    buf[k] = (unsigned char) ((offset >> 9) * 7 + k + vm * 13 + disk * 5
                              + g * 3) | 1;
  snprintf ((char *) buf, 80,
                "ferry-null vm-%u disk-%u gen-%" PRIu32 " offset %" PRIu64 "\n",
                vm + 1, disk, g, offset);
}

struct null_disk {
  struct null_handle *h;
  unsigned vm, disk;                    /* indexes */
  uint32_t gen;                         /* generation this source reads */
  uint64_t size;                        /* bytes */
};

static int64_t
null_disk_size (struct ferry_disk_source *src)
{
  struct null_disk *nd = src->priv;
  return (int64_t) nd->size;
}

static uint32_t
null_disk_block_size (struct ferry_disk_source *src)
{
  return 4096;
}

static int
null_disk_pread (struct ferry_disk_source *src, void *buf, size_t count,
                 uint64_t offset)
{
  struct null_disk *nd = src->priv;
  unsigned char sector[NULL_SECTOR];
  unsigned char *p = buf;
  uint64_t fail = nd->h->fail_read_at;

  if (offset > nd->size || count > nd->size - offset) {
    ferry_error ("null: vm-%u disk-%u: read of %zu bytes at %" PRIu64
                 " is beyond the end (%" PRIu64 " bytes)",
                 nd->vm + 1, nd->disk, count, offset, nd->size);
    errno = EINVAL;
    return -1;
  }
  if (fail != NULL_NO_FAIL && fail >= offset && fail - offset < count) {
    ferry_error_errno (EIO, "null: vm-%u disk-%u: read at %" PRIu64
                       ": failure injected by settings.failReadAt",
                       nd->vm + 1, nd->disk, fail);
    errno = EIO;
    return -1;
  }
  if (offset == 0 && null_disk_time_ms (nd->h, nd->vm, nd->disk)) {
    /* The simulated copy time, spent once per copy (every copy reads
     * offset 0: the disk starts with data).
     */
    unsigned ms = null_disk_time_ms (nd->h, nd->vm, nd->disk);
    struct timespec ts = { .tv_sec = ms / 1000, .tv_nsec = (long) (ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
  }
  if (nd->h->read_delay_ms) {
    struct timespec ts = { .tv_sec = nd->h->read_delay_ms / 1000,
                           .tv_nsec = (long) (nd->h->read_delay_ms % 1000) * 1000000L };
    nanosleep (&ts, NULL);
  }
  while (count > 0) {
    uint64_t base = offset & ~(uint64_t) (NULL_SECTOR - 1);
    size_t skip = offset - base;
    size_t n = NULL_SECTOR - skip < count ? NULL_SECTOR - skip : count;

    null_fill_sector (sector, nd->vm, nd->disk, nd->size, nd->gen, base);
    memcpy (p, sector + skip, n);
    p += n;
    offset += n;
    count -= n;
  }
  return 0;
}

static int
null_emit (ferry_extent_fn fn, void *opaque, uint64_t lo, uint64_t hi,
           uint64_t a, uint64_t b, uint32_t flags)
{
  uint64_t s = a > lo ? a : lo, e = b < hi ? b : hi;
  if (s >= e)
    return 0;
  return fn (opaque, s, e - s, flags);
}

static int
null_disk_extents (struct ferry_disk_source *src, uint64_t offset,
                   uint64_t length, ferry_extent_fn fn, void *opaque)
{
  struct null_disk *nd = src->priv;
  uint64_t hs, he, end;

  if (offset > nd->size) {
    ferry_error ("null: vm-%u disk-%u: extents at %" PRIu64
                 " beyond the end (%" PRIu64 " bytes)",
                 nd->vm + 1, nd->disk, offset, nd->size);
    return -1;
  }
  end = length > nd->size - offset ? nd->size : offset + length;
  null_hole (nd->size, &hs, &he);
  if (null_emit (fn, opaque, offset, end, 0, hs, FERRY_EXTENT_DATA) == -1
      || null_emit (fn, opaque, offset, end, hs, he,
                    FERRY_EXTENT_HOLE | FERRY_EXTENT_ZERO) == -1
      || null_emit (fn, opaque, offset, end, he, nd->size,
                    FERRY_EXTENT_DATA) == -1)
    return -1;
  return 0;
}

static int
null_disk_can_multi_conn (struct ferry_disk_source *src)
{
  return 1;
}

static void null_disk_close (struct ferry_disk_source *src);
static struct ferry_disk_source *null_disk_clone (struct ferry_disk_source *src);

static const struct ferry_disk_source_ops null_disk_ops = {
  .struct_size = sizeof (struct ferry_disk_source_ops),
  .name = "null",
  .size = null_disk_size,
  .block_size = null_disk_block_size,
  .pread = null_disk_pread,
  .extents = null_disk_extents,
  .can_multi_conn = null_disk_can_multi_conn,
  .clone = null_disk_clone,
  .close = null_disk_close,
};

static struct ferry_disk_source *
null_disk_new (struct null_handle *h, unsigned vm, unsigned disk, uint32_t gen)
{
  struct ferry_disk_source *src = calloc (1, sizeof *src);
  struct null_disk *nd = calloc (1, sizeof *nd);

  if (!src || !nd) {
    ferry_error_errno (errno, "null: open vm-%u disk-%u", vm + 1, disk);
    free (src);
    free (nd);
    return NULL;
  }
  nd->h = h;
  nd->vm = vm;
  nd->disk = disk;
  nd->gen = gen;
  nd->size = h->disk_size;
  src->ops = &null_disk_ops;
  src->priv = nd;
  return src;
}

/* Every clone reads the same consistent image: content is a function of
 * (vm, disk, gen, offset) only.
 */
static struct ferry_disk_source *
null_disk_clone (struct ferry_disk_source *src)
{
  struct null_disk *nd = src->priv;
  return null_disk_new (nd->h, nd->vm, nd->disk, nd->gen);
}

static void
null_disk_close (struct ferry_disk_source *src)
{
  if (!src)
    return;
  free (src->priv);
  free (src);
}

/* "snapshot-G" -> G, or 0 after an error. */
static uint32_t
null_snapshot_gen (struct null_handle *h, unsigned vm, const char *vm_id,
                   const char *snapshot)
{
  char *end;
  unsigned long g = 0;
  bool live;

  if (snapshot && strncmp (snapshot, "snapshot-", 9) == 0
      && snapshot[9] >= '1' && snapshot[9] <= '9') {
    g = strtoul (snapshot + 9, &end, 10);
    if (*end || g > 64)
      g = 0;
  }
  struct null_vm state;
  int lock_fd;
  if (null_vm_get (h, vm, &state, &lock_fd) == -1)
    return 0;
  live = g >= 1 && g <= state.gen
    && (state.live_snapshots & (UINT64_C (1) << (g - 1)));
  null_vm_put (h, vm, NULL, lock_fd);
  if (!live) {
    ferry_error ("null: VM %s: snapshot %s not found", vm_id,
                 snapshot ? snapshot : "(null)");
    return 0;
  }
  return g;
}

static struct ferry_disk_source *
null_disk_open (void *handle, const char *vm_id, const char *disk_id,
                const char *snapshot)
{
  struct null_handle *h = handle;
  int vm = null_vm_index (h, vm_id), disk;
  uint32_t gen;

  if (vm == -1)
    return NULL;
  disk = null_disk_index (h, vm_id, disk_id);
  if (disk == -1)
    return NULL;
  if (h->fail_disk_open) {
    ferry_error ("null: open %s %s: failure injected by "
                 "settings.failDiskOpen", vm_id, disk_id);
    return NULL;
  }
  if (snapshot) {
    gen = null_snapshot_gen (h, vm, vm_id, snapshot);
    if (gen == 0)
      return NULL;
  }
  else {
    struct null_vm state;
    int lock_fd;
    if (null_vm_get (h, (unsigned) vm, &state, &lock_fd) == -1)
      return NULL;
    gen = state.gen;
    null_vm_put (h, (unsigned) vm, NULL, lock_fd);
  }
  return null_disk_new (h, vm, disk, gen);
}

/* ---- Capabilities and warm migration --------------------------------- */

static int
null_can_yes (void *handle)
{
  return 1;
}

static int
null_snapshot_create (void *handle, const char *vm_id, char **snapshot_id)
{
  struct null_handle *h = handle;
  int vm = null_vm_index (h, vm_id);
  uint32_t g;

  if (vm == -1)
    return -1;
  if (h->fail_snapshot) {
    ferry_error ("null: snapshot %s: failure injected by "
                 "settings.failSnapshot", vm_id);
    return -1;
  }
  struct null_vm state;
  int lock_fd;
  if (null_vm_get (h, (unsigned) vm, &state, &lock_fd) == -1)
    return -1;
  g = state.gen;
  if (g < 64) {
    g = ++state.gen;
    state.live_snapshots |= UINT64_C (1) << (g - 1);
    if (null_vm_put (h, (unsigned) vm, &state, lock_fd) == -1)
      return -1;
  }
  else {
    g = 0;
    null_vm_put (h, (unsigned) vm, NULL, lock_fd);
  }
  if (g == 0) {
    ferry_error ("null: snapshot %s: at most 64 snapshots per VM", vm_id);
    return -1;
  }
  if (asprintf (snapshot_id, "snapshot-%" PRIu32, g) == -1) {
    ferry_error_errno (errno, "null: snapshot %s", vm_id);
    return -1;
  }
  return 0;
}

static int
null_snapshot_remove (void *handle, const char *vm_id, const char *snapshot_id)
{
  struct null_handle *h = handle;
  int vm = null_vm_index (h, vm_id);
  uint32_t g;

  if (vm == -1)
    return -1;
  g = null_snapshot_gen (h, vm, vm_id, snapshot_id);
  if (g == 0)
    return -1;
  struct null_vm state;
  int lock_fd;
  if (null_vm_get (h, (unsigned) vm, &state, &lock_fd) == -1)
    return -1;
  state.live_snapshots &= ~(UINT64_C (1) << (g - 1));
  return null_vm_put (h, (unsigned) vm, &state, lock_fd);
}

struct null_range { uint64_t off, len; };

static int
null_range_cmp (const void *a, const void *b)
{
  const struct null_range *x = a, *y = b;
  return x->off < y->off ? -1 : x->off > y->off;
}

static int
null_changed_extents (void *handle, const char *vm_id, const char *disk_id,
                      const char *snapshot_id, const char *change_id,
                      ferry_extent_fn fn, void *opaque, char **new_change_id)
{
  struct null_handle *h = handle;
  int vm = null_vm_index (h, vm_id), disk;
  uint32_t gen, since = 0;
  struct null_range ranges[64];
  size_t n = 0;
  int r = 0;

  if (vm == -1)
    return -1;
  disk = null_disk_index (h, vm_id, disk_id);
  if (disk == -1)
    return -1;
  gen = null_snapshot_gen (h, vm, vm_id, snapshot_id);
  if (gen == 0)
    return -1;

  if (change_id) {
    char *end;
    unsigned long c;
    errno = 0;
    c = strtoul (change_id, &end, 10);
    if (errno || !*change_id || *end || c > gen) {
      ferry_error ("null: VM %s disk %s: bad change id \"%s\" for %s",
                   vm_id, disk_id, change_id, snapshot_id);
      return -1;
    }
    since = c;
    for (uint32_t g = since + 1; g <= gen; g++) {
      null_change_block (h->disk_size, g, &ranges[n].off, &ranges[n].len);
      if (ranges[n].len)
        n++;
    }
    qsort (ranges, n, sizeof ranges[0], null_range_cmp);
    /* Merge overlapping or touching blocks; report ascending. */
    for (size_t i = 0; i < n && r == 0; ) {
      uint64_t s = ranges[i].off, e = s + ranges[i].len;
      size_t j = i + 1;
      while (j < n && ranges[j].off <= e) {
        if (ranges[j].off + ranges[j].len > e)
          e = ranges[j].off + ranges[j].len;
        j++;
      }
      r = fn (opaque, s, e - s, FERRY_EXTENT_DATA);
      i = j;
    }
  }
  else {
    /* No change id: every allocated extent. */
    uint64_t hs, he;
    null_hole (h->disk_size, &hs, &he);
    if (hs > 0)
      r = fn (opaque, 0, hs, FERRY_EXTENT_DATA);
    if (r == 0 && h->disk_size > he)
      r = fn (opaque, he, h->disk_size - he, FERRY_EXTENT_DATA);
  }
  if (r == -1)
    return -1;
  if (asprintf (new_change_id, "%" PRIu32, gen) == -1) {
    ferry_error_errno (errno, "null: VM %s: change id", vm_id);
    return -1;
  }
  return 0;
}

static struct ferry_provider null_provider = {
  .name = "null",
  .description = "synthetic source for tests and a template for new providers",
  .version = "1.0",
  .thread_model = FERRY_THREAD_MODEL_PARALLEL,
  .open = null_open,
  .close = null_close,
  .test_connection = null_test_connection,
  .inventory = null_inventory,
  .vm_describe = null_vm_describe,
  .vm_spec = null_vm_spec,
  .power_state = null_power_state,
  .power_off = null_power_off,
  .power_on = null_power_on,
  .disk_open = null_disk_open,
  .can_warm = null_can_yes,
  .can_extents = null_can_yes,
  .can_power = null_can_yes,
  .can_multi_conn = null_can_yes,
  .snapshot_create = null_snapshot_create,
  .snapshot_remove = null_snapshot_remove,
  .changed_extents = null_changed_extents,
};

FERRY_REGISTER_PROVIDER (null_provider)
