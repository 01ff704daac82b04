#!/bin/sh
# Secrets at rest through the command: `ferry apply` seals Secret data,
# `ferry get` hides the values unless --show-values, and nothing in the
# state directory holds the plaintext; key, database and directory are
# private to the user.
. "$abs_top_srcdir/tests/functions.sh"

[ -x "$abs_top_builddir/cli/ferry" ] || { echo "SKIP: cli/ferry is not built"; exit 77; }

password='Pl41ntext-Pa55word-that-must-not-leak'
user='administrator@vsphere.local'
secret="$FERRY_STATE_DIR/secret.yaml"
cat > "$secret" <<EOF
apiVersion: v1
kind: Secret
metadata:
  name: vsphere-creds
  namespace: default
type: Opaque
stringData:
  user: $user
data:
  password: $(printf '%s' "$password" | base64)
EOF

# The state directory must not exist yet: ferry creates it 0700.
state="$FERRY_STATE_DIR/state"
FERRY_STATE_DIR="$state"
export FERRY_STATE_DIR

out="$(ferry apply -f "$secret")" || fail "apply failed"
expect_in "$out" "vsphere-creds"
expect_in "$out" "created"

# Hidden by default: key names and sizes only.
out="$(ferry get secret vsphere-creds -o yaml)" || fail "get failed"
expect_in "$out" "kind: Secret"
expect_in "$out" "name: vsphere-creds"
expect_in "$out" "password: \"(hidden: ${#password} bytes)\""
expect_in "$out" "user: \"(hidden: ${#user} bytes)\""
case "$out" in
  *"$password"*|*"$(printf '%s' "$password" | base64)"*)
    fail "get without --show-values shows the password: $out" ;;
esac

# --show-values: base64, which decodes to the original.
out="$(ferry get secret vsphere-creds -o yaml --show-values)" || fail "get --show-values failed"
b64="$(printf '%s' "$password" | base64)"
expect_in "$out" "password: $b64"
expect_in "$out" "user: $(printf '%s' "$user" | base64)"

# Re-applying the same manifest changes nothing.
out="$(ferry apply -f "$secret")" || fail "second apply failed"
expect_in "$out" "unchanged"

# No plaintext anywhere in the state directory: database, WAL, key.
for f in "$state"/ferry.db "$state"/ferry.db-wal "$state"/secret.key; do
  [ -f "$f" ] || continue
  if grep -a -q -F "$password" "$f"; then
    fail "plaintext password found in $f"
  fi
  if grep -a -q -F "$b64" "$f"; then
    fail "base64 of the password found in $f"
  fi
done
# The name is there, so the grep above did read the real files.
grep -a -q -F "vsphere-creds" "$state"/ferry.db "$state"/ferry.db-wal 2>/dev/null \
  || fail "the secret's name is in neither ferry.db nor ferry.db-wal"
if grep -r -a -q -F "$password" "$state"; then
  fail "plaintext password found under $state: $(grep -r -a -l -F "$password" "$state")"
fi

# Modes: key and database 0600, state directory 0700.
mode () { stat -c %a "$1"; }
[ "$(mode "$state")" = 700 ] || fail "state dir mode is $(mode "$state"), want 700"
[ "$(mode "$state/ferry.db")" = 600 ] || fail "ferry.db mode is $(mode "$state/ferry.db"), want 600"
[ "$(mode "$state/secret.key")" = 600 ] || fail "secret.key mode is $(mode "$state/secret.key"), want 600"
[ "$(stat -c %s "$state/secret.key")" = 32 ] || fail "secret.key is not 32 bytes"
for f in "$state"/ferry.db-wal "$state"/ferry.db-shm; do
  [ -f "$f" ] || continue
  [ "$(mode "$f")" = 600 ] || fail "$f mode is $(mode "$f"), want 600"
done

# A key readable by others is refused, and the message says what to do.
chmod 644 "$state/secret.key"
expect_fail ferry get secret vsphere-creds -o yaml
expect_in "$err" "secret.key has mode 0644"
expect_in "$err" "chmod 600"
chmod 600 "$state/secret.key"

# Another key cannot open the data, and says so.
cp "$state/secret.key" "$state/secret.key.orig"
head -c 32 /dev/urandom > "$state/secret.key.new"
chmod 600 "$state/secret.key.new"
mv "$state/secret.key.new" "$state/secret.key"
expect_fail ferry get secret vsphere-creds -o yaml --show-values
expect_in "$err" "Secret/default/vsphere-creds"
expect_in "$err" "could not be decrypted (wrong key or tampered data)"
mv "$state/secret.key.orig" "$state/secret.key"
ferry get secret vsphere-creds -o yaml >/dev/null || fail "get with the right key failed"

# Not found.
expect_fail ferry get secret nope
expect_in "$err" "ferry: secret default/nope not found"

exit 0
