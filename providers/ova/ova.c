/* ferry OVA provider: VMs exported as .ova archives or unpacked OVF
 * directories, found under a local directory (or a mounted NFS share, the
 * "nfs_server:/path" form Forklift uses).
 *
 * A scan walks the directory tree, reads each .ova with libarchive (the
 * OVF descriptor, the .mf manifest, and every other member streamed
 * through the digests the manifest asks for), and each *.ovf with the files
 * beside it.  Results are cached per file (device, inode, size, mtime), so
 * a rescan of unchanged files costs a stat.  Disks are served by qemu-nbd
 * reading straight out of the archive (raw driver with offset and size
 * under the format driver): nothing is extracted.  README.md documents the
 * ids, the concerns and the tests.
 *
 * Thread model: one call at a time per handle (the scan cache is the
 * handle's).
 */
#include <config.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include <archive.h>
#include <archive_entry.h>

#include <ferry/provider.h>
#include <ferry/log.h>

#include "ova-internal.h"

#define OVA_MAX_DEPTH 16                /* directory levels scanned */
#define OVA_PROBE_SIZE 65536u           /* bytes read to probe a disk */
#define OVA_IO_SIZE (1u << 20)          /* bytes per read when hashing */

struct ova_handle {
  char *name;                           /* Provider metadata.name */
  char *url;                            /* spec.url as given */
  char *root;                           /* the local directory scanned */
  bool verify;                          /* check .mf digests */
  char storage_id[37];
  /* path -> {dev, ino, size, mtime, vms: [{doc, priv}], networks: {}} for
   * every file seen by the last scan; reused while the file is unchanged.
   */
  json_t *cache;
  /* vm id -> {doc, priv} after the last scan; NULL before the first. */
  json_t *vms;
  json_t *networks;                     /* network name -> inventory doc */
};

/* ---- Configuration ---------------------------------------------------- */

/* /proc/mounts writes space, tab, newline and backslash as \ooo. */
static void
ova_unescape_mount (char *s)
{
  char *out = s;

  for (; *s; s++) {
    if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0'
        && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
      *out++ = (char) ((s[1] - '0') * 64 + (s[2] - '0') * 8 + (s[3] - '0'));
      s += 3;
    }
    else
      *out++ = *s;
  }
  *out = '\0';
}

/* The mount point of an NFS export "server:/path", from a mounts table in
 * /proc/mounts format; the longest mounted prefix of path wins, and the
 * rest of path is appended.  Returns a new string, or NULL (not mounted).
 */
static char *
ova_nfs_local_path (const char *url, const char *mounts_file)
{
  FILE *fp = fopen (mounts_file, "re");
  char line[4096], *best = NULL;
  size_t best_len = 0;
  const char *colon = strchr (url, ':');
  size_t host_len = colon ? (size_t) (colon - url) : 0;

  if (!fp || !colon)
    goto out;
  while (fgets (line, sizeof line, fp)) {
    char src[2048], mnt[2048], type[64];
    size_t slen;

    if (sscanf (line, "%2047s %2047s %63s", src, mnt, type) != 3
        || strncmp (type, "nfs", 3) != 0)
      continue;
    ova_unescape_mount (src);
    ova_unescape_mount (mnt);
    /* Same server, and the export is a prefix of the url's path. */
    if (strncmp (src, url, host_len + 1) != 0)
      continue;
    slen = strlen (src);
    while (slen > host_len + 2 && src[slen - 1] == '/')
      src[--slen] = '\0';
    if (strncmp (src, url, slen) != 0
        || (url[slen] != '\0' && url[slen] != '/' && src[slen - 1] != '/'))
      continue;
    if (slen >= best_len) {
      char *p = NULL;
      if (asprintf (&p, "%s%s%s", mnt, url[slen] && url[slen] != '/' ? "/" : "",
                    url + slen) == -1)
        continue;
      free (best);
      best = p;
      best_len = slen;
    }
  }
 out:
  if (fp)
    fclose (fp);
  return best;
}

static const char *
ova_setting (const json_t *spec, const char *key)
{
  const json_t *v = json_object_get (json_object_get (spec, "settings"), key);
  if (json_is_string (v))
    return json_string_value (v);
  if (json_is_false (v))
    return "false";
  return NULL;
}

static void ova_close (void *handle);

static int
ova_open (const struct ferry_open_args *args, void **handle)
{
  struct ova_handle *h;
  const char *url = args->url ? args->url : "";
  const char *pname = args->name ? args->name : "ova";
  const char *v;
  const char *parts[] = { "ferry-ova", "storage", pname, NULL };

  if (!args->type || strcmp (args->type, "ova") != 0)
    return FERRY_OPEN_DECLINED;

  h = calloc (1, sizeof *h);
  if (!h) {
    ferry_error_errno (errno, "ova: open provider %s", pname);
    return FERRY_OPEN_ERROR;
  }
  h->verify = true;
  if ((v = ova_setting (args->spec, "verifyDigests"))
      && strcmp (v, "false") == 0)
    h->verify = false;
  h->name = strdup (pname);
  h->url = strdup (url);
  h->cache = json_object ();
  if (!h->name || !h->url || !h->cache) {
    ferry_error_errno (ENOMEM, "ova: open provider %s", pname);
    goto err;
  }
  ova_stable_id (h->storage_id, parts);

  if (strncmp (url, "file://", 7) == 0)
    url += 7;
  if (!*url) {
    ferry_error ("ova: provider %s: spec.url is empty; set it to a local "
                 "directory or to an NFS export nfs_server:/path", pname);
    goto err;
  }
  if (url[0] == '/')
    h->root = strdup (url);
  else if (strstr (url, ":/") && !strstr (url, "://")) {
    h->root = ova_nfs_local_path (url, "/proc/mounts");
    if (!h->root) {
      ferry_error ("ova: provider %s: url %s is an NFS export that is not "
                   "mounted on this host; ferry reads OVA files from a "
                   "mounted share: mount it (mount -t nfs %s /mnt/ova) or "
                   "set spec.url to the local directory", pname, url, url);
      goto err;
    }
  }
  else {
    ferry_error ("ova: provider %s: url %s is neither an absolute directory "
                 "nor an NFS export nfs_server:/path", pname, url);
    goto err;
  }
  if (!h->root) {
    ferry_error_errno (ENOMEM, "ova: open provider %s", pname);
    goto err;
  }
  /* "/a/b/" and "/a/b" give the same relative paths, hence the same ids. */
  for (size_t n = strlen (h->root); n > 1 && h->root[n - 1] == '/'; n--)
    h->root[n - 1] = '\0';

  *handle = h;
  return FERRY_OPEN_OK;

 err:
  ova_close (h);
  return FERRY_OPEN_ERROR;
}

static void
ova_close (void *handle)
{
  struct ova_handle *h = handle;

  if (!h)
    return;
  json_decref (h->cache);
  json_decref (h->vms);
  json_decref (h->networks);
  free (h->name);
  free (h->url);
  free (h->root);
  free (h);
}

