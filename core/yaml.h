/* ferry core: YAML (and JSON, as YAML's flow subset) into jansson values,
 * remembering where every node came from, and back out as YAML.
 */
/* This header shares its name with libyaml's.  A file that needs libyaml
 * defines FERRY_WANT_LIBYAML and includes <yaml.h>: the include path finds
 * this file first, which then pulls in libyaml's.
 */
#if defined(FERRY_WANT_LIBYAML) && !defined(YAML_H)
#include_next <yaml.h>
#endif

#ifndef FERRY_CORE_YAML_H
#define FERRY_CORE_YAML_H

#include <stdbool.h>
#include <stddef.h>
#include <jansson.h>

/* One document of a multi-document stream. */
struct ferry_yaml_doc {
  json_t *value;                        /* the document (never NULL; null if empty) */
  size_t index;                         /* 0-based position in the stream */
  size_t line, column;                  /* 1-based start of the document */
  json_t *positions;                    /* object: field path -> [line, column] */
};

/* Field paths are kubectl's: "spec.vms[1].name"; "" is the root.  A key that
 * holds '.', '[' or ']' (an annotation such as "forklift.konveyor.io/route")
 * is written in brackets: "metadata.annotations[forklift.konveyor.io/route]".
 * A mapping member's position is that of its key; a sequence item's is the
 * item's first character.
 */

/* Parse all documents of buf.  name is the file name used in messages:
 * "plan.yaml:3:7: mapping values are not allowed here".  Returns -1 after
 * ferry_error on any problem (syntax, NUL bytes or invalid UTF-8, input over
 * FERRY_YAML_MAX_BYTES, nesting deeper than FERRY_YAML_MAX_DEPTH, more than
 * FERRY_YAML_MAX_NODES nodes after alias expansion, duplicate mapping keys,
 * .inf/.nan which JSON cannot hold).  An input with no documents at all
 * (empty, or only comments) returns 0 with *ndocs == 0: the caller decides
 * whether that is an error.
 *
 * Plain scalars resolve as Kubernetes' sigs.k8s.io/yaml (go-yaml v2, YAML
 * 1.1) does: ~ null Null NULL and empty are null; true/false, yes/no, y/n,
 * on/off in their three casings are booleans; decimal, 0x, 0o, 0b, and
 * leading-0 octal integers with optional '_' are integers; floats per
 * YAML 1.1.  Quoted and block scalars, and !!str, are always strings.
 * Timestamps stay strings (they reach JSON as text either way).  Mapping
 * keys are always strings.  "<<" merge keys are honoured.
 */
#define FERRY_YAML_MAX_BYTES (16u * 1024 * 1024)
#define FERRY_YAML_MAX_DEPTH 64
#define FERRY_YAML_MAX_NODES 1000000

int ferry_internal_yaml_parse (const char *name, const char *buf, size_t len,
                               struct ferry_yaml_doc **docs, size_t *ndocs);
void ferry_internal_yaml_docs_free (struct ferry_yaml_doc *docs, size_t n);

/* Position of path (or of its nearest ancestor that has one). */
void ferry_internal_yaml_pos (const struct ferry_yaml_doc *doc,
                              const char *path, size_t *line, size_t *column);

/* Path of member key under parent path (caller frees): "spec" + "vms". */
char *ferry_internal_yaml_path_key (const char *parent, const char *key);
/* Path of item i under parent path (caller frees): "spec.vms" + 1. */
char *ferry_internal_yaml_path_index (const char *parent, size_t i);

/* What a plain (unquoted) scalar means, as the parser resolves it: a new
 * reference, or NULL if the text cannot be represented in JSON (.inf, .nan).
 * The emitter uses it to know when a string must be quoted.
 */
json_t *ferry_internal_yaml_resolve_plain (const char *text, size_t len);

#endif /* FERRY_CORE_YAML_H */
