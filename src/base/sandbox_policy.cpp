// The allow-lists of -sandbox (sandbox.h explains the classes). Found by
// reading what each thread does after start-up and checked by the guest
// scenarios that run with -sandbox on.
#include "base/sandbox_policy.h"

#include <cerrno>
#include <linux/kvm.h>
#include <sched.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <linux/if_tun.h>
#include <sys/ioctl.h>

namespace kestrel::sandbox {
namespace {

constexpr uint64_t kIoctlType = 0xff00;  // _IOC_TYPE's bits of a request
constexpr uint64_t kKvmIoctl = uint64_t(KVMIO) << 8;

// Mappings that become executable are refused to device threads: a
// compromised emulator cannot stage code through them.
constexpr SyscallRule kMmapNoExec{SCMP_SYS(mmap), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0};
constexpr SyscallRule kMprotectNoExec{SCMP_SYS(mprotect), 2, SCMP_CMP_MASKED_EQ, PROT_EXEC, 0};
constexpr uint64_t kVhostIoctl = uint64_t(0xAF) << 8;  // VHOST_VIRTIO (linux/vhost.h does not compile as C++)
constexpr SyscallRule kKvmIoctls{SCMP_SYS(ioctl), 1, SCMP_CMP_MASKED_EQ, kIoctlType, kKvmIoctl};

// Taps and vhost-net at run time: netdev_add, and the NIC's features and
// vhost's rings once the guest driver starts the device (from a vCPU's
// register write). The tun requests by name ('T' is the terminal's type
// too, TIOCSTI among them); vhost's type whole (its fds only).
constexpr SyscallRule kNetIoctls[] = {
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNGETFEATURES}, {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNGETIFF},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNSETIFF},      {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNSETOFFLOAD},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNSETQUEUE},    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNSETSNDBUF},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TUNSETVNETHDRSZ},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_MASKED_EQ, kIoctlType, kVhostIoctl},
};

// What every kestrel thread does: memory, locks, time, signals, reads and
// writes on fds it has (chardev output, eventfds, irqfds), KVM ioctls,
// timers (the RTC), eventfds for MSI-X vectors the guest programs.
constexpr SyscallRule kAnyThread[] = {
    {SCMP_SYS(read)}, {SCMP_SYS(write)}, {SCMP_SYS(readv)}, {SCMP_SYS(writev)},
    {SCMP_SYS(sendto)}, {SCMP_SYS(sendmsg)}, {SCMP_SYS(close)}, {SCMP_SYS(fcntl)},
    {SCMP_SYS(fstat)}, {SCMP_SYS(newfstatat)}, {SCMP_SYS(lseek)}, {SCMP_SYS(poll)}, {SCMP_SYS(ppoll)},
    {SCMP_SYS(select)}, {SCMP_SYS(pselect6)},  // libvncserver's client threads (glibc's select is pselect6)
    {SCMP_SYS(futex)}, {SCMP_SYS(munmap)}, {SCMP_SYS(madvise)}, {SCMP_SYS(brk)}, {SCMP_SYS(mremap)},
    {SCMP_SYS(rt_sigreturn)}, {SCMP_SYS(rt_sigprocmask)}, {SCMP_SYS(sigaltstack)},
    {SCMP_SYS(restart_syscall)}, {SCMP_SYS(clock_gettime)}, {SCMP_SYS(clock_getres)},
    {SCMP_SYS(clock_nanosleep)}, {SCMP_SYS(nanosleep)}, {SCMP_SYS(gettimeofday)},
    {SCMP_SYS(getpid)}, {SCMP_SYS(gettid)}, {SCMP_SYS(tgkill)}, {SCMP_SYS(sched_yield)},
    {SCMP_SYS(getrandom)}, {SCMP_SYS(exit)}, {SCMP_SYS(exit_group)},
    {SCMP_SYS(eventfd2)}, {SCMP_SYS(timerfd_settime)}, {SCMP_SYS(timerfd_gettime)},
    {SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_SET_NAME},
};

