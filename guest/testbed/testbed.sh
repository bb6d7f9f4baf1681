#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Sanity checks of the QEMU test bed itself: the devices the dma-buf tests
# need are present where expected, bound as expected, isolated by the IOMMU,
# and the kernel has the debug options the splat scan relies on.
. "$(dirname "$0")/../kselftest/ktap_helpers.sh"

bar_size() {	# BDF BAR -> size in bytes from sysfs resource
	set -- $(sed -n "$(($2 + 1))p" "/sys/bus/pci/devices/$1/resource")
	if [ "$(($2))" = 0 ]; then echo 0; else echo $(($2 - $1 + 1)); fi
}
bar_flags() { sed -n "$(($2 + 1))p" "/sys/bus/pci/devices/$1/resource" | awk '{ print $3 }'; }
driver_of() { basename "$(readlink "/sys/bus/pci/devices/$1/driver" 2>/dev/null)" 2>/dev/null; }
group_of() { basename "$(readlink "/sys/bus/pci/devices/$1/iommu_group" 2>/dev/null)" 2>/dev/null; }
present() { [ -n "$1" ] && [ -d "/sys/bus/pci/devices/$1" ]; }

devices="EXPORTER HOTPLUG BIG RESETTABLE IMPORTER IMPORTER2 EDU"
ktap_print_header
ktap_set_plan 18

for v in $devices HOTRESET HOTRESET2 UNASSIGNED; do
	eval bdf=\$VFIO_DMABUF_$v
	ktap_print_msg "VFIO_DMABUF_$v=$bdf"
	ktap_test_result "device_present_$v" present "$bdf"
done

bound() {
	for b in $VFIO_DMABUF_EXPORTER $VFIO_DMABUF_HOTPLUG $VFIO_DMABUF_BIG $VFIO_DMABUF_RESETTABLE \
		 $VFIO_DMABUF_HOTRESET $VFIO_DMABUF_HOTRESET2 $VFIO_DMABUF_EDU $VFIO_DMABUF_UNASSIGNED; do
		d=$(driver_of "$b")
		ktap_print_msg "$b driver: ${d:-none}"
		[ "$d" = vfio-pci ] || return 1
		[ -n "$(group_of "$b")" ] && [ -c "/dev/vfio/$(group_of "$b")" ] || return 1
	done
	[ -n "$VFIO_DMABUF_EXPORTER" ] && [ -n "$VFIO_DMABUF_HOTPLUG" ] && [ -n "$VFIO_DMABUF_BIG" ] &&
		[ -n "$VFIO_DMABUF_RESETTABLE" ] && [ -n "$VFIO_DMABUF_HOTRESET" ] &&
		[ -n "$VFIO_DMABUF_HOTRESET2" ] && [ -n "$VFIO_DMABUF_EDU" ] && [ -n "$VFIO_DMABUF_UNASSIGNED" ]
}
ktap_test_result "exporters_bound_to_vfio_pci" bound

own_groups() {
	groups=
	for v in $devices; do
		eval bdf=\$VFIO_DMABUF_$v
		g=$(group_of "$bdf")
		[ -n "$g" ] || return 1
		ktap_print_msg "$bdf iommu_group $g ($(ls "/sys/kernel/iommu_groups/$g/devices" | wc -l) device(s))"
		[ "$(ls "/sys/kernel/iommu_groups/$g/devices" | wc -l)" = 1 ] || return 1
		groups="$groups $g"
	done
	[ "$(echo $groups | tr ' ' '\n' | sort -u | wc -l)" = 7 ]
}
ktap_test_result "each_device_in_own_iommu_group" own_groups

bars() {
	ktap_print_msg "exporter BAR2 $(bar_size "$VFIO_DMABUF_EXPORTER" 2) bytes, flags $(bar_flags "$VFIO_DMABUF_EXPORTER" 2)"
	ktap_print_msg "big BAR2 $(bar_size "$VFIO_DMABUF_BIG" 2) bytes, BAR1 flags $(bar_flags "$VFIO_DMABUF_BIG" 1)"
	[ "$(bar_size "$VFIO_DMABUF_EXPORTER" 2)" = 67108864 ] &&
	[ "$(bar_size "$VFIO_DMABUF_HOTPLUG" 2)" = 67108864 ] &&
	[ "$(bar_size "$VFIO_DMABUF_BIG" 2)" = 17179869184 ] &&
	# QEMU gives it a 2 MiB BAR2, the kernel could not assign it.
	[ "$(bar_size "$VFIO_DMABUF_UNASSIGNED" 2)" = 0 ] &&
	[ $(( $(bar_flags "$VFIO_DMABUF_BIG" 1) & 0x100 )) != 0 ]	# IORESOURCE_IO
}
ktap_test_result "bar_sizes_and_types" bars

