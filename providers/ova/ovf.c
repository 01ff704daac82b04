/* ferry OVA provider: OVF descriptor parsing (libxml2).
 *
 * The OVF envelope (DSP0243, 1.x and 2.x namespaces) is read into a plain
 * JSON description (see ova-internal.h); ova.c turns it into inventory.
 * Elements are matched by local name, so OVF 1.x/2.x and exporters that
 * use odd prefixes all work; attributes are read in the OVF namespace
 * first, then without a namespace.  Nothing in the input is trusted: every
 * number is range-checked and every surprise becomes a concern naming the
 * document and what is wrong.
 */
#include <config.h>

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <libxml/parser.h>
#include <libxml/tree.h>
#include <libxml/xmlerror.h>

#include <ferry/error.h>

#include "ova-internal.h"

#define NS_OVF1 "http://schemas.dmtf.org/ovf/envelope/1"
#define NS_OVF2 "http://schemas.dmtf.org/ovf/envelope/2"
#define NS_VMW "http://www.vmware.com/schema/ovf"
#define NS_VBOX "http://www.virtualbox.org/ovf/machine"

/* CIM ResourceType values (DSP1041 / CIM_ResourceAllocationSettingData). */
enum {
  RT_OTHER = 1,
  RT_CPU = 3,
  RT_MEMORY = 4,
  RT_IDE = 5,
  RT_SCSI = 6,
  RT_ETHERNET = 10,
  RT_CDROM = 15,
  RT_DVD = 16,
  RT_DISK = 17,
  RT_STORAGE_OTHER = 20,                /* SATA (AHCI), NVMe */
};

void
ova_concern (json_t *concerns, const char *category, const char *label,
             const char *fmt, ...)
{
  va_list ap;
  char *msg = NULL;

  va_start (ap, fmt);
  if (vasprintf (&msg, fmt, ap) == -1)
    msg = NULL;
  va_end (ap);
  /* Names from the outside may not be UTF-8, which JSON needs. */
  if (msg) {
    json_t *utf8 = json_string (msg);
    if (!utf8)
      for (char *p = msg; *p; p++)
        if ((unsigned char) *p >= 0x80)
          *p = '?';
    json_decref (utf8);
  }
  json_array_append_new (concerns,
                         json_pack ("{s:s, s:s, s:s}", "category", category,
                                    "label", label,
                                    "assessment", msg ? msg : label));
  free (msg);
}

/* ---- Small helpers ------------------------------------------------------ */

static bool
name_is (const xmlNode *n, const char *local)
{
  return n && n->type == XML_ELEMENT_NODE
    && strcmp ((const char *) n->name, local) == 0;
}

static bool
ns_is (const xmlNode *n, const char *href)
{
  return n && n->ns && n->ns->href
    && strcmp ((const char *) n->ns->href, href) == 0;
}

/* First child element with this local name, or NULL. */
static xmlNode *
child (const xmlNode *n, const char *local)
{
  for (xmlNode *c = n ? n->children : NULL; c; c = c->next)
    if (name_is (c, local))
      return c;
  return NULL;
}

/* Trimmed text content of an element; caller frees; NULL if absent/empty. */
static char *
text (const xmlNode *n)
{
  xmlChar *x;
  char *s, *start, *end;

  if (!n)
    return NULL;
  x = xmlNodeGetContent (n);
  if (!x)
    return NULL;
  start = (char *) x;
  while (*start && isspace ((unsigned char) *start))
    start++;
  end = start + strlen (start);
  while (end > start && isspace ((unsigned char) end[-1]))
    end--;
  s = end > start ? strndup (start, end - start) : NULL;
  xmlFree (x);
  return s;
}

static char *
child_text (const xmlNode *n, const char *local)
{
  return text (child (n, local));
}

/* An attribute by local name: in the OVF namespaces, then in ns (if not
 * NULL), then without namespace.  Caller frees.
 */
static char *
attr_ns (const xmlNode *n, const char *local, const char *ns)
{
  xmlChar *v;

  if (!n)
    return NULL;
  if ((v = xmlGetNsProp (n, (const xmlChar *) local, (const xmlChar *) NS_OVF1))
      || (v = xmlGetNsProp (n, (const xmlChar *) local, (const xmlChar *) NS_OVF2))
      || (ns && (v = xmlGetNsProp (n, (const xmlChar *) local,
                                   (const xmlChar *) ns)))
      || (v = xmlGetNoNsProp (n, (const xmlChar *) local))) {
    char *s = strdup ((const char *) v);
    xmlFree (v);
    return s;
  }
  return NULL;
}