static int
ova_test_connection (void *handle)
{
  struct ova_handle *h = handle;
  struct stat st;

  if (stat (h->root, &st) == -1) {
    ferry_error_errno (errno, "ova: provider %s: directory %s", h->name,
                       h->root);
    return -1;
  }
  if (!S_ISDIR (st.st_mode)) {
    ferry_error ("ova: provider %s: %s is not a directory", h->name, h->root);
    return -1;
  }
  if (access (h->root, R_OK | X_OK) == -1) {
    ferry_error_errno (errno, "ova: provider %s: cannot read directory %s",
                       h->name, h->root);
    return -1;
  }
  return 0;
}

/* ---- Reading files ------------------------------------------------------ */

static long
ova_pread_fd (void *opaque, void *buf, size_t count, uint64_t offset)
{
  int fd = *(int *) opaque;
  size_t done = 0;

  while (done < count) {
    ssize_t r = pread (fd, (char *) buf + done, count - done,
                       (off_t) (offset + done));
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    if (r == 0)
      break;
    done += (size_t) r;
  }
  return (long) done;
}

static bool
has_suffix (const char *s, const char *suffix)
{
  size_t n = strlen (s), m = strlen (suffix);
  return n >= m && strcasecmp (s + n - m, suffix) == 0;
}

/* "./a/b" names the same file as "a/b", in hrefs, tar members and .mf. */
static const char *
ova_strip_dot (const char *name)
{
  while (name && name[0] == '.' && name[1] == '/')
    name += 2;
  return name;
}

/* Where each file named in the OVF is, as {href: location}, a location
 * being {path, offset, size, member (bool)} or {problem}.
 */
struct ova_source {
  const char *abs;                      /* the .ova or .ovf */
  const char *rel;                      /* relative to the root, for ids */
  bool archive;
  json_t *locations;
  json_t *concerns;                     /* file-level concerns */
  json_t *manifest;                     /* file -> {algorithm, digest}, or NULL */
  struct ova_digest **digests;          /* archive members, by index */
  char **digest_names;
  size_t nr_digests;
};

/* Check what the manifest says about file against computed digest d
 * (NULL: not computed).  Returns a problem string (caller frees) or NULL.
 */
static char *
ova_check_digest (struct ova_source *src, const char *file,
                  struct ova_digest *d)
{
  const json_t *want = json_object_get (src->manifest, ova_strip_dot (file));
  const char *alg = json_string_value (json_object_get (want, "algorithm"));
  const char *hex = json_string_value (json_object_get (want, "digest"));
  char got[129];
  char *p = NULL;

  if (!want || !alg || !hex || !d)
    return NULL;
  if (ova_digest_hex (d, alg, got) == -1 || strcmp (got, hex) != 0) {
    if (asprintf (&p, "%s digest mismatch for %s: the manifest says %s, the "
                  "file has %s", alg, file, hex, got) == -1)
      p = NULL;
  }
  return p;
}

static void
ova_set_location (struct ova_source *src, const char *href, const char *path,
                  uint64_t offset, uint64_t size, bool member,
                  const char *problem)
{
  json_t *loc;

  if (problem)
    loc = json_pack ("{s:s}", "problem", problem);
  else
    loc = json_pack ("{s:s, s:I, s:I, s:b}", "path", path,
                     "offset", (json_int_t) offset, "size", (json_int_t) size,
                     "member", member);
  json_object_set_new (src->locations, ova_strip_dot (href), loc);
}

/* Stream a whole file through a digest. */
static int
ova_hash_file (const char *path, struct ova_digest *d)
{
  OVA_CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  OVA_CLEANUP_FREE char *buf = malloc (OVA_IO_SIZE);
  ssize_t r;

  if (fd == -1 || !buf)
    return -1;
  while ((r = read (fd, buf, OVA_IO_SIZE)) != 0) {
    if (r == -1) {
      if (errno == EINTR)
        continue;
      return -1;
    }
    ova_digest_update (d, buf, (size_t) r);
  }
  return 0;
}

/* Read a whole small file; NULL with *why on failure. */
static char *
ova_slurp (const char *path, size_t max, size_t *len, const char **why)
{
  OVA_CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  struct stat st;
  char *buf;
  long r;

  if (fd == -1 || fstat (fd, &st) == -1) {
    *why = strerror (errno);
    return NULL;
  }
  if (st.st_size < 0 || (uint64_t) st.st_size > max) {
    *why = "too large";
    return NULL;
  }
  buf = malloc ((size_t) st.st_size + 1);
  if (!buf) {
    *why = "out of memory";
    return NULL;
  }
  r = ova_pread_fd (&fd, buf, (size_t) st.st_size, 0);
  if (r < 0) {
    *why = strerror (errno);
    free (buf);
    return NULL;
  }
  buf[r] = '\0';
  *len = (size_t) r;
  return buf;
}

/* ---- Building VMs ------------------------------------------------------- */

static void
ova_vm_id (char out[37], const char *rel, const char *vs_id)
{
  const char *parts[] = { "ferry-ova", "vm", rel, vs_id, NULL };
  ova_stable_id (out, parts);
}

static void
ova_disk_id (char out[37], const char *rel, const char *vs_id,
             const char *disk_id)
{
  const char *parts[] = { "ferry-ova", "disk", rel, vs_id, disk_id, NULL };
  ova_stable_id (out, parts);
}

static void
ova_network_id (char out[37], const char *name)
{
  const char *parts[] = { "ferry-ova", "network", name, NULL };
  ova_stable_id (out, parts);
}

/* The base name without directory and extension: names broken files. */
static char *
ova_base_name (const char *rel)
{
  const char *b = strrchr (rel, '/');
  char *s = strdup (b ? b + 1 : rel), *dot;

  if (s && (dot = strrchr (s, '.')) && dot != s)
    *dot = '\0';
  return s;
}

/* A placeholder VM for a file that yields none, carrying the concerns. */
static json_t *
ova_broken_vm (struct ova_handle *h, const struct ova_source *src)
{
  char id[37];
  OVA_CLEANUP_FREE char *name = ova_base_name (src->rel);

  ova_vm_id (id, src->rel, "");
  return json_pack ("{s:{s:s, s:s, s:s, s:s, s:s, s:s, s:i, s:i, s:i, s:s,"
                    " s:b, s:b, s:s, s:[], s:[], s:[], s:O, s:b}, s:[]}",
                    "doc",
                    "id", id, "uuid", id, "name", name ? name : src->rel,
                    "ovaPath", src->abs, "path", src->rel,
                    "ovaSource", "Unknown",
                    "cpuCount", 0, "coresPerSocket", 0, "memoryMB", 0,
                    "firmware", "bios", "secureBoot", 0, "tpm", 0,
                    "powerState", "Off", "disks", "nics", "networks",
                    "concerns", src->concerns, "invalid", 1,
                    "priv");
}

