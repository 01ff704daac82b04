/* The vSphere provider's SOAP response parser (providers/vsphere/soap.c,
 * compiled in): results, faults with their type, malformed input.
 */
#include <config.h>

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <string.h>
#include <cmocka.h>

#include "../../providers/vsphere/soap.c"

#define ENV_OPEN "<?xml version=\"1.0\"?><soapenv:Envelope " \
  "xmlns:soapenv=\"http://schemas.xmlsoap.org/soap/envelope/\" " \
  "xmlns:xsi=\"http://www.w3.org/2001/XMLSchema-instance\"><soapenv:Body>"
#define ENV_CLOSE "</soapenv:Body></soapenv:Envelope>"

static int
parse (const char *s, xmlDocPtr *doc, xmlNodePtr *body,
       struct vsphere_fault *f)
{
  return vsphere_soap_parse (s, strlen (s), doc, body, f);
}

static void
test_result (void **state)
{
  xmlDocPtr doc;
  xmlNodePtr body;
  struct vsphere_fault f = { 0 };
  const char *s = ENV_OPEN "<RetrievePropertiesExResponse xmlns=\"urn:vim25\">"
    "<returnval><token>7</token><objects><obj type=\"VirtualMachine\">vm-1</obj>"
    "<propSet><name>config.hardware.numCPU</name><val xsi:type=\"xsd:int\">4</val>"
    "</propSet></objects></returnval></RetrievePropertiesExResponse>" ENV_CLOSE;
  char *t;
  json_t *v;

  assert_int_equal (parse (s, &doc, &body, &f), 0);
  assert_string_equal ((const char *) body->name, "RetrievePropertiesExResponse");
  t = vsphere_xml_text (body, "returnval/token");
  assert_string_equal (t, "7");
  free (t);
  v = vsphere_xml_int (body, "returnval/objects/propSet/val");
  assert_int_equal (json_integer_value (v), 4);
  json_decref (v);
  t = vsphere_xml_type (vsphere_xml_path (body, "returnval/objects/propSet/val"));
  assert_string_equal (t, "int");
  free (t);
  assert_null (vsphere_xml_path (body, "returnval/nothing/here"));
  xmlFreeDoc (doc);
}

static void
test_fault (void **state)
{
  xmlDocPtr doc;
  xmlNodePtr body;
  struct vsphere_fault f = { 0 };
  const char *s = ENV_OPEN "<soapenv:Fault><faultcode>ServerFaultCode</faultcode>"
    "<faultstring>Cannot complete login due to an incorrect user name or password.</faultstring>"
    "<detail><InvalidLoginFault xmlns=\"urn:vim25\" xsi:type=\"InvalidLogin\"></InvalidLoginFault>"
    "</detail></soapenv:Fault>" ENV_CLOSE;
  const char *s2 = ENV_OPEN "<soapenv:Fault><faultcode>ServerFaultCode</faultcode>"
    "<faultstring>x</faultstring><detail><NotAuthenticatedFault/></detail>"
    "</soapenv:Fault>" ENV_CLOSE;

  assert_int_equal (parse (s, &doc, &body, &f), 1);
  assert_null (doc);
  assert_string_equal (f.type, "InvalidLogin");
  assert_non_null (strstr (f.message, "incorrect user name"));
  vsphere_fault_clear (&f);
  assert_int_equal (parse (s2, &doc, &body, &f), 1);
  assert_string_equal (f.type, "NotAuthenticated");
  vsphere_fault_clear (&f);
}

static void
test_malformed (void **state)
{
  xmlDocPtr doc;
  xmlNodePtr body;
  struct vsphere_fault f = { 0 };
  static const char *const bad[] = {
    "", "not xml at all", "<a><b></a>",
    "<Envelope/>",
    ENV_OPEN ENV_CLOSE,
    "<?xml version=\"1.0\"?><!DOCTYPE x [<!ENTITY e SYSTEM \"file:///etc/passwd\">]>"
    "<x>&e;</x>",
    ENV_OPEN "<unterminated",
  };

  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    ferry_clear_error ();
    assert_int_equal (vsphere_soap_parse (bad[i], strlen (bad[i]), &doc,
                                          &body, &f), -1);
    assert_null (doc);
    assert_non_null (strstr (ferry_get_error (), "SOAP response"));
  }
}

static void
test_escape (void **state)
{
  char *e = vsphere_xml_escape ("a<b>&\"c'");
  assert_string_equal (e, "a&lt;b&gt;&amp;&quot;c&apos;");
  free (e);
}

int
main (void)
{
  const struct CMUnitTest tests[] = {
    cmocka_unit_test (test_result),
    cmocka_unit_test (test_fault),
    cmocka_unit_test (test_malformed),
    cmocka_unit_test (test_escape),
  };
  return cmocka_run_group_tests (tests, NULL, NULL);
}
