#pragma once
// The base of virtio devices that serve their queues on one event loop (an
// iothread's, a thread of their own, or the main loop). It owns the
// life cycle every such device needs:
//
// activate() may come from any thread (a vCPU writing DRIVER_OK): it posts
// start() to the loop. reset() may come from any thread too: on the loop it
// stops at once; from elsewhere it posts stop() and waits until the loop has
// run it, so the caller must not hold a lock the loop thread may need. A
// reset before the posted start ran cancels the start. needs_reset() tells
// the transport once per activation (posted, never from inside queue
// processing, so the transport may answer with reset()).
//
// Subclasses implement start() and stop() (both on the loop thread; stop()
// must not return while requests still touch guest memory) and call halt()
// first thing in their destructor: destroy the device on its loop thread, or
// after that loop stopped running.
#include "virtio/virtio_device.h"

#include <memory>
#include <mutex>
#include <string>
#include <thread>

namespace kestrel {

class EventLoop;

class VirtioLoopDevice : public VirtioDevice {
public:
    VirtioLoopDevice(EventLoop& loop, std::string name);
    ~VirtioLoopDevice() override;

    void activate(VirtioActivation activation) final;
    void reset() final;
    void release_queues() final { halt(); }

protected:
    virtual void start(VirtioActivation activation) = 0;
    virtual void stop() = 0;

    // Loop thread: the device asks the driver for a reset (a malformed ring).
    void needs_reset();
    // Destructors: stop inline if serving, and let no posted start run.
    void halt();

    EventLoop& loop() const { return loop_; }
    // True on the thread that serves the queues (once started).
    bool on_loop_thread() const;
    const std::string& name() const { return name_; }

private:
    enum class State { Idle, Pending, Active };
    void stop_serving();

    EventLoop& loop_;
    const std::string name_;
    std::mutex state_lock_;
    State state_ = State::Idle;
    uint64_t generation_ = 0;
    std::thread::id loop_thread_;
    std::shared_ptr<int> alive_ = std::make_shared<int>(0);
    bool needs_reset_sent_ = false;
};

} // namespace kestrel