/* The file behind OVF file reference ref_id, or NULL with *problem. */
static const json_t *
ova_locate (const struct ova_source *src, const json_t *ovf,
            const char *ref_id, const char **href, char **problem)
{
  size_t i;
  const json_t *f;

  *href = NULL;
  json_array_foreach (json_object_get (ovf, "files"), i, f) {
    if (strcmp (json_string_value (json_object_get (f, "id")), ref_id) != 0)
      continue;
    *href = json_string_value (json_object_get (f, "href"));
    if (json_object_get (f, "problem")) {
      *problem = strdup (json_string_value (json_object_get (f, "problem")));
      return NULL;
    }
    const json_t *loc = json_object_get (src->locations, ova_strip_dot (*href));
    if (!loc) {
      if (asprintf (problem, "file %s is not in %s", *href,
                    src->archive ? "the archive" : "the OVF's directory") == -1)
        *problem = NULL;
      return NULL;
    }
    if (json_object_get (loc, "problem")) {
      *problem = strdup (json_string_value (json_object_get (loc, "problem")));
      return NULL;
    }
    /* A declared size that disagrees means a cut or swapped file. */
    const json_t *declared = json_object_get (f, "size");
    json_int_t have = json_integer_value (json_object_get (loc, "size"));
    if (json_is_integer (declared) && json_integer_value (declared) != have) {
      if (asprintf (problem, "file %s is %" JSON_INTEGER_FORMAT " bytes, but "
                    "References says %" JSON_INTEGER_FORMAT " (truncated or "
                    "replaced?)", *href, have,
                    json_integer_value (declared)) == -1)
        *problem = NULL;
      return NULL;
    }
    return loc;
  }
  if (asprintf (problem, "file reference %s is not in References", ref_id) == -1)
    *problem = NULL;
  return NULL;
}

/* Probe the format of a located disk. */
static void
ova_probe_location (json_t *loc, const char **format, const char **sub,
                    uint64_t *vsize)
{
  const char *path = json_string_value (json_object_get (loc, "path"));
  uint64_t off = (uint64_t) json_integer_value (json_object_get (loc, "offset"));
  uint64_t size = (uint64_t) json_integer_value (json_object_get (loc, "size"));
  OVA_CLEANUP_CLOSE int fd = open (path, O_RDONLY | O_CLOEXEC);
  unsigned char buf[OVA_PROBE_SIZE];
  long r = -1;

  *format = "raw";
  *sub = "";
  *vsize = 0;
  if (fd >= 0)
    r = ova_pread_fd (&fd, buf, size < sizeof buf ? (size_t) size : sizeof buf,
                      off);
  if (r > 0) {
    *format = ova_probe_format (buf, (size_t) r, sub);
    *vsize = ova_probe_virtual_size (buf, (size_t) r);
  }
  if (strcmp (*format, "raw") == 0)
    *vsize = size;
}

static json_t *
ova_build_vm (struct ova_handle *h, const struct ova_source *src,
              const json_t *ovf, const json_t *vs, json_t *networks)
{
  const char *vs_id = json_string_value (json_object_get (vs, "id"));
  char vm_id[37];
  json_t *doc, *disks, *nics, *netrefs, *concerns, *priv;
  const json_t *d, *n;
  size_t i;
  json_int_t storage_used = 0;

  ova_vm_id (vm_id, src->rel, vs_id);
  concerns = json_deep_copy (src->concerns);
  json_array_extend (concerns, json_object_get (ovf, "concerns"));
  json_array_extend (concerns, json_object_get (vs, "concerns"));
  disks = json_array ();
  nics = json_array ();
  netrefs = json_array ();
  priv = json_array ();

  json_array_foreach (json_object_get (vs, "disks"), i, d) {
    const char *disk_key = json_string_value (json_object_get (d, "diskId"));
    const char *ref = json_string_value (json_object_get (d, "fileRef"));
    const char *href = NULL, *format = "", *sub = "";
    uint64_t vsize = 0;
    OVA_CLEANUP_FREE char *problem = NULL;
    const json_t *loc = NULL;
    char disk_id[37];
    json_t *disk;

    ova_disk_id (disk_id, src->rel, vs_id, disk_key);
    if (ref)
      loc = ova_locate (src, ovf, ref, &href, &problem);
    if (json_object_get (d, "problem")) {
      /* What the descriptor says is wrong comes first. */
      free (problem);
      problem = strdup (json_string_value (json_object_get (d, "problem")));
      loc = NULL;
    }
    if (loc) {
      ova_probe_location ((json_t *) loc, &format, &sub, &vsize);
      if (strcmp (format, "vmdk-descriptor") == 0
          && json_is_true (json_object_get (loc, "member")))
        problem = strdup ("the disk is a VMDK text descriptor with separate "
                          "extents, which ferry cannot read inside an .ova");
      else if (vsize > OVA_MAX_CAPACITY) {
        if (asprintf (&problem, "the image declares a virtual size of %"
                      PRIu64 " bytes, more than 64 TiB", vsize) == -1)
          problem = NULL;
      }
      else if (json_is_integer (json_object_get (d, "capacity"))
               && vsize > (uint64_t) json_integer_value (json_object_get (d, "capacity")))
        ova_concern (concerns, "Warning", "Disk larger than declared",
                     "%s: virtual system %s: disk %s: the image is %" PRIu64
                     " bytes, more than the OVF capacity %" JSON_INTEGER_FORMAT
                     "; the target disk gets the image's size", src->rel,
                     vs_id, disk_key, vsize,
                     json_integer_value (json_object_get (d, "capacity")));
    }
    if (problem)
      ova_concern (concerns, "Critical", "Unusable disk",
                   "%s: virtual system %s: disk %s: %s", src->rel, vs_id,
                   disk_key, problem);

    disk = json_pack ("{s:s, s:s, s:s, s:s?, s:s?, s:s, s:O, s:s, s:O,"
                      " s:s, s:s, s:O, s:O, s:O, s:{s:s, s:s}}",
                      "id", disk_id,
                      "name", json_string_value (json_object_get (d, "name")),
                      "diskId", disk_key,
                      "fileRef", ref,
                      "file", href,
                      "filePath", src->abs,
                      "capacity", json_object_get (d, "capacity"),
                      "capacityAllocationUnits",
                      json_string_value (json_object_get (d, "capacityAllocationUnits")),
                      "populatedSize", json_object_get (d, "populatedSize"),
                      "format", format,
                      "ovfFormat", json_string_value (json_object_get (d, "format")),
                      "bus", json_object_get (d, "bus"),
                      "controllerIndex", json_object_get (d, "controllerIndex"),
                      "unit", json_object_get (d, "unit"),
                      "datastore", "kind", "Storage", "id", h->storage_id);
    if (disk && *sub)
      json_object_set_new (disk, "subformat", json_string (sub));
    if (disk && vsize)
      json_object_set_new (disk, "virtualSize", json_integer ((json_int_t) vsize));
    if (loc)
      storage_used += json_integer_value (json_object_get (loc, "size"));
    json_array_append_new (disks, disk);
    json_array_append_new (priv,
                           problem
                           ? json_pack ("{s:s, s:s}", "id", disk_id,
                                        "problem", problem)
                           : json_pack ("{s:s, s:O, s:O, s:O, s:O, s:s}",
                                        "id", disk_id,
                                        "path", json_object_get (loc, "path"),
                                        "offset", json_object_get (loc, "offset"),
                                        "size", json_object_get (loc, "size"),
                                        "member", json_object_get (loc, "member"),
                                        "format", format));
  }

  json_array_foreach (json_object_get (vs, "nics"), i, n) {
    const char *net = json_string_value (json_object_get (n, "network"));
    char net_id[37] = "";
    if (net)
      ova_network_id (net_id, net);
    json_array_append_new (nics,
                           json_pack ("{s:O, s:O?, s:O?, s:s?, s:O?}",
                                      "name", json_object_get (n, "name"),
                                      "mac", json_object_get (n, "mac"),
                                      "network", json_object_get (n, "network"),
                                      "networkId", net ? net_id : NULL,
                                      "model", json_object_get (n, "model")));
  }
  json_array_foreach (json_object_get (vs, "networks"), i, n) {
    const char *net = json_string_value (n);
    char net_id[37];
    const char *desc = "";
    size_t j;
    const json_t *sn;

    ova_network_id (net_id, net);
    json_array_append_new (netrefs, json_pack ("{s:s, s:s, s:s}", "kind",
                                               "Network", "id", net_id,
                                               "name", net));
    json_array_foreach (json_object_get (ovf, "networks"), j, sn)
      if (strcmp (json_string_value (json_object_get (sn, "name")), net) == 0)
        desc = json_string_value (json_object_get (sn, "description"));
    if (!json_object_get (networks, net))
      json_object_set_new (networks, net,
                           json_pack ("{s:s, s:s, s:s}", "id", net_id,
                                      "name", net, "description", desc));
  }

  doc = json_pack ("{s:s, s:s, s:O, s:s, s:s, s:O, s:O, s:O?, s:O?, s:O?,"
                   " s:O, s:O, s:O, s:O, s:O, s:O, s:O, s:O?, s:s, s:I,"
                   " s:o, s:o, s:o, s:o}",
                   "id", vm_id,
                   "uuid", vm_id,
                   "name", json_object_get (vs, "name"),
                   "ovaPath", src->abs,
                   "path", src->rel,
                   "virtualSystemId", json_object_get (vs, "id"),
                   "ovaSource", json_object_get (ovf, "source"),
                   "osType", json_object_get (vs, "osType"),
                   "osId", json_object_get (vs, "osId"),
                   "osDescription", json_object_get (vs, "osDescription"),
                   "cpuCount", json_object_get (vs, "cpuCount"),
                   "coresPerSocket", json_object_get (vs, "coresPerSocket"),
                   "memoryMB", json_object_get (vs, "memoryMB"),
                   "memoryUnits", json_object_get (vs, "memoryUnits"),
                   "firmware", json_object_get (vs, "firmware"),
                   "secureBoot", json_object_get (vs, "secureBoot"),
                   "tpm", json_object_get (vs, "tpm"),
                   "virtualSystemType", json_object_get (vs, "virtualSystemType"),
                   "powerState", "Off",
                   "storageUsed", storage_used,
                   "disks", disks,
                   "nics", nics,
                   "networks", netrefs,
                   "concerns", concerns);
  if (!doc) {
    json_decref (priv);
    return NULL;
  }
  if (!json_object_get (doc, "memoryUnits"))
    json_object_set_new (doc, "memoryUnits", json_string ("byte * 2^20"));
  return json_pack ("{s:o, s:o}", "doc", doc, "priv", priv);
}

