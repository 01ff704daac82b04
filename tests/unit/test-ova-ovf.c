/* Unit tests of the OVA provider's parsers: OVF descriptors (VMware and
 * VirtualBox shapes, several virtual systems, malformed ones), allocation
 * units, .mf manifests, digests, stable ids and disk format probing.
 * providers/ova/{ovf,manifest,vmdk}.c are compiled into this program.
 */
#include <config.h>

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "../../providers/ova/ovf.c"
#include "../../providers/ova/manifest.c"
#include "../../providers/ova/vmdk.c"

static char *
read_data (const char *name, size_t *len)
{
  const char *top = getenv ("abs_top_srcdir");
  char path[4096];
  FILE *fp;
  char *buf;
  long n;

  if (!top)
    top = getenv ("FERRY_SRCDIR");
  assert_non_null (top);
  snprintf (path, sizeof path, "%s/tests/data/ova/%s", top, name);
  fp = fopen (path, "rb");
  assert_non_null (fp);
  fseek (fp, 0, SEEK_END);
  n = ftell (fp);
  fseek (fp, 0, SEEK_SET);
  buf = malloc (n + 1);
  assert_non_null (buf);
  assert_int_equal (fread (buf, 1, n, fp), (size_t) n);
  buf[n] = '\0';
  fclose (fp);
  *len = (size_t) n;
  return buf;
}

static json_t *
parse_data (const char *name)
{
  size_t len;
  char *buf = read_data (name, &len);
  json_t *doc = ovf_parse (buf, len, name);
  free (buf);
  assert_non_null (doc);
  return doc;
}

#define S(obj, key) json_string_value (json_object_get ((obj), (key)))
#define I(obj, key) json_integer_value (json_object_get ((obj), (key)))
#define B(obj, key) json_is_true (json_object_get ((obj), (key)))

/* Some concern's assessment contains all the given needles. */
static void
assert_concern (const json_t *concerns, const char *category, ...)
{
  size_t i;
  const json_t *c;

  json_array_foreach (concerns, i, c) {
    va_list ap;
    const char *needle;
    int ok = strcmp (S (c, "category"), category) == 0;
    va_start (ap, category);
    while ((needle = va_arg (ap, const char *)))
      if (!strstr (S (c, "assessment"), needle))
        ok = 0;
    va_end (ap);
    if (ok)
      return;
  }
  print_error ("no %s concern with the expected text in: %s\n", category,
               json_dumps (concerns, 0));
  fail ();
}

