/*
 * How fast a packet socket moves frames, by two paths each way, for
 * bench/socket-paths.sh: batches of `sendmmsg(2)` and `recvmmsg(2)` (what
 * whohas' AF_PACKET device does) against PACKET_MMAP rings (TPACKET_V2:
 * frames in memory shared with the kernel; the receive ring is filled by
 * the kernel and polled, the transmit ring filled by the program and
 * handed over with one send(2)).
 *
 *   socket-paths send IFACE MAC batch|ring SECONDS
 *                         1514-byte data frames to MAC as fast as they go;
 *                         prints "PATH cpu user U s, sys S s"
 *   socket-paths receive IFACE batch|ring SECONDS
 *
 * Both bind every ethertype with PACKET_IGNORE_OUTGOING, as whohas does.
 * The receiver counts data frames (ethertype 0xFFFD) for SECONDS from the
 * first, copies each out as whohas hands it to its node, and prints
 * "PATH: N kpps, M MB/s, cpu user U s, sys S s".
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>

#define FRAME 1514
#define BATCH 64
#define RING_FRAME 2048
#define RING_FRAMES 2048
#define RING_BLOCK (16 * 4096)

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

static int send_frames(const char *iface, const char *mac, const char *path, double seconds) {
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

static int receive_frames(const char *iface, const char *path, double seconds) {
    int fd = open_socket();
    int buffer = 4 << 20;
    setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &buffer, sizeof buffer);
    int ring = strcmp(path, "ring") == 0;
    unsigned char *map = ring ? map_ring(fd, PACKET_RX_RING, "PACKET_RX_RING") : NULL;
    bind_socket(fd, iface);
    struct count count = {.seconds = seconds};
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
    printf("%s: %.0f kpps, %.0f MB/s, ", path, (double)count.frames / seconds / 1e3, (double)count.bytes / seconds / 1e6);
    print_cpu();
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 6 && strcmp(argv[1], "send") == 0 && (strcmp(argv[4], "batch") == 0 || strcmp(argv[4], "ring") == 0))
        return send_frames(argv[2], argv[3], argv[4], atof(argv[5]));
    if (argc == 5 && strcmp(argv[1], "receive") == 0 && (strcmp(argv[3], "batch") == 0 || strcmp(argv[3], "ring") == 0))
        return receive_frames(argv[2], argv[3], atof(argv[4]));
    fprintf(stderr, "usage: socket-paths send IFACE MAC batch|ring SECONDS | socket-paths receive IFACE batch|ring SECONDS\n");
    return 2;
}
