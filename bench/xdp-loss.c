/*
 * Random loss on a link's receiving end that packet sockets cannot see
 * past: `xdp-loss IFACE PERCENT` attaches a 7-instruction XDP program
 * (generic mode) that drops each arriving frame with probability PERCENT %,
 * and keeps it attached until the process is stopped.
 *
 * Why not an nftables or tc ingress drop on the host: AF_PACKET sockets
 * bound to every ethertype (whohas, tcpdump) get their copy of a frame
 * before those hooks run, so they would see no loss at all while TCP does;
 * an egress drop is reported to the sender (ENOBUFS), which then sends
 * again instead of losing the frame. XDP runs before both.
 */
#include <errno.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

static int bpf(int command, union bpf_attr *attr) {
    return (int)syscall(__NR_bpf, command, attr, sizeof *attr);
}

static struct bpf_insn insn(__u8 code, __u8 dst, __s16 off, __s32 imm) {
    struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = 0, .off = off, .imm = imm};
    return i;
}

int main(int argc, char **argv) {
    long percent = argc == 3 ? strtol(argv[2], NULL, 10) : -1;
    unsigned ifindex = argc == 3 ? if_nametoindex(argv[1]) : 0;
    if (percent < 0 || percent > 100 || ifindex == 0) {
        fprintf(stderr, "usage: xdp-loss IFACE PERCENT (0-100), IFACE an existing interface\n");
        return 2;
    }
    struct bpf_insn program[] = {
        insn(BPF_JMP | BPF_CALL, 0, 0, BPF_FUNC_get_prandom_u32),
        insn(BPF_ALU | BPF_MOD | BPF_K, BPF_REG_0, 0, 100),             /* w0 %= 100 */
        insn(BPF_JMP32 | BPF_JLT | BPF_K, BPF_REG_0, 2, (__s32)percent), /* w0 < P: drop */
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, XDP_PASS),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_0, 0, XDP_DROP),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0),
    };
    char log[4096] = "";
    union bpf_attr load;
    memset(&load, 0, sizeof load);
    load.prog_type = BPF_PROG_TYPE_XDP;
    load.insns = (__u64)(unsigned long)program;
    load.insn_cnt = sizeof program / sizeof program[0];
    load.license = (__u64)(unsigned long)"GPL";
    load.log_buf = (__u64)(unsigned long)log;
    load.log_size = sizeof log;
    load.log_level = 1;
    int prog = bpf(BPF_PROG_LOAD, &load);
    if (prog < 0) {
        perror("loading the XDP program (bpf BPF_PROG_LOAD; run as root)");
        fprintf(stderr, "%s", log);
        return 1;
    }
    union bpf_attr attach;
    memset(&attach, 0, sizeof attach);
    attach.link_create.prog_fd = (__u32)prog;
    attach.link_create.target_ifindex = ifindex;
    attach.link_create.attach_type = BPF_XDP;
    attach.link_create.flags = XDP_FLAGS_SKB_MODE;
    /* The program of a loader just stopped may take a moment to go: retry
     * while the interface is busy, for up to ten seconds. */
    int tries = 0;
    while (bpf(BPF_LINK_CREATE, &attach) < 0) {
        if (errno != EBUSY || ++tries == 1000) {
            perror("attaching the XDP program (bpf BPF_LINK_CREATE)");
            return 1;
        }
        usleep(10000);
    }
    /* Attached while the link's descriptor is open: until we are stopped. */
    printf("dropping %ld %% of frames arriving on %s\n", percent, argv[1]);
    fflush(stdout);
    sigset_t stop;
    sigemptyset(&stop);
    sigaddset(&stop, SIGTERM);
    sigaddset(&stop, SIGINT);
    sigprocmask(SIG_BLOCK, &stop, NULL);
    int signal;
    sigwait(&stop, &signal);
    return 0;
}