static char *
attr (const xmlNode *n, const char *local)
{
  return attr_ns (n, local, NULL);
}

/* A non-negative decimal integer, at most max.  Returns 0 or -1. */
static int
parse_u64 (const char *s, uint64_t max, uint64_t *r)
{
  char *end;
  unsigned long long v;

  if (!s)
    return -1;
  while (isspace ((unsigned char) *s))
    s++;
  if (!isdigit ((unsigned char) *s))
    return -1;
  errno = 0;
  v = strtoull (s, &end, 10);
  while (isspace ((unsigned char) *end))
    end++;
  if (errno || *end || v > max)
    return -1;
  *r = v;
  return 0;
}

static bool
truthy (const char *s)
{
  return s && (strcasecmp (s, "true") == 0 || strcmp (s, "1") == 0
               || strcasecmp (s, "yes") == 0);
}

int
ovf_parse_units (const char *units, uint64_t *mult)
{
  static const struct { const char *name; unsigned shift; } aliases[] = {
    { "byte", 0 }, { "bytes", 0 }, { "B", 0 },
    { "KB", 10 }, { "KiB", 10 }, { "KiloBytes", 10 }, { "Kilobytes", 10 },
    { "MB", 20 }, { "MiB", 20 }, { "MegaBytes", 20 }, { "Megabytes", 20 },
    { "GB", 30 }, { "GiB", 30 }, { "GigaBytes", 30 }, { "Gigabytes", 30 },
    { "TB", 40 }, { "TiB", 40 }, { "TeraBytes", 40 },
  };
  char buf[64];
  size_t j = 0;
  const char *p;
  unsigned long base, exp;
  char *end;
  uint64_t m = 1;

  if (!units || !*units) {
    *mult = 1;
    return 0;
  }
  /* Drop blanks: "byte * 2^30" == "byte*2^30". */
  for (p = units; *p; p++) {
    if (isspace ((unsigned char) *p))
      continue;
    if (j + 1 >= sizeof buf)
      return -1;
    buf[j++] = *p;
  }
  buf[j] = '\0';

  for (size_t i = 0; i < sizeof aliases / sizeof aliases[0]; i++)
    if (strcasecmp (buf, aliases[i].name) == 0) {
      *mult = UINT64_C (1) << aliases[i].shift;
      return 0;
    }

  /* DSP0004 programmatic units: byte*BASE^EXP, BASE in {2, 10, 1024}. */
  if (strncasecmp (buf, "byte*", 5) != 0)
    return -1;
  p = buf + 5;
  if (!isdigit ((unsigned char) *p))
    return -1;
  errno = 0;
  base = strtoul (p, &end, 10);
  if (errno || *end != '^' || !isdigit ((unsigned char) end[1]))
    return -1;
  exp = strtoul (end + 1, &end, 10);
  if (errno || *end || (base != 2 && base != 10 && base != 1024))
    return -1;
  for (unsigned long i = 0; i < exp; i++) {
    if (m > UINT64_MAX / base)
      return -1;
    m *= base;
  }
  *mult = m;
  return 0;
}

/* quantity * units in bytes, with the result bounded by max.
 * Returns 0, or -1 with *why set to a static reason.
 */
static int
scaled (const char *quantity, const char *units, uint64_t max,
        uint64_t *r, const char **why)
{
  uint64_t q, m;

  if (!quantity) {
    *why = "missing";
    return -1;
  }
  if (quantity[0] == '-') {
    *why = "negative";
    return -1;
  }
  if (parse_u64 (quantity, UINT64_MAX, &q) == -1) {
    *why = strspn (quantity, "0123456789") == strlen (quantity)
      ? "too large" : "not a number";
    return -1;
  }
  if (ovf_parse_units (units, &m) == -1) {
    *why = "unknown allocation units";
    return -1;
  }
  if (q != 0 && m > max / q) {
    *why = "too large";
    return -1;
  }
  *r = q * m;
  return 0;
}

/* ---- Hardware items --------------------------------------------------- */

struct controller {
  char *instance_id;
  const char *bus;                      /* "ide", "scsi", "sata", "nvme" */
  int index;                            /* bus number among its kind */
};

struct hw_state {
  const char *what;                     /* document name for messages */
  const char *vs_id;
  json_t *vs;                           /* the virtual system being built */
  json_t *concerns;                     /* its concerns */
  const json_t *disk_section;           /* diskId -> disk object */
  struct controller ctrl[64];
  size_t nr_ctrl;
  int per_bus_count[4];
};

