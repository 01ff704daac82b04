/* ferry vSphere provider: the SOAP response parser and XML helpers.
 *
 * Everything here reads outside data; fuzz/fuzz-soap.c drives
 * vsphere_soap_parse with arbitrary bytes.  The parser never touches the
 * network and never loads external entities or DTDs.
 */
#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <libxml/parser.h>

#include <ferry/error.h>

#include "vsphere.h"

#define VSPHERE_SOAP_MAX (256u << 20)   /* bytes: refuse larger responses */

void
vsphere_fault_clear (struct vsphere_fault *f)
{
  free (f->type);
  free (f->message);
  f->type = f->message = NULL;
}

static bool
is_element (xmlNodePtr n, const char *name)
{
  return n && n->type == XML_ELEMENT_NODE
    && (!name || strcmp ((const char *) n->name, name) == 0);
}

xmlNodePtr
vsphere_xml_child (xmlNodePtr n, const char *name)
{
  if (!n)
    return NULL;
  for (xmlNodePtr c = n->children; c; c = c->next)
    if (is_element (c, name))
      return c;
  return NULL;
}

xmlNodePtr
vsphere_xml_next (xmlNodePtr n, const char *name)
{
  if (!n)
    return NULL;
  for (xmlNodePtr c = n->next; c; c = c->next)
    if (is_element (c, name))
      return c;
  return NULL;
}

xmlNodePtr
vsphere_xml_path (xmlNodePtr n, const char *path)
{
  char step[128];

  while (n && path && *path) {
    size_t len = strcspn (path, "/");
    if (len >= sizeof step)
      return NULL;
    memcpy (step, path, len);
    step[len] = '\0';
    n = vsphere_xml_child (n, step);
    path += len;
    if (*path == '/')
      path++;
  }
  return n;
}

char *
vsphere_xml_text (xmlNodePtr n, const char *path)
{
  xmlNodePtr e = path ? vsphere_xml_path (n, path) : n;
  xmlChar *c;
  char *r;

  if (!e)
    return NULL;
  c = xmlNodeGetContent (e);
  if (!c)
    return strdup ("");
  r = strdup ((const char *) c);
  xmlFree (c);
  return r;
}

char *
vsphere_xml_type (xmlNodePtr n)
{
  xmlChar *t;
  char *r, *colon;

  if (!n)
    return NULL;
  t = xmlGetNsProp (n, (const xmlChar *) "type",
                    (const xmlChar *) "http://www.w3.org/2001/XMLSchema-instance");
  if (!t)
    return NULL;
  colon = strchr ((char *) t, ':');
  r = strdup (colon ? colon + 1 : (char *) t);
  xmlFree (t);
  return r;
}

json_t *
vsphere_xml_str (xmlNodePtr n, const char *path)
{
  VSPHERE_CLEANUP_FREE char *s = vsphere_xml_text (n, path);
  return s ? json_string (s) : NULL;
}

json_t *
vsphere_xml_int (xmlNodePtr n, const char *path)
{
  VSPHERE_CLEANUP_FREE char *s = vsphere_xml_text (n, path);
  char *end;
  long long v;

  if (!s || !*s)
    return NULL;
  errno = 0;
  v = strtoll (s, &end, 10);
  if (errno || *end)
    return NULL;
  return json_integer (v);
}

json_t *
vsphere_xml_bool (xmlNodePtr n, const char *path)
{
  VSPHERE_CLEANUP_FREE char *s = vsphere_xml_text (n, path);

  if (!s)
    return NULL;
  if (strcmp (s, "true") == 0 || strcmp (s, "1") == 0)
    return json_true ();
  if (strcmp (s, "false") == 0 || strcmp (s, "0") == 0)
    return json_false ();
  return NULL;
}

char *
vsphere_xml_escape (const char *s)
{
  size_t n = 1;
  char *r, *p;

  for (const char *q = s; *q; q++)
    n += (*q == '&') ? 5 : (*q == '<' || *q == '>') ? 4
      : (*q == '"' || *q == '\'') ? 6 : 1;
  r = p = malloc (n);
  if (!r)
    return NULL;
  for (; *s; s++) {
    switch (*s) {
    case '&': memcpy (p, "&amp;", 5); p += 5; break;
    case '<': memcpy (p, "&lt;", 4); p += 4; break;
    case '>': memcpy (p, "&gt;", 4); p += 4; break;
    case '"': memcpy (p, "&quot;", 6); p += 6; break;
    case '\'': memcpy (p, "&apos;", 6); p += 6; break;
    default: *p++ = *s;
    }
  }
  *p = '\0';
  return r;
}

/* The fault's type: the xsi:type of the detail's first element, else that
 * element's name without its "Fault" suffix, else the faultcode.
 */
static void
parse_fault (xmlNodePtr fault, struct vsphere_fault *f)
{
  xmlNodePtr detail = vsphere_xml_child (fault, "detail");
  xmlNodePtr d = vsphere_xml_child (detail, NULL);

  f->message = vsphere_xml_text (fault, "faultstring");
  f->type = vsphere_xml_type (d);
  if (!f->type && d) {
    size_t len = strlen ((const char *) d->name);
    f->type = strdup ((const char *) d->name);
    if (f->type && len > 5 && strcmp (f->type + len - 5, "Fault") == 0)
      f->type[len - 5] = '\0';
  }
  if (!f->type)
    f->type = vsphere_xml_text (fault, "faultcode");
  if (!f->type)
    f->type = strdup ("UnknownFault");
  if (!f->message)
    f->message = strdup ("");
}

int
vsphere_soap_parse (const char *buf, size_t len, xmlDocPtr *docp,
                    xmlNodePtr *bodyp, struct vsphere_fault *fault)
{
  xmlDocPtr doc;
  xmlNodePtr env, body, first;

  *docp = NULL;
  *bodyp = NULL;
  if (len == 0 || len > VSPHERE_SOAP_MAX || len > INT32_MAX) {
    ferry_error ("SOAP response of %zu bytes: %s", len,
                 len == 0 ? "empty" : "too large");
    return -1;
  }
  doc = xmlReadMemory (buf, (int) len, "response.xml", NULL,
                       XML_PARSE_NONET | XML_PARSE_NOERROR
                       | XML_PARSE_NOWARNING | XML_PARSE_NOBLANKS);
  if (!doc) {
    const xmlError *e = xmlGetLastError ();
    char msg[256] = "not XML";
    if (e && e->message) {
      /* libxml2's messages end with a newline. */
      snprintf (msg, sizeof msg, "%s", e->message);
      msg[strcspn (msg, "\n")] = '\0';
    }
    ferry_error ("malformed SOAP response: %s", msg);
    xmlResetLastError ();
    return -1;
  }
  env = xmlDocGetRootElement (doc);
  if (!is_element (env, "Envelope")
      || !(body = vsphere_xml_child (env, "Body"))) {
    ferry_error ("malformed SOAP response: no Envelope/Body");
    xmlFreeDoc (doc);
    return -1;
  }
  first = vsphere_xml_child (body, NULL);
  if (!first) {
    ferry_error ("malformed SOAP response: empty Body");
    xmlFreeDoc (doc);
    return -1;
  }
  if (strcmp ((const char *) first->name, "Fault") == 0) {
    parse_fault (first, fault);
    xmlFreeDoc (doc);
    return 1;
  }
  *docp = doc;
  *bodyp = first;
  return 0;
}
