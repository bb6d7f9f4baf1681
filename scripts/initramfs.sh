#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Build the guest's initramfs: Debian's static busybox, the kselftests of the
# tree installed in run_kselftest.sh layout (with their test modules), the
# test bed's own sanity collection, and the shared libraries the tests need.
set -euo pipefail
. "$(dirname "$0")/lib.sh"

KST=$IMG/kselftest
ROOT=$IMG/initramfs
SELFTESTS=$TREE/tools/testing/selftests
targets=()
[ -d "$SELFTESTS/vfio" ] && targets+=(vfio)

rm -rf "$KST" "$ROOT"
if [ ${#targets[@]} -gt 0 ]; then
	step "building kselftests: ${targets[*]} (and their test modules)"
	run_logged "$IMG/kselftest.log" \
		make -C "$SELFTESTS" TARGETS="${targets[*]}" O="$OBJ" KDIR="$OBJ" \
			KHDR_INCLUDES="-isystem $OBJ/usr/include" \
			KSFT_INSTALL_PATH="$KST" -j"$JOBS" install
else
	info "the series has no kselftests yet; installing the runner only"
	mkdir -p "$KST/kselftest"
	install -m 744 "$SELFTESTS"/kselftest/{module.sh,runner.sh,prefix.pl,ktap_helpers.sh} "$KST/kselftest/"
	install -m 744 "$SELFTESTS/run_kselftest.sh" "$KST/"
	: >"$KST/kselftest-list.txt"
fi
# A test module that failed to build would turn its tests into skips: refuse.
if [ -d "$SELFTESTS/vfio/dmabuf_importer" ] && [ ! -f "$KST/vfio/vfio_dmabuf_importer.ko" ]; then
	die "vfio_dmabuf_importer.ko was not built (see $IMG/kselftest.log)"
fi
if [ -d "$SELFTESTS/vfio/variant_driver" ] && [ ! -f "$KST/vfio/vfio_pci_variant_test.ko" ]; then
	die "vfio_pci_variant_test.ko was not built (see $IMG/kselftest.log)"
fi
# The test bed's own sanity checks run first, as a collection of their own.
cp -r "$TOP/guest/testbed" "$KST/testbed"
{ echo "testbed:testbed.sh"; cat "$KST/kselftest-list.txt"; } >"$KST/list.tmp"
mv "$KST/list.tmp" "$KST/kselftest-list.txt"

step "assembling the initramfs"
mkdir -p "$ROOT"/{bin,sbin,usr/bin,usr/sbin,etc/testbed,usr/share/testbed,proc,sys,dev,tmp,root,lib64,lib/x86_64-linux-gnu}
cp /bin/busybox "$ROOT/bin/busybox"
ln -s busybox "$ROOT/bin/sh"
case "$(ldd /bin/busybox 2>&1 || true)" in
*"not a dynamic"*) ;;
*) die "/bin/busybox is not static: install busybox-static" ;;
esac
install -m 755 "$TOP/guest/init" "$ROOT/init"
install -m 755 "$TOP/guest/timeout" "$ROOT/usr/bin/timeout"
install -m 755 "$TOP/guest/vmctl" "$ROOT/usr/bin/vmctl"
install -m 644 "$TOP/guest/devices.sh" "$ROOT/etc/testbed/devices.sh"
[ -f "$TOP/guest/demo.sh" ] && install -m 755 "$TOP/guest/demo.sh" "$ROOT/usr/share/testbed/demo.sh"
cp -r "$KST" "$ROOT/kselftest"

# Shared libraries of every dynamic executable in the image.
find "$ROOT" -type f -perm -u+x -print0 | while IFS= read -r -d '' f; do
	ldd "$f" 2>/dev/null | grep -o '/[^ ]*\.so[^ ]*' || true
done | sort -u | while read -r lib; do
	mkdir -p "$ROOT$(dirname "$lib")"
	cp -L "$lib" "$ROOT$lib"
done

(cd "$ROOT" && find . -print0 | sort -z | cpio --null -o -H newc -R 0:0 --quiet) >"$IMG/initramfs.cpio"
info "initramfs: $(du -h "$IMG/initramfs.cpio" | cut -f1), kselftests: $(grep -c . "$KST/kselftest-list.txt") test(s)"
