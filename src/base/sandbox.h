#pragma once
// -sandbox: a seccomp-BPF allow-list per thread class, installed once
// start-up is over (every device realized, backends and monitors open,
// -chroot and -runas applied). What a class may not call kills the whole
// process (SIGSYS), as QEMU's -sandbox does.
//
//   Main   the event loop: monitors, chardevs, timers, exit. Everything
//          kestrel does after start-up, and what QEMU's options allow:
//          spawn=allow (QEMU's default) keeps fork/exec, elevateprivileges
//          =allow the set*id calls, obsolete=allow the obsolete calls;
//          resourcecontrol=deny makes the scheduler calls fail with EPERM.
//   Vcpu   KVM_RUN and the device emulation it drives: reads and writes on
//          open fds, KVM ioctls, eventfds and timers. No open, no socket,
//          no exec, whatever the options say.
//   Io     iothreads (virtio queues, block I/O): Vcpu's calls plus the
//          event loop and io_uring.
//
// The Main filter applies to every thread (installed with TSYNC); Vcpu
// and Io threads stack theirs on it, so they get the intersection.
// A device that needs another call at run time adds it to its class's
// table in sandbox_policy.cpp.
#include <string>

namespace kestrel {

// -sandbox as QEMU reads it (QEMU's defaults).
struct SandboxConfig {
    enum class Privileges { Allow, Deny, Children };

    bool enable = false;
    bool deny_obsolete = true;
    Privileges elevate_privileges = Privileges::Allow;
    bool deny_spawn = false;
    bool deny_resource_control = false;
};

enum class ThreadClass { Main, Vcpu, Io };

// Installs the Main filter on every thread of the process and remembers
// that the sandbox is on. Nothing happens when !config.enable. Throws
// std::runtime_error when the kernel refuses the filter.
void enter_sandbox(const SandboxConfig& config);

// Stacks the class's filter on the calling thread if the sandbox is on;
// does nothing otherwise. Throws like enter_sandbox().
void enter_thread_sandbox(ThreadClass thread_class);

bool sandbox_active();

} // namespace kestrel
