#include "chardev/terminal.h"

#include <atomic>
#include <cstdlib>
#include <termios.h>
#include <unistd.h>

namespace kestrel {

namespace {

// Plain statics: restore_terminal() runs in signal handlers.
termios saved_termios;
int saved_fd = -1;
std::atomic<bool> terminal_changed{false};
std::atomic<bool> atexit_registered{false};

} // namespace

bool enter_raw_terminal_mode(int fd, bool allow_signals) {
    termios tio;
    if (!isatty(fd) || tcgetattr(fd, &tio) != 0) return false;
    if (!terminal_changed.load()) {
        saved_termios = tio;
        saved_fd = fd;
    }
    tio.c_iflag &= ~tcflag_t(IGNBRK | BRKINT | PARMRK | ISTRIP | INLCR | IGNCR | ICRNL | IXON);
    tio.c_oflag |= OPOST;
    tio.c_lflag &= ~tcflag_t(ECHO | ECHONL | ICANON | IEXTEN);
    if (!allow_signals) tio.c_lflag &= ~tcflag_t(ISIG);
    tio.c_cflag &= ~tcflag_t(CSIZE | PARENB);
    tio.c_cflag |= CS8;
    tio.c_cc[VMIN] = 1;
    tio.c_cc[VTIME] = 0;
    if (!atexit_registered.exchange(true)) std::atexit(restore_terminal);
    terminal_changed = true;
    return tcsetattr(fd, TCSANOW, &tio) == 0;
}

void restore_terminal() {
    if (!terminal_changed.exchange(false)) return;
    tcsetattr(saved_fd, TCSANOW, &saved_termios);
}

} // namespace kestrel