static void
test_vmware_efi (void **state)
{
  json_t *doc = parse_data ("vmware-efi.ovf");
  json_t *vs, *d, *n;

  assert_string_equal (S (doc, "source"), "VMware");
  assert_int_equal (json_array_size (json_object_get (doc, "concerns")), 0);
  assert_int_equal (json_array_size (json_object_get (doc, "virtualSystems")), 1);
  vs = json_array_get (json_object_get (doc, "virtualSystems"), 0);
  assert_int_equal (json_array_size (json_object_get (vs, "concerns")), 0);
  assert_string_equal (S (vs, "id"), "rhel9-web");
  assert_string_equal (S (vs, "name"), "rhel9-web");
  assert_string_equal (S (vs, "osId"), "80");
  assert_string_equal (S (vs, "osType"), "rhel9_64Guest");
  assert_string_equal (S (vs, "osDescription"), "Red Hat Enterprise Linux 9 (64-bit)");
  assert_string_equal (S (vs, "virtualSystemType"), "vmx-19");
  assert_int_equal (I (vs, "cpuCount"), 4);
  assert_int_equal (I (vs, "coresPerSocket"), 2);
  assert_int_equal (I (vs, "memoryMB"), 8192);
  assert_string_equal (S (vs, "firmware"), "efi");
  assert_true (B (vs, "secureBoot"));
  assert_true (B (vs, "tpm"));

  assert_int_equal (json_array_size (json_object_get (vs, "disks")), 2);
  d = json_array_get (json_object_get (vs, "disks"), 0);
  assert_string_equal (S (d, "diskId"), "vmdisk1");
  assert_string_equal (S (d, "fileRef"), "file1");
  assert_string_equal (S (d, "name"), "Hard disk 1");
  assert_int_equal (I (d, "capacity"), INT64_C (16) << 30);
  assert_string_equal (S (d, "capacityAllocationUnits"), "byte * 2^30");
  assert_int_equal (I (d, "populatedSize"), INT64_C (2147483648));
  assert_string_equal (S (d, "bus"), "scsi");
  assert_int_equal (I (d, "controllerIndex"), 0);
  assert_int_equal (I (d, "unit"), 0);
  assert_non_null (strstr (S (d, "format"), "#streamOptimized"));
  d = json_array_get (json_object_get (vs, "disks"), 1);
  assert_string_equal (S (d, "diskId"), "vmdisk2");
  assert_int_equal (I (d, "capacity"), INT64_C (512) << 20);
  assert_int_equal (I (d, "populatedSize"), 0);
  assert_string_equal (S (d, "bus"), "sata");
  assert_int_equal (I (d, "unit"), 1);

  assert_int_equal (json_array_size (json_object_get (vs, "nics")), 2);
  n = json_array_get (json_object_get (vs, "nics"), 0);
  assert_string_equal (S (n, "mac"), "00:50:56:ab:12:34");
  assert_string_equal (S (n, "network"), "VM Network");
  assert_string_equal (S (n, "model"), "VmxNet3");
  assert_string_equal (S (n, "name"), "Network adapter 1");
  n = json_array_get (json_object_get (vs, "nics"), 1);
  assert_string_equal (S (n, "mac"), "00:50:56:ab:56:78");
  assert_string_equal (S (n, "network"), "backend-vlan42");
  assert_string_equal (S (n, "model"), "E1000e");
  assert_int_equal (json_array_size (json_object_get (vs, "networks")), 2);

  assert_int_equal (json_array_size (json_object_get (doc, "files")), 2);
  d = json_array_get (json_object_get (doc, "files"), 0);
  assert_string_equal (S (d, "id"), "file1");
  assert_string_equal (S (d, "href"), "rhel9-web-disk1.vmdk");
  assert_int_equal (I (d, "size"), 1441792);
  n = json_array_get (json_object_get (doc, "networks"), 1);
  assert_string_equal (S (n, "name"), "backend-vlan42");
  assert_string_equal (S (n, "description"), "The backend-vlan42 network");
  json_decref (doc);
}

static void
test_virtualbox (void **state)
{
  json_t *doc = parse_data ("virtualbox.ovf");
  json_t *vs, *d, *n;

  assert_string_equal (S (doc, "source"), "VirtualBox");
  vs = json_array_get (json_object_get (doc, "virtualSystems"), 0);
  assert_non_null (vs);
  assert_int_equal (json_array_size (json_object_get (vs, "concerns")), 0);
  assert_string_equal (S (vs, "id"), "debian12");
  assert_string_equal (S (vs, "name"), "debian12");     /* no <Name>: the id */
  assert_string_equal (S (vs, "osId"), "96");
  assert_string_equal (S (vs, "osType"), "Debian_64");  /* vbox:OSType */
  assert_string_equal (S (vs, "osDescription"), "Debian_64");
  assert_int_equal (I (vs, "cpuCount"), 2);
  assert_int_equal (I (vs, "coresPerSocket"), 1);
  assert_int_equal (I (vs, "memoryMB"), 2048);
  assert_string_equal (S (vs, "memoryUnits"), "MegaBytes");
  assert_string_equal (S (vs, "firmware"), "efi");      /* vbox:Machine */
  assert_false (B (vs, "secureBoot"));
  assert_false (B (vs, "tpm"));
  assert_int_equal (json_array_size (json_object_get (vs, "disks")), 1);
  d = json_array_get (json_object_get (vs, "disks"), 0);
  assert_string_equal (S (d, "diskId"), "vmdisk1");
  assert_int_equal (I (d, "capacity"), INT64_C (21474836480));
  assert_string_equal (S (d, "capacityAllocationUnits"), "byte");
  assert_true (json_is_null (json_object_get (d, "populatedSize")));
  assert_string_equal (S (d, "bus"), "sata");
  assert_int_equal (I (d, "controllerIndex"), 0);
  assert_string_equal (S (d, "name"), "disk1");
  n = json_array_get (json_object_get (vs, "nics"), 0);
  /* Only in vbox:Machine's Adapter: MACAddress="0800271A2B3C". */
  assert_string_equal (S (n, "mac"), "08:00:27:1a:2b:3c");
  assert_string_equal (S (n, "network"), "NAT");
  assert_string_equal (S (n, "model"), "E1000");
  json_decref (doc);
}