debug_options() {
	missing=0
	for opt in PROVE_LOCKING DEBUG_ATOMIC_SLEEP DEBUG_LIST KASAN DEBUG_KMEMLEAK \
		   DETECT_HUNG_TASK FAILSLAB FAIL_PAGE_ALLOC FAULT_INJECTION_DEBUG_FS \
		   UBSAN VFIO_PCI VFIO_PCI_DMABUF PCI_P2PDMA_CORE DMA_SHARED_BUFFER INTEL_IOMMU \
		   IOMMUFD HOTPLUG_PCI_PCIE UNIX; do
		zcat /proc/config.gz | grep -q "^CONFIG_$opt=y" ||
			{ ktap_print_msg "CONFIG_$opt is not set"; missing=1; }
	done
	# As distributions have them: the export must work without these.
	for opt in PCI_P2PDMA DMABUF_MOVE_NOTIFY ZONE_DEVICE; do
		zcat /proc/config.gz | grep -q "^CONFIG_$opt=y" &&
			{ ktap_print_msg "CONFIG_$opt is set, distributions leave it off"; missing=1; }
	done
	[ -w /sys/kernel/debug/kmemleak ] || { ktap_print_msg "kmemleak not live"; missing=1; }
	[ -e /proc/self/task/$$/fail-nth ] || { ktap_print_msg "fail-nth not live"; missing=1; }
	grep -q "lockdep" /proc/lockdep_stats 2>/dev/null ||
		[ -e /proc/lockdep ] || { ktap_print_msg "lockdep not live"; missing=1; }
	[ $missing = 0 ]
}
ktap_test_result "debug_options_live" debug_options

p2p_cpu() {
	vendor=$(awk -F': ' '/^vendor_id/ { print $2; exit }' /proc/cpuinfo)
	family=$(awk -F': ' '/^cpu family/ { print $2; exit }' /proc/cpuinfo)
	ktap_print_msg "CPU $vendor family $family"
	# pci_p2pdma_distance() whitelists host bridges of AMD family >= 0x17.
	[ "$vendor" = AuthenticAMD ] && [ "$family" -ge 23 ]
}
ktap_test_result "cpu_allows_p2p_through_host_bridge" p2p_cpu

host_channel() {
	[ -n "$VFIO_DMABUF_VMCTL" ] || return 1
	r=$(vmctl ping)
	ktap_print_msg "vmctl ping: $r"
	[ "$r" = "ok pong" ]
}
ktap_test_result "host_control_channel" host_channel

hotplug_slot() {
	port=$(basename "$(dirname "$(readlink -f "/sys/bus/pci/devices/$VFIO_DMABUF_HOTPLUG")")")
	ktap_print_msg "hotplug device $VFIO_DMABUF_HOTPLUG behind $port"
	# pciehp registers a slot, named by the bus below the port, for a
	# hotplug-capable port
	grep -qsx "${VFIO_DMABUF_HOTPLUG%.*}" /sys/bus/pci/slots/*/address
}
ktap_test_result "hotplug_device_behind_pciehp_slot" hotplug_slot

hot_reset_pair() {
	a=$(dirname "$(readlink -f "/sys/bus/pci/devices/$VFIO_DMABUF_HOTRESET")")
	b=$(dirname "$(readlink -f "/sys/bus/pci/devices/$VFIO_DMABUF_HOTRESET2")")
	ktap_print_msg "hot reset pair $VFIO_DMABUF_HOTRESET $VFIO_DMABUF_HOTRESET2 behind $(basename "$a")"
	# Two functions of one slot below the same port: one bus reset for both
	[ "$a" = "$b" ] && [ "${VFIO_DMABUF_HOTRESET%.*}" = "${VFIO_DMABUF_HOTRESET2%.*}" ] &&
		[ "$VFIO_DMABUF_HOTRESET" != "$VFIO_DMABUF_HOTRESET2" ]
}
ktap_test_result "hot_reset_pair_shares_a_bus" hot_reset_pair

ktap_finished
