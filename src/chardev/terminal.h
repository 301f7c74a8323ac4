#pragma once
// The host terminal behind stdio: raw mode while kestrel runs, put back on
// every way out.
namespace kestrel {

// Puts the terminal on fd in raw mode the way QEMU's stdio chardev does: no
// echo, no line editing, no CR/LF input mapping, output post-processing
// kept (so the guest's "\n" still returns the carriage). With allow_signals
// ISIG stays on and Ctrl-C interrupts kestrel; without it Ctrl-C goes to the
// guest. The first call saves the original settings and registers an atexit
// hook that restores them. Returns false if fd is not a terminal.
bool enter_raw_terminal_mode(int fd, bool allow_signals);

// Restores the saved terminal settings; a no-op when nothing was changed.
// Async-signal-safe and idempotent: call it from signal handlers and other
// exit paths that skip atexit (_exit, abort handlers).
void restore_terminal();

} // namespace kestrel
