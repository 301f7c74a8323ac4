#pragma once
// The HMP command line history: what "info history" lists and what the up
// and down arrows walk through. Like QEMU's readline: at most 64 entries,
// empty lines are not kept, and a line typed again moves to the end.
#include <deque>
#include <string>
#include <string_view>

namespace kestrel {

class HmpHistory {
public:
    static constexpr size_t kMaxEntries = 64;

    void add(std::string_view line);
    size_t size() const { return entries_.size(); }
    const std::string& at(size_t index) const { return entries_.at(index); }

private:
    std::deque<std::string> entries_;
};

} // namespace kestrel
