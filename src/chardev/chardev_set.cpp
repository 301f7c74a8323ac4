#include "chardev/chardev_set.h"

#include "chardev/mux_chardev.h"
#include "chardev/open_chardev.h"

#include <algorithm>
#include <stdexcept>

namespace kestrel {

struct ChardevSet::Entry {
    ChardevConfig cfg;
    std::unique_ptr<Chardev> backend;
    std::unique_ptr<MuxChardev> mux;  // declared last: detaches first
    bool claimed = false;
};

namespace {

// The option text QEMU would name in an error: the option as the user typed
// it; for a default chardev (no such text), a -chardev spelling rebuilt
// from the parsed options.
std::string chardev_location(const ChardevConfig& cfg) {
    if (!cfg.location.empty()) return cfg.location;
    std::string s = "-chardev " + cfg.backend + ",id=" + cfg.id;
    if (!cfg.path.empty() && !cfg.options.count("path")) s += ",path=" + cfg.path;
    for (const auto& [key, value] : cfg.options) s += "," + key + "=" + value;
    if (cfg.mux) s += ",mux=on";
    return s;
}

} // namespace

ChardevSet::ChardevSet(const std::vector<ChardevConfig>& configs, EventLoop& loop, MuxActions actions,
                       std::string program)
    : loop_(loop), program_(std::move(program)) {
    for (const auto& cfg : configs) {
        auto entry = std::make_unique<Entry>();
        entry->cfg = cfg;
        ChardevConfig backend_cfg = cfg;
        if (cfg.mux) backend_cfg.id = cfg.id + "-base";
        ChardevMessages messages{program_, chardev_location(cfg)};
        try {
            entry->backend = open_chardev(backend_cfg, loop, messages);
        } catch (const std::runtime_error& e) {
            std::string text = messages.location + ": " + e.what();
            if (!cfg.open_failure.empty()) text += "\n" + messages.location + ": " + cfg.open_failure;
            throw std::runtime_error(text);
        }
        if (cfg.mux) entry->mux = std::make_unique<MuxChardev>(cfg.id, *entry->backend, loop, actions);
        entries_.push_back(std::move(entry));
    }
}

ChardevSet::~ChardevSet() {
    while (!entries_.empty()) entries_.pop_back();
}

Chardev& ChardevSet::claim(const std::string& id) {
    for (auto& e : entries_) {
        if (e->cfg.id != id) continue;
        if (e->mux) {
            e->claimed = true;
            return e->mux->new_view();
        }
        if (e->claimed) throw std::runtime_error("Device '" + id + "' is in use");
        e->claimed = true;
        return *e->backend;
    }
    throw std::runtime_error("chardev '" + id + "' not found");
}

void ChardevSet::release(const std::string& id) {
    for (auto& e : entries_)
        if (e->cfg.id == id && !e->mux) e->claimed = false;
}

bool ChardevSet::in_use(const std::string& id) const {
    return std::any_of(entries_.begin(), entries_.end(),
                       [&](const auto& e) { return e->cfg.id == id && !e->mux && e->claimed; });
}

Chardev& ChardevSet::add(const ChardevConfig& cfg) {
    if (cfg.mux) throw std::runtime_error("a mux chardev cannot be added at run time");
    auto entry = std::make_unique<Entry>();
    entry->cfg = cfg;
    entry->backend = open_chardev(cfg, loop_, ChardevMessages{program_, ""});
    entry->claimed = true;
    entries_.push_back(std::move(entry));
    return *entries_.back()->backend;
}

// A mux stays: its other frontends (a monitor, a serial port) still use it.
void ChardevSet::remove(const std::string& id) {
    std::erase_if(entries_, [&](const auto& e) { return e->cfg.id == id && !e->mux; });
}

bool ChardevSet::has(const std::string& id) const {
    return std::any_of(entries_.begin(), entries_.end(), [&](const auto& e) { return e->cfg.id == id; });
}

std::vector<ChardevConfig> ChardevSet::configs() const {
    std::vector<ChardevConfig> out;
    for (const auto& e : entries_) out.push_back(e->cfg);
    return out;
}

std::vector<ChardevInfo> ChardevSet::info() const {
    std::vector<ChardevInfo> out;
    for (const auto& e : entries_) {
        if (e->mux) out.push_back({e->cfg.id, "mux", e->claimed});
        out.push_back({e->backend->label(), e->backend->filename(),
                       e->backend->frontend_open().value_or(e->claimed)});
    }
    return out;
}

} // namespace kestrel