/* Turn a parsed OVF plus located files into [{doc, priv}]. */
static json_t *
ova_build_vms (struct ova_handle *h, struct ova_source *src, const char *ovf_buf,
               size_t ovf_len, const char *ovf_name, json_t *networks)
{
  OVA_CLEANUP_FREE char *what = NULL;
  OVA_CLEANUP_JSON json_t *ovf = NULL;
  json_t *vms = json_array (), *vs;
  size_t i;

  if (asprintf (&what, "%s%s%s", src->rel, src->archive ? "!" : "",
                src->archive ? ovf_name : "") == -1)
    what = NULL;
  ovf = ovf_parse (ovf_buf, ovf_len, what ? what : src->rel);
  if (!ovf || !vms) {
    json_decref (vms);
    return NULL;
  }
  if (json_array_size (json_object_get (ovf, "virtualSystems")) == 0) {
    json_array_extend (src->concerns, json_object_get (ovf, "concerns"));
    json_array_append_new (vms, ova_broken_vm (h, src));
    return vms;
  }
  json_array_foreach (json_object_get (ovf, "virtualSystems"), i, vs) {
    json_t *vm = ova_build_vm (h, src, ovf, vs, networks);
    if (vm)
      json_array_append_new (vms, vm);
  }
  return vms;
}

/* ---- Scanning an .ova --------------------------------------------------- */

static void
ova_source_free (struct ova_source *src)
{
  json_decref (src->locations);
  json_decref (src->concerns);
  json_decref (src->manifest);
  for (size_t i = 0; i < src->nr_digests; i++) {
    ova_digest_free (src->digests[i]);
    free (src->digest_names[i]);
  }
  free (src->digests);
  free (src->digest_names);
}

/* Read one archive member's data into a buffer (at most max bytes) or
 * through a digest.  Returns 0, or -1 with *why.
 */
static int
ova_archive_read (struct archive *a, char **out, size_t *outlen, size_t max,
                  struct ova_digest *d, const char **why)
{
  OVA_CLEANUP_FREE char *buf = malloc (OVA_IO_SIZE);
  char *acc = NULL;
  size_t len = 0;
  la_ssize_t r;

  if (!buf) {
    *why = "out of memory";
    return -1;
  }
  while ((r = archive_read_data (a, buf, OVA_IO_SIZE)) > 0) {
    if (d)
      ova_digest_update (d, buf, (size_t) r);
    if (out) {
      char *n;
      if (len + (size_t) r > max) {
        free (acc);
        *why = "too large";
        return -1;
      }
      n = realloc (acc, len + (size_t) r + 1);
      if (!n) {
        free (acc);
        *why = "out of memory";
        return -1;
      }
      acc = n;
      memcpy (acc + len, buf, (size_t) r);
      len += (size_t) r;
      acc[len] = '\0';
    }
  }
  if (r < 0) {
    free (acc);
    *why = archive_error_string (a) ? archive_error_string (a) : "read error";
    return -1;
  }
  if (out) {
    if (!acc)
      acc = calloc (1, 1);
    *out = acc;
    *outlen = len;
  }
  return 0;
}