static int
bus_slot (const char *bus)
{
  if (strcmp (bus, "ide") == 0) return 0;
  if (strcmp (bus, "scsi") == 0) return 1;
  if (strcmp (bus, "sata") == 0) return 2;
  return 3;
}

static void
hw_add_controller (struct hw_state *st, const xmlNode *item, int rt,
                   const char *subtype)
{
  char *iid = child_text (item, "InstanceID");
  char *addr = child_text (item, "Address");
  const char *bus;
  uint64_t a;
  struct controller *c;

  if (rt == RT_IDE)
    bus = "ide";
  else if (rt == RT_SCSI)
    bus = "scsi";
  else if (subtype && strcasestr (subtype, "nvme"))
    bus = "nvme";
  else
    bus = "sata";

  if (!iid || st->nr_ctrl >= sizeof st->ctrl / sizeof st->ctrl[0]) {
    free (iid);
    free (addr);
    return;
  }
  c = &st->ctrl[st->nr_ctrl++];
  c->instance_id = iid;
  c->bus = bus;
  /* The bus number: rasd:Address when given, else the order of appearance. */
  if (addr && parse_u64 (addr, 1000, &a) == 0)
    c->index = (int) a;
  else
    c->index = st->per_bus_count[bus_slot (bus)];
  st->per_bus_count[bus_slot (bus)]++;
  free (addr);
}

static const struct controller *
hw_find_controller (const struct hw_state *st, const char *iid)
{
  for (size_t i = 0; iid && i < st->nr_ctrl; i++)
    if (strcmp (st->ctrl[i].instance_id, iid) == 0)
      return &st->ctrl[i];
  return NULL;
}

/* "ovf:/disk/vmdisk1", "/disk/vmdisk1" -> "vmdisk1"; also "ovf:/file/x". */
static const char *
host_resource_id (const char *hr, bool *is_file)
{
  const char *p;

  *is_file = false;
  if (!hr)
    return NULL;
  if (strncmp (hr, "ovf:", 4) == 0)
    hr += 4;
  if ((p = strstr (hr, "/disk/")) == hr)
    return hr + 6;
  if ((p = strstr (hr, "/file/")) == hr) {
    *is_file = true;
    return hr + 6;
  }
  return NULL;
}

static void
hw_add_disk (struct hw_state *st, const xmlNode *item)
{
  char *hr = child_text (item, "HostResource");
  char *parent = child_text (item, "Parent");
  char *unit = child_text (item, "AddressOnParent");
  char *ename = child_text (item, "ElementName");
  char *caption = child_text (item, "Caption");
  const char *ref;
  bool is_file;
  const struct controller *c;
  json_t *disk = NULL, *src;
  uint64_t u;

  ref = host_resource_id (hr, &is_file);
  if (!ref) {
    ova_concern (st->concerns, "Critical", "Disk without backing",
                 "%s: virtual system %s: disk item %s has no usable "
                 "HostResource (\"%s\")", st->what, st->vs_id,
                 ename ? ename : "?", hr ? hr : "");
    goto out;
  }
  if (is_file) {
    /* OVF 0.9 style: the item names a File directly. */
    disk = json_pack ("{s:s, s:s, s:n, s:s, s:n, s:s}",
                      "diskId", ref, "fileRef", ref, "capacity",
                      "capacityAllocationUnits", "byte",
                      "populatedSize", "format", "");
  }
  else {
    src = json_object_get (st->disk_section, ref);
    if (!src) {
      ova_concern (st->concerns, "Critical", "Missing disk",
                   "%s: virtual system %s: disk item %s refers to disk %s, "
                   "which DiskSection does not declare", st->what, st->vs_id,
                   ename ? ename : "?", ref);
      goto out;
    }
    disk = json_deep_copy (src);
  }
  if (!disk)
    goto out;

  json_object_set_new (disk, "name",
                       json_string (ename ? ename : caption ? caption : ref));
  c = hw_find_controller (st, parent);
  if (c) {
    json_object_set_new (disk, "bus", json_string (c->bus));
    json_object_set_new (disk, "controllerIndex", json_integer (c->index));
  }
  else {
    json_object_set_new (disk, "bus", json_string ("unknown"));
    json_object_set_new (disk, "controllerIndex", json_integer (0));
    ova_concern (st->concerns, "Warning", "Unknown disk controller",
                 "%s: virtual system %s: disk %s names controller %s, which "
                 "is not in the hardware section", st->what, st->vs_id, ref,
                 parent ? parent : "(none)");
  }
  json_object_set_new (disk, "unit",
                       unit && parse_u64 (unit, 1000, &u) == 0
                       ? json_integer ((json_int_t) u) : json_integer (0));
  json_array_append_new (json_object_get (st->vs, "disks"), disk);

 out:
  free (hr);
  free (parent);
  free (unit);
  free (ename);
  free (caption);
}

