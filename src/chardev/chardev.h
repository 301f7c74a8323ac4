#pragma once
// A character device backend (stdio, file, null, ...) and the device side it
// feeds (a UART). Output: the frontend calls write() from a vCPU thread; it
// must not block for long. Input: the backend reads on the event loop thread
// and hands the frontend at most can_receive() bytes; when the frontend has
// room again it calls frontend_ready() (any thread) so buffered input flows.
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace kestrel {

class CharFrontend {
public:
    virtual ~CharFrontend() = default;
    virtual size_t can_receive() = 0;
    virtual void receive(std::span<const uint8_t> data) = 0;
};

class Chardev {
public:
    virtual ~Chardev() = default;
    virtual void write(std::span<const uint8_t> data) = 0;
    virtual void attach(CharFrontend* frontend) { frontend_ = frontend; }
    virtual void frontend_ready() {}
    const std::string& label() const { return label_; }

protected:
    explicit Chardev(std::string label) : label_(std::move(label)) {}
    CharFrontend* frontend_ = nullptr;
    std::string label_;
};

} // namespace kestrel
