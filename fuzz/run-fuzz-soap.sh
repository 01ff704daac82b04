#!/bin/sh
# Replay the SOAP corpus through fuzz-soap.
set -e
exec "$abs_builddir/fuzz-soap" "$abs_srcdir/corpus/soap"
