#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The feature, walked through as a VMM developer would, one narrated step per
# line. Steps whose pieces are not in the series yet say so plainly.
n=0
say() { n=$((n + 1)); echo "DEMO step $n: $*"; }
demo=/kselftest/vfio/vfio_dmabuf_demo

say "bind the ivshmem device $VFIO_DMABUF_EXPORTER to vfio-pci: driver is $(basename "$(readlink /sys/bus/pci/devices/$VFIO_DMABUF_EXPORTER/driver)"), IOMMU group $(basename "$(readlink /sys/bus/pci/devices/$VFIO_DMABUF_EXPORTER/iommu_group)")"
say "BAR2 of $VFIO_DMABUF_EXPORTER: $(sed -n 3p /sys/bus/pci/devices/$VFIO_DMABUF_EXPORTER/resource)"
if [ -x "$demo" ]; then
	exec "$demo"
fi
for s in "export two ranges of BAR2 as one dma-buf" \
	 "import it from the edu peer, DMA a pattern, verify it byte for byte and from the host" \
	 "clear memory decode: the importer is notified and cannot map" \
	 "set decode again and DMA again" \
	 "FLR, then close the device: the buffer is dead"; do
	say "$s: NOT THERE YET (the series has no dma-buf export and no test importer yet)"
done
