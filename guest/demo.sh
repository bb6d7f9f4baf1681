#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The feature, walked through as a VMM developer would, one narrated step per
# line (the steps are printed by the series' vfio_dmabuf_demo).
#
# Pass 1 exports the ivshmem BAR, backed by a host file, so the data can be
# checked from the host too. ivshmem has no FLR, so pass 2 walks the same
# way through the nvme controller memory buffer, which has.
demo=/kselftest/vfio/vfio_dmabuf_demo
if [ ! -x "$demo" ]; then
	echo "DEMO: NOT THERE YET: the series has no vfio_dmabuf_demo"
	exit 1
fi
cd "$(dirname "$demo")" || exit 1

echo "DEMO pass 1: exporter $VFIO_DMABUF_EXPORTER (ivshmem, BAR2 backed by host file of $VFIO_DMABUF_EXPORTER_ID), importer $VFIO_DMABUF_IMPORTER (edu)"
"$demo" || exit 1

[ -n "$VFIO_DMABUF_RESETTABLE" ] || exit 0
echo "DEMO pass 2: exporter $VFIO_DMABUF_RESETTABLE (nvme controller memory buffer as BAR2, with FLR), importer $VFIO_DMABUF_IMPORTER (edu)"
VFIO_DMABUF_EXPORTER=$VFIO_DMABUF_RESETTABLE VFIO_DMABUF_EXPORTER_ID= "$demo"
