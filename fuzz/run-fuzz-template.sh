#!/bin/sh
# Replay the template corpus through fuzz-template.
set -e
exec "$abs_builddir/fuzz-template" "$abs_srcdir/corpus/template"
