# SPDX-License-Identifier: GPL-2.0
# Sourced by init: find the test bed's devices by vendor:device and position
# (never by slot), bind the exporters and the third edu to vfio-pci with the
# selftests' setup.sh, and export their addresses to the tests as
# VFIO_DMABUF_* variables. QEMU ids come from the kernel command
# line (testbed.ids=exporter:ivshmem0,hotplug:hotplug0), set by scripts/vm.py,
# as does testbed.topology=switch for the switch topology.

# pci_find VENDOR DEVICE ROOT|BRIDGE: BDFs of matching devices on the root bus
# or behind a bridge.
pci_find() {
	for d in /sys/bus/pci/devices/*; do
		[ "$(cat "$d/vendor")" = "0x$1" ] && [ "$(cat "$d/device")" = "0x$2" ] || continue
		parent=$(basename "$(dirname "$(readlink -f "$d")")")
		case "$3:$parent" in
		root:pci*|bridge:0000:*) basename "$d" ;;
		esac
	done
}

testbed_setup() {
	ids= topology=standard
	for arg in $(cat /proc/cmdline); do
		case "$arg" in
		testbed.ids=*) ids=$(echo "${arg#testbed.ids=}" | tr ',' ' ') ;;
		testbed.topology=*) topology=${arg#testbed.topology=} ;;
		esac
	done
	for kv in $ids; do
		case "$kv" in
		exporter:*) export VFIO_DMABUF_EXPORTER_ID=${kv#*:} ;;
		hotplug:*) export VFIO_DMABUF_HOTPLUG_ID=${kv#*:} ;;
		switch_exporter:*) export VFIO_DMABUF_SWITCH_EXPORTER_ID=${kv#*:} ;;
		esac
	done
	[ -c /dev/ttyS2 ] && export VFIO_DMABUF_VMCTL=/dev/ttyS2

	if [ "$topology" = switch ]; then
		# The exporter and an edu below the switch's downstream ports, an
		# edu on the root bus; vfio takes the exporter in noiommu mode.
		export VFIO_DMABUF_SWITCH_EXPORTER=$(pci_find 1af4 1110 bridge | head -n1)
		export VFIO_DMABUF_SWITCH_IMPORTER=$(pci_find 1234 11e8 bridge | head -n1)
		export VFIO_DMABUF_REFUSED_IMPORTER=$(pci_find 1234 11e8 root | head -n1)
		/kselftest/vfio/setup.sh $VFIO_DMABUF_SWITCH_EXPORTER || echo "TESTBED: setup.sh failed"
		env | grep '^VFIO_DMABUF_' | sort | sed 's/^/TESTBED: /'
		return
	fi

	export VFIO_DMABUF_EXPORTER=$(pci_find 1af4 1110 root | head -n1)
	export VFIO_DMABUF_HOTPLUG=$(pci_find 1af4 1110 bridge | head -n1)
	export VFIO_DMABUF_BIG=$(pci_find 1b36 0005 root | head -n1)
	export VFIO_DMABUF_RESETTABLE=$(pci_find 1b36 0010 root | head -n1)
	set -- $(pci_find 1234 11e8 root)
	export VFIO_DMABUF_IMPORTER=$1 VFIO_DMABUF_IMPORTER2=$2 VFIO_DMABUF_EDU=$3
	set -- $(pci_find 1b36 0005 bridge)
	export VFIO_DMABUF_HOTRESET=$1 VFIO_DMABUF_HOTRESET2=$2 VFIO_DMABUF_UNASSIGNED=$3

	# The selftests' own setup script, as outside the test bed.
	/kselftest/vfio/setup.sh $VFIO_DMABUF_EXPORTER $VFIO_DMABUF_HOTPLUG $VFIO_DMABUF_BIG \
		$VFIO_DMABUF_RESETTABLE $VFIO_DMABUF_HOTRESET $VFIO_DMABUF_HOTRESET2 $VFIO_DMABUF_EDU \
		$VFIO_DMABUF_UNASSIGNED ||
		echo "TESTBED: setup.sh failed"
	env | grep '^VFIO_DMABUF_' | sort | sed 's/^/TESTBED: /'
}
