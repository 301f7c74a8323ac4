#include "img/img_common.h"

#include "block/drive_config.h"
#include "block/image/image_open.h"

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <functional>
#include <iostream>

namespace kestrel::img {

std::string g_program = "qemu-img";

void fail(const std::string& message, int status) { throw Failure(message, status, false); }

void usage_error(const std::string& message) { throw Failure(message, 1, true); }

void fail_with_hint(const std::string& message, const std::string& hint) { throw Failure(message, 1, false, hint); }

std::string errno_text(int negative_errno) { return std::strerror(negative_errno < 0 ? -negative_errno : negative_errno); }

std::vector<std::string> parse_options(int argc, char** argv, const char* short_options,
                                       const std::vector<LongOption>& long_options,
                                       const std::function<void(int, const char*)>& on_option) {
    std::vector<option> table;
    for (const LongOption& o : long_options) table.push_back({o.name, o.has_arg, nullptr, o.val});
    table.push_back({nullptr, 0, nullptr, 0});
    std::string optstring = std::string(":") + short_options;
    optind = 0;  // GNU: start over
    opterr = 0;
    for (;;) {
        int c = getopt_long(argc, argv, optstring.c_str(), table.data(), nullptr);
        if (c == -1) break;
        if (c == '?') usage_error(std::string("unrecognized option '") + argv[optind - 1] + "'");
        if (c == ':') usage_error(std::string("missing argument for option '") + argv[optind - 1] + "'");
        on_option(c, optarg);
    }
    return std::vector<std::string>(argv + optind, argv + argc);
}

bool parse_size(const std::string& text, uint64_t& out) {
    const char* s = text.c_str();
    while (*s == ' ' || *s == '\t') s++;
    if (*s == '-' || !*s) return false;
    char* end = nullptr;
    errno = 0;
    // Integers exactly; fractions (1.5G) through a double, as QEMU does.
    uint64_t whole = std::strtoull(s, &end, 10);
    if (end == s || errno) return false;
    double fraction = 0;
    if (*end == '.') {
        char* fend = nullptr;
        fraction = std::strtod(end, &fend);
        end = fend;
    }
    uint64_t unit = 1;
    switch (*end) {
    case 'b': case 'B': end++; break;
    case 'k': case 'K': unit = 1ull << 10; end++; break;
    case 'M': case 'm': unit = 1ull << 20; end++; break;
    case 'G': case 'g': unit = 1ull << 30; end++; break;
    case 'T': case 't': unit = 1ull << 40; end++; break;
    case 'P': case 'p': unit = 1ull << 50; end++; break;
    case 'E': case 'e': unit = 1ull << 60; end++; break;
    default: break;
    }
    if (*end) return false;
    if (fraction != 0 && unit == 1) return false;  // "1.5" without a suffix
    long double value = (long double)whole * unit + (long double)fraction * unit;
    if (value > (long double)INT64_MAX) {
        out = UINT64_MAX;
        return true;
    }
    out = uint64_t(value);
    return true;
}

uint64_t size_option(const std::string& name, const std::string& text) {
    uint64_t value = 0;
    if (!parse_size(text, value))
        fail("Invalid " + name + " specified. You may use k, M, G, T, P or E suffixes for\n"
             "kilobytes, megabytes, gigabytes, terabytes, petabytes and exabytes.");
    if (value > uint64_t(INT64_MAX))
        fail("Invalid " + name + " specified. Must be between 0 and 9223372036854775807.");
    return value;
}

CacheMode parse_cache(const std::string& text, bool source) {
    if (text == "writeback") return CacheMode::Writeback;
    if (text == "none" || text == "off") return CacheMode::None;
    if (text == "writethrough") return CacheMode::Writethrough;
    if (text == "directsync") return CacheMode::Directsync;
    if (text == "unsafe") return CacheMode::Unsafe;
    fail(std::string(source ? "Invalid source cache option: " : "Invalid cache option: ") + text);
}

bool parse_output_json(const std::string& text) {
    if (text == "json") return true;
    if (text == "human") return false;
    fail("--output must be used with human or json as argument.");
}

std::unique_ptr<AsyncImage> open_for_command(AioContext& ctx, const OpenRequest& r) {
    std::string probed;
    if (r.writable && r.format.empty()) {
        try {
            probed = probe_image_format(r.path);
        } catch (const std::exception& e) {
            fail("Could not open '" + r.path + "': " + e.what());
        }
        if (probed == "raw") std::cerr << image_probe_warning(r.path) << "\n";
    }
    ImageOpenOptions o;
    o.path = r.path;
    o.format = r.format;
    o.read_only = !r.writable;
    o.force_share = r.force_share;
    o.open_backing = r.open_backing;
    o.cache = r.cache;
    o.lock = r.lock;
    o.for_repair = r.for_repair;
    try {
        return open_image(ctx, o);
    } catch (const Failure&) {
        throw;
    } catch (const std::exception& e) {
        fail("Could not open '" + r.path + "': " + e.what());
    }
}

Progress::Progress(bool enabled, double min_step) : enabled_(enabled), min_step_(min_step) {}

void Progress::update(double current) {
    if (!enabled_) return;
    current = std::min(current, 100.0);
    if (current > last_ + min_step_ || current < last_ - min_step_ || current == 0 || current == 100) {
        last_ = current;
        std::printf("    (%3.2f/100%%)\r", current);
        std::fflush(stdout);
    }
}

void Progress::finish() {
    if (!enabled_) return;
    std::printf("\n");
    std::fflush(stdout);
}

} // namespace kestrel::img