static void
test_multi_vs (void **state)
{
  json_t *doc = parse_data ("multi-vs.ovf");
  json_t *systems = json_object_get (doc, "virtualSystems");
  json_t *web, *db, *d;

  assert_int_equal (json_array_size (systems), 2);
  web = json_array_get (systems, 0);
  db = json_array_get (systems, 1);
  assert_string_equal (S (web, "id"), "web");
  assert_string_equal (S (db, "id"), "db");
  assert_int_equal (I (web, "cpuCount"), 1);
  assert_int_equal (I (web, "memoryMB"), 1024);
  assert_int_equal (I (db, "cpuCount"), 2);
  assert_int_equal (I (db, "memoryMB"), 4096);          /* 4 * 2^30 bytes */
  d = json_array_get (json_object_get (web, "disks"), 0);
  assert_string_equal (S (d, "bus"), "ide");
  assert_int_equal (I (d, "capacity"), INT64_C (8589934592));
  d = json_array_get (json_object_get (db, "disks"), 0);
  assert_string_equal (S (d, "bus"), "nvme");
  assert_int_equal (I (d, "controllerIndex"), 1);
  assert_int_equal (I (d, "capacity"), INT64_C (20) << 30);
  assert_string_equal (S (doc, "source"), "VMware");
  json_decref (doc);
}

static void
test_not_xml (void **state)
{
  json_t *doc = parse_data ("not-xml.ovf");

  assert_int_equal (json_array_size (json_object_get (doc, "virtualSystems")), 0);
  assert_concern (json_object_get (doc, "concerns"), "Critical",
                  "not-xml.ovf", "not well-formed XML", NULL);
  json_decref (doc);

  doc = parse_data ("not-ovf.ovf");
  assert_int_equal (json_array_size (json_object_get (doc, "virtualSystems")), 0);
  assert_concern (json_object_get (doc, "concerns"), "Critical",
                  "not-ovf.ovf", "<domain>", "not an OVF", NULL);
  json_decref (doc);

  /* Empty and binary input. */
  doc = ovf_parse ("", 0, "empty.ovf");
  assert_non_null (doc);
  assert_concern (json_object_get (doc, "concerns"), "Critical",
                  "empty.ovf", NULL);
  json_decref (doc);
  doc = ovf_parse ("\0\xff\xfe<", 4, "binary.ovf");
  assert_non_null (doc);
  assert_concern (json_object_get (doc, "concerns"), "Critical",
                  "binary.ovf", NULL);
  json_decref (doc);
}

static void
test_absurd_sizes (void **state)
{
  json_t *doc = parse_data ("absurd-sizes.ovf");
  json_t *vs = json_array_get (json_object_get (doc, "virtualSystems"), 0);
  json_t *concerns = json_object_get (vs, "concerns");
  json_t *d;

  assert_non_null (vs);
  assert_concern (concerns, "Critical", "absurd-sizes.ovf", "CPU",
                  "\"-4\"", NULL);
  assert_concern (concerns, "Critical", "absurd-sizes.ovf", "memory",
                  "99999999999999999999", "too large", NULL);
  d = json_array_get (json_object_get (vs, "disks"), 0);
  assert_true (json_is_null (json_object_get (d, "capacity")));
  assert_non_null (strstr (S (d, "problem"), "too large"));
  assert_non_null (strstr (S (d, "problem"), "64 TiB"));
  assert_non_null (strstr (S (d, "problem"), "\"100\""));
  d = json_array_get (json_object_get (vs, "disks"), 1);
  assert_non_null (strstr (S (d, "problem"), "negative"));
  assert_non_null (strstr (S (d, "problem"), "-1024"));
  json_decref (doc);
}