static void
hw_add_nic (struct hw_state *st, const xmlNode *item)
{
  char *mac = child_text (item, "Address");
  char *net = child_text (item, "Connection");
  char *model = child_text (item, "ResourceSubType");
  char *ename = child_text (item, "ElementName");
  char *caption = child_text (item, "Caption");
  json_t *nets = json_object_get (st->vs, "networks");
  bool seen = false;
  size_t i;
  json_t *v;

  if (mac)
    for (char *p = mac; *p; p++)
      *p = tolower ((unsigned char) *p);
  json_array_append_new (json_object_get (st->vs, "nics"),
                         json_pack ("{s:s, s:s?, s:s?, s:s?}",
                                    "name", ename ? ename
                                    : caption ? caption : "",
                                    "mac", mac, "network", net,
                                    "model", model));
  if (net) {
    json_array_foreach (nets, i, v)
      if (strcmp (json_string_value (v), net) == 0)
        seen = true;
    if (!seen)
      json_array_append_new (nets, json_string (net));
  }
  else
    ova_concern (st->concerns, "Warning", "NIC not connected",
                 "%s: virtual system %s: NIC %s names no network "
                 "(rasd:Connection)", st->what, st->vs_id,
                 ename ? ename : mac ? mac : "?");
  free (mac);
  free (net);
  free (model);
  free (ename);
  free (caption);
}

/* One rasd Item (or OVF 2 StorageItem / EthernetPortItem). */
static void
hw_item (struct hw_state *st, const xmlNode *item, int pass)
{
  char *rt_s = child_text (item, "ResourceType");
  char *sub = child_text (item, "ResourceSubType");
  char *q = NULL, *u = NULL;
  uint64_t rt = 0, v;
  const char *why = NULL;

  if (!rt_s || parse_u64 (rt_s, 65535, &rt) == -1)
    goto out;

  /* Controllers first (pass 0): disks refer to them by InstanceID, and
   * exporters do not promise that controllers come before their disks.
   */
  if (pass == 0) {
    if (rt == RT_IDE || rt == RT_SCSI || rt == RT_STORAGE_OTHER)
      hw_add_controller (st, item, (int) rt, sub);
    goto out;
  }

  switch (rt) {
  case RT_CPU:
    q = child_text (item, "VirtualQuantity");
    if (parse_u64 (q, 4096, &v) == 0 && v > 0)
      json_object_set_new (st->vs, "cpuCount", json_integer ((json_int_t) v));
    else
      ova_concern (st->concerns, "Critical", "Invalid CPU count",
                   "%s: virtual system %s: CPU VirtualQuantity \"%s\" is not "
                   "a count from 1 to 4096", st->what, st->vs_id,
                   q ? q : "");
    for (xmlNode *c = item->children; c; c = c->next)
      if (name_is (c, "CoresPerSocket")) {
        char *cps = text (c);
        if (parse_u64 (cps, 4096, &v) == 0 && v > 0)
          json_object_set_new (st->vs, "coresPerSocket",
                               json_integer ((json_int_t) v));
        else
          ova_concern (st->concerns, "Warning", "Invalid cores per socket",
                       "%s: virtual system %s: CoresPerSocket \"%s\" is not "
                       "a count from 1 to 4096", st->what, st->vs_id,
                       cps ? cps : "");
        free (cps);
      }
    break;
  case RT_MEMORY:
    q = child_text (item, "VirtualQuantity");
    u = child_text (item, "AllocationUnits");
    if (scaled (q, u ? u : "byte * 2^20", OVA_MAX_CAPACITY, &v, &why) == 0
        && v >= (UINT64_C (1) << 20))
      json_object_set_new (st->vs, "memoryMB",
                           json_integer ((json_int_t) (v >> 20)));
    else
      ova_concern (st->concerns, "Critical", "Invalid memory size",
                   "%s: virtual system %s: memory \"%s\" in units \"%s\" is "
                   "%s", st->what, st->vs_id, q ? q : "", u ? u : "",
                   q && u && !why ? "below 1 MiB" : why ? why : "invalid");
    json_object_set_new (st->vs, "memoryUnits", json_string (u ? u : ""));
    break;
  case RT_DISK:
    hw_add_disk (st, item);
    break;
  case RT_ETHERNET:
    hw_add_nic (st, item);
    break;
  case RT_OTHER:
  default:
    /* A virtual TPM shows as an "other" device with a TPM subtype. */
    if (sub && strcasestr (sub, "tpm"))
      json_object_set_new (st->vs, "tpm", json_true ());
    break;
  }

 out:
  free (rt_s);
  free (sub);
  free (q);
  free (u);
}