static json_t *
ova_scan_archive (struct ova_handle *h, const char *abs, const char *rel,
                  json_t *networks)
{
  struct ova_source src = { .abs = abs, .rel = rel, .archive = true };
  struct ova_tar_index idx = { NULL, 0 };
  struct archive *a = NULL;
  struct archive_entry *e;
  OVA_CLEANUP_FREE char *ovf_buf = NULL;
  OVA_CLEANUP_FREE char *ovf_name = NULL;
  OVA_CLEANUP_FREE char *mf_buf = NULL;
  size_t ovf_len = 0, mf_len = 0, nr = 0;
  char terr[256];
  struct stat st;
  json_t *vms = NULL;
  int fd = -1, r;
  bool archive_ok = true;

  src.locations = json_object ();
  src.concerns = json_array ();
  if (!src.locations || !src.concerns)
    goto out;

  /* 1. Where every member is (for qemu's offset). */
  fd = open (abs, O_RDONLY | O_CLOEXEC);
  if (fd == -1 || fstat (fd, &st) == -1) {
    ova_concern (src.concerns, "Critical", "Unreadable OVA",
                 "%s: cannot open: %s", rel, strerror (errno));
    vms = json_pack ("[o]", ova_broken_vm (h, &src));
    goto out;
  }
  if (ova_tar_index_read (ova_pread_fd, &fd, (uint64_t) st.st_size, &idx,
                          terr, sizeof terr) == -1) {
    ova_concern (src.concerns, "Critical", "Damaged OVA",
                 "%s: %s", rel, terr);
    archive_ok = false;
  }

  /* 2. The manifest first, when the index finds it, so only the digests
   * it asks for are computed.
   */
  for (size_t i = 0; i < idx.nr && !mf_buf; i++) {
    const struct ova_tar_member *m = &idx.members[i];
    if (has_suffix (m->name, ".mf") && m->size <= OVA_MAX_MF_SIZE
        && (mf_buf = malloc (m->size + 1)) != NULL) {
      if (ova_pread_fd (&fd, mf_buf, m->size, m->offset) != (long) m->size) {
        free (mf_buf);
        mf_buf = NULL;
        break;
      }
      mf_buf[m->size] = '\0';
      mf_len = m->size;
      src.manifest = ova_manifest_parse (mf_buf, mf_len, rel, src.concerns);
      if (!src.manifest)
        goto out;
    }
  }

  /* 3. The members' contents, once, in order: OVF, manifest, digests. */
  a = archive_read_new ();
  if (!a)
    goto out;
  archive_read_support_format_tar (a);
  archive_read_support_format_gnutar (a);
  if (archive_read_open_filename (a, abs, 65536) != ARCHIVE_OK) {
    if (archive_ok)
      ova_concern (src.concerns, "Critical", "Damaged OVA",
                   "%s: not a tar archive: %s", rel,
                   archive_error_string (a) ? archive_error_string (a) : "?");
    vms = json_pack ("[o]", ova_broken_vm (h, &src));
    goto out;
  }
  while ((r = archive_read_next_header (a, &e)) == ARCHIVE_OK
         || r == ARCHIVE_WARN) {
    const char *name = archive_entry_pathname (e);
    const char *why = NULL, *want;
    struct ova_digest *d = NULL;

    if (!name || archive_entry_filetype (e) != AE_IFREG)
      continue;
    while (name[0] == '.' && name[1] == '/')
      name += 2;
    if (nr == 0 && !has_suffix (name, ".ovf"))
      ova_concern (src.concerns, "Warning", "OVF not first",
                   "%s: the first member is %s, not the OVF descriptor "
                   "(the OVF specification requires it first)", rel, name);
    nr++;
    want = NULL;
    if (src.manifest)
      want = json_string_value (json_object_get (json_object_get (src.manifest, name),
                                                 "algorithm"));
    if (h->verify && nr <= OVA_MAX_MEMBERS && (want || !src.manifest)) {
      void *p1 = realloc (src.digests, nr * sizeof *src.digests);
      if (p1)
        src.digests = p1;
      void *p2 = realloc (src.digest_names, nr * sizeof *src.digest_names);
      if (p2)
        src.digest_names = p2;
      if (p1 && p2 && (d = ova_digest_new (want))) {
        src.digests[src.nr_digests] = d;
        src.digest_names[src.nr_digests] = strdup (name);
        if (!src.digest_names[src.nr_digests]) {
          ova_digest_free (d);
          d = NULL;
        }
        else
          src.nr_digests++;
      }
    }
    if (has_suffix (name, ".ovf") && ovf_buf)
      ova_concern (src.concerns, "Warning", "Several OVF descriptors",
                   "%s: member %s is a second OVF descriptor; only %s is "
                   "read", rel, name, ovf_name ? ovf_name : "the first");
    if (has_suffix (name, ".ovf") && !ovf_buf) {
      ovf_name = strdup (name);
      if (ova_archive_read (a, &ovf_buf, &ovf_len, OVA_MAX_OVF_SIZE, d,
                            &why) == -1) {
        ova_concern (src.concerns, "Critical", "Damaged OVA",
                     "%s: cannot read member %s: %s", rel, name, why);
        archive_ok = false;
        break;
      }
    }
    else if (has_suffix (name, ".mf") && !mf_buf) {
      if (ova_archive_read (a, &mf_buf, &mf_len, OVA_MAX_MF_SIZE, d,
                            &why) == -1) {
        ova_concern (src.concerns, "Critical", "Damaged OVA",
                     "%s: cannot read member %s: %s", rel, name, why);
        archive_ok = false;
        break;
      }
    }
    else if (d) {
      if (ova_archive_read (a, NULL, NULL, 0, d, &why) == -1) {
        ova_concern (src.concerns, "Critical", "Damaged OVA",
                     "%s: cannot read member %s: %s", rel, name, why);
        archive_ok = false;
        break;
      }
    }
    else if (archive_read_data_skip (a) != ARCHIVE_OK) {
      ova_concern (src.concerns, "Critical", "Damaged OVA",
                   "%s: cannot skip member %s: %s", rel, name,
                   archive_error_string (a) ? archive_error_string (a)
                   : "read error");
      archive_ok = false;
      break;
    }
  }
  if (r == ARCHIVE_FATAL && archive_ok)
    ova_concern (src.concerns, "Critical", "Damaged OVA",
                 "%s: %s", rel, archive_error_string (a)
                 ? archive_error_string (a) : "tar read error");

  if (!ovf_buf) {
    ova_concern (src.concerns, "Critical", "No OVF descriptor",
                 "%s: the archive has no .ovf member", rel);
    vms = json_pack ("[o]", ova_broken_vm (h, &src));
    goto out;
  }

  /* 4. The manifest's verdicts, then every member's location. */
  if (mf_buf) {
    if (!src.manifest)
      src.manifest = ova_manifest_parse (mf_buf, mf_len, rel, src.concerns);
    if (!src.manifest)
      goto out;
    if (!h->verify)
      ova_concern (src.concerns, "Information", "Digests not verified",
                   "%s: settings.verifyDigests is false: the manifest "
                   "digests were not checked", rel);
  }
  for (size_t i = 0; i < src.nr_digests; i++) {
    OVA_CLEANUP_FREE char *bad = ova_check_digest (&src, src.digest_names[i],
                                                   src.digests[i]);
    if (bad && ovf_name && strcmp (src.digest_names[i], ovf_name) == 0)
      ova_concern (src.concerns, "Critical", "Digest mismatch", "%s: %s",
                   rel, bad);
    if (bad)
      ova_set_location (&src, src.digest_names[i], NULL, 0, 0, true, bad);
  }
  if (src.manifest && h->verify) {
    const char *file;
    json_t *v;
    json_object_foreach (src.manifest, file, v) {
      bool found = false;
      for (size_t i = 0; i < src.nr_digests && !found; i++)
        found = strcmp (src.digest_names[i], file) == 0;
      if (!found)
        ova_concern (src.concerns, "Warning", "Manifest names absent file",
                     "%s: the manifest lists %s, which is not in the "
                     "archive", rel, file);
    }
  }
  for (size_t i = 0; i < idx.nr; i++)
    if (!json_object_get (src.locations, idx.members[i].name))
      ova_set_location (&src, idx.members[i].name, abs, idx.members[i].offset,
                        idx.members[i].size, true, NULL);

  vms = ova_build_vms (h, &src, ovf_buf, ovf_len, ovf_name, networks);

 out:
  if (a)
    archive_read_free (a);
  if (fd >= 0)
    close (fd);
  ova_tar_index_free (&idx);
  ova_source_free (&src);
  return vms;
}

