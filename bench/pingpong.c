/*
 * The C reference for bench/latency.sh: the same data-frame ping-pong as
 * `whohas pingpong`, written the way the original C program is, with a
 * blocking AF_PACKET socket and one recv(2) and one send(2) per frame.
 *
 *   pingpong echo IFACE                    send every data frame back
 *   pingpong ping IFACE MAC COUNT SIZE     time COUNT round trips to MAC
 *
 * Frames are whohas data frames (ethertype 0xFFFD, the payload straight
 * after the header), the first 4 payload bytes a big-endian sequence
 * number, so either side also talks to `whohas pingpong`. `ping` prints
 * "echoed N of COUNT, min X us, median X us, p99 X us, max X us" (the
 * format of `whohas pingpong ping`).
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#define ETHERTYPE_DATA 0xFFFD
#define HEADER 14

static void fail(const char *what) {
    perror(what);
    exit(2);
}

static int open_socket(const char *iface, unsigned char mac[6]) {
    int fd = socket(AF_PACKET, SOCK_RAW, htons(ETHERTYPE_DATA));
    if (fd < 0) fail("socket (run as root)");
    struct sockaddr_ll address;
    memset(&address, 0, sizeof address);
    address.sll_family = AF_PACKET;
    address.sll_protocol = htons(ETHERTYPE_DATA);
    address.sll_ifindex = (int)if_nametoindex(iface);
    if (address.sll_ifindex == 0) fail(iface);
    if (bind(fd, (struct sockaddr *)&address, sizeof address) < 0) fail("bind");
    /* A lost frame must not hang the ping: a one-second receive timeout. */
    struct timeval second = {1, 0};
    if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &second, sizeof second) < 0) fail("SO_RCVTIMEO");
    char path[128];
    snprintf(path, sizeof path, "/sys/class/net/%s/address", iface);
    FILE *file = fopen(path, "r");
    if (!file || fscanf(file, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &mac[0], &mac[1], &mac[2], &mac[3], &mac[4], &mac[5]) != 6)
        fail(path);
    fclose(file);
    return fd;
}

static _Noreturn void echo(const char *iface) {
    unsigned char mac[6], frame[9216];
    int fd = open_socket(iface, mac);
    for (;;) {
        ssize_t len = recv(fd, frame, sizeof frame, 0);
        if (len < HEADER) continue; /* the receive timeout, or a runt */
        memcpy(frame, frame + 6, 6);
        memcpy(frame + 6, mac, 6);
        if (send(fd, frame, (size_t)len, 0) < 0) fail("send");
    }
}

static double now_us(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1e6 + t.tv_nsec / 1e3;
}

static int by_value(const void *a, const void *b) {
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

static int ping(const char *iface, const char *peer, long count, long size) {
    unsigned char mac[6], to[6], frame[9216], answer[9216];
    if (sscanf(peer, "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &to[0], &to[1], &to[2], &to[3], &to[4], &to[5]) != 6) {
        fprintf(stderr, "not a MAC address: %s\n", peer);
        return 2;
    }
    if (count < 1 || size < 4 || size > (long)sizeof frame - HEADER) {
        fprintf(stderr, "COUNT must be at least 1, SIZE 4 to %zu\n", sizeof frame - HEADER);
        return 2;
    }
    int fd = open_socket(iface, mac);
    double *rtts = malloc(sizeof *rtts * (size_t)count);
    if (!rtts) fail("malloc");
    memcpy(frame, to, 6);
    memcpy(frame + 6, mac, 6);
    frame[12] = ETHERTYPE_DATA >> 8;
    frame[13] = ETHERTYPE_DATA & 0xff;
    memset(frame + HEADER, 0x5a, (size_t)size);
    long echoed = 0;
    for (long sequence = 0; sequence < count; sequence++) {
        uint32_t wire = htonl((uint32_t)sequence);
        memcpy(frame + HEADER, &wire, 4);
        double sent = now_us();
        if (send(fd, frame, HEADER + (size_t)size, 0) < 0) fail("send");
        for (;;) {
            ssize_t len = recv(fd, answer, sizeof answer, 0);
            if (len < 0) break; /* a second without the echo: lost */
            if (len >= HEADER + 4 && memcmp(answer + 6, to, 6) == 0 && memcmp(answer + HEADER, &wire, 4) == 0) {
                rtts[echoed++] = now_us() - sent;
                break;
            }
        }
    }
    if (echoed == 0) {
        fprintf(stderr, "no echo came back\n");
        return 1;
    }
    qsort(rtts, (size_t)echoed, sizeof *rtts, by_value);
    long p99 = (long)((double)echoed * 0.99 + 0.999999) - 1;
    printf("echoed %ld of %ld, min %.1f us, median %.1f us, p99 %.1f us, max %.1f us\n", echoed, count, rtts[0],
           rtts[(echoed - 1) / 2], rtts[p99 < 0 ? 0 : p99], rtts[echoed - 1]);
    return 0;
}

int main(int argc, char **argv) {
    if (argc == 3 && strcmp(argv[1], "echo") == 0) echo(argv[2]);
    if (argc == 6 && strcmp(argv[1], "ping") == 0) return ping(argv[2], argv[3], atol(argv[4]), atol(argv[5]));
    fprintf(stderr, "usage: %s echo IFACE | %s ping IFACE MAC COUNT SIZE\n", argv[0], argv[0]);
    return 2;
}
