/* ferry local destination: neutral VM spec -> libvirt domain XML.
 *
 * Written with libxml2's xmlTextWriter, so every value taken from the spec
 * is escaped by the library; values are also checked to be UTF-8 without
 * control characters, which XML 1.0 cannot carry at all.  The result is
 * what `virt-xml-validate FILE domain` accepts and `virsh define` loads:
 * file-backed disks pointing at the volumes, q35, EFI (with secure boot
 * through firmware auto-selection) or BIOS.
 */
#include <config.h>

#include <stdio.h>
#include <string.h>
#include <jansson.h>
#include <libxml/xmlwriter.h>
#include <libxml/xmlstring.h>

#include "ferry/error.h"
#include "local.h"

/* The writer and a sticky failure flag: the first failing call records
 * its reason; the caller checks once at the end.
 */
struct xw {
  xmlTextWriterPtr w;
  const char *vm;
  int failed;                           /* a libxml2 call failed */
  int bad_value;                        /* ferry_error already reported */
};

static int
check_text (struct xw *x, const char *what, const char *s)
{
  const unsigned char *p;

  if (x->bad_value)
    return -1;
  if (!xmlCheckUTF8 ((const xmlChar *) s)) {
    ferry_error ("local: VM %s: %s: not valid UTF-8", x->vm, what);
    x->bad_value = 1;
    return -1;
  }
  for (p = (const unsigned char *) s; *p; ++p) {
    if (*p < 0x20 && *p != '\t' && *p != '\n' && *p != '\r') {
      ferry_error ("local: VM %s: %s: holds a control character XML cannot carry",
                   x->vm, what);
      x->bad_value = 1;
      return -1;
    }
  }
  return 0;
}

static void
start (struct xw *x, const char *element)
{
  if (xmlTextWriterStartElement (x->w, BAD_CAST element) < 0)
    x->failed = 1;
}

static void
end (struct xw *x)
{
  if (xmlTextWriterEndElement (x->w) < 0)
    x->failed = 1;
}

static void
attr (struct xw *x, const char *name, const char *value)
{
  if (check_text (x, name, value) == -1)
    return;
  if (xmlTextWriterWriteAttribute (x->w, BAD_CAST name, BAD_CAST value) < 0)
    x->failed = 1;
}

static void
attr_int (struct xw *x, const char *name, long long value)
{
  char buf[32];

  snprintf (buf, sizeof buf, "%lld", value);
  attr (x, name, buf);
}

/* <element>text</element> */
static void
text_element (struct xw *x, const char *element, const char *text)
{
  if (check_text (x, element, text) == -1)
    return;
  if (xmlTextWriterWriteElement (x->w, BAD_CAST element, BAD_CAST text) < 0)
    x->failed = 1;
}

/* <element name1="value1" .../> for up to two attributes. */
static void
empty_element (struct xw *x, const char *element,
               const char *a1, const char *v1, const char *a2, const char *v2)
{
  start (x, element);
  if (a1)
    attr (x, a1, v1);
  if (a2)
    attr (x, a2, v2);
  end (x);
}

/* Disk target names the way Linux names them: vda..vdz, vdaa, vdab... */
static void
target_dev (char *buf, size_t len, const char *prefix, size_t index)
{
  char letters[16];
  size_t n = 0, i;

  index++;                              /* bijective base 26 */
  while (index > 0 && n < sizeof letters) {
    index--;
    letters[n++] = (char) ('a' + index % 26);
    index /= 26;
  }
  i = (size_t) snprintf (buf, len, "%s", prefix);
  while (n > 0 && i + 1 < len)
    buf[i++] = letters[--n];
  buf[i] = '\0';
}

static int
write_os (struct xw *x, const json_t *spec)
{
  const char *fw = json_string_value (json_object_get (spec, "firmware"));
  const char *machine = json_string_value (json_object_get (spec, "machineType"));
  const char *arch = json_string_value (json_object_get (json_object_get (spec, "guest"), "arch"));
  int efi = fw != NULL && strcmp (fw, "efi") == 0;
  int secure = efi && json_is_true (json_object_get (spec, "secureBoot"));

  if (machine == NULL || machine[0] == '\0')
    machine = "q35";
  if (arch == NULL || arch[0] == '\0')
    arch = "x86_64";

  start (x, "os");
  if (efi)
    attr (x, "firmware", "efi");
  start (x, "type");
  attr (x, "arch", arch);
  attr (x, "machine", machine);
  if (xmlTextWriterWriteString (x->w, BAD_CAST "hvm") < 0)
    x->failed = 1;
  end (x);
  if (efi) {
    /* Firmware auto-selection: libvirt picks an OVMF build with (or
     * without) secure boot and enrolled keys.
     */
    start (x, "firmware");
    empty_element (x, "feature", "enabled", secure ? "yes" : "no",
                   "name", "enrolled-keys");
    empty_element (x, "feature", "enabled", secure ? "yes" : "no",
                   "name", "secure-boot");
    end (x);
    /* libvirt refuses secure="no" with auto-selection; absent means no. */
    if (secure)
      empty_element (x, "loader", "secure", "yes", NULL, NULL);
  }
  end (x);
  return 0;
}

