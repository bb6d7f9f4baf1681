#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Boot the test kernel in QEMU (TCG) on the dma-buf test bed and report.

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
console shows no kernel splat.
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
    r"unreferenced object|blocked for more than|detected stalls|self-detected stall|"
    r"DEBUG_LOCKS_WARN_ON|UBSAN:|list_(add|del) corruption|refcount_t: |"
    r"possible circular locking|possible recursive locking|inconsistent lock state|"
    r"sleeping function called from invalid context")


def devices(out, shm):
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
    ]


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

    def __init__(self):
        self.passed = self.failed = self.skipped = 0
        self.sub = [0, 0, 0]
        self.failures = []

    def line(self, text):
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
            return
        if depth != 0:
            return
        p, f, s = self.sub
        self.sub = [0, 0, 0]
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
    i = 0
    while i < len(lines):
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


def main():
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel", required=True)
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--out", required=True, help="directory for logs and backing files")
    ap.add_argument("--mode", default="test", choices=["test", "demo"])
    ap.add_argument("--tests", default="", help="comma-separated collection:test to run")
    ap.add_argument("--timeout", type=int, default=1800, help="seconds for the whole VM")
    ap.add_argument("--append", default="", help="extra kernel command line")
    args = ap.parse_args()

    os.makedirs(args.out, exist_ok=True)
    shm = {}
    for dev in ("ivshmem0", "hotplug0"):
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

    cmdline = ("console=ttyS0,115200 loglevel=7 intel_iommu=on panic=-1 oops=panic "
               "softlockup_panic=0 kmemleak=on rdinit=/init "
               f"testbed.mode={args.mode} testbed.ids=exporter:ivshmem0,hotplug:hotplug0")
    if args.tests:
        cmdline += f" testbed.tests={args.tests}"
    if args.append:
        cmdline += " " + args.append
    qemu = [
        "qemu-system-x86_64", "-M", "q35,kernel-irqchip=split", "-accel", "tcg",
        "-cpu", "EPYC", "-smp", "2", "-m", "2G", "-nic", "none",
        "-display", "none", "-no-reboot", "-nodefaults",
        "-kernel", args.kernel, "-initrd", args.initrd, "-append", cmdline,
        "-chardev", f"file,id=con,path={console_log}", "-serial", "chardev:con",
        "-chardev", f"socket,id=out,path={socks['out'][1]}", "-serial", "chardev:out",
        "-chardev", f"socket,id=ctl,path={socks['ctl'][1]}", "-serial", "chardev:ctl",
        "-chardev", f"socket,id=qmp,path={socks['qmp'][1]}", "-mon", "chardev=qmp,mode=control",
    ] + devices(args.out, shm)
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
                    if text == "TESTBED: end":
                        finished = True
                    m = re.match(r"TESTBED: demo done rc=(\d+)", text)
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
    if args.mode == "demo" and demo_rc != 0:
        problems.append(f"the demo did not complete (exit status {demo_rc})")
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
