/*
 * A 1-byte TCP ping-pong: the request/response rate of a connection
 * (netperf's TCP_RR, which Debian does not package).
 *
 *   tcp_pingpong server PORT                 echo every byte back, forever
 *   tcp_pingpong client HOST PORT SECONDS    send a byte, wait for it, repeat;
 *                                            prints "PINGPONG transactions=N
 *                                            seconds=S rate=R/s mean_us=U"
 *
 * TCP_NODELAY on both ends, one connection, one byte in flight.
 */
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static double now(void) {
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec + t.tv_nsec / 1e9;
}

static void nodelay(int fd) {
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
}

static int serve(int port) {
    int s = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port), .sin_addr.s_addr = INADDR_ANY};
    if (bind(s, (struct sockaddr*)&a, sizeof a) || listen(s, 4)) {
        perror("tcp_pingpong: bind/listen");
        return 1;
    }
    signal(SIGCHLD, SIG_IGN);
    for (;;) {
        int c = accept(s, NULL, NULL);
        if (c < 0) continue;
        if (fork() == 0) {
            char b;
            nodelay(c);
            while (read(c, &b, 1) == 1)
                if (write(c, &b, 1) != 1) break;
            _exit(0);
        }
        close(c);
    }
}

static int client(const char* host, int port, double seconds) {
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons(port)};
    if (inet_pton(AF_INET, host, &a.sin_addr) != 1) {
        fprintf(stderr, "tcp_pingpong: bad address %s\n", host);
        return 1;
    }
    int s = socket(AF_INET, SOCK_STREAM, 0);
    if (connect(s, (struct sockaddr*)&a, sizeof a)) {
        perror("tcp_pingpong: connect");
        return 1;
    }
    nodelay(s);
    char b = 'x';
    long n = 0;
    double start = now(), end = start + seconds, t = start;
    while (t < end) {
        if (write(s, &b, 1) != 1 || read(s, &b, 1) != 1) {
            perror("tcp_pingpong: transaction");
            return 1;
        }
        ++n;
        if ((n & 15) == 0) t = now();
    }
    t = now() - start;
    printf("PINGPONG transactions=%ld seconds=%.3f rate=%.1f/s mean_us=%.1f\n", n, t, n / t, t * 1e6 / n);
    return 0;
}

int main(int argc, char** argv) {
    if (argc == 3 && !strcmp(argv[1], "server")) return serve(atoi(argv[2]));
    if (argc == 5 && !strcmp(argv[1], "client")) return client(argv[2], atoi(argv[3]), atof(argv[4]));
    fprintf(stderr, "usage: tcp_pingpong server PORT | client HOST PORT SECONDS\n");
    return 2;
}