static int
write_disks (struct xw *x, const json_t *spec, const json_t *volumes,
             const char *vm_dir)
{
  int compat = local_compatibility_mode (spec);
  const char *bus = compat ? "sata" : "virtio";
  const char *prefix = compat ? "sd" : "vd";
  int any_boot_order = 0;
  const json_t *d;
  size_t i;

  json_array_foreach (json_object_get (spec, "disks"), i, d)
    if (json_is_integer (json_object_get (d, "bootOrder")))
      any_boot_order = 1;

  json_array_foreach (json_object_get (spec, "disks"), i, d) {
    const json_t *vol = local_disk_volume (spec, volumes, i);
    const char *vname, *format, *serial;
    const json_t *bo;
    char *path = NULL;
    char dev[32];

    if (vol == NULL)
      return -1;
    vname = json_string_value (json_object_get (vol, "name"));
    if (local_check_name ("volume name", vname) == -1)
      return -1;
    format = local_volume_format (vol);
    if (format == NULL)
      return -1;
    if (asprintf (&path, "%s/%s.%s", vm_dir, vname,
                  local_format_extension (format)) == -1) {
      ferry_error ("local: VM %s: out of memory", x->vm);
      return -1;
    }
    target_dev (dev, sizeof dev, prefix, i);

    start (x, "disk");
    attr (x, "type", "file");
    attr (x, "device", "disk");
    empty_element (x, "driver", "name", "qemu", "type", format);
    empty_element (x, "source", "file", path, NULL, NULL);
    empty_element (x, "target", "dev", dev, "bus", bus);
    serial = json_string_value (json_object_get (d, "serial"));
    if (serial != NULL && serial[0] != '\0')
      text_element (x, "serial", serial);
    bo = json_object_get (d, "bootOrder");
    if (json_is_integer (bo) && json_integer_value (bo) < 1) {
      ferry_error ("local: disk %zu: bootOrder must be 1 or more", i);
      free (path);
      return -1;
    }
    if (json_is_integer (bo)) {
      start (x, "boot");
      attr_int (x, "order", json_integer_value (bo));
      end (x);
    }
    else if (!any_boot_order && i == 0)
      empty_element (x, "boot", "order", "1", NULL, NULL);
    if (json_is_true (json_object_get (d, "shared")))
      empty_element (x, "shareable", NULL, NULL, NULL, NULL);
    end (x);
    free (path);
  }
  return 0;
}

static int
write_interfaces (struct xw *x, const json_t *spec)
{
  const char *model = local_compatibility_mode (spec) ? "e1000e" : "virtio";
  const json_t *nic;
  size_t i;

  json_array_foreach (json_object_get (spec, "nics"), i, nic) {
    const json_t *target = json_object_get (nic, "target");
    const char *type = json_string_value (json_object_get (target, "type"));
    const char *mac = json_string_value (json_object_get (nic, "mac"));

    if (type == NULL) {
      ferry_error ("local: VM %s: NIC %zu: target.type missing (pod, multus or ignored)",
                   x->vm, i);
      return -1;
    }
    if (strcmp (type, "ignored") == 0)
      continue;
    if (mac != NULL && local_check_mac (x->vm, mac) == -1)
      return -1;
    start (x, "interface");
    if (strcmp (type, "pod") == 0) {
      attr (x, "type", "network");
      if (mac)
        empty_element (x, "mac", "address", mac, NULL, NULL);
      empty_element (x, "source", "network", "default", NULL, NULL);
    }
    else if (strcmp (type, "multus") == 0) {
      const char *tname = json_string_value (json_object_get (target, "name"));
      if (tname == NULL || tname[0] == '\0') {
        ferry_error ("local: VM %s: NIC %zu: multus target without a name", x->vm, i);
        return -1;
      }
      attr (x, "type", "bridge");
      if (mac)
        empty_element (x, "mac", "address", mac, NULL, NULL);
      empty_element (x, "source", "bridge", tname, NULL, NULL);
    }
    else {
      ferry_error ("local: VM %s: NIC %zu: target.type \"%s\": unknown (pod, multus or ignored)",
                   x->vm, i, type);
      return -1;
    }
    empty_element (x, "model", "type", model, NULL, NULL);
    end (x);
  }
  return 0;
}

