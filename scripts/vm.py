#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot the test kernel in QEMU (TCG) on the dma-buf test bed and report.

--topology picks the devices (TOPOLOGIES): "standard", the test bed of
almost every test, or "switch", an exporter and a peer below one PCIe
switch with no IOMMU, for the programs that need it.  Each program runs
in one topology; a boot runs those of its own out of --tests.

Serial ports of the guest:
  ttyS0  kernel console          -> OUT/console.log (scanned for splats)
  ttyS1  output of guest/init    -> streamed here and to OUT/ktap.log
  ttyS2  control channel         <- one-line requests from the guest (vmctl):
           ping                          -> "ok pong"
           device_del ID                 -> request hot-unplug of device ID; "ok"
                                            once QEMU accepted the request
           shm-read ID OFFSET LENGTH     -> "ok HEX": the bytes (at most 64 KiB) of
                                            the host file backing device ID

The last line printed is "N passed, N failed, N skipped". The exit code is 0
only if nothing failed, at least one test ran, the guest finished, and the
console shows no kernel splat. With --kselftests, also only if every program
of the list ran (a missing program, a plan that does not match the results
or the program's own test list, or an early exit fails), no test skipped
that config/expected-skips.txt does not list (unless --allow-skips),
run_kselftest.sh, the device setup and cleanup and every rmmod succeeded,
and kmemleak found nothing.

Kernel messages that a test provokes on purpose are declared by the test
on /dev/kmsg before it provokes them, as "vfio-selftests: expect KEY N";
the next N console lines matching KEY's pattern (EXPECTABLE) are consumed,
any others are splats.
"""

import argparse
import json
import os
import re
import selectors
import socket
import subprocess
import sys
import time

SHM_SIZE = 64 << 20
SHM_READ_MAX = 64 << 10

# Kernel splats: any of these on the console fails the run.
SPLAT = re.compile(
    r"WARNING:|BUG:|Oops|general protection fault|kernel BUG at|Kernel panic|"
    r"unreferenced object|new suspected memory leaks|blocked for more than|"
    r"detected stalls|self-detected stall|soft lockup|hard LOCKUP|"
    r"DEBUG_LOCKS_WARN_ON|UBSAN:|list_(add|del) corruption|refcount_t: |"
    r"possible circular locking|possible recursive locking|inconsistent lock state|"
    r"sleeping function called from invalid context|"
    r"INFO: trying to register non-static key|"
    r"^BUG [\w.:-]+ \(|"                              # SLUB object reports
    # kmemleak giving up (not "Cannot allocate a scan area", after which
    # it scans the whole object, as fault injection makes it do)
    r"kmemleak: (Kernel memory leak detector disabled|Cannot allocate a kmemleak_object|"
    r"Cannot insert|Out of memory|Automatic memory scanning thread ended)|"
    r"DMAR: \[DMA (Read|Write)|DMAR: DRHD: handling fault|DMAR: \[INTR-REMAP|"
    r"AMD-Vi: Event logged|IO_PAGE_FAULT|"
    r"no longer waiting")                               # the exporter gave up on importers

# What a test may declare it provokes ("vfio-selftests: expect KEY N").
EXPECTABLE = {
    "revoke-timeout": re.compile(r"dma-buf ino \d+: .* no longer waiting"),
    "dmar-fault": re.compile(r"DMAR: \[DMA (Read|Write)|DMAR: DRHD: handling fault"),
}
EXPECT = re.compile(r"vfio-selftests: expect ([\w-]+) (\d+)$")


def devices_standard(shm):
    """The emulated devices (brief section 6), by QEMU id."""
    return [
        "-device", "intel-iommu,intremap=on",
        # The exported BAR: ivshmem BAR2 is RAM from a host file.
        "-object", f"memory-backend-file,id=mem-ivshmem0,mem-path={shm['ivshmem0']},"
                   f"size={SHM_SIZE},share=on",
        "-device", "ivshmem-plain,memdev=mem-ivshmem0,id=ivshmem0",
        # Importing peers.
        "-device", "edu,dma_mask=0xffffffffffffffff,id=edu0",
        "-device", "edu,dma_mask=0xffffffffffffffff,id=edu1",
        # An exporter with FLR and a PM capability: NVMe's controller memory
        # buffer is its BAR2 (no namespace, no drive).
        "-device", "nvme,serial=vfio-dmabuf,cmb_size_mb=16,id=nvme0",
        # A 16 GiB 64-bit BAR2 with no backing, and an I/O BAR1.
        "-device", "pci-testdev,membar=16G,id=testdev0",
        # An exporter behind a hotplug-capable root port, for surprise removal.
        "-device", "pcie-root-port,id=rp0,chassis=1,slot=1",
        "-object", f"memory-backend-file,id=mem-hotplug0,mem-path={shm['hotplug0']},"
                   f"size={SHM_SIZE},share=on",
        "-device", "ivshmem-plain,memdev=mem-hotplug0,id=hotplug0,bus=rp0",
        # Two functions of one slot behind a root port, both for vfio-pci:
        # a hot reset of either resets both (one dev_set, one IOMMU group).
        "-device", "pcie-root-port,id=rp1,chassis=2,slot=2",
        "-device", "pci-testdev,membar=2M,id=hotreset0,bus=rp1,addr=0.0,multifunction=on",
        "-device", "pci-testdev,membar=2M,id=hotreset1,bus=rp1,addr=0.1",
        # A third edu for vfio-pci: the userspace DMA driver's device.
        "-device", "edu,dma_mask=0xffffffffffffffff,id=edu2",
        # A device whose BARs the kernel cannot assign (see the command
        # line in TOPOLOGIES): behind a root port of its own, found as bus 3.
        "-device", "pcie-root-port,id=rp2,chassis=3,slot=3",
        "-device", "pci-testdev,membar=2M,id=unassigned0,bus=rp2",
    ]


def devices_switch(shm):
    """Peer-to-peer below a PCIe switch, and through an untrusted host
    bridge: no IOMMU, so that the switch routes peer traffic itself."""
    return [
        "-device", "pcie-root-port,id=rp0,chassis=1,slot=1",
        "-device", "x3130-upstream,id=up0,bus=rp0",
        "-device", "xio3130-downstream,id=dn0,bus=up0,chassis=2,slot=0",
        "-device", "xio3130-downstream,id=dn1,bus=up0,chassis=2,slot=1",
        "-object", f"memory-backend-file,id=mem-switch0,mem-path={shm['switch0']},"
                   f"size={SHM_SIZE},share=on",
        "-device", "ivshmem-plain,memdev=mem-switch0,id=switch0,bus=dn0",
        "-device", "edu,dma_mask=0xffffffffffffffff,id=edu0,bus=dn1",
        # On the root bus: its path to the exporter is the host bridge.
        "-device", "edu,dma_mask=0xffffffffffffffff,id=edu1",
    ]


# Each topology: its devices, the host files backing BARs, the CPU model,
# the kernel command line, and the test programs that need it.  A program
# runs in the topology that names it, any other in "standard".
TOPOLOGIES = {
    # EPYC: the P2PDMA core trusts the host bridge of an AMD family 17h+ CPU.
    "standard": {
        "devices": devices_standard,
        "shm": ("ivshmem0", "hotplug0"),
        "cpu": "EPYC",
        # The kernel reassigns the memory BARs of the device at
        # 0000:03:00.0 with a 1 TiB alignment, which no window can give:
        # they end up unassigned.
        "cmdline": "intel_iommu=on pci=resource_alignment=40@0000:03:00.0 "
                   "testbed.ids=exporter:ivshmem0,hotplug:hotplug0",
        "programs": (),
    },
    # qemu64 (AMD family 15) and QEMU's q35 host bridge: peer-to-peer through
    # the host bridge is refused.  vfio takes the exporter in noiommu mode.
    "switch": {
        "devices": devices_switch,
        "shm": ("switch0",),
        "cpu": "qemu64",
        "cmdline": "vfio.enable_unsafe_noiommu_mode=1 testbed.topology=switch "
                   "testbed.ids=switch_exporter:switch0",
        "programs": ("vfio:vfio_dmabuf_topology_test",),
    },
}


def topology_of(program):
    return next((t for t, v in TOPOLOGIES.items() if program in v["programs"]),
                "standard")


class Qmp:
    def __init__(self, sock):
        self.sock = sock
        self.buf = b""
        self.events = []
        self.recv()                      # greeting
        self.cmd("qmp_capabilities")

    def recv(self, timeout=30):
        self.sock.settimeout(timeout)
        while b"\n" not in self.buf:
            data = self.sock.recv(65536)
            if not data:
                raise EOFError("QMP closed")
            self.buf += data
        line, self.buf = self.buf.split(b"\n", 1)
        return json.loads(line)

    def cmd(self, name, **args):
        self.sock.sendall(json.dumps({"execute": name, "arguments": args}).encode() + b"\n")
        while True:
            msg = self.recv()
            if "event" in msg:
                self.events.append(msg)
                continue
            return msg


class Ktap:
    """Tally of the KTAP stream of run_kselftest.sh.

    Top-level results are one per test program; results one level down are
    the program's own test cases. Each case is counted; a program that
    reported no cases counts as one; a program that failed although all its
    cases passed (crash, timeout) counts as one more failure."""

    RESULT = re.compile(r"^((?:# )*)(not ok|ok) \d+ (.*?)(?:\s+#\s*(\w+).*)?$")
    PLAN = re.compile(r"^# 1\.\.(\d+)$")
    PROGRAM = re.compile(r"^selftests: ([\w.-]+): ([\w.-]+)")

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.sub = [0, 0, 0]
        self.failures = []
        self.plan = None
        self.sub_skips = []
        self.skips = []         # "collection:program test"
        self.programs = {}      # "collection:program" -> (plan, results)

    def line(self, text):
        m = self.PLAN.match(text)
        if m:
            self.plan = int(m.group(1))
            return
        m = self.RESULT.match(text)
        if not m:
            return
        depth = len(m.group(1)) // 2
        ok = m.group(2) == "ok"
        directive = (m.group(4) or "").upper()
        name = m.group(3)
        if depth == 1:
            i = 2 if directive == "SKIP" else (0 if ok else 1)
            self.sub[i] += 1
            if not ok:
                self.failures.append(name)
            if directive == "SKIP":
                self.sub_skips.append(name)
            return
        if depth != 0:
            return
        p, f, s = self.sub
        self.sub = [0, 0, 0]
        m = self.PROGRAM.match(name)
        prog = f"{m.group(1)}:{m.group(2)}" if m else name
        self.programs[prog] = (self.plan, p + f + s)
        self.plan = None
        self.skips += [f"{prog} {t}" for t in self.sub_skips]
        self.sub_skips = []
        if directive == "SKIP" and p + f + s == 0:
            self.skips.append(f"{prog} (the whole program)")
        if p + f + s:
            self.passed += p
            self.failed += f
            self.skipped += s
            if not ok and f == 0:
                self.failed += 1
                self.failures.append(f"{name} ({directive or 'exit status'})")
        elif directive == "SKIP":
            self.skipped += 1
        elif ok:
            self.passed += 1
        else:
            self.failed += 1
            self.failures.append(name)


def scan_splats(console):
    lines = console.splitlines()
    found = []
    budget = {}
    i = 0
    while i < len(lines):
        m = EXPECT.search(lines[i])
        if m:
            budget[m.group(1)] = budget.get(m.group(1), 0) + int(m.group(2))
            i += 1
            continue
        key = next((k for k, pat in EXPECTABLE.items()
                    if budget.get(k) and pat.search(lines[i])), None)
        if key:
            budget[key] -= 1
            i += 1
            continue
        if SPLAT.search(lines[i]):
            block = lines[max(0, i - 2):i + 45]
            for j, l in enumerate(block[3:], 3):
                if "---[ end trace" in l or "==================" in l and j > 5:
                    block = block[:j + 1]
                    break
            found.append("\n".join(block))
            i += len(block) - 2
        i += 1
    return found


def is_elf(path):
    try:
        with open(path, "rb") as f:
            return f.read(4) == b"\x7fELF"
    except OSError:
        return False


def expected_tests(path):
    """Number of tests a kselftest_harness program has, from its own -l list,
    or None for a program that is not one."""
    if not is_elf(path):
        return None
    try:
        r = subprocess.run([path, "-l"], capture_output=True, text=True,
                           timeout=30)
        out = r.stdout + r.stderr       # the harness lists on stderr
    except (OSError, subprocess.SubprocessError):
        return None
    if not out.startswith("# FIXTURE"):
        return None
    # One block per fixture: names start in the FIXTURE, VARIANT or TEST
    # column of the header (a long variant name may run past the next one).
    head = out.splitlines()[0]
    vcol, tcol = head.index("VARIANT"), head.index("TEST")
    total = 0
    for block in out.split("-" * 80)[1:]:
        variants = tests = 0
        for line in block.splitlines():
            for m in re.finditer(r"\S+", line):
                if vcol <= m.start() < tcol:
                    variants += 1
                elif m.start() >= tcol:
                    tests += 1
        total += max(variants, 1) * tests
    return total


def check_run(args, ktap, guest_lines):
    """Everything beyond pass/fail that makes a test run worth its verdict."""
    problems = []
    text = "\n".join(guest_lines)
    m = re.search(r"^TESTBED: kselftests done rc=(\d+)$", text, re.M)
    if not m:
        problems.append("run_kselftest.sh did not finish")
    elif m.group(1) != "0":
        problems.append(f"run_kselftest.sh exited with status {m.group(1)}")
    for what in re.findall(r"^TESTBED: ((?:rmmod \S+|setup\.sh|cleanup\.sh) failed)$", text, re.M):
        problems.append(what)
    leaks = re.search(r"^TESTBED: kmemleak report begin\n(.*?)^TESTBED: kmemleak report end$",
                      text, re.M | re.S)
    if leaks and leaks.group(1).strip():
        n = leaks.group(1).count("unreferenced object")
        print("---- kmemleak ----")
        print(leaks.group(1).rstrip())
        problems.append(f"kmemleak: {n} suspected leak(s)")
    elif not leaks and "TESTBED: kmemleak scan" in text:
        problems.append("the kmemleak report did not reach the host")
    if args.kselftests:
        for prog in [t for t in args.tests.split(",") if t]:
            if prog not in ktap.programs:
                problems.append(f"{prog} did not run")
                continue
            plan, ran = ktap.programs[prog]
            path = os.path.join(args.kselftests, *prog.split(":", 1))
            want = expected_tests(path)
            if ran == 0:
                problems.append(f"{prog} ran no test")
            elif want is None and is_elf(path):
                problems.append(f"{prog}: cannot list its tests with -l")
            if plan is not None and plan != ran:
                problems.append(f"{prog}: plan 1..{plan} but {ran} result(s) (exited early?)")
            if want is not None and want != ran:
                problems.append(f"{prog}: has {want} tests but {ran} ran")
    if not args.allow_skips:
        allowed = set()
        if args.expected_skips:
            for l in open(args.expected_skips):
                l = l.split("#", 1)[0].strip()
                if l:
                    allowed.add(l.split("|", 1)[0].strip())
        for skip in ktap.skips:
            if skip not in allowed:
                problems.append(f"unexpected skip: {skip}")
    return problems


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--out", required=True, help="directory for logs and backing files")
    ap.add_argument("--mode", default="test", choices=["test", "demo", "bench"])
    ap.add_argument("--topology", default="standard", choices=sorted(TOPOLOGIES),
                    help="the devices to boot with (see TOPOLOGIES)")
    ap.add_argument("--tests", default="", help="comma-separated collection:test to run")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds for the whole VM")
    ap.add_argument("--append", default="", help="extra kernel command line")
    ap.add_argument("--kselftests", default="",
                    help="the installed kselftests (kselftest-list.txt, the programs): "
                         "check that each program ran all its tests")
    ap.add_argument("--expected-skips", default="",
                    help="file of 'collection:program test | reason' lines: skips allowed")
    ap.add_argument("--allow-skips", action="store_true",
                    help="skips do not fail the run (a kernel or machine lacking devices)")
    args = ap.parse_args()

    topo = TOPOLOGIES[args.topology]
    # The programs of this topology, out of those asked for (default: all
    # that are installed); none: nothing to boot for.
    if args.mode == "test" and args.kselftests:
        listed = [l.strip() for l in open(os.path.join(args.kselftests, "kselftest-list.txt"))
                  if l.strip()]
        tests = [t for t in args.tests.split(",") if t] or listed
        tests = [t for t in tests if topology_of(t) == args.topology]
        if not tests:
            print(f"no test asked for runs in the {args.topology} topology: not booted")
            print("0 passed, 0 failed, 0 skipped")
            return 0
        args.tests = ",".join(tests)

    os.makedirs(args.out, exist_ok=True)
    shm = {}
    for dev in topo["shm"]:
        shm[dev] = os.path.join(args.out, f"{dev}.shm")
        with open(shm[dev], "wb") as f:
            f.truncate(SHM_SIZE)
    console_log = os.path.join(args.out, "console.log")
    ktap_log = os.path.join(args.out, "ktap.log")
    for f in (console_log, ktap_log):
        if os.path.exists(f):
            os.unlink(f)

    # We listen, QEMU connects: no output is lost before we are ready.
    socks = {}
    for name in ("out", "ctl", "qmp"):
        path = os.path.join(args.out, f"{name}.sock")
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)
        socks[name] = (s, path)

    cmdline = ("console=ttyS0,115200 loglevel=7 panic=-1 oops=panic "
               "softlockup_panic=0 kmemleak=on rdinit=/init "
               f"testbed.mode={args.mode} {topo['cmdline']}")
    if args.tests:
        cmdline += f" testbed.tests={args.tests}"
    if args.append:
        cmdline += " " + args.append
    qemu = [
        "qemu-system-x86_64", "-M", "q35,kernel-irqchip=split", "-accel", "tcg",
        "-cpu", topo["cpu"], "-smp", "2", "-m", "2G", "-nic", "none",
        "-display", "none", "-no-reboot", "-nodefaults",
        "-kernel", args.kernel, "-initrd", args.initrd, "-append", cmdline,
        "-chardev", f"file,id=con,path={console_log}", "-serial", "chardev:con",
        "-chardev", f"socket,id=out,path={socks['out'][1]}", "-serial", "chardev:out",
        "-chardev", f"socket,id=ctl,path={socks['ctl'][1]}", "-serial", "chardev:ctl",
        "-chardev", f"socket,id=qmp,path={socks['qmp'][1]}", "-mon", "chardev=qmp,mode=control",
    ] + topo["devices"](shm)
    with open(os.path.join(args.out, "qemu.cmd"), "w") as f:
        f.write(" ".join(qemu) + "\n")

    qemu_log = open(os.path.join(args.out, "qemu.log"), "wb")
    start = time.monotonic()
    proc = subprocess.Popen(qemu, stdin=subprocess.DEVNULL, stdout=qemu_log, stderr=qemu_log)
    conns = {}
    for name, (s, _) in socks.items():
        s.settimeout(60)
        try:
            conns[name], _ = s.accept()
        except socket.timeout:
            proc.kill()
            sys.stderr.write(open(os.path.join(args.out, "qemu.log")).read())
            print("QEMU did not start")
            print("0 passed, 1 failed")
            return 1
    qmp = Qmp(conns["qmp"])

    sel = selectors.DefaultSelector()
    sel.register(conns["out"], selectors.EVENT_READ, "out")
    sel.register(conns["ctl"], selectors.EVENT_READ, "ctl")
    ktap = Ktap()
    guest_lines = []
    bufs = {"out": b"", "ctl": b""}
    finished = False
    timed_out = False
    demo_rc = None
    ktap_f = open(ktap_log, "w")

    def control(req):
        words = req.split()
        if not words:
            return "error empty request"
        if words[0] == "ping":
            return "ok pong"
        if words[0] == "device_del" and len(words) == 2:
            # Only the request: the guest completes the removal once the
            # device's user lets go (vfio waits for it), and watches for it.
            r = qmp.cmd("device_del", id=words[1])
            if "error" in r:
                return "error " + r["error"].get("desc", "device_del failed")
            return "ok"
        if words[0] == "shm-read" and len(words) == 4 and words[1] in shm:
            off, length = int(words[2], 0), int(words[3], 0)
            if off < 0 or not 0 < length <= SHM_READ_MAX or off + length > SHM_SIZE:
                return "error range outside the backing file or too long"
            with open(shm[words[1]], "rb") as f:
                f.seek(off)
                return "ok " + f.read(length).hex()
        return "error unknown request: " + req

    while True:
        left = args.timeout - (time.monotonic() - start)
        if left <= 0:
            timed_out = True
            break
        if proc.poll() is not None and not sel.get_map():
            break
        events = sel.select(timeout=min(left, 1.0))
        if not events and proc.poll() is not None:
            break
        for key, _ in events:
            name = key.data
            try:
                data = key.fileobj.recv(65536)
            except ConnectionError:
                data = b""
            if not data:
                sel.unregister(key.fileobj)
                continue
            bufs[name] += data
            while b"\n" in bufs[name]:
                raw, bufs[name] = bufs[name].split(b"\n", 1)
                text = raw.decode("utf-8", "replace").rstrip("\r")
                if name == "out":
                    print(text, flush=True)
                    ktap_f.write(text + "\n")
                    ktap.line(text)
                    guest_lines.append(text)
                    if text == "TESTBED: end":
                        finished = True
                    m = re.match(r"TESTBED: (?:demo|bench) done rc=(\d+)", text)
                    if m:
                        demo_rc = int(m.group(1))
                else:
                    reply = control(text)
                    shown = reply if len(reply) <= 80 else f"{reply[:72]}... ({len(reply)} chars)"
                    print(f"TESTBED: host: {text} -> {shown}", flush=True)
                    conns["ctl"].sendall(reply.encode() + b"\n")
    if proc.poll() is None:
        proc.wait(timeout=30) if finished and not timed_out else None
    if proc.poll() is None:
        proc.kill()
        proc.wait()
    ktap_f.close()
    elapsed = time.monotonic() - start

    console = open(console_log, errors="replace").read()
    splats = scan_splats(console)
    problems = []
    if timed_out:
        problems.append(f"the VM did not finish within {args.timeout} s and was killed")
    elif not finished:
        problems.append("the guest stopped before the end of the run (crash or panic?)")
    if timed_out or not finished:
        print("---- tail of the kernel console ----")
        print("\n".join(console.splitlines()[-60:]))
    for s in splats[:3]:
        print("---- kernel splat on the console ----")
        print(s)
    for s in splats[3:]:
        print("---- and: " + s.splitlines()[2 if len(s.splitlines()) > 2 else 0])
    if splats:
        problems.append(f"{len(splats)} kernel splat(s) on the console")
    if args.mode == "test" and ktap.passed + ktap.failed == 0:
        problems.append("no test ran")
    if args.mode == "test":
        problems += check_run(args, ktap, guest_lines)
    if args.mode != "test" and demo_rc != 0:
        problems.append(f"the {args.mode} did not complete (exit status {demo_rc})")
    for f in ktap.failures:
        print(f"FAILED: {f}")
    for p in problems:
        print(f"FAILED: {p}")
    print(f"VM time {elapsed:.0f} s; console: {console_log}; KTAP: {ktap_log}")
    failed = ktap.failed + len(problems)
    print(f"{ktap.passed} passed, {failed} failed, {ktap.skipped} skipped")
    return 0 if failed == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
