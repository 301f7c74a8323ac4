// mc146818rtc: the PC's real-time clock and CMOS memory, which also tells
// firmware the RAM size and CPU count.
#include "devices/bus.h"
#include "devices/device.h"
#include "devices/device_context.h"
#include "devices/rtc/cmos_rtc.h"
#include "base/service_registry.h"

namespace kestrel {
namespace {

constexpr PropertySpec kProperties[] = {
    prop_uint(PropType::Uint16, "iobase", CmosRtc::kPort),
    prop_uint(PropType::Uint8, "irq", CmosRtc::kIrq),
};
constexpr std::string_view kUnsupported[] = {"base_year", "lost_tick_policy"};

class Mc146818Rtc final : public Device {
public:
    using Device::Device;

    void realize(DeviceContext& context) override {
        const PropertyValues& p = properties();
        rtc_ = std::make_shared<CmosRtc>(context.isa_irq(unsigned(p.uint("irq"))), context.main_loop(), context.rtc());
        rtc_->set_memory_size(context.board().ram_below_4g, context.board().ram_above_4g);
        rtc_->set_cpu_count(context.board().boot_cpus);
        boot_order_ = context.board().boot_order;
        const std::string& once = context.board().boot_once;
        rtc_->set_boot_order(once.empty() ? boot_order_ : once);  // -boot once= lasts until a reset
        context.pio().insert_or_throw(p.uint("iobase"), CmosRtc::kLength, rtc_, "rtc");
        services_ = &context.services();
        services_->add<CmosRtc>(*rtc_);  // the board writes the IDE disks in once they exist
    }
    void unrealize() override {
        if (services_) services_->remove<CmosRtc>(*rtc_);
    }
    void reset() override {
        rtc_->reset();
        rtc_->set_boot_order(boot_order_);
    }

private:
    std::shared_ptr<CmosRtc> rtc_;
    std::string boot_order_;
    ServiceRegistry* services_ = nullptr;
};

} // namespace

extern const DeviceType kMc146818RtcType = {
    .name = "mc146818rtc",
    .bus = BusKind::Isa,
    .category = DeviceCategory::Misc,
    .description = {},
    .properties = kProperties,
    .create = &create_device<Mc146818Rtc>,
    .qom_parent = "isa-device",
    .unsupported_properties = kUnsupported,
};

} // namespace kestrel