/* vmw:Config / vmw:ExtraConfig key=value pairs that matter to us. */
static void
hw_config (struct hw_state *st, const xmlNode *n)
{
  char *key = attr_ns (n, "key", NS_VMW);
  char *value = attr_ns (n, "value", NS_VMW);

  if (key && value) {
    if (strcmp (key, "firmware") == 0)
      json_object_set_new (st->vs, "firmware",
                           json_string (strcasecmp (value, "efi") == 0
                                        ? "efi" : "bios"));
    else if (strcmp (key, "bootOptions.efiSecureBootEnabled") == 0
             || strcasecmp (key, "uefi.secureBoot.enabled") == 0)
      json_object_set_new (st->vs, "secureBoot",
                           json_boolean (truthy (value)));
    else if (strcasecmp (key, "vtpm.present") == 0 && truthy (value))
      json_object_set_new (st->vs, "tpm", json_true ());
  }
  free (key);
  free (value);
}

/* VirtualBox keeps MACs only in its own section: <Adapter slot="0"
 * enabled="true" MACAddress="0800271A2B3C">.  Give them, in slot order, to
 * the NICs that have none.
 */
static void
vbox_adapter (struct hw_state *st, const xmlNode *a)
{
  char *en = attr (a, "enabled");
  char *mac = attr (a, "MACAddress");
  json_t *nics = json_object_get (st->vs, "nics"), *nic;
  size_t i;

  bool hex = mac && strlen (mac) == 12;
  for (size_t j = 0; hex && j < 12; j++)
    hex = isxdigit ((unsigned char) mac[j]);
  if (truthy (en) && hex) {
    char fmt[18];
    for (int j = 0; j < 6; j++) {
      fmt[3 * j] = tolower ((unsigned char) mac[2 * j]);
      fmt[3 * j + 1] = tolower ((unsigned char) mac[2 * j + 1]);
      fmt[3 * j + 2] = j < 5 ? ':' : '\0';
    }
    json_array_foreach (nics, i, nic)
      if (!json_is_string (json_object_get (nic, "mac"))) {
        json_object_set_new (nic, "mac", json_string (fmt));
        break;
      }
  }
  free (en);
  free (mac);
}

/* VirtualBox: <vbox:Machine><Hardware><Firmware type="EFI"/>. */
static void
vbox_machine (struct hw_state *st, const xmlNode *n, int depth)
{
  if (depth > 8)
    return;
  for (xmlNode *c = n->children; c; c = c->next) {
    if (c->type != XML_ELEMENT_NODE)
      continue;
    if (name_is (c, "Adapter"))
      vbox_adapter (st, c);
    else if (name_is (c, "Firmware")) {
      char *type = attr (c, "type");
      if (type && strncasecmp (type, "EFI", 3) == 0)
        json_object_set_new (st->vs, "firmware", json_string ("efi"));
      free (type);
    }
    else if (name_is (c, "TrustedPlatformModule")) {
      char *type = attr (c, "type");
      if (type && strcasecmp (type, "None") != 0)
        json_object_set_new (st->vs, "tpm", json_true ());
      free (type);
    }
    else if (name_is (c, "SecureBoot")) {
      char *en = attr (c, "enabled");
      if (truthy (en))
        json_object_set_new (st->vs, "secureBoot", json_true ());
      free (en);
    }
    else
      vbox_machine (st, c, depth + 1);
  }
}

