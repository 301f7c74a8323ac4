#include "monitor/hmp/hmp_history.h"

#include <algorithm>

namespace kestrel {

void HmpHistory::add(std::string_view line) {
    if (line.empty()) return;
    auto same = std::find(entries_.begin(), entries_.end(), line);
    if (same != entries_.end())
        entries_.erase(same);
    else if (entries_.size() == kMaxEntries)
        entries_.pop_front();
    entries_.emplace_back(line);
}

} // namespace kestrel
