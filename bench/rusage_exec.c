/* rusage_exec STATFILE PROGRAM [ARG...]
 *
 * Runs PROGRAM as a child and writes one line to STATFILE when it ends:
 *   wall_ns exit_code term_signal user_us sys_us maxrss_kib
 * wall_ns runs from just before fork() to the return of wait4().
 *
 * Why a separate (static, small) process: Linux folds the RSS high-water
 * mark of the address space a process had *before* execve into its
 * ru_maxrss. Started straight from Python, every VMM would inherit
 * Python's ~15 MiB peak. Forked from this tiny program, the inherited
 * peak is this program's own (well under 1 MiB).
 *
 * The exit status of rusage_exec is the child's (128 + signal when it was
 * killed). SIGTERM to rusage_exec kills the child (SIGKILL), which is then
 * reaped and reported as usual; if rusage_exec itself is killed, the child
 * gets SIGKILL too.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_ns(void) {
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static volatile pid_t child;

static void kill_child(int sig) {
    (void)sig;
    if (child > 0) kill(child, SIGKILL);
}

static long long usec(struct timeval tv) { return tv.tv_sec * 1000000LL + tv.tv_usec; }

int main(int argc, char **argv) {
    if (argc < 3) {
        fprintf(stderr, "usage: %s STATFILE PROGRAM [ARG...]\n", argv[0]);
        return 2;
    }
    struct sigaction sa = {.sa_handler = kill_child};
    sigaction(SIGTERM, &sa, NULL);
    pid_t parent = getpid();
    long long t0 = now_ns();
    pid_t pid = fork();
    if (pid < 0) {
        perror("rusage_exec: fork");
        return 2;
    }
    if (pid == 0) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent) _exit(127);  /* parent died before prctl */
        execvp(argv[2], argv + 2);
        perror("rusage_exec: exec");
        _exit(127);
    }
    child = pid;
    int status = 0;
    struct rusage ru;
    int got;
    while ((got = wait4(pid, &status, 0, &ru)) < 0 && errno == EINTR) {}
    if (got < 0) {
        perror("rusage_exec: wait4");
        return 2;
    }
    long long wall = now_ns() - t0;
    int code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    int sig = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
    FILE *f = fopen(argv[1], "w");
    if (!f) {
        perror("rusage_exec: statfile");
        return 2;
    }
    fprintf(f, "%lld %d %d %lld %lld %ld\n", wall, code, sig, usec(ru.ru_utime),
            usec(ru.ru_stime), ru.ru_maxrss);
    fclose(f);
    return sig ? 128 + sig : code;
}
