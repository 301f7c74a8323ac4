#pragma once
// A net backend for device unit tests: one queue, frames for the guest
// wait in a FrameQueue (its eventfd wakes the NIC), frames from the guest
// are kept.
#include "net/frame_queue.h"
#include "net/net_backend.h"

#include <functional>
#include <vector>

namespace kestrel::test {

// A backend with one queue: frames for the guest wait in a FrameQueue,
// frames from the guest are kept.
class FakeNetBackend final : public NetBackend, public NetPort {
public:
    explicit FakeNetBackend(bool vnet_hdr) : NetBackend("fake"), vnet_hdr_(vnet_hdr) {}

    std::string_view type() const override { return "tap"; }
    std::string info(unsigned) const override { return "fake"; }
    NetPort& port(unsigned) override { return *this; }
    bool has_vnet_hdr() const override { return vnet_hdr_; }
    void set_vnet_hdr_len(unsigned len) override { hdr_len = len; }
    void set_offloads(const NetOffloads& o) override { offloads = o; }

    int rx_fd() const override { return to_guest.fd(); }
    ssize_t receive(std::span<const iovec> iov) override {
        if (on_receive) on_receive();
        size_t n = to_guest.pop(iov);
        if (n) receive_iovs = iov.size();
        return ssize_t(n);
    }
    ssize_t send(std::span<const iovec> iov) override {
        sent.push_back(gather(iov));
        return ssize_t(sent.back().size());
    }
    int tx_fd() const override { return -1; }
    // burst: like user networking, it says when frames wait (a tap does not).
    bool frame_waiting() const override { return burst && !to_guest.empty(); }

    FrameQueue to_guest;
    std::vector<std::vector<uint8_t>> sent;
    unsigned hdr_len = 0;
    size_t receive_iovs = 0;  // entries of the last receive() that had a frame
    NetOffloads offloads;
    bool burst = false;
    std::function<void()> on_receive;   // before each receive()

private:
    bool vnet_hdr_;
};

} // namespace kestrel::test