static void
test_dangling (void **state)
{
  json_t *doc = parse_data ("dangling-refs.ovf");
  json_t *vs = json_array_get (json_object_get (doc, "virtualSystems"), 0);

  /* The ghost disk is not declared: a concern, and no disk for it. */
  assert_concern (json_object_get (vs, "concerns"), "Critical",
                  "dangling-refs.ovf", "ghost", "DiskSection", NULL);
  assert_int_equal (json_array_size (json_object_get (vs, "disks")), 2);
  assert_int_equal (I (vs, "memoryMB"), 2048);          /* GigaBytes */
  json_decref (doc);
}

static void
test_units (void **state)
{
  uint64_t m;

  assert_int_equal (ovf_parse_units ("byte * 2^30", &m), 0);
  assert_int_equal (m, UINT64_C (1) << 30);
  assert_int_equal (ovf_parse_units ("byte*2^20", &m), 0);
  assert_int_equal (m, UINT64_C (1) << 20);
  assert_int_equal (ovf_parse_units ("byte * 1024^2", &m), 0);
  assert_int_equal (m, UINT64_C (1) << 20);
  assert_int_equal (ovf_parse_units ("byte * 10^3", &m), 0);
  assert_int_equal (m, 1000);
  assert_int_equal (ovf_parse_units ("MegaBytes", &m), 0);
  assert_int_equal (m, UINT64_C (1) << 20);
  assert_int_equal (ovf_parse_units ("GB", &m), 0);
  assert_int_equal (m, UINT64_C (1) << 30);
  assert_int_equal (ovf_parse_units (NULL, &m), 0);
  assert_int_equal (m, 1);
  assert_int_equal (ovf_parse_units ("byte", &m), 0);
  assert_int_equal (m, 1);
  assert_int_equal (ovf_parse_units ("byte * 2^99", &m), -1);
  assert_int_equal (ovf_parse_units ("hertz * 10^6", &m), -1);
  assert_int_equal (ovf_parse_units ("byte * 3^2", &m), -1);
  assert_int_equal (ovf_parse_units ("byte * 2^", &m), -1);
}

