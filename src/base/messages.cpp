#include "base/messages.h"

#include <atomic>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <mutex>

namespace kestrel {
namespace {

std::atomic<bool> timestamp{false};
std::mutex name_lock;
std::string guest_name;

} // namespace

void set_message_timestamp(bool on) { timestamp = on; }

void set_message_guest_name(const std::string& name) {
    std::lock_guard lock(name_lock);
    guest_name = name;
}

std::string message_prefix() {
    std::string prefix;
    if (timestamp) {
        auto now = std::chrono::system_clock::now();
        auto us = std::chrono::duration_cast<std::chrono::microseconds>(now.time_since_epoch()).count();
        std::time_t secs = std::time_t(us / 1000000);
        std::tm tm{};
        gmtime_r(&secs, &tm);
        char text[64];
        std::snprintf(text, sizeof text, "%04d-%02d-%02dT%02d:%02d:%02d.%06dZ ", tm.tm_year + 1900, tm.tm_mon + 1,
                      tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, int(us % 1000000));
        prefix = text;
    }
    std::lock_guard lock(name_lock);
    if (!guest_name.empty()) prefix += guest_name + " ";
    return prefix;
}

std::string message_prefix_pattern() {
    std::string pattern = timestamp ? "%Y-%m-%dT%H:%M:%S.%fZ " : "";
    std::lock_guard lock(name_lock);
    if (!guest_name.empty()) {
        for (char c : guest_name) {
            if (c == '%') pattern += '%';
            pattern += c;
        }
        pattern += ' ';
    }
    return pattern;
}

} // namespace kestrel