static json_t *
parse_virtual_system (const xmlNode *vsn, const char *what,
                      const json_t *disk_section, json_t *doc)
{
  struct hw_state st = { .what = what, .disk_section = disk_section };
  char *id = attr (vsn, "id");
  char *name = child_text (vsn, "Name");
  const xmlNode *os = child (vsn, "OperatingSystemSection");
  const xmlNode *hw = child (vsn, "VirtualHardwareSection");
  char *os_id = attr (os, "id");
  char *os_type = attr_ns (os, "osType", NS_VMW);
  char *os_desc = child_text (os, "Description");
  char *vst = child_text (child (hw, "System"), "VirtualSystemType");
  json_t *vs;

  vs = json_pack ("{s:s, s:s, s:s?, s:s?, s:s?, s:i, s:i, s:i, s:s, s:b,"
                  " s:b, s:s?, s:[], s:[], s:[], s:[]}",
                  "id", id ? id : "",
                  "name", name ? name : id ? id : "",
                  "osId", os_id, "osType", os_type, "osDescription", os_desc,
                  "cpuCount", 1, "coresPerSocket", 1, "memoryMB", 0,
                  "firmware", "bios", "secureBoot", 0, "tpm", 0,
                  "virtualSystemType", vst,
                  "disks", "nics", "networks", "concerns");
  if (!vs)
    goto out;
  /* VirtualBox names the guest in a vbox:OSType element instead. */
  if (!os_type)
    for (xmlNode *c = os ? os->children : NULL; c; c = c->next)
      if (name_is (c, "OSType")) {
        char *t = text (c);
        if (t)
          json_object_set_new (vs, "osType", json_string (t));
        free (t);
      }
  st.vs = vs;
  st.vs_id = id ? id : "(no id)";
  st.concerns = json_object_get (vs, "concerns");

  if (!id)
    ova_concern (st.concerns, "Warning", "Virtual system without id",
                 "%s: a VirtualSystem has no ovf:id", what);
  if (!hw)
    ova_concern (st.concerns, "Critical", "No hardware section",
                 "%s: virtual system %s has no VirtualHardwareSection",
                 what, st.vs_id);
  else {
    for (int pass = 0; pass < 2; pass++)
      for (xmlNode *c = hw->children; c; c = c->next) {
        if (name_is (c, "Item") || name_is (c, "StorageItem")
            || name_is (c, "EthernetPortItem"))
          hw_item (&st, c, pass);
        else if (pass == 1 && (name_is (c, "Config")
                               || name_is (c, "ExtraConfig")))
          hw_config (&st, c);
      }
    if (json_integer_value (json_object_get (vs, "memoryMB")) == 0
        && json_array_size (st.concerns) == 0)
      ova_concern (st.concerns, "Critical", "No memory",
                   "%s: virtual system %s declares no memory (ResourceType 4)",
                   what, st.vs_id);
    if (json_array_size (json_object_get (vs, "disks")) == 0)
      ova_concern (st.concerns, "Warning", "No disks",
                   "%s: virtual system %s has no disk", what, st.vs_id);
  }

  for (xmlNode *c = vsn->children; c; c = c->next)
    if (name_is (c, "Machine") && ns_is (c, NS_VBOX)) {
      vbox_machine (&st, c, 0);
      json_object_set_new (doc, "source", json_string ("VirtualBox"));
    }

  /* Secure boot only means something with EFI. */
  if (json_is_true (json_object_get (vs, "secureBoot"))
      && strcmp (json_string_value (json_object_get (vs, "firmware")),
                 "efi") != 0) {
    ova_concern (st.concerns, "Warning", "Secure boot without EFI",
                 "%s: virtual system %s enables secure boot with BIOS "
                 "firmware; secure boot is ignored", what, st.vs_id);
    json_object_set_new (vs, "secureBoot", json_false ());
  }
  {
    json_int_t cpus = json_integer_value (json_object_get (vs, "cpuCount"));
    json_int_t cps = json_integer_value (json_object_get (vs, "coresPerSocket"));
    if (cps > cpus || cpus % cps != 0) {
      ova_concern (st.concerns, "Warning", "Uneven CPU topology",
                   "%s: virtual system %s: %" JSON_INTEGER_FORMAT " CPUs do "
                   "not divide into sockets of %" JSON_INTEGER_FORMAT
                   " cores; using 1 core per socket", what, st.vs_id,
                   cpus, cps);
      json_object_set_new (vs, "coresPerSocket", json_integer (1));
    }
  }

 out:
  for (size_t i = 0; i < st.nr_ctrl; i++)
    free (st.ctrl[i].instance_id);
  free (id);
  free (name);
  free (os_id);
  free (os_type);
  free (os_desc);
  free (vst);
  return vs;
}

/* VirtualSystem elements under n, through nested collections. */
static void
walk_systems (const xmlNode *n, const char *what, const json_t *disks,
              json_t *doc, int depth)
{
  json_t *systems = json_object_get (doc, "virtualSystems");

  if (depth > 16)
    return;
  for (xmlNode *c = n->children; c; c = c->next) {
    if (name_is (c, "VirtualSystem")) {
      if (json_array_size (systems) >= 1024)
        return;
      json_t *vs = parse_virtual_system (c, what, disks, doc);
      if (vs)
        json_array_append_new (systems, vs);
    }
    else if (name_is (c, "VirtualSystemCollection"))
      walk_systems (c, what, disks, doc, depth + 1);
  }
}

