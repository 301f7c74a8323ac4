"""Makes one thread of another process issue a system call, with ptrace
(standard library only; x86-64; needs the right to trace the process).

The thread is stopped (PTRACE_SEIZE + PTRACE_INTERRUPT) where it waits in
a system call, its registers are set up for the call, and it is sent back
through the `syscall` instruction it stopped after. Tests use it to show
what a sandboxed VMM does when code inside it makes a forbidden call:
inject(pid, "CPU 0/KVM", SYS_SOCKET, (AF_UNIX, SOCK_STREAM, 0)).

Returns the call's result, or raises Killed(signal) when the process was
killed by it (seccomp's kill-process action ends it with SIGSYS)."""

import ctypes
import os
import time

SYS_SOCKET = 41
SYS_EXECVE = 59
SYS_OPENAT = 257
AT_FDCWD = -100

_PTRACE_PEEKTEXT = 1
_PTRACE_GETREGS = 12
_PTRACE_SETREGS = 13
_PTRACE_DETACH = 17
_PTRACE_SEIZE = 0x4206
_PTRACE_INTERRUPT = 0x4207
_PTRACE_CONT = 7
_PTRACE_SYSCALL = 24
_WALL = 0x40000000

_libc = ctypes.CDLL(None, use_errno=True)
_libc.ptrace.restype = ctypes.c_long
_libc.ptrace.argtypes = [ctypes.c_long, ctypes.c_int, ctypes.c_void_p, ctypes.c_void_p]


class Killed(Exception):
    def __init__(self, signal):
        super().__init__("killed by signal %d" % signal)
        self.signal = signal


class _Regs(ctypes.Structure):
    _fields_ = [(name, ctypes.c_ulonglong) for name in (
        "r15 r14 r13 r12 rbp rbx r11 r10 r9 r8 rax rcx rdx rsi rdi orig_rax "
        "rip cs eflags rsp ss fs_base gs_base ds es fs gs").split()]


def _ptrace(request, tid, addr=0, data=0):
    ctypes.set_errno(0)
    r = _libc.ptrace(request, tid, ctypes.c_void_p(addr), ctypes.c_void_p(data))
    err = ctypes.get_errno()
    if r == -1 and err:
        raise OSError(err, "ptrace(%d, %d): %s" % (request, tid, os.strerror(err)))
    return r


def _wait(tid):
    _, status = os.waitpid(tid, _WALL)
    return status


def _wait_alive(tid):
    """Waits for tid's next stop; raises Killed if the process ended instead."""
    status = _wait(tid)
    if os.WIFSIGNALED(status):
        raise Killed(os.WTERMSIG(status))
    if os.WIFEXITED(status):
        raise Killed(0)
    return status


def thread_named(pid, name):
    for tid in sorted(os.listdir("/proc/%d/task" % pid), key=int):
        with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
            if f.read().strip() == name:
                return int(tid)
    raise LookupError("no thread %r in process %d" % (name, pid))


# -EINTR (epoll_wait, which never restarts) and -ERESTARTSYS, -ERESTARTNOINTR,
# -ERESTARTNOHAND, -ERESTART_RESTARTBLOCK: the thread was stopped inside a
# blocking call, which is safe to issue again. A thread stopped just after a
# call that completed (a write that was done) must not be sent through it
# again: its peer would see the write twice.
_RESTART_CODES = (-4, -512, -513, -514, -516)


def _stop_in_syscall(tid, tries=50):
    """Interrupts tid until it is stopped inside a blocking system call."""
    regs = _Regs()
    for _ in range(tries):
        _ptrace(_PTRACE_INTERRUPT, tid)
        _wait(tid)
        _ptrace(_PTRACE_GETREGS, tid, 0, ctypes.addressof(regs))
        word = _ptrace(_PTRACE_PEEKTEXT, tid, regs.rip - 2) & 0xffff
        interrupted = ctypes.c_longlong(regs.rax).value in _RESTART_CODES
        if word == 0x050f and interrupted:
            return regs
        _ptrace(_PTRACE_CONT, tid)
        time.sleep(0.01)
    raise RuntimeError("thread %d never stopped in a system call" % tid)


def inject(pid, thread, number, args=()):
    tid = thread_named(pid, thread) if isinstance(thread, str) else thread
    _ptrace(_PTRACE_SEIZE, tid)
    regs = _stop_in_syscall(tid)
    saved = _Regs.from_buffer_copy(regs)
    for name, value in zip(("rdi", "rsi", "rdx", "r10", "r8", "r9"), args):
        setattr(regs, name, value & 0xffffffffffffffff)
    regs.rax = number
    regs.orig_rax = 0xffffffffffffffff  # no restart of the interrupted call
    regs.rip -= 2
    _ptrace(_PTRACE_SETREGS, tid, 0, ctypes.addressof(regs))
    # Stops at the call's entry, then at its exit (also when seccomp skipped it).
    for _ in range(2):
        _ptrace(_PTRACE_SYSCALL, tid)
        _wait_alive(tid)
    _ptrace(_PTRACE_GETREGS, tid, 0, ctypes.addressof(regs))
    result = ctypes.c_longlong(regs.rax).value
    if result == number:
        # Skipped by seccomp: its SIGSYS comes on the way back to user space.
        _ptrace(_PTRACE_CONT, tid)
        _wait_alive(tid)
    # Back where it was: redo the interrupted call.
    saved.rax = saved.orig_rax
    saved.rip -= 2
    _ptrace(_PTRACE_SETREGS, tid, 0, ctypes.addressof(saved))
    _ptrace(_PTRACE_DETACH, tid)
    return result
