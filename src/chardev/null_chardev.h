#pragma once
// -serial null / -chardev null: output vanishes, no input ever arrives.
// Always "connected": with a loop, attach() posts opened() to the frontend.
#include "chardev/chardev.h"
#include "chardev/frontend_notifier.h"

#include <memory>

namespace kestrel {

class NullChardev final : public Chardev {
public:
    explicit NullChardev(std::string label, EventLoop* loop = nullptr) : Chardev(std::move(label)) {
        if (loop) notifier_ = std::make_unique<FrontendNotifier>(*loop, frontend_);
    }
    std::string filename() const override { return "null"; }
    void write(std::span<const uint8_t>) override {}
    void attach(CharFrontend* frontend) override {
        frontend_ = frontend;
        if (notifier_) notifier_->post_opened();
    }

private:
    std::unique_ptr<FrontendNotifier> notifier_;
};

} // namespace kestrel