/* DiskSection -> {diskId: {diskId, fileRef, capacity, ...}}. */
static json_t *
parse_disk_section (const xmlNode *env, const char *what, json_t *concerns)
{
  json_t *out = json_object ();
  const xmlNode *ds = child (env, "DiskSection");

  if (!ds)                              /* OVF 0.9: "Section xsi:type=..." */
    for (xmlNode *c = env->children; c; c = c->next)
      if (name_is (c, "Section") && child (c, "Disk"))
        ds = c;
  for (xmlNode *d = ds ? ds->children : NULL; d && out; d = d->next) {
    char *id, *file_ref, *cap, *units, *pop, *fmt;
    uint64_t capacity = 0, populated = 0;
    const char *why = NULL;
    json_t *disk;

    if (!name_is (d, "Disk"))
      continue;
    id = attr (d, "diskId");
    file_ref = attr (d, "fileRef");
    cap = attr (d, "capacity");
    units = attr (d, "capacityAllocationUnits");
    pop = attr (d, "populatedSize");
    fmt = attr (d, "format");

    if (!id)
      ova_concern (concerns, "Critical", "Disk without id",
                   "%s: a DiskSection Disk has no ovf:diskId", what);
    else {
      disk = json_pack ("{s:s, s:s?, s:n, s:s, s:n, s:s}",
                        "diskId", id, "fileRef", file_ref, "capacity",
                        "capacityAllocationUnits", units ? units : "byte",
                        "populatedSize", "format", fmt ? fmt : "");
      if (scaled (cap, units, OVA_MAX_CAPACITY, &capacity, &why) == 0)
        json_object_set_new (disk, "capacity",
                             json_integer ((json_int_t) capacity));
      else
        json_object_set_new (disk, "problem",
                             json_sprintf ("capacity \"%s\" in units "
                                           "\"%s\" is %s%s",
                                           cap ? cap : "",
                                           units ? units : "byte", why,
                                           strcmp (why, "too large") == 0
                                           ? " (the limit is 64 TiB)" : ""));
      if (pop && parse_u64 (pop, OVA_MAX_CAPACITY, &populated) == 0)
        json_object_set_new (disk, "populatedSize",
                             json_integer ((json_int_t) populated));
      if (!file_ref)
        json_object_set_new (disk, "problem",
                             json_sprintf ("no ovf:fileRef (an empty "
                                           "disk): nothing to copy"));
      json_object_set_new (out, id, disk);
    }
    free (id);
    free (file_ref);
    free (cap);
    free (units);
    free (pop);
    free (fmt);
  }
  return out;
}

static void
parse_references (const xmlNode *env, json_t *doc, const char *what)
{
  json_t *files = json_object_get (doc, "files");
  json_t *concerns = json_object_get (doc, "concerns");
  const xmlNode *refs = child (env, "References");

  for (xmlNode *f = refs ? refs->children : NULL; f; f = f->next) {
    char *id, *href, *size, *comp, *chunk;
    uint64_t sz;
    json_t *file;

    if (!name_is (f, "File"))
      continue;
    id = attr (f, "id");
    href = attr (f, "href");
    size = attr (f, "size");
    comp = attr (f, "compression");
    chunk = attr (f, "chunkSize");
    if (!id || !href)
      ova_concern (concerns, "Warning", "Incomplete file reference",
                   "%s: a References File lacks ovf:id or ovf:href", what);
    else {
      file = json_pack ("{s:s, s:s, s:n}", "id", id, "href", href, "size");
      if (size) {
        if (parse_u64 (size, OVA_MAX_CAPACITY, &sz) == 0)
          json_object_set_new (file, "size", json_integer ((json_int_t) sz));
        else
          json_object_set_new (file, "problem",
                               json_sprintf ("file %s: size \"%s\" is not a "
                                             "byte count up to 64 TiB",
                                             href, size));
      }
      if (comp && strcmp (comp, "identity") != 0)
        json_object_set_new (file, "problem",
                             json_sprintf ("file %s is compressed (%s), "
                                           "which ferry does not read", href,
                                           comp));
      if (chunk)
        json_object_set_new (file, "problem",
                             json_sprintf ("file %s is split in chunks, "
                                           "which ferry does not read", href));
      json_array_append_new (files, file);
    }
    free (id);
    free (href);
    free (size);
    free (comp);
    free (chunk);
  }
}

