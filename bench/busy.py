#!/usr/bin/env python3
"""How busy the whole machine is while bytes arrive on one interface.

    busy.py PID IFACE READY

Samples /proc/stat (every CPU, every process, the kernel's softirq work
included) and IFACE's received bytes in the network namespace of process
PID (/proc/PID/net/dev) every 50 ms until SIGTERM, creating the file READY
once it samples (a SIGTERM before then would kill it). Then prints one line
over the intervals that carried at least half the busiest interval's bytes
(the transfer itself, not start-up):

    MB/s CORES CPU_S_PER_GB USER_S_PER_GB KERNEL_S_PER_GB

CORES is how many of the machine's CPUs were busy on average; the CPU
seconds per GB received are split into user space and the kernel (system,
irq and softirq time).
"""
import signal
import sys
import time

PID, IFACE, READY = sys.argv[1:4]
HZ = 100  # USER_HZ: /proc/stat counts in hundredths of a second


def sample():
    with open("/proc/stat") as stat:
        user, nice, system, _idle, _iowait, irq, softirq, steal = map(int, stat.readline().split()[1:9])
    with open(f"/proc/{PID}/net/dev") as dev:
        for line in dev:
            name, _, counters = line.partition(":")
            if name.strip() == IFACE:
                received = int(counters.split()[0])
                break
        else:
            sys.exit(f"busy.py: no interface {IFACE} in process {PID}'s namespace")
    return time.monotonic(), user + nice, system + irq + softirq + steal, received


# SIGTERM stays pending until the wait between samples takes it.
signal.pthread_sigmask(signal.SIG_BLOCK, [signal.SIGTERM])
samples = [sample()]
open(READY, "w").close()
while signal.sigtimedwait([signal.SIGTERM], 0.05) is None:
    samples.append(sample())
samples.append(sample())

intervals = [tuple(b[i] - a[i] for i in range(4)) for a, b in zip(samples, samples[1:])]
busiest = max(interval[3] for interval in intervals)
if busiest == 0:
    sys.exit("busy.py: nothing arrived")
kept = [interval for interval in intervals if interval[3] >= busiest / 2]
seconds, user, kernel, received = (sum(column) for column in zip(*kept))
gigabytes = received / 1e9
print(
    f"{received / seconds / 1e6:.0f} {(user + kernel) / HZ / seconds:.2f} "
    f"{(user + kernel) / HZ / gigabytes:.2f} {user / HZ / gigabytes:.2f} {kernel / HZ / gigabytes:.2f}"
)