// Event loops and block I/O (io_uring; the rest for fallbacks).
constexpr SyscallRule kLoopAndBlock[] = {
    {SCMP_SYS(epoll_wait)}, {SCMP_SYS(epoll_pwait)}, {SCMP_SYS(epoll_ctl)},
    {SCMP_SYS(io_uring_enter)}, {SCMP_SYS(pread64)}, {SCMP_SYS(pwrite64)}, {SCMP_SYS(preadv)},
    {SCMP_SYS(pwritev)}, {SCMP_SYS(preadv2)}, {SCMP_SYS(pwritev2)}, {SCMP_SYS(fsync)},
    {SCMP_SYS(fdatasync)}, {SCMP_SYS(fallocate)},
};

// The main loop beyond that: monitor commands that write files (memsave,
// logfile), chardev sockets (accept, reconnect) and ptys, the terminal,
// the vCPU threads run() starts, the way out (unlinking the pidfile
// and sockets), user networking's sockets (hostfwd listeners, UDP), and
// images and devices added at run time (blockdev-add, device_add).
constexpr SyscallRule kMainLoop[] = {
    {SCMP_SYS(bind)}, {SCMP_SYS(listen)},
    {SCMP_SYS(mmap)}, {SCMP_SYS(mprotect)}, {SCMP_SYS(open)}, {SCMP_SYS(openat)},
    {SCMP_SYS(unlink)}, {SCMP_SYS(unlinkat)}, {SCMP_SYS(ftruncate)}, {SCMP_SYS(statx)},
    {SCMP_SYS(access)}, {SCMP_SYS(faccessat)}, {SCMP_SYS(faccessat2)}, {SCMP_SYS(readlink)},
    {SCMP_SYS(getcwd)}, {SCMP_SYS(dup)}, {SCMP_SYS(dup2)}, {SCMP_SYS(dup3)}, {SCMP_SYS(pipe2)},
    {SCMP_SYS(socket)}, {SCMP_SYS(connect)}, {SCMP_SYS(accept)}, {SCMP_SYS(accept4)},
    {SCMP_SYS(recvfrom)}, {SCMP_SYS(recvmsg)}, {SCMP_SYS(shutdown)}, {SCMP_SYS(getsockopt)},
    {SCMP_SYS(setsockopt)}, {SCMP_SYS(getsockname)}, {SCMP_SYS(getpeername)},
    {SCMP_SYS(epoll_create1)}, {SCMP_SYS(timerfd_create)}, {SCMP_SYS(signalfd4)},
    {SCMP_SYS(rt_sigaction)}, {SCMP_SYS(kill)}, {SCMP_SYS(uname)}, {SCMP_SYS(sysinfo)},
    {SCMP_SYS(getrusage)}, {SCMP_SYS(getuid)}, {SCMP_SYS(geteuid)}, {SCMP_SYS(getgid)},
    {SCMP_SYS(getegid)}, {SCMP_SYS(getppid)}, {SCMP_SYS(prlimit64)},
    {SCMP_SYS(getpriority)}, {SCMP_SYS(sched_getparam)}, {SCMP_SYS(sched_getscheduler)},
    {SCMP_SYS(sched_getaffinity)}, {SCMP_SYS(sched_get_priority_max)},
    {SCMP_SYS(sched_get_priority_min)},
    // Images opened while the guest runs (blockdev-add, a medium change):
    // their io_uring.
    {SCMP_SYS(io_uring_setup)}, {SCMP_SYS(io_uring_register)},
    // New threads (vCPUs start after the filter is in place), and the
    // filters they and the iothreads stack on it.
    {SCMP_SYS(clone), 0, SCMP_CMP_MASKED_EQ, CLONE_THREAD, CLONE_THREAD},
    {SCMP_SYS(set_robust_list)}, {SCMP_SYS(rseq)}, {SCMP_SYS(seccomp)},
    {SCMP_SYS(prctl), 0, SCMP_CMP_EQ, PR_SET_NO_NEW_PRIVS},
    // A reset loads a directly booted kernel again from kestrel's kernel
    // cache, which marks the entry used (futimens: utimensat on the fd,
    // no path).
    {SCMP_SYS(utimensat), 1, SCMP_CMP_EQ, 0},
    // The terminal (stdio chardevs, restored at exit).
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TCGETS}, {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TCSETS},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TCSETSW}, {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TCSETSF},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, TIOCGWINSZ}, {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIONREAD},
    {SCMP_SYS(ioctl), 1, SCMP_CMP_EQ, FIONBIO},
};

