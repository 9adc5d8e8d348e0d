/*
 * How fast a packet socket moves frames, by two paths each way, for
 * bench/socket-paths.sh: batches of `sendmmsg(2)` and `recvmmsg(2)` (what
 * whohas' AF_PACKET device does) against PACKET_MMAP rings (TPACKET_V2:
 * frames in memory shared with the kernel; the receive ring is filled by
 * the kernel and polled, the transmit ring filled by the program and
 * handed over with one send(2)), and against an AF_XDP socket (the
 * issue's other route: frames in a UMEM shared with the kernel, in copy
 * mode, as veth has no zero-copy; receiving, an XDP program in the
 * driver's mode redirects every frame on the interface to the socket
 * before the kernel's stack sees it; sending, descriptors on the TX ring
 * and one sendto(2) kick).
 *
 *   socket-paths send IFACE MAC batch|ring|xdp SECONDS
 *                         1514-byte data frames to MAC as fast as they go;
 *                         prints "PATH cpu user U s, sys S s"
 *   socket-paths receive IFACE batch|ring|xdp SECONDS
 *
 * The packet sockets bind every ethertype with PACKET_IGNORE_OUTGOING, as
 * whohas does.
 * The receiver counts data frames (ethertype 0xFFFD) for SECONDS from the
 * first, copies each out as whohas hands it to its node, and prints
 * "PATH: N kpps, M MB/s, cpu user U s, sys S s".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/bpf.h>
#include <linux/if_link.h>
#include <linux/if_packet.h>
#include <linux/if_xdp.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define FRAME 1514
#define BATCH 64
#define RING_FRAME 2048
#define RING_FRAMES 2048
#define RING_BLOCK (16 * 4096)
#define UMEM_FRAMES 4096
#define XDP_RING_SIZE 2048

static void fail(const char *what) {
    perror(what);
    exit(2);
}

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

/* A packet socket that does not hear its own transmissions, as whohas'. */
static int open_socket(void) {
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) fail("socket (run as root)");
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_IGNORE_OUTGOING, &one, sizeof one);
    return fd;
}

static void bind_socket(int fd, const char *iface) {
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETH_P_ALL);
    address.sll_ifindex = (int)if_nametoindex(iface);
    if (address.sll_ifindex == 0) fail(iface);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("bind");
}