/* ---- Scanning an unpacked OVF directory -------------------------------- */

/* Reject hrefs that leave the OVF's directory. */
static bool
ova_safe_href (const char *href)
{
  const char *p = href;

  if (!*href || href[0] == '/' || strstr (href, "://"))
    return false;
  while (*p) {
    size_t n = strcspn (p, "/");
    if (n == 2 && p[0] == '.' && p[1] == '.')
      return false;
    p += n;
    while (*p == '/')
      p++;
  }
  return true;
}

static json_t *
ova_scan_ovf (struct ova_handle *h, const char *abs, const char *rel,
              json_t *networks)
{
  struct ova_source src = { .abs = abs, .rel = rel, .archive = false };
  OVA_CLEANUP_FREE char *ovf_buf = NULL;
  OVA_CLEANUP_FREE char *mf_buf = NULL;
  OVA_CLEANUP_FREE char *dir = strdup (abs);
  OVA_CLEANUP_FREE char *mf_path = NULL;
  OVA_CLEANUP_JSON json_t *probe = NULL;
  size_t ovf_len = 0, mf_len = 0;
  const char *why = NULL;
  json_t *vms = NULL, *f;
  size_t i;
  char *slash;

  src.locations = json_object ();
  src.concerns = json_array ();
  if (!dir || !src.locations || !src.concerns)
    goto out;
  slash = strrchr (dir, '/');
  if (slash)
    *slash = '\0';

  ovf_buf = ova_slurp (abs, OVA_MAX_OVF_SIZE, &ovf_len, &why);
  if (!ovf_buf) {
    ova_concern (src.concerns, "Critical", "Unreadable OVF",
                 "%s: cannot read: %s", rel, why);
    vms = json_pack ("[o]", ova_broken_vm (h, &src));
    goto out;
  }
  /* a.ovf -> a.mf beside it. */
  if (asprintf (&mf_path, "%.*s.mf", (int) (strlen (abs) - 4), abs) == -1) {
    mf_path = NULL;
    goto out;
  }
  mf_buf = ova_slurp (mf_path, OVA_MAX_MF_SIZE, &mf_len, &why);
  if (mf_buf) {
    src.manifest = ova_manifest_parse (mf_buf, mf_len, rel, src.concerns);
    if (!src.manifest)
      goto out;
  }

  /* Locate (and verify) every file the descriptor references. */
  probe = ovf_parse (ovf_buf, ovf_len, rel);
  if (!probe)
    goto out;
  json_array_foreach (json_object_get (probe, "files"), i, f) {
    const char *href = json_string_value (json_object_get (f, "href"));
    OVA_CLEANUP_FREE char *path = NULL;
    OVA_CLEANUP_FREE char *bad = NULL;
    struct stat st;

    if (!ova_safe_href (href)) {
      OVA_CLEANUP_FREE char *p = NULL;
      if (asprintf (&p, "file %s is outside the OVF's directory; ferry only "
                    "reads files beside the descriptor", href) != -1)
        ova_set_location (&src, href, NULL, 0, 0, false, p);
      continue;
    }
    if (asprintf (&path, "%s/%s", dir, href) == -1) {
      path = NULL;
      continue;
    }
    if (stat (path, &st) == -1 || !S_ISREG (st.st_mode)) {
      OVA_CLEANUP_FREE char *p = NULL;
      if (asprintf (&p, "file %s is missing beside the OVF (%s)", href,
                    errno ? strerror (errno) : "not a regular file") != -1)
        ova_set_location (&src, href, NULL, 0, 0, false, p);
      continue;
    }
    const json_t *want = json_object_get (src.manifest, ova_strip_dot (href));
    if (h->verify && want) {
      struct ova_digest *d = ova_digest_new (json_string_value (json_object_get (want, "algorithm")));
      if (d && ova_hash_file (path, d) == 0)
        bad = ova_check_digest (&src, href, d);
      else if (asprintf (&bad, "cannot read %s to check its digest", href)
               == -1)
        bad = NULL;
      ova_digest_free (d);
    }
    ova_set_location (&src, href, path, 0, (uint64_t) st.st_size, false, bad);
  }
  if (h->verify && src.manifest) {
    const char *base = strrchr (abs, '/') ? strrchr (abs, '/') + 1 : abs;
    if (json_object_get (src.manifest, base)) {
      struct ova_digest *d = ova_digest_new (NULL);
      OVA_CLEANUP_FREE char *bad = NULL;
      if (d) {
        ova_digest_update (d, ovf_buf, ovf_len);
        bad = ova_check_digest (&src, base, d);
      }
      ova_digest_free (d);
      if (bad)
        ova_concern (src.concerns, "Critical", "Digest mismatch", "%s: %s",
                     rel, bad);
    }
  }

  vms = ova_build_vms (h, &src, ovf_buf, ovf_len, NULL, networks);

 out:
  ova_source_free (&src);
  return vms;
}

/* ---- The directory walk ------------------------------------------------- */

static int
ova_cmp_names (const void *a, const void *b)
{
  return strcmp (*(char *const *) a, *(char *const *) b);
}

/* Scan one file, reusing the cache when it has not changed. */
static void
ova_scan_file (struct ova_handle *h, json_t *cache, const char *abs,
               const char *rel, const struct stat *st)
{
  json_t *old = json_object_get (h->cache, abs);
  json_t *vms, *networks, *entry;

  if (old
      && json_integer_value (json_object_get (old, "dev")) == (json_int_t) st->st_dev
      && json_integer_value (json_object_get (old, "ino")) == (json_int_t) st->st_ino
      && json_integer_value (json_object_get (old, "size")) == (json_int_t) st->st_size
      && json_integer_value (json_object_get (old, "mtime")) == (json_int_t) st->st_mtim.tv_sec
      && json_integer_value (json_object_get (old, "mtimeNs")) == (json_int_t) st->st_mtim.tv_nsec
      && json_is_true (json_object_get (old, "verify")) == h->verify) {
    json_object_set (cache, abs, old);
    return;
  }
  networks = json_object ();
  if (!networks)
    return;
  vms = has_suffix (abs, ".ova")
    ? ova_scan_archive (h, abs, rel, networks)
    : ova_scan_ovf (h, abs, rel, networks);
  if (!vms) {
    json_decref (networks);
    ferry_warn ("ova: %s: skipped (out of memory)", abs);
    return;
  }
  entry = json_pack ("{s:I, s:I, s:I, s:I, s:I, s:b, s:o, s:o}",
                     "dev", (json_int_t) st->st_dev,
                     "ino", (json_int_t) st->st_ino,
                     "size", (json_int_t) st->st_size,
                     "mtime", (json_int_t) st->st_mtim.tv_sec,
                     "mtimeNs", (json_int_t) st->st_mtim.tv_nsec,
                     "verify", h->verify, "vms", vms, "networks", networks);
  if (entry)
    json_object_set_new (cache, abs, entry);
}

