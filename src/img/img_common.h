#pragma once
#include "base/size_text.h"
// What every kestrel-img command shares: errors as qemu-img reports them,
// option parsing with getopt_long as qemu-img does it, sizes, cache modes,
// opening images, human-readable sizes and the progress line.
#include "block/block_backend.h"
#include "block/image/async_image.h"

#include <cstdint>
#include <functional>
#include <getopt.h>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

namespace kestrel::img {

// The name errors start with (argv[0]'s last part).
extern std::string g_program;

// Ends the command: "PROG: message" on stderr, exit status `status`.
struct Failure : std::runtime_error {
    Failure(const std::string& what, int status, bool hint, std::string extra = {})
        : std::runtime_error(what), status(status), hint(hint), extra(std::move(extra)) {}
    int status;
    bool hint;          // also "Try 'PROG --help' for more information"
    std::string extra;  // lines printed after the message without the prefix (QEMU's error hints)
};
[[noreturn]] void fail(const std::string& message, int status = 1);
// A message with QEMU's unprefixed hint lines after it.
[[noreturn]] void fail_with_hint(const std::string& message, const std::string& hint);
// A command line mistake (adds the --help hint).
[[noreturn]] void usage_error(const std::string& message);
// -h / --help of a command: the help text, exit status 0.
[[noreturn]] void print_help_and_exit();

// getopt_long over a command's arguments (argv[0] is the command name).
// Calls on_option(c, optarg) for each option; returns the operands.
// Unknown options and missing arguments fail as qemu-img does.
struct LongOption {
    const char* name;
    int has_arg;  // no_argument / required_argument
    int val;
};
std::vector<std::string> parse_options(int argc, char** argv, const char* short_options,
                                       const std::vector<LongOption>& long_options,
                                       const std::function<void(int, const char*)>& on_option);

// qemu_strtosz with qemu-img's checks: a byte count with an optional
// k/M/G/T/P/E suffix (b ignored). Throws Failure with `what` in the text:
// "Invalid image size specified. ..." style messages are the caller's.
bool parse_size(const std::string& text, uint64_t& out);
// qemu-img's cvtnum("image size", ...) etc.
uint64_t size_option(const std::string& name, const std::string& text);

// -t / -T values; Failure "Invalid cache option: X" / "Invalid source cache option: X".
CacheMode parse_cache(const std::string& text, bool source);

// --output=human|json; Failure "--output must be used with human or json as argument.".
bool parse_output_json(const std::string& text);


// Opens an image with qemu-img's error text: "Could not open 'X': <why>".
struct OpenRequest {
    std::string path;
    std::string format;
    bool writable = false;
    bool force_share = false;
    bool open_backing = true;
    CacheMode cache = CacheMode::Writeback;
    bool lock = true;
    bool for_repair = false;  // check -r
};
std::unique_ptr<AsyncImage> open_for_command(AioContext& ctx, const OpenRequest& request);

// qemu-img's progress line: "    (12.34/100%)\r" when `enabled`.
class Progress {
public:
    Progress(bool enabled, double min_step);
    void update(double percent);
    void finish();

private:
    bool enabled_;
    double min_step_;
    double last_ = -1;
};

std::string errno_text(int negative_errno);

} // namespace kestrel::img