static void
test_manifest (void **state)
{
  static const char mf[] =
    "SHA256(a.ovf)= 0123456789abcdef0123456789ABCDEF0123456789abcdef0123456789abcdef\n"
    "SHA1(disk1.vmdk)= da39a3ee5e6b4b0d3255bfef95601890afd80709\r\n"
    "\n"
    "SHA256 (./b.vmdk) = e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
    "MD5(x)= d41d8cd98f00b204e9800998ecf8427e\n"
    "garbage line\n"
    "SHA256(short)= abc\n";
  json_t *concerns = json_array ();
  json_t *m = ova_manifest_parse (mf, sizeof mf - 1, "t.mf", concerns);
  struct ova_digest *d;
  char hex[129];

  assert_non_null (m);
  assert_int_equal (json_object_size (m), 3);
  assert_string_equal (S (json_object_get (m, "a.ovf"), "algorithm"), "SHA256");
  assert_string_equal (S (json_object_get (m, "a.ovf"), "digest"),
                       "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
  assert_string_equal (S (json_object_get (m, "disk1.vmdk"), "algorithm"), "SHA1");
  assert_non_null (json_object_get (m, "b.vmdk"));
  assert_concern (concerns, "Warning", "t.mf", "line 5", "MD5", NULL);
  assert_concern (concerns, "Warning", "t.mf", "line 6", NULL);
  assert_concern (concerns, "Warning", "t.mf", "line 7", "short", "64 hex", NULL);
  json_decref (m);
  json_decref (concerns);

  d = ova_digest_new (NULL);
  assert_non_null (d);
  ova_digest_update (d, "abc", 3);
  assert_int_equal (ova_digest_hex (d, "SHA256", hex), 0);
  assert_string_equal (hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  assert_int_equal (ova_digest_hex (d, "sha1", hex), 0);
  assert_string_equal (hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
  assert_int_equal (ova_digest_hex (d, "MD5", hex), -1);
  ova_digest_free (d);
  /* One algorithm only: the others are not computed. */
  d = ova_digest_new ("SHA1");
  assert_non_null (d);
  ova_digest_update (d, "abc", 3);
  assert_int_equal (ova_digest_hex (d, "SHA256", hex), -1);
  assert_int_equal (ova_digest_hex (d, "SHA1", hex), 0);
  assert_string_equal (hex, "a9993e364706816aba3e25717850c26c9cd0d89d");
  ova_digest_free (d);
}

static void
test_stable_id (void **state)
{
  const char *a[] = { "ferry-ova", "vm", "x/y.ova", "vs1", NULL };
  const char *b[] = { "ferry-ova", "vm", "x/y.ova", "vs1", NULL };
  const char *c[] = { "ferry-ova", "vm", "x/y.ov", "avs1", NULL };
  char ia[37], ib[37], ic[37];

  ova_stable_id (ia, a);
  ova_stable_id (ib, b);
  ova_stable_id (ic, c);
  assert_string_equal (ia, ib);
  assert_string_not_equal (ia, ic);     /* the separators count */
  assert_int_equal (strlen (ia), 36);
  assert_int_equal (ia[8], '-');
  assert_int_equal (ia[23], '-');
}

static void
test_probe (void **state)
{
  unsigned char buf[4096] = { 0 };
  const char *sub;
  char *e;

  memcpy (buf, "KDMV", 4);
  buf[8] = 0x03; buf[10] = 0x03;        /* flags: compressed + markers */
  assert_string_equal (ova_probe_format (buf, sizeof buf, &sub), "vmdk");
  assert_string_equal (sub, "streamOptimized");
  buf[28] = 1;                          /* descriptor at sector 1 */
  buf[36] = 1;
  memcpy (buf + 512, "createType=\"monolithicSparse\"", 29);
  assert_string_equal (ova_probe_format (buf, sizeof buf, &sub), "vmdk");
  assert_string_equal (sub, "monolithicSparse");
  assert_string_equal (ova_probe_format ((const unsigned char *) "QFI\xfb\0\0\0\3", 8, &sub), "qcow2");
  assert_string_equal (ova_probe_format ((const unsigned char *) "# Disk DescriptorFile\ncreateType=\"monolithicFlat\"\n", 50, &sub), "vmdk-descriptor");
  assert_string_equal (sub, "monolithicFlat");
  assert_string_equal (ova_probe_format ((const unsigned char *) "", 0, &sub), "raw");
  /* Virtual sizes from the headers. */
  memset (buf + 12, 0, 8);
  buf[13] = 0x80;                       /* 0x8000 sectors = 16 MiB */
  assert_int_equal (ova_probe_virtual_size (buf, sizeof buf), 16777216);
  assert_int_equal (ova_probe_virtual_size ((const unsigned char *)
                                            "QFI\xfb\0\0\0\3" "\0\0\0\0\0\0\0\0"
                                            "\0\0\0\0\0\0\0\0" "\0\0\0\0\0\x40\0\0", 32),
                    4194304);
  assert_int_equal (ova_probe_virtual_size ((const unsigned char *) "raw", 3), 0);
  /* A header that claims its descriptor is far away: no overread. */
  memset (buf + 28, 0xff, 16);
  assert_string_equal (ova_probe_format (buf, 64, &sub), "vmdk");

  e = ova_qemu_opt_escape ("/a,b/c,,d");
  assert_string_equal (e, "/a,,b/c,,,,d");
  free (e);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_vmware_efi),
    cmocka_unit_test (test_virtualbox),
    cmocka_unit_test (test_multi_vs),
    cmocka_unit_test (test_not_xml),
    cmocka_unit_test (test_absurd_sizes),
    cmocka_unit_test (test_dangling),
    cmocka_unit_test (test_units),
    cmocka_unit_test (test_manifest),
    cmocka_unit_test (test_stable_id),
    cmocka_unit_test (test_probe),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
