/*
 * A re-creation of the original C program whohas is wire-compatible with:
 * an AF_PACKET raw socket, name-ARP on ethertype 0xFFFE with the body
 *     struct name_arp { unsigned int len; unsigned char ethAddr[6]; unsigned char data[]; };
 * sent as sizeof(struct name_arp) + len bytes (12 + len on x86-64), and data
 * frames on ethertype 0xFFFD. The interop tests build it with gcc and run it
 * against whohas' vm1/vm2, so the struct layout is the compiler's, not ours.
 *
 * The original sends the struct's two tail-padding bytes uninitialised:
 * whatever its stack held (seen on the wire as `ff 00`). So that no test
 * passes by luck, this re-creation must be built with -DPAD_FILL=0xNN, and
 * fills the memory the original leaves uninitialised with that byte: the
 * tests build it with 0xA5 and with 0 and run both.
 *
 * usage: original vm1|vm2 IFACE MYNAME PEERNAME
 */
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/ethernet.h>
#include <net/if.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <unistd.h>

#ifndef PAD_FILL
#error "build with -DPAD_FILL=0xNN: the byte the original's uninitialised struct padding holds"
#endif

#define ETH_P_NAME_ARP 0xFFFE
#define ETH_P_DATA 0xFFFD

struct name_arp {
    unsigned int len;
    unsigned char ethAddr[6];
    unsigned char data[];
};

static int sock;
static int ifindex;
static unsigned char mymac[6];

static void send_frame(const unsigned char *dst, unsigned short type, const void *body, size_t len) {
    unsigned char frame[1514];
    struct ether_header *eh = (struct ether_header *)frame;
    memcpy(eh->ether_dhost, dst, 6);
    memcpy(eh->ether_shost, mymac, 6);
    eh->ether_type = htons(type);
    memcpy(frame + sizeof *eh, body, len);
    struct sockaddr_ll to = {.sll_family = AF_PACKET, .sll_ifindex = ifindex, .sll_halen = 6};
    memcpy(to.sll_addr, dst, 6);
    if (sendto(sock, frame, sizeof *eh + len, 0, (struct sockaddr *)&to, sizeof to) < 0) {
        perror("sendto");
        exit(1);
    }
}

/* Receives one frame of `type` (0: name-ARP or data) from another station,
 * waiting at most timeout_ms (-1: forever). */
static ssize_t recv_frame(unsigned char *frame, unsigned short type, int timeout_ms) {
    for (;;) {
        struct pollfd pfd = {.fd = sock, .events = POLLIN};
        if (poll(&pfd, 1, timeout_ms) <= 0) return -1;
        ssize_t n = recv(sock, frame, 1514, 0);
        if (n < (ssize_t)sizeof(struct ether_header)) continue;
        struct ether_header *eh = (struct ether_header *)frame;
        unsigned short got = ntohs(eh->ether_type);
        int wanted = type ? got == type : (got == ETH_P_NAME_ARP || got == ETH_P_DATA);
        if (wanted && memcmp(eh->ether_shost, mymac, 6) != 0) return n;
    }
}

static void print_mac(const char *label, const unsigned char *m) {
    printf("%s %02x:%02x:%02x:%02x:%02x:%02x\n", label, m[0], m[1], m[2], m[3], m[4], m[5]);
}

int main(int argc, char **argv) {
    if (argc != 5) {
        fprintf(stderr, "usage: %s vm1|vm2 IFACE MYNAME PEERNAME\n", argv[0]);
        return 2;
    }
    const char *mode = argv[1], *iface = argv[2], *myname = argv[3], *peername = argv[4];
    setvbuf(stdout, NULL, _IOLBF, 0);
    sock = socket(AF_PACKET, SOCK_RAW, htons(ETH_P_ALL));
    if (sock < 0) { perror("socket"); return 1; }
    struct ifreq ifr = {0};
    strncpy(ifr.ifr_name, iface, IFNAMSIZ - 1);
    if (ioctl(sock, SIOCGIFINDEX, &ifr) < 0) { perror("SIOCGIFINDEX"); return 1; }
    ifindex = ifr.ifr_ifindex;
    if (ioctl(sock, SIOCGIFHWADDR, &ifr) < 0) { perror("SIOCGIFHWADDR"); return 1; }
    memcpy(mymac, ifr.ifr_hwaddr.sa_data, 6);
    struct sockaddr_ll bind_to = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL), .sll_ifindex = ifindex};
    if (bind(sock, (struct sockaddr *)&bind_to, sizeof bind_to) < 0) { perror("bind"); return 1; }

    unsigned char frame[1514], body[1500];
    /* What the original leaves uninitialised: its stack's leftovers. */
    memset(body, PAD_FILL, sizeof body);
    struct name_arp *arp = (struct name_arp *)body;
    const size_t hdr = sizeof(struct ether_header);

    if (strcmp(mode, "vm2") == 0) {
        printf("sizeof(struct name_arp) = %zu\n", sizeof(struct name_arp));
        for (;;) {
            ssize_t n = recv_frame(frame, 0, -1);
            if (n < 0) continue;
            struct ether_header *eh = (struct ether_header *)frame;
            if (ntohs(eh->ether_type) == ETH_P_NAME_ARP) {
                struct name_arp *req = (struct name_arp *)(frame + hdr);
                static const unsigned char zero[6];
                if (req->len == strlen(myname) && memcmp(req->data, myname, req->len) == 0 &&
                    memcmp(req->ethAddr, zero, 6) == 0) {
                    arp->len = strlen(myname);
                    memcpy(arp->ethAddr, mymac, 6);
                    memcpy(arp->data, myname, arp->len);
                    send_frame(eh->ether_shost, ETH_P_NAME_ARP, arp, sizeof *arp + arp->len);
                    print_mac("answered request from", eh->ether_shost);
                }
            } else {
                frame[n < 1514 ? n : 1513] = 0;
                printf("received: %s", (char *)frame + hdr);
                if (frame[n - 1] != '\n') printf("\n");
                const char *answer = "Nice to meet you!\n";
                send_frame(eh->ether_shost, ETH_P_DATA, answer, strlen(answer));
            }
        }
    }

    /* vm1 */
    static const unsigned char broadcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};
    arp->len = strlen(peername);
    memset(arp->ethAddr, 0, 6);
    memcpy(arp->data, peername, arp->len);
    send_frame(broadcast, ETH_P_NAME_ARP, arp, sizeof *arp + arp->len);
    unsigned char peer[6];
    for (;;) {
        if (recv_frame(frame, ETH_P_NAME_ARP, 3000) < 0) { fprintf(stderr, "no answer from %s\n", peername); return 1; }
        struct name_arp *reply = (struct name_arp *)(frame + hdr);
        if (reply->len == strlen(peername) && memcmp(reply->data, peername, reply->len) == 0) {
            memcpy(peer, reply->ethAddr, 6);
            break;
        }
    }
    print_mac("peer is at", peer);
    const char *messages[] = {"Hi Hello AnnyeongHaSeYo !!!!!!!Enter your student code!!!!!!!",
                              "I'm Glad to meet you again."};
    for (int i = 0; i < 2; i++) {
        send_frame(peer, ETH_P_DATA, messages[i], strlen(messages[i]));
        ssize_t n = recv_frame(frame, ETH_P_DATA, 3000);
        if (n < 0) { fprintf(stderr, "no data answer\n"); return 1; }
        frame[n < 1514 ? n : 1513] = 0;
        printf("received: %s", (char *)frame + hdr);
    }
    return 0;
}