static void
ova_walk (struct ova_handle *h, json_t *cache, const char *dir,
          const char *rel, int depth)
{
  DIR *d;
  struct dirent *de;
  char **names = NULL;
  size_t nr = 0;

  if (depth > OVA_MAX_DEPTH) {
    ferry_warn ("ova: %s: deeper than %d levels, not scanned", dir,
                OVA_MAX_DEPTH);
    return;
  }
  d = opendir (dir);
  if (!d) {
    ferry_warn ("ova: cannot read directory %s: %s", dir, strerror (errno));
    return;
  }
  while ((de = readdir (d)) != NULL) {
    char **n;
    json_t *utf8;
    if (de->d_name[0] == '.')
      continue;                         /* ".", "..", hidden files */
    /* Inventory documents are JSON: names must be UTF-8. */
    if (!(utf8 = json_string (de->d_name))) {
      ferry_warn ("ova: %s: skipped an entry whose name is not UTF-8", dir);
      continue;
    }
    json_decref (utf8);
    n = realloc (names, (nr + 1) * sizeof *names);
    if (!n)
      break;
    names = n;
    if ((names[nr] = strdup (de->d_name)) != NULL)
      nr++;
  }
  closedir (d);
  /* Sorted, so the inventory order does not depend on the file system. */
  if (nr > 1)
    qsort (names, nr, sizeof *names, ova_cmp_names);

  for (size_t i = 0; i < nr; i++) {
    OVA_CLEANUP_FREE char *abs = NULL;
    OVA_CLEANUP_FREE char *r = NULL;
    struct stat st;

    if (asprintf (&abs, "%s/%s", dir, names[i]) == -1
        || asprintf (&r, "%s%s%s", rel, *rel ? "/" : "", names[i]) == -1) {
      free (names[i]);
      continue;
    }
    /* lstat: symbolic links are not followed (no loops, no escapes). */
    if (lstat (abs, &st) == 0) {
      if (S_ISDIR (st.st_mode))
        ova_walk (h, cache, abs, r, depth + 1);
      else if (S_ISREG (st.st_mode)
               && (has_suffix (names[i], ".ova") || has_suffix (names[i], ".ovf")))
        ova_scan_file (h, cache, abs, r, &st);
    }
    free (names[i]);
  }
  free (names);
}

/* Rescan the tree; on success h->vms and h->networks describe it. */
static int
ova_scan (struct ova_handle *h)
{
  json_t *cache = json_object (), *vms = json_object (),
    *networks = json_object ();
  const char *path;
  json_t *entry, *vm, *net;
  const char *key;
  size_t i;

  if (!cache || !vms || !networks) {
    json_decref (cache);
    json_decref (vms);
    json_decref (networks);
    ferry_error ("ova: provider %s: scan: out of memory", h->name);
    return -1;
  }
  if (ova_test_connection (h) == -1) {
    json_decref (cache);
    json_decref (vms);
    json_decref (networks);
    return -1;
  }
  ova_walk (h, cache, h->root, "", 0);

  json_object_foreach (cache, path, entry) {
    json_array_foreach (json_object_get (entry, "vms"), i, vm) {
      const char *id = json_string_value (json_object_get (json_object_get (vm, "doc"), "id"));
      if (json_object_get (vms, id))
        ferry_warn ("ova: %s: VM id %s seen twice (duplicate "
                    "VirtualSystem ids); keeping the first", path, id);
      else
        json_object_set (vms, id, vm);
    }
    json_object_foreach (json_object_get (entry, "networks"), key, net)
      if (!json_object_get (networks, key))
        json_object_set (networks, key, net);
  }
  json_decref (h->cache);
  json_decref (h->vms);
  json_decref (h->networks);
  h->cache = cache;
  h->vms = vms;
  h->networks = networks;
  return 0;
}

/* ---- Provider callbacks ------------------------------------------------ */

static int
ova_inventory (void *handle, struct ferry_inventory_sink *sink)
{
  struct ova_handle *h = handle;
  const char *id, *name;
  json_t *vm, *net, *disk;
  size_t i;
  OVA_CLEANUP_FREE char *storage_name = NULL;
  OVA_CLEANUP_JSON json_t *storage = NULL;

  if (ova_scan (h) == -1)
    return -1;

  json_object_foreach (h->vms, id, vm) {
    json_t *doc = json_object_get (vm, "doc");
    if (sink->put (sink, FERRY_INV_VM, id,
                   json_string_value (json_object_get (doc, "name")), NULL,
                   doc) == -1)
      return -1;
    json_array_foreach (json_object_get (doc, "disks"), i, disk) {
      OVA_CLEANUP_JSON json_t *d = json_deep_copy (disk);
      if (!d) {
        ferry_error ("ova: inventory: out of memory");
        return -1;
      }
      json_object_set_new (d, "vm", json_pack ("{s:s, s:s}", "kind", "VM",
                                               "id", id));
      if (sink->put (sink, FERRY_INV_DISK,
                     json_string_value (json_object_get (disk, "id")),
                     json_string_value (json_object_get (disk, "name")), id,
                     d) == -1)
        return -1;
    }
  }
  json_object_foreach (h->networks, name, net)
    if (sink->put (sink, FERRY_INV_NETWORK,
                   json_string_value (json_object_get (net, "id")), name,
                   NULL, net) == -1)
      return -1;

  /* Forklift's StorageMap for OVA maps exactly this one storage. */
  if (asprintf (&storage_name, "Dummy storage for source provider %s",
                h->name) == -1) {
    storage_name = NULL;
    ferry_error ("ova: inventory: out of memory");
    return -1;
  }
  storage = json_pack ("{s:s, s:s, s:s}", "id", h->storage_id,
                       "name", storage_name, "description",
                       "every disk of every OVA of this provider");
  if (!storage
      || sink->put (sink, FERRY_INV_STORAGE, h->storage_id, storage_name,
                    NULL, storage) == -1)
    return -1;
  return sink->prune ? sink->prune (sink) : 0;
}

/* The VM's {doc, priv}, scanning first if this handle never did. */
static const json_t *
ova_find_vm (struct ova_handle *h, const char *vm_id)
{
  const json_t *vm;

  if (!h->vms && ova_scan (h) == -1)
    return NULL;
  vm = json_object_get (h->vms, vm_id ? vm_id : "");
  if (!vm) {
    /* The tree may have changed since the last scan. */
    if (ova_scan (h) == -1)
      return NULL;
    vm = json_object_get (h->vms, vm_id ? vm_id : "");
  }
  if (!vm)
    ferry_error ("ova: provider %s: VM %s not found under %s", h->name,
                 vm_id ? vm_id : "(null)", h->root);
  return vm;
}

static json_t *
ova_vm_describe (void *handle, const char *vm_id)
{
  const json_t *vm = ova_find_vm (handle, vm_id);
  json_t *r;

  if (!vm)
    return NULL;
  r = json_deep_copy (json_object_get (vm, "doc"));
  if (!r)
    ferry_error ("ova: describe VM %s: out of memory", vm_id);
  return r;
}