static void
parse_networks (const xmlNode *env, json_t *doc)
{
  json_t *nets = json_object_get (doc, "networks");
  const xmlNode *ns = child (env, "NetworkSection");

  for (xmlNode *n = ns ? ns->children : NULL; n; n = n->next) {
    char *name, *desc;
    if (!name_is (n, "Network"))
      continue;
    name = attr (n, "name");
    desc = child_text (n, "Description");
    if (name)
      json_array_append_new (nets, json_pack ("{s:s, s:s}", "name", name,
                                              "description",
                                              desc ? desc : ""));
    free (name);
    free (desc);
  }
}

/* libxml2 reports some errors (input encoding) through the generic error
 * handler whatever the parser options say; keep them off stderr while
 * parsing (the handler is per-thread in libxml2) and rely on the context's
 * last error instead.
 */
static void
ovf_quiet (void *ctx, const char *msg, ...)
{
}

json_t *
ovf_parse (const char *buf, size_t len, const char *what)
{
  xmlParserCtxtPtr ctxt = NULL;
  xmlDocPtr xml = NULL;
  xmlNode *env;
  json_t *doc, *disks = NULL;

  doc = json_pack ("{s:[], s:[], s:[], s:s, s:[]}", "virtualSystems",
                   "files", "networks", "source", "Unknown", "concerns");
  if (!doc) {
    ferry_error ("ova: %s: out of memory", what);
    return NULL;
  }

  if (len > OVA_MAX_OVF_SIZE || len > INT_MAX) {
    ova_concern (json_object_get (doc, "concerns"), "Critical",
                 "Invalid OVF", "%s: the OVF descriptor is %zu bytes, more "
                 "than the %u ferry reads", what, len, OVA_MAX_OVF_SIZE);
    return doc;
  }
  ctxt = xmlNewParserCtxt ();
  if (!ctxt) {
    ferry_error ("ova: %s: out of memory", what);
    json_decref (doc);
    return NULL;
  }
  /* No network, no entity expansion, no DTD loading: the input is hostile. */
  {
    xmlGenericErrorFunc old_fn = xmlGenericError;
    void *old_ctx = xmlGenericErrorContext;
    xmlSetGenericErrorFunc (NULL, ovf_quiet);
    xml = xmlCtxtReadMemory (ctxt, buf, (int) len, what, NULL,
                             XML_PARSE_NONET | XML_PARSE_NOERROR
                             | XML_PARSE_NOWARNING);
    xmlSetGenericErrorFunc (old_ctx, old_fn);
  }
  if (!xml) {
    const xmlError *e = xmlCtxtGetLastError (ctxt);
    char msg[256] = "";
    if (e && e->message) {
      snprintf (msg, sizeof msg, "%s", e->message);
      msg[strcspn (msg, "\n")] = '\0';
    }
    ova_concern (json_object_get (doc, "concerns"), "Critical",
                 "Invalid OVF", "%s: the OVF descriptor is not well-formed "
                 "XML (line %d: %s)", what, e ? e->line : 0,
                 *msg ? msg : "parse error");
    goto out;
  }
  env = xmlDocGetRootElement (xml);
  if (!name_is (env, "Envelope")) {
    ova_concern (json_object_get (doc, "concerns"), "Critical",
                 "Invalid OVF", "%s: the root element is <%s>, not an OVF "
                 "<Envelope>", what, env ? (const char *) env->name : "");
    goto out;
  }
  if (env->ns && env->ns->href && !ns_is (env, NS_OVF1) && !ns_is (env, NS_OVF2))
    ova_concern (json_object_get (doc, "concerns"), "Warning",
                 "Unknown OVF version", "%s: the Envelope namespace %s is "
                 "not OVF 1.x or 2.x; reading it anyway", what,
                 (const char *) env->ns->href);
  for (xmlNs *n = env->nsDef; n; n = n->next)
    if (n->href && strcmp ((const char *) n->href, NS_VMW) == 0)
      json_object_set_new (doc, "source", json_string ("VMware"));

  parse_references (env, doc, what);
  parse_networks (env, doc);
  disks = parse_disk_section (env, what, json_object_get (doc, "concerns"));
  if (!disks) {
    ferry_error ("ova: %s: out of memory", what);
    json_decref (doc);
    doc = NULL;
    goto out;
  }
  walk_systems (env, what, disks, doc, 0);
  if (json_array_size (json_object_get (doc, "virtualSystems")) == 0)
    ova_concern (json_object_get (doc, "concerns"), "Critical",
                 "No virtual system", "%s: the OVF descriptor has no "
                 "VirtualSystem", what);

 out:
  json_decref (disks);
  xmlFreeDoc (xml);
  xmlFreeParserCtxt (ctxt);
  return doc;
}
