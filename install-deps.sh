#!/bin/sh
# Install what ferry needs to build and test, from Debian's packages only.
# Run as root (or with sudo available).  Used by the README and by .ci/run.
set -eu
# etcd-server: the KubeVirt destination's tests run a real kube-apiserver
# (../shared/peers/kube-up.sh) on it.  virt-v2v + linux-image-amd64: guest
# conversion (virt-v2v-in-place); libguestfs builds its appliance from the
# host's kernel, which a container image may lack.  procps (pgrep): the
# conversion tests check no conversion process is left; libguestfs-tools
# (guestfish, virt-make-fs, libguestfs-test-tool) and debootstrap:
# tests/make-guest-image.sh and the opt-in real-guest conversion test.
# curl, openssl, xz-utils: kube-up.sh and the kube/vSphere tests and benches.
# scale-out (issue 7): FERRY_DEPS=build installs only what building and
# installing needs (build_pkgs: packaging/Containerfile's build stage).
build_pkgs="
  autoconf automake libtool libltdl-dev pkg-config make gcc g++
  libjansson-dev libyaml-dev libsqlite3-dev libssl-dev libcurl4-openssl-dev
  libxml2-dev libnbd-dev libpcre2-dev libarchive-dev
"
pkgs="$build_pkgs
  libcmocka-dev
  qemu-utils nbdkit libnbd-bin libvirt-clients
  sqlite3 valgrind man-db time python3 ansible-core
  golang-go golang-github-masterminds-sprig-dev golang-github-vmware-govmomi-dev
  etcd-server
  virt-v2v linux-image-amd64
  procps libguestfs-tools debootstrap
  curl openssl xz-utils
"
[ "${FERRY_DEPS:-all}" = build ] && pkgs=$build_pkgs
if [ "$(id -u)" -ne 0 ]; then
  exec sudo env FERRY_DEPS="${FERRY_DEPS:-all}" "$0" "$@"
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
# shellcheck disable=SC2086
apt-get install -y -qq --no-install-recommends $pkgs >/dev/null
echo "install-deps: installed:" $pkgs
