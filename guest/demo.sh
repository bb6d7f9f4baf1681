#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The feature, walked through as a VMM developer would, one narrated step per
# line (the steps are printed by the series' vfio_dmabuf_demo).
#
# Pass 1 exports the ivshmem BAR, backed by a host file, so the data can be
# checked from the host too, to the test importer on an edu. ivshmem has no
# FLR, so pass 2 walks the same way through the nvme controller memory
# buffer, which has. Pass 3 is the VMM's way: the ivshmem BAR mapped into an
# iommufd IOAS with IOMMU_IOAS_MAP_FILE, where an edu on vfio-pci, driven
# from user space, reaches it through the IOMMU.
#
# Each pass is one fixture of the demo program (-f). A pass the harness
# skips ("# SKIP") fails the demo: in this test bed everything is there.
demo=/kselftest/vfio/vfio_dmabuf_demo
if [ ! -x "$demo" ]; then
	echo "DEMO: NOT THERE YET: the series has no vfio_dmabuf_demo"
	exit 1
fi
cd "$(dirname "$demo")" || exit 1

# run_pass N WHAT -f FIXTURE: run one pass, print its narration as it goes,
# and fail unless it ran and passed.
run_pass() {
	n=$1 what=$2
	shift 2
	echo "DEMO pass $n: $what"
	{ "$demo" "$@" 2>&1; echo $? >/tmp/demo.rc; } | tee /tmp/demo.out
	rc=$(cat /tmp/demo.rc)
	if [ "$rc" != 0 ]; then
		echo "DEMO pass $n: FAILED (exit status $rc)"
		exit 1
	fi
	if grep -q '# SKIP' /tmp/demo.out; then
		echo "DEMO pass $n: FAILED: skipped"
		exit 1
	fi
}

run_pass 1 "exporter $VFIO_DMABUF_EXPORTER (ivshmem, BAR2 backed by host file of $VFIO_DMABUF_EXPORTER_ID), importer $VFIO_DMABUF_IMPORTER (edu)" -f demo

(
	what="exporter $VFIO_DMABUF_RESETTABLE (nvme controller memory buffer as BAR2, with FLR), importer $VFIO_DMABUF_IMPORTER (edu)"
	export VFIO_DMABUF_EXPORTER=$VFIO_DMABUF_RESETTABLE VFIO_DMABUF_EXPORTER_ID=
	run_pass 2 "$what" -f demo
) || exit 1

run_pass 3 "exporter $VFIO_DMABUF_EXPORTER (ivshmem) mapped into an iommufd IOAS, peer $VFIO_DMABUF_EDU (edu on vfio-pci, DMA through the IOMMU)" -f vmm