static int
write_domain (struct xw *x, const json_t *spec, const json_t *volumes,
              const char *vm_dir)
{
  const char *fw = json_string_value (json_object_get (spec, "firmware"));
  const char *uuid = json_string_value (json_object_get (spec, "uuid"));
  const json_t *clock = json_object_get (spec, "clock");
  json_int_t sockets, cores, threads, mib;
  int secure = fw != NULL && strcmp (fw, "efi") == 0 &&
    json_is_true (json_object_get (spec, "secureBoot"));

  if (local_cpu_topology (spec, &sockets, &cores, &threads) == -1 ||
      local_memory_mib (spec, &mib) == -1)
    return -1;
  if (fw != NULL && strcmp (fw, "efi") != 0 && strcmp (fw, "bios") != 0) {
    ferry_error ("local: VM %s: firmware \"%s\": unknown (bios or efi)", x->vm, fw);
    return -1;
  }

  if (xmlTextWriterSetIndent (x->w, 1) < 0 ||
      xmlTextWriterSetIndentString (x->w, BAD_CAST "  ") < 0)
    x->failed = 1;
  start (x, "domain");
  attr (x, "type", "kvm");
  text_element (x, "name", x->vm);
  if (uuid != NULL && uuid[0] != '\0')
    text_element (x, "uuid", uuid);
  start (x, "memory");
  attr (x, "unit", "KiB");
  if (xmlTextWriterWriteFormatString (x->w, "%lld", (long long) mib * 1024) < 0)
    x->failed = 1;
  end (x);
  start (x, "vcpu");
  attr (x, "placement", "static");
  if (xmlTextWriterWriteFormatString (x->w, "%lld",
                                      (long long) (sockets * cores * threads)) < 0)
    x->failed = 1;
  end (x);
  write_os (x, spec);

  start (x, "features");
  empty_element (x, "acpi", NULL, NULL, NULL, NULL);
  empty_element (x, "apic", NULL, NULL, NULL, NULL);
  if (secure)
    empty_element (x, "smm", "state", "on", NULL, NULL);
  end (x);

  start (x, "cpu");
  start (x, "topology");
  attr_int (x, "sockets", sockets);
  attr_int (x, "cores", cores);
  attr_int (x, "threads", threads);
  end (x);
  end (x);

  if (json_is_object (clock) &&
      json_string_value (json_object_get (clock, "timezone")) != NULL &&
      json_string_length (json_object_get (clock, "timezone")) > 0)
    empty_element (x, "clock", "offset", "timezone", "timezone",
                   json_string_value (json_object_get (clock, "timezone")));
  else
    empty_element (x, "clock", "offset", "utc", NULL, NULL);

  start (x, "devices");
  if (write_disks (x, spec, volumes, vm_dir) == -1 ||
      write_interfaces (x, spec) == -1)
    return -1;
  start (x, "serial");
  attr (x, "type", "pty");
  empty_element (x, "target", "port", "0", NULL, NULL);
  end (x);
  start (x, "console");
  attr (x, "type", "pty");
  empty_element (x, "target", "type", "serial", "port", "0");
  end (x);
  if (json_is_true (json_object_get (spec, "tpm"))) {
    start (x, "tpm");
    attr (x, "model", "tpm-crb");
    empty_element (x, "backend", "type", "emulator", "version", "2.0");
    end (x);
  }
  end (x);                              /* devices */
  end (x);                              /* domain */
  if (xmlTextWriterEndDocument (x->w) < 0)
    x->failed = 1;
  return 0;
}

char *
local_domain_xml (const json_t *spec, const json_t *volumes,
                  const char *vm_dir)
{
  struct xw x = { 0 };
  xmlBufferPtr buf;
  char *ret = NULL;
  int r;

  x.vm = local_vm_name (spec);
  if (x.vm == NULL)
    return NULL;
  if (check_text (&x, "VM directory", vm_dir) == -1)
    return NULL;
  buf = xmlBufferCreate ();
  if (buf == NULL) {
    ferry_error ("local: VM %s: domain XML: out of memory", x.vm);
    return NULL;
  }
  x.w = xmlNewTextWriterMemory (buf, 0);
  if (x.w == NULL) {
    xmlBufferFree (buf);
    ferry_error ("local: VM %s: domain XML: cannot create the XML writer", x.vm);
    return NULL;
  }
  /* No XML declaration: virsh and libvirt's own files go without. */
  r = write_domain (&x, spec, volumes, vm_dir);
  xmlFreeTextWriter (x.w);              /* flushes into buf */
  if (r == 0 && !x.bad_value) {
    if (x.failed)
      ferry_error ("local: VM %s: domain XML: the XML writer failed", x.vm);
    else {
      /* Exactly one newline at the end, whatever the writer left. */
      const char *content = (const char *) xmlBufferContent (buf);
      int len = (int) strlen (content);
      while (len > 0 && content[len - 1] == '\n')
        len--;
      if (asprintf (&ret, "%.*s\n", len, content) == -1)
        ret = NULL;
      if (ret == NULL)
        ferry_error ("local: VM %s: domain XML: out of memory", x.vm);
    }
  }
  xmlBufferFree (buf);
  return ret;
}
