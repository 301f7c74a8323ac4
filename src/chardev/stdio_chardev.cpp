#include "chardev/stdio_chardev.h"

#include "chardev/terminal.h"

#include <atomic>
#include <stdexcept>
#include <unistd.h>

namespace kestrel {

namespace {
std::atomic<bool> stdio_in_use{false};

// Claims stdio before the base class registers fd 0 with the loop.
std::string claim_stdio(std::string label) {
    if (stdio_in_use.exchange(true))
        throw std::runtime_error("cannot use stdio by multiple character devices");
    return label;
}
} // namespace

StdioChardev::StdioChardev(std::string label, EventLoop& loop, bool allow_signals)
    : FdChardev(claim_stdio(std::move(label)), loop, STDIN_FILENO, STDOUT_FILENO) {
    enter_raw_terminal_mode(STDIN_FILENO, allow_signals);
}

StdioChardev::~StdioChardev() {
    restore_terminal();
    stdio_in_use = false;
}

} // namespace kestrel
