/* Keeps a tap's queue towards the VMM full of frames (an AF_PACKET socket,
 * the qdisc bypassed, sendmmsg in batches) until SIGTERM/SIGINT, then
 * prints "sent N". For bench/tiny_netbench.py. The queue's depth is what
 * was sent minus what the tap counts as delivered (tx_packets) or dropped
 * (tx_dropped); at DEPTH frames or more the sender sleeps 50 us instead of
 * spinning, so on a small machine it leaves the CPUs to the VMM and the
 * guest while the VMM always finds frames waiting.
 * usage: net_blast IFNAME SIZE DSTMAC(aa:bb:cc:dd:ee:ff) [DEPTH] */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define BATCH 64
#define ETHERTYPE 0x88b5

static volatile sig_atomic_t stop;

static int open_stat(const char *ifname, const char *name) {
    char path[128];
    snprintf(path, sizeof path, "/sys/class/net/%s/statistics/%s", ifname, name);
    return open(path, O_RDONLY);
}

static unsigned long long read_stat(int fd) {
    char buf[32];
    ssize_t n = pread(fd, buf, sizeof buf - 1, 0);
    if (n <= 0) return 0;
    buf[n] = 0;
    return strtoull(buf, NULL, 10);
}
static void on_signal(int sig) { (void)sig; stop = 1; }

/* The tiny guest's pattern (netbench.c fill_frame): byte i is i + seq. */
static void fill(unsigned char *f, unsigned size, const unsigned char *dst, unsigned seq) {
    static const unsigned char src[6] = {0x02, 0, 0, 0, 0, 0x01};
    memcpy(f, dst, 6);
    memcpy(f + 6, src, 6);
    f[12] = ETHERTYPE >> 8;
    f[13] = ETHERTYPE & 0xff;
    for (unsigned i = 14; i < size; i++) f[i] = (unsigned char)(i + seq);
}

int main(int argc, char **argv) {
    unsigned char dst[6];
    if ((argc != 4 && argc != 5) || sscanf(argv[3], "%hhx:%hhx:%hhx:%hhx:%hhx:%hhx", &dst[0], &dst[1], &dst[2], &dst[3], &dst[4],
                            &dst[5]) != 6) {
        fprintf(stderr, "usage: net_blast IFNAME SIZE DSTMAC\n");
        return 2;
    }
    unsigned size = (unsigned)atoi(argv[2]);
    unsigned long long depth = argc == 5 ? strtoull(argv[4], NULL, 10) : 512;
    if (size < 60 || size > 1514) {
        fprintf(stderr, "net_blast: size must be 60..1514\n");
        return 2;
    }
    int fd = socket(AF_PACKET, SOCK_RAW, 0);
    if (fd < 0) {
        perror("net_blast: socket");
        return 1;
    }
    int one = 1;
    setsockopt(fd, SOL_PACKET, PACKET_QDISC_BYPASS, &one, sizeof one);
    struct sockaddr_ll addr = {.sll_family = AF_PACKET, .sll_ifindex = (int)if_nametoindex(argv[1])};
    if (!addr.sll_ifindex || bind(fd, (struct sockaddr *)&addr, sizeof addr) < 0) {
        perror("net_blast: bind");
        return 1;
    }
    static unsigned char frames[BATCH][1514];
    struct iovec iov[BATCH];
    struct mmsghdr msgs[BATCH];
    memset(msgs, 0, sizeof msgs);
    for (int i = 0; i < BATCH; i++) {
        fill(frames[i], size, dst, (unsigned)i);
        iov[i] = (struct iovec){frames[i], size};
        msgs[i].msg_hdr.msg_iov = &iov[i];
        msgs[i].msg_hdr.msg_iovlen = 1;
    }
    int delivered_fd = open_stat(argv[1], "tx_packets"), dropped_fd = open_stat(argv[1], "tx_dropped");
    if (delivered_fd < 0 || dropped_fd < 0) {
        perror("net_blast: statistics");
        return 1;
    }
    const unsigned long long base = read_stat(delivered_fd) + read_stat(dropped_fd);
    signal(SIGTERM, on_signal);
    signal(SIGINT, on_signal);
    printf("ready\n");
    fflush(stdout);
    unsigned long long sent = 0;
    const struct timespec pause = {0, 50000};
    while (!stop) {
        unsigned long long gone = read_stat(delivered_fd) + read_stat(dropped_fd) - base;
        if (sent > gone && sent - gone >= depth) {
            nanosleep(&pause, NULL);
            continue;
        }
        int n = sendmmsg(fd, msgs, BATCH, 0);
        if (n > 0) sent += (unsigned)n;
    }
    printf("sent %llu\n", sent);
    return 0;
}
