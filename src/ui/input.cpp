#include "ui/input.h"

#include <algorithm>

namespace kestrel {

namespace {
unsigned mask_of(InputEvent::Kind kind) {
    switch (kind) {
    case InputEvent::Kind::Key: return InputHandler::KEY;
    case InputEvent::Kind::Button: return InputHandler::BUTTON;
    case InputEvent::Kind::Rel: return InputHandler::REL;
    case InputEvent::Kind::Abs: return InputHandler::ABS;
    }
    return 0;
}
} // namespace

unsigned InputService::add_handler(std::string name, unsigned mask, InputHandler& handler) {
    std::lock_guard guard(lock_);
    handlers_.push_back({std::move(name), next_index_, mask, &handler});
    return next_index_++;
}

void InputService::remove_handler(InputHandler& handler) {
    std::lock_guard guard(lock_);
    std::erase_if(handlers_, [&](const Entry& e) { return e.handler == &handler; });
}

void InputService::activate(InputHandler& handler) {
    std::lock_guard guard(lock_);
    auto it = std::find_if(handlers_.begin(), handlers_.end(), [&](const Entry& e) { return e.handler == &handler; });
    if (it != handlers_.end()) std::rotate(handlers_.begin(), it, it + 1);
}

InputHandler* InputService::route_locked(InputEvent::Kind kind) const {
    unsigned mask = mask_of(kind);
    for (const Entry& e : handlers_)
        if (e.mask & mask) return e.handler;
    return nullptr;
}

// Buttons go with the pointer: to the handler that takes the pointer's
// kind of motion (a tablet), as QEMU routes them.
void InputService::send(const std::vector<InputEvent>& events) {
    std::lock_guard guard(lock_);
    std::vector<InputHandler*> touched;
    for (const InputEvent& e : events) {
        InputHandler* h = route_locked(e.kind);
        if (!h) continue;
        h->input_event(e);
        if (std::find(touched.begin(), touched.end(), h) == touched.end()) touched.push_back(h);
    }
    for (InputHandler* h : touched) h->input_sync();
}

bool InputService::absolute() const {
    std::lock_guard guard(lock_);
    for (const Entry& e : handlers_)
        if (e.mask & (InputHandler::REL | InputHandler::ABS)) return (e.mask & InputHandler::ABS) != 0;
    return false;
}

std::vector<InputService::MouseInfo> InputService::mice() const {
    std::lock_guard guard(lock_);
    std::vector<MouseInfo> out;
    bool first = true;
    for (const Entry& e : handlers_) {
        if (!(e.mask & (InputHandler::REL | InputHandler::ABS))) continue;
        out.push_back({e.name, e.index, first, (e.mask & InputHandler::ABS) != 0});
        first = false;
    }
    std::sort(out.begin(), out.end(), [](const MouseInfo& a, const MouseInfo& b) { return a.index > b.index; });
    return out;
}

bool InputService::select_mouse(unsigned index) {
    std::lock_guard guard(lock_);
    auto it = std::find_if(handlers_.begin(), handlers_.end(), [&](const Entry& e) {
        return e.index == index && (e.mask & (InputHandler::REL | InputHandler::ABS));
    });
    if (it == handlers_.end()) return false;
    std::rotate(handlers_.begin(), it, it + 1);
    return true;
}

} // namespace kestrel