/* The frame every sender floods: a data frame to MAC from 02:02:02:02:02:02. */
static void fill_frame(unsigned char *frame, const char *mac) {
    unsigned m[6];
    if (sscanf(mac, "%x:%x:%x:%x:%x:%x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6) fail("MAC");
    memset(frame, 0, FRAME);
    for (int i = 0; i < 6; i++) {
        frame[i] = (unsigned char)m[i];
        frame[6 + i] = 0x02;
    }
    frame[12] = 0xff;
    frame[13] = 0xfd;
}

/* Ends the line with "cpu user U s, sys S s": this process' own CPU time. */
static void print_cpu(void) {
    struct rusage usage;
    getrusage(RUSAGE_SELF, &usage);
    printf("cpu user %.2f s, sys %.2f s\n", (double)usage.ru_utime.tv_sec + (double)usage.ru_utime.tv_usec / 1e6,
           (double)usage.ru_stime.tv_sec + (double)usage.ru_stime.tv_usec / 1e6);
}

/* sendmmsg(2), BATCH frames a call (what whohas' AF_PACKET device does). */
static void send_batches(int fd, const char *mac, double end) {
    static unsigned char frame[FRAME];
    fill_frame(frame, mac);
    struct iovec iov = {frame, FRAME};
    struct mmsghdr headers[BATCH];
    memset(headers, 0, sizeof headers);
    for (int i = 0; i < BATCH; i++) {
        headers[i].msg_hdr.msg_iov = &iov;
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    while (now() < end) sendmmsg(fd, headers, BATCH, 0);
}

/* Sets up a TPACKET_V2 ring of RING_FRAMES frames (OPTION: PACKET_RX_RING
 * or PACKET_TX_RING, named NAME in errors) and maps it; before bind(2). */
static unsigned char *map_ring(int fd, int option, const char *name) {
    int version = TPACKET_V2;
    if (setsockopt(fd, SOL_PACKET, PACKET_VERSION, &version, sizeof version) < 0) fail("PACKET_VERSION");
    struct tpacket_req request = {
        .tp_block_size = RING_BLOCK,
        .tp_block_nr = RING_FRAMES * RING_FRAME / RING_BLOCK,
        .tp_frame_size = RING_FRAME,
        .tp_frame_nr = RING_FRAMES,
    };
    if (setsockopt(fd, SOL_PACKET, option, &request, sizeof request) < 0) fail(name);
    unsigned char *map = mmap(NULL, (size_t)RING_FRAMES * RING_FRAME, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (map == MAP_FAILED) fail("mmap");
    return map;
}

/* A TPACKET_V2 transmit ring: up to BATCH free slots filled, then one
 * send(2) hands them all to the kernel, which builds each frame's buffer
 * on the ring's pages instead of copying from the call. */
static void send_ring(int fd, const char *iface, const char *mac, double end) {
    unsigned char *map = map_ring(fd, PACKET_TX_RING, "PACKET_TX_RING");
    bind_socket(fd, iface);
    static unsigned char frame[FRAME];
    fill_frame(frame, mac);
    const size_t data = TPACKET2_HDRLEN - sizeof(struct sockaddr_ll);
    unsigned next = 0;
    while (now() < end) {
        int queued = 0;
        for (; queued < BATCH; queued++) {
            struct tpacket2_hdr *header = (struct tpacket2_hdr *)(map + (size_t)next * RING_FRAME);
            if (__atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE) != TP_STATUS_AVAILABLE) break;
            memcpy((unsigned char *)header + data, frame, FRAME);
            header->tp_len = FRAME;
            __atomic_store_n(&header->tp_status, TP_STATUS_SEND_REQUEST, __ATOMIC_RELEASE);
            next = (next + 1) % RING_FRAMES;
        }
        if (send(fd, NULL, 0, queued == 0 ? 0 : MSG_DONTWAIT) < 0 && queued == 0) {
            struct pollfd ready = {fd, POLLOUT, 0};
            poll(&ready, 1, 100);
        }
    }
}

/* Counts a frame if it is a data frame; starts the clock at the first. */
struct count {
    long frames, bytes;
    double start, end, seconds;
};

static unsigned char copied[RING_FRAME];

static void take(struct count *count, const unsigned char *frame, unsigned len, unsigned stored) {
    memcpy(copied, frame, stored < sizeof copied ? stored : sizeof copied);
    if (stored < 14 || frame[12] != 0xff || frame[13] != 0xfd) return;
    if (count->start == 0) {
        count->start = now();
        count->end = count->start + count->seconds;
    }
    count->frames++;
    count->bytes += len;
}

/* One of an AF_XDP socket's four rings, mapped: free-running producer
 * and consumer indices, SIZE entries (a power of two). */
struct xdp_ring {
    __u32 *producer, *consumer;
    void *entries;
    __u32 size;
};

/* An AF_XDP socket with its UMEM of UMEM_FRAMES chunks of RING_FRAME. */
struct xsk {
    int fd;
    unsigned char *umem;
    struct xdp_ring fill, completion, rx, tx;
};

static struct xdp_ring map_xdp_ring(int fd, const struct xdp_ring_offset *offsets, __u64 page_offset, __u32 size,
                                    size_t entry) {
    unsigned char *map = mmap(NULL, offsets->desc + size * entry, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE,
                              fd, (off_t)page_offset);
    if (map == MAP_FAILED) fail("mmap of an AF_XDP ring");
    return (struct xdp_ring){(__u32 *)(map + offsets->producer), (__u32 *)(map + offsets->consumer),
                             map + offsets->desc, size};
}

/* Opens an AF_XDP socket on IFACE's queue 0 in copy mode, with a receive
 * ring or a transmit ring (RECEIVE or not), its UMEM registered and the
 * rings mapped. */
static struct xsk open_xsk(const char *iface, int receive) {
    struct xsk xsk;
    memset(&xsk, 0, sizeof xsk);
    xsk.fd = socket(AF_XDP, SOCK_RAW, 0);
    if (xsk.fd < 0) fail("socket(AF_XDP) (run as root)");
    xsk.umem = mmap(NULL, (size_t)UMEM_FRAMES * RING_FRAME, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (xsk.umem == MAP_FAILED) fail("mmap of the UMEM");
    struct xdp_umem_reg umem = {(__u64)(unsigned long)xsk.umem, (__u64)UMEM_FRAMES * RING_FRAME, RING_FRAME, 0, 0};
    if (setsockopt(xsk.fd, SOL_XDP, XDP_UMEM_REG, &umem, sizeof umem) < 0) fail("XDP_UMEM_REG");
    int size = UMEM_FRAMES;
    if (setsockopt(xsk.fd, SOL_XDP, XDP_UMEM_FILL_RING, &size, sizeof size) < 0) fail("XDP_UMEM_FILL_RING");
    if (setsockopt(xsk.fd, SOL_XDP, XDP_UMEM_COMPLETION_RING, &size, sizeof size) < 0) fail("XDP_UMEM_COMPLETION_RING");
    size = XDP_RING_SIZE;
    if (setsockopt(xsk.fd, SOL_XDP, receive ? XDP_RX_RING : XDP_TX_RING, &size, sizeof size) < 0) fail("XDP ring");
    struct xdp_mmap_offsets offsets;
    socklen_t length = sizeof offsets;
    if (getsockopt(xsk.fd, SOL_XDP, XDP_MMAP_OFFSETS, &offsets, &length) < 0) fail("XDP_MMAP_OFFSETS");
    xsk.fill = map_xdp_ring(xsk.fd, &offsets.fr, XDP_UMEM_PGOFF_FILL_RING, UMEM_FRAMES, sizeof(__u64));
    xsk.completion = map_xdp_ring(xsk.fd, &offsets.cr, XDP_UMEM_PGOFF_COMPLETION_RING, UMEM_FRAMES, sizeof(__u64));
    if (receive)
        xsk.rx = map_xdp_ring(xsk.fd, &offsets.rx, XDP_PGOFF_RX_RING, XDP_RING_SIZE, sizeof(struct xdp_desc));
    else
        xsk.tx = map_xdp_ring(xsk.fd, &offsets.tx, XDP_PGOFF_TX_RING, XDP_RING_SIZE, sizeof(struct xdp_desc));
    struct sockaddr_xdp address = {.sxdp_family = AF_XDP, .sxdp_flags = XDP_COPY, .sxdp_queue_id = 0};
    address.sxdp_ifindex = if_nametoindex(iface);
    if (address.sxdp_ifindex == 0) fail(iface);
    if (receive) {
        /* Every chunk to the kernel for frames to arrive in. */
        __u64 *fill = xsk.fill.entries;
        for (__u32 i = 0; i < UMEM_FRAMES; i++) fill[i] = (__u64)i * RING_FRAME;
        __atomic_store_n(xsk.fill.producer, UMEM_FRAMES, __ATOMIC_RELEASE);
    }
    if (bind(xsk.fd, (struct sockaddr *)&address, sizeof address) < 0) fail("bind(AF_XDP)");
    return xsk;
}

static int bpf(int command, union bpf_attr *attr) {
    return (int)syscall(__NR_bpf, command, attr, sizeof *attr);
}

static struct bpf_insn insn(__u8 code, __u8 dst, __u8 src, __s16 off, __s32 imm) {
    struct bpf_insn i = {.code = code, .dst_reg = dst, .src_reg = src, .off = off, .imm = imm};
    return i;
}

/* Redirects every frame arriving on IFACE to the socket FD: an XSKMAP
 * holding it, and an XDP program in the driver's mode (veth has one) that
 * redirects to the map's entry for the frame's receive queue. Attached
 * while this process lives. */
static void redirect_to(int fd, const char *iface) {
    union bpf_attr attr;
    memset(&attr, 0, sizeof attr);
    attr.map_type = BPF_MAP_TYPE_XSKMAP;
    attr.key_size = 4;
    attr.value_size = 4;
    attr.max_entries = 1;
    int map = bpf(BPF_MAP_CREATE, &attr);
    if (map < 0) fail("BPF_MAP_CREATE (XSKMAP)");
    __u32 key = 0, value = (__u32)fd;
    memset(&attr, 0, sizeof attr);
    attr.map_fd = (__u32)map;
    attr.key = (__u64)(unsigned long)&key;
    attr.value = (__u64)(unsigned long)&value;
    if (bpf(BPF_MAP_UPDATE_ELEM, &attr) < 0) fail("BPF_MAP_UPDATE_ELEM");
    struct bpf_insn program[] = {
        insn(BPF_LDX | BPF_MEM | BPF_W, BPF_REG_2, BPF_REG_1, offsetof(struct xdp_md, rx_queue_index), 0),
        insn(BPF_LD | BPF_DW | BPF_IMM, BPF_REG_1, BPF_PSEUDO_MAP_FD, 0, map), /* r1 = the map */
        insn(0, 0, 0, 0, 0),
        insn(BPF_ALU64 | BPF_MOV | BPF_K, BPF_REG_3, 0, 0, XDP_PASS), /* if the queue has no socket */
        insn(BPF_JMP | BPF_CALL, 0, 0, 0, BPF_FUNC_redirect_map),
        insn(BPF_JMP | BPF_EXIT, 0, 0, 0, 0),
    };
    char log[4096] = "";
    memset(&attr, 0, sizeof attr);
    attr.prog_type = BPF_PROG_TYPE_XDP;
    attr.insns = (__u64)(unsigned long)program;
    attr.insn_cnt = sizeof program / sizeof program[0];
    attr.license = (__u64)(unsigned long)"GPL";
    attr.log_buf = (__u64)(unsigned long)log;
    attr.log_size = sizeof log;
    attr.log_level = 1;
    int prog = bpf(BPF_PROG_LOAD, &attr);
    if (prog < 0) {
        fprintf(stderr, "%s", log);
        fail("BPF_PROG_LOAD");
    }
    memset(&attr, 0, sizeof attr);
    attr.link_create.prog_fd = (__u32)prog;
    attr.link_create.target_ifindex = if_nametoindex(iface);
    attr.link_create.attach_type = BPF_XDP;
    attr.link_create.flags = XDP_FLAGS_DRV_MODE;
    if (bpf(BPF_LINK_CREATE, &attr) < 0) fail("attaching the XDP program in the driver's mode");
}

/* AF_XDP: up to BATCH descriptors of chunks the kernel is done with on the
 * TX ring, then one sendto(2) kick, which sends them in the call (copy
 * mode). Every chunk holds the frame. */
static void send_xdp(const char *iface, const char *mac, double end) {
    struct xsk xsk = open_xsk(iface, 0);
    /* whohas receives on a packet socket while it sends through AF_XDP:
     * one bound to every ethertype makes the kernel offer it each frame
     * sent, as it does for the other paths' own socket. */
    bind_socket(open_socket(), iface);
    for (unsigned i = 0; i < UMEM_FRAMES; i++) fill_frame(xsk.umem + (size_t)i * RING_FRAME, mac);
    struct xdp_desc *tx = xsk.tx.entries;
    __u32 queued = 0, completed = 0;
    while (now() < end) {
        __u32 done = __atomic_load_n(xsk.completion.producer, __ATOMIC_ACQUIRE);
        completed += done - *xsk.completion.consumer;
        __atomic_store_n(xsk.completion.consumer, done, __ATOMIC_RELEASE);
        __u32 next = *xsk.tx.producer;
        for (int i = 0; i < BATCH && queued - completed < XDP_RING_SIZE; i++, queued++, next++)
            tx[next & (XDP_RING_SIZE - 1)] = (struct xdp_desc){(__u64)(queued % UMEM_FRAMES) * RING_FRAME, FRAME, 0};
        __atomic_store_n(xsk.tx.producer, next, __ATOMIC_RELEASE);
        sendto(xsk.fd, NULL, 0, MSG_DONTWAIT, NULL, 0);
    }
}

/* AF_XDP: frames the XDP program redirected, from the RX ring; each chunk
 * back to the fill ring once read. */
static void receive_xdp(const char *iface, struct count *count) {
    struct xsk xsk = open_xsk(iface, 1);
    redirect_to(xsk.fd, iface);
    struct xdp_desc *rx = xsk.rx.entries;
    __u64 *fill = xsk.fill.entries;
    while (count->start == 0 || now() < count->end) {
        __u32 arrived = __atomic_load_n(xsk.rx.producer, __ATOMIC_ACQUIRE), next = *xsk.rx.consumer;
        if (arrived == next) {
            struct pollfd ready = {xsk.fd, POLLIN, 0};
            poll(&ready, 1, 100);
            continue;
        }
        __u32 refill = *xsk.fill.producer;
        for (; next != arrived; next++, refill++) {
            struct xdp_desc frame = rx[next & (XDP_RING_SIZE - 1)];
            take(count, xsk.umem + frame.addr, frame.len, frame.len);
            fill[refill & (UMEM_FRAMES - 1)] = frame.addr;
        }
        __atomic_store_n(xsk.rx.consumer, next, __ATOMIC_RELEASE);
        __atomic_store_n(xsk.fill.producer, refill, __ATOMIC_RELEASE);
    }
}

static int send_frames(const char *iface, const char *mac, const char *path, double seconds) {
    if (strcmp(path, "xdp") == 0) {
        send_xdp(iface, mac, now() + seconds);
        printf("%s ", path);
        print_cpu();
        return 0;
    }
    int fd = open_socket();
    if (strcmp(path, "ring") == 0) {
        send_ring(fd, iface, mac, now() + seconds);
    } else {
        bind_socket(fd, iface);
        send_batches(fd, mac, now() + seconds);
    }
    printf("%s ", path);
    print_cpu();
    return 0;
}

/* Prints "PATH: N kpps, M MB/s, cpu user U s, sys S s". */
static int report(const char *path, const struct count *count) {
    printf("%s: %.0f kpps, %.0f MB/s, ", path, (double)count->frames / count->seconds / 1e3,
           (double)count->bytes / count->seconds / 1e6);
    print_cpu();
    return 0;
}

static int receive_frames(const char *iface, const char *path, double seconds) {
    struct count count = {.seconds = seconds};
    if (strcmp(path, "xdp") == 0) {
        receive_xdp(iface, &count);
        return report(path, &count);
    }
    int fd = open_socket();
    int buffer = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    int ring = strcmp(path, "ring") == 0;
    unsigned char *map = ring ? map_ring(fd, PACKET_RX_RING, "PACKET_RX_RING") : NULL;
    bind_socket(fd, iface);
    static unsigned char slots[BATCH][FRAME];
    struct iovec iovs[BATCH];
    struct mmsghdr headers[BATCH];
    memset(headers, 0, sizeof headers);
    for (int i = 0; i < BATCH; i++) {
        iovs[i] = (struct iovec){slots[i], FRAME};
        headers[i].msg_hdr.msg_iov = &iovs[i];
        headers[i].msg_hdr.msg_iovlen = 1;
    }
    unsigned next = 0;
    while (count.start == 0 || now() < count.end) {
        if (ring) {
            struct tpacket2_hdr *header = (struct tpacket2_hdr *)(map + (size_t)next * RING_FRAME);
            if (!(__atomic_load_n(&header->tp_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER)) {
                struct pollfd ready = {fd, POLLIN, 0};
                poll(&ready, 1, 100);
                continue;
            }
            take(&count, (unsigned char *)header + header->tp_mac, header->tp_len, header->tp_snaplen);
            __atomic_store_n(&header->tp_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
            next = (next + 1) % RING_FRAMES;
        } else {
            int received = recvmmsg(fd, headers, BATCH, MSG_WAITFORONE | MSG_TRUNC, NULL);
            for (int i = 0; i < received; i++) {
                unsigned len = headers[i].msg_len;
                take(&count, slots[i], len, len < FRAME ? len : FRAME);
            }
        }
    }
    return report(path, &count);
}

static int known_path(const char *path) {
    return strcmp(path, "batch") == 0 || strcmp(path, "ring") == 0 || strcmp(path, "xdp") == 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "send") == 0 && known_path(argv[4]))
        return send_frames(argv[2], argv[3], argv[4], atof(argv[5]));
    if (argc == 5 && strcmp(argv[1], "receive") == 0 && known_path(argv[3]))
        return receive_frames(argv[2], argv[3], atof(argv[4]));
    fprintf(stderr, "usage: socket-paths send IFACE MAC batch|ring|xdp SECONDS | socket-paths receive IFACE "
                    "batch|ring|xdp SECONDS\n");
    return 2;
}
