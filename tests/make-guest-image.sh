#!/bin/sh
# make-guest-image.sh OUT.img: build a small real Debian 12 guest disk image
# offline from Debian packages, for the positive conversion test
# (tests/integration/test-conversion-guest.sh) and by hand.
#
# debootstrap --variant=minbase bookworm with a kernel, udev, systemd and
# GRUB's BIOS files; the driver trees no VM needs are dropped and the
# initramfs lists only the disk drivers it needs (MODULES=list), which keeps
# virt-v2v's initramfs rebuild short under TCG (about 4 minutes rather than
# 16 with MODULES=most).  The root filesystem goes into one MBR partition
# (virt-make-fs); grub-install and update-grub run inside it through
# guestfish.  /etc/fstab names /dev/sda1, so a conversion is visible: it
# becomes /dev/vda1.  The root password is "ferry".
#
# Needs root, debootstrap, virt-make-fs and guestfish (Debian:
# libguestfs-tools) and the Debian mirror ($DEBIAN_MIRROR, default
# http://deb.debian.org/debian).  Takes 5-10 minutes; about 760 MB sparse
# (400 MB allocated).
set -eu
out=${1:?usage: make-guest-image.sh OUT.img}
mirror=${DEBIAN_MIRROR:-http://deb.debian.org/debian}
for p in debootstrap virt-make-fs guestfish chroot; do
  command -v $p >/dev/null 2>&1 || { echo "make-guest-image.sh: $p not found" >&2; exit 77; }
done
[ "$(id -u)" = 0 ] || { echo "make-guest-image.sh: debootstrap needs root" >&2; exit 77; }
export LIBGUESTFS_BACKEND="${LIBGUESTFS_BACKEND:-direct}"
export LIBGUESTFS_BACKEND_SETTINGS="${LIBGUESTFS_BACKEND_SETTINGS-force_tcg}"

work="$(mktemp -d "${TMPDIR:-/tmp}/ferry-guest.XXXXXX")"
trap 'rm -rf "$work"' EXIT
root="$work/root"
debootstrap --variant=minbase \
  --include=linux-image-amd64,grub-pc-bin,grub2-common,systemd-sysv,udev,e2fsprogs \
  bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 \
  || { tail -20 "$work/debootstrap.log" >&2; exit 1; }

rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* \
  "$root"/usr/share/doc/* "$root"/usr/share/man/* "$root"/usr/share/locale/*
kver="$(ls "$root/lib/modules")"
k="$root/lib/modules/$kver/kernel"
rm -rf "$k/drivers/gpu" "$k/drivers/net/wireless" "$k/drivers/media" "$k/sound" \
  "$k/drivers/infiniband" "$k/drivers/staging" "$k/net/wireless" "$k/net/mac80211" \
  "$k/drivers/bluetooth" "$k/net/bluetooth" "$k/drivers/iio" "$k/drivers/hid" \
  "$k/drivers/isdn" "$k/drivers/usb"
chroot "$root" depmod -a "$kver"
echo "/dev/sda1 / ext4 errors=remount-ro 0 1" > "$root/etc/fstab"
echo ferry-guest > "$root/etc/hostname"
printf 'MODULES=list\nCOMPRESS=gzip\n' > "$root/etc/initramfs-tools/conf.d/ferry-small.conf"
printf 'ext4\nsd_mod\nvirtio_pci\nvirtio_blk\nvirtio_scsi\n' >> "$root/etc/initramfs-tools/modules"
chroot "$root" sh -c 'echo root:ferry | chpasswd'

virt-make-fs --partition=mbr --type=ext4 --size=+300M --format=raw "$root" "$out.tmp"
guestfish -a "$out.tmp" -i <<'EOF'
part-set-bootable /dev/sda 1 true
command "grub-install --target=i386-pc /dev/sda"
command "update-grub"
EOF
mv "$out.tmp" "$out"
echo "$out: Debian 12 guest, kernel $kver"