static json_t *
ova_vm_spec (void *handle, const char *vm_id)
{
  const json_t *vm = ova_find_vm (handle, vm_id);
  const json_t *doc, *d, *n;
  json_t *spec, *disks, *nics;
  json_int_t cpus, cps;
  size_t i;

  if (!vm)
    return NULL;
  doc = json_object_get (vm, "doc");
  cpus = json_integer_value (json_object_get (doc, "cpuCount"));
  cps = json_integer_value (json_object_get (doc, "coresPerSocket"));
  if (cps <= 0 || cpus <= 0 || cpus % cps != 0)
    cps = 1;
  disks = json_array ();
  nics = json_array ();
  json_array_foreach (json_object_get (doc, "disks"), i, d) {
    /* The target must hold the whole image, whatever the OVF declared. */
    json_t *cap = json_object_get (d, "capacity");
    json_t *vsize = json_object_get (d, "virtualSize");
    if (json_is_integer (vsize)
        && (!json_is_integer (cap)
            || json_integer_value (vsize) > json_integer_value (cap)))
      cap = vsize;
    json_array_append_new (disks,
                           json_pack ("{s:O, s:O, s:s, s:O, s:b}",
                                      "id", json_object_get (d, "id"),
                                      "capacity", cap,
                                      "bus", "virtio",
                                      "sourceBus", json_object_get (d, "bus"),
                                      "shared", 0));
  }
  if (json_array_size (disks) > 0)
    json_object_set_new (json_array_get (disks, 0), "bootOrder",
                         json_integer (1));
  json_array_foreach (json_object_get (doc, "nics"), i, n)
    json_array_append_new (nics,
                           json_pack ("{s:O?, s:s, s:O?, s:O?}",
                                      "mac", json_object_get (n, "mac"),
                                      "model", "virtio",
                                      "sourceModel", json_object_get (n, "model"),
                                      "network", json_object_get (n, "networkId")));
  spec = json_pack ("{s:O, s:s, s:{s:I, s:I, s:i}, s:O, s:O, s:O, s:O,"
                    " s:{s:O?}, s:o, s:o, s:s}",
                    FERRY_VMSPEC_NAME, json_object_get (doc, "name"),
                    FERRY_VMSPEC_SOURCE_ID, vm_id,
                    FERRY_VMSPEC_CPU, "sockets", cpus > 0 ? cpus / cps : 1,
                    "cores", cps, "threads", 1,
                    FERRY_VMSPEC_MEMORY_MB, json_object_get (doc, "memoryMB"),
                    FERRY_VMSPEC_FIRMWARE, json_object_get (doc, "firmware"),
                    FERRY_VMSPEC_SECURE_BOOT, json_object_get (doc, "secureBoot"),
                    FERRY_VMSPEC_TPM, json_object_get (doc, "tpm"),
                    "guest", "os", json_object_get (doc, "osType"),
                    FERRY_VMSPEC_DISKS, disks,
                    FERRY_VMSPEC_NICS, nics,
                    FERRY_VMSPEC_POWER_STATE, "off");
  if (!spec)
    ferry_error ("ova: spec of VM %s: out of memory (or an invalid VM "
                 "without name or sizes)", vm_id);
  return spec;
}

static int
ova_power_state (void *handle, const char *vm_id)
{
  /* An exported appliance is a file: it is never running. */
  return ova_find_vm (handle, vm_id) ? FERRY_POWER_OFF : -1;
}

/* The --image-opts string qemu-nbd opens a located disk with: the format
 * driver over a raw window (offset, size) of the .ova, or over the file.
 * Caller frees.
 */
static char *
ova_image_opts (const char *format, const char *path, uint64_t offset,
                uint64_t size, bool member)
{
  OVA_CLEANUP_FREE char *esc = ova_qemu_opt_escape (path);
  const char *driver = strcmp (format, "vmdk-descriptor") == 0 ? "vmdk" : format;
  char *opts = NULL;
  int r;

  if (!esc)
    return NULL;
  if (member)
    r = asprintf (&opts, "driver=%s,file.driver=raw,file.offset=%" PRIu64
                  ",file.size=%" PRIu64 ",file.file.driver=file,"
                  "file.file.filename=%s", driver, offset, size, esc);
  else
    r = asprintf (&opts, "driver=%s,file.driver=file,file.filename=%s",
                  driver, esc);
  return r == -1 ? NULL : opts;
}

static struct ferry_disk_source *
ova_disk_open (void *handle, const char *vm_id, const char *disk_id,
               const char *snapshot)
{
  struct ova_handle *h = handle;
  const json_t *vm = ova_find_vm (h, vm_id);
  const json_t *p, *loc = NULL;
  OVA_CLEANUP_FREE char *opts = NULL;
  size_t i;

  if (!vm)
    return NULL;
  if (snapshot) {
    ferry_error ("ova: VM %s: disk %s: OVA disks have no snapshots "
                 "(asked for %s)", vm_id, disk_id, snapshot);
    return NULL;
  }
  json_array_foreach (json_object_get (vm, "priv"), i, p)
    if (disk_id && strcmp (json_string_value (json_object_get (p, "id")),
                           disk_id) == 0)
      loc = p;
  if (!loc) {
    ferry_error ("ova: VM %s: disk %s not found", vm_id,
                 disk_id ? disk_id : "(null)");
    return NULL;
  }
  if (json_object_get (loc, "problem")) {
    ferry_error ("ova: VM %s: disk %s cannot be read: %s", vm_id, disk_id,
                 json_string_value (json_object_get (loc, "problem")));
    return NULL;
  }
  opts = ova_image_opts (json_string_value (json_object_get (loc, "format")),
                         json_string_value (json_object_get (loc, "path")),
                         (uint64_t) json_integer_value (json_object_get (loc, "offset")),
                         (uint64_t) json_integer_value (json_object_get (loc, "size")),
                         json_is_true (json_object_get (loc, "member")));
  if (!opts) {
    ferry_error ("ova: VM %s: disk %s: out of memory", vm_id, disk_id);
    return NULL;
  }
  /* --shared: the transfer engine may open more connections (clone). */
  const char *argv[] = { "qemu-nbd", "-r", "--shared=8", "--image-opts", opts,
                         NULL };
  ferry_debug ("ova: VM %s: disk %s: qemu-nbd -r --shared=8 --image-opts %s",
               vm_id, disk_id, opts);
  return ferry_nbd_source_spawn (argv);
}

static int
ova_can_extents (void *handle)
{
  return 1;                             /* qemu-nbd reports allocation */
}

static struct ferry_provider ova_provider = {
  .name = "ova",
  .description = "VMs exported as OVA archives or OVF directories "
                 "(local directory or mounted NFS share)",
  .version = PACKAGE_VERSION,
  .thread_model = FERRY_THREAD_MODEL_SERIALIZE_HANDLE,
  .open = ova_open,
  .close = ova_close,
  .test_connection = ova_test_connection,
  .inventory = ova_inventory,
  .vm_describe = ova_vm_describe,
  .vm_spec = ova_vm_spec,
  .power_state = ova_power_state,
  .disk_open = ova_disk_open,
  .can_extents = ova_can_extents,
};

FERRY_REGISTER_PROVIDER (ova_provider)
