#!/bin/sh
# Replay the OVA corpus and the OVF test data through fuzz-ovf.
set -e
exec "$abs_builddir/fuzz-ovf" "$abs_srcdir/corpus/ovf" \
  "$abs_top_srcdir"/tests/data/ova