// QEMU's sets, allowed in the main loop unless the option denies them.
constexpr SyscallRule kObsolete[] = {
    {SCMP_SYS(readdir)}, {SCMP_SYS(_sysctl)}, {SCMP_SYS(bdflush)}, {SCMP_SYS(create_module)},
    {SCMP_SYS(get_kernel_syms)}, {SCMP_SYS(query_module)}, {SCMP_SYS(sgetmask)},
    {SCMP_SYS(ssetmask)}, {SCMP_SYS(sysfs)}, {SCMP_SYS(uselib)}, {SCMP_SYS(ustat)},
};
constexpr SyscallRule kElevatePrivileges[] = {
    {SCMP_SYS(setuid)}, {SCMP_SYS(setgid)}, {SCMP_SYS(setpgid)}, {SCMP_SYS(setsid)},
    {SCMP_SYS(setreuid)}, {SCMP_SYS(setregid)}, {SCMP_SYS(setresuid)}, {SCMP_SYS(setresgid)},
    {SCMP_SYS(setfsuid)}, {SCMP_SYS(setfsgid)},
};
constexpr SyscallRule kSpawn[] = {
    {SCMP_SYS(fork)}, {SCMP_SYS(vfork)}, {SCMP_SYS(execve)}, {SCMP_SYS(execveat)}, {SCMP_SYS(clone)},
    {SCMP_SYS(clone3)}, {SCMP_SYS(wait4)}, {SCMP_SYS(waitid)},
};
// glibc's pthread_create tries clone3 first and falls back to clone on
// ENOSYS; clone3's flags are out of the filter's reach.
constexpr SyscallRule kNoClone3{SCMP_SYS(clone3), -1, SCMP_CMP_EQ, 0, 0, SCMP_ACT_ERRNO(ENOSYS)};

constexpr uint32_t kEperm = SCMP_ACT_ERRNO(EPERM);
constexpr SyscallRule kResourceControl[] = {
    {SCMP_SYS(setpriority)}, {SCMP_SYS(sched_setparam)}, {SCMP_SYS(sched_setscheduler)},
    {SCMP_SYS(sched_setaffinity)},
};
// resourcecontrol=deny: they fail as in QEMU, which lets SCHED_IDLE through.
constexpr SyscallRule kResourceControlDenied[] = {
    {SCMP_SYS(setpriority), -1, SCMP_CMP_EQ, 0, 0, kEperm},
    {SCMP_SYS(sched_setparam), -1, SCMP_CMP_EQ, 0, 0, kEperm},
    {SCMP_SYS(sched_setscheduler), 1, SCMP_CMP_NE, SCHED_IDLE, 0, kEperm},
    {SCMP_SYS(sched_setscheduler), 1, SCMP_CMP_EQ, SCHED_IDLE},
    {SCMP_SYS(sched_setaffinity), -1, SCMP_CMP_EQ, 0, 0, kEperm},
};

template <size_t N> void append(std::vector<SyscallRule>& out, const SyscallRule (&rules)[N]) {
    out.insert(out.end(), rules, rules + N);
}

} // namespace

std::vector<SyscallRule> rules_for(ThreadClass thread_class, const SandboxConfig& config) {
    std::vector<SyscallRule> rules;
    append(rules, kAnyThread);
    rules.push_back(kKvmIoctls);
    append(rules, kNetIoctls);
    if (thread_class == ThreadClass::Vcpu) {
        // A PCI option ROM's file is read at the guest's first access to
        // its BAR (start-up does not pay for it), on that vCPU: the
        // firmware runs the VGA BIOS so. pread of an fd kestrel holds
        // gives no more than read, which every thread has.
        rules.push_back({SCMP_SYS(pread64)});
        rules.push_back(kMmapNoExec);
        rules.push_back(kMprotectNoExec);
        return rules;
    }
    append(rules, kLoopAndBlock);
    if (thread_class == ThreadClass::Io) {
        rules.push_back(kMmapNoExec);
        rules.push_back(kMprotectNoExec);
        return rules;
    }
    append(rules, kMainLoop);
    if (!config.deny_obsolete) append(rules, kObsolete);
    if (config.elevate_privileges == SandboxConfig::Privileges::Allow) append(rules, kElevatePrivileges);
    if (config.deny_spawn)
        rules.push_back(kNoClone3);
    else
        append(rules, kSpawn);
    if (config.deny_resource_control)
        append(rules, kResourceControlDenied);
    else
        append(rules, kResourceControl);
    return rules;
}

} // namespace kestrel::sandbox
