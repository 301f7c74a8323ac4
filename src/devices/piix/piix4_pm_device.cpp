// PIIX4_PM: ACPI power management at 00:01.3: the PM1 and GPE0 register
// blocks, the SCI, the power button the monitor presses, the ACPI PCI
// hotplug registers (pci_hotplug_regs.h) the machine's device_add and
// device_del go through, and with -smp maxcpus= above cpus= the ACPI CPU
// hotplug registers (cpu_hotplug/cpu_hotplug_regs.h).
#include "base/config_error.h"
#include "base/event_loop.h"
#include "base/service_registry.h"
#include "devices/bus.h"
#include "devices/device_context.h"
#include "devices/pc_layout.h"
#include "devices/pci/pci_function_device.h"
#include "devices/cpu_hotplug/cpu_hotplug_regs.h"
#include "devices/cpu_hotplug_controller.h"
#include "devices/pci_hotplug_controller.h"
#include "devices/piix/pci_hotplug_regs.h"
#include "devices/piix/piix4_pm.h"
#include "devices/power_button.h"

#include <type_traits>

namespace kestrel {
namespace {

// QEMU's defaults are 0 (S3/S4 offered); kestrel offers neither. Left out
// of "info qtree", where QEMU's board shows 0.
constexpr PropertySpec sleep_switch(std::string_view name) {
    PropertySpec spec = prop_uint(PropType::Uint8, name, 1);
    spec.qtree = PropertySpec::Qtree::Hidden;
    return spec;
}
constexpr PropertySpec kProperties[] = {sleep_switch("disable_s3"), sleep_switch("disable_s4")};

class Piix4PmDevice final : public PciFunctionDevice,
                            public PowerButton,
                            public PciHotplugController,
                            public CpuHotplugController {
public:
    using PciFunctionDevice::PciFunctionDevice;

    // As firmware would leave it: the PM block enabled at QEMU's base.
    // Removals still pending are completed, as QEMU does at reset.
    void reset() override {
        PciFunctionDevice::reset();
        pm_->program_pm_base(pc::ACPI_PM_BASE);
        for (unsigned slot : hotplug_->reset()) post_to(eject_handler_, slot);
    }
    void press() override { pm_->press_power_button(); }

    // PciHotplugController
    void set_removable(uint32_t slots) override { hotplug_->set_removable(slots); }
    void device_plugged(unsigned slot) override { hotplug_->plugged(slot); }
    void request_unplug(unsigned slot) override { hotplug_->request_unplug(slot); }
    bool unplug_requested(unsigned slot) const override { return hotplug_->unplug_requested(slot); }
    void on_eject(std::function<void(unsigned)> handler) override { *eject_handler_ = std::move(handler); }

    // CpuHotplugController
    void cpu_plugged(unsigned index) override { cpu_hotplug_->plugged(index); }
    bool cpu_unplug_supported() const override { return cpu_hotplug_->unplug_supported(); }
    void request_cpu_unplug(unsigned index) override { cpu_hotplug_->request_unplug(index); }
    bool cpu_unplug_requested(unsigned index) const override { return cpu_hotplug_->unplug_requested(index); }
    void on_cpu_eject(std::function<void(unsigned)> handler) override { *cpu_eject_handler_ = std::move(handler); }
    void on_cpu_ost(std::function<void(const CpuOstReport&)> handler) override { *cpu_ost_handler_ = std::move(handler); }
    std::vector<CpuOstReport> cpu_ospm_status() const override { return cpu_hotplug_->ospm_status(); }

private:
    std::shared_ptr<PciDevice> make_function(DeviceContext& context) override {
        refuse_sleep_states();
        pm_ = std::make_shared<Piix4Pm>(context.pio(), context.machine(),
                                        borrowed_line(context.isa_irq(pc::ACPI_SCI_IRQ)));
        return pm_;
    }
    void plugged(DeviceContext& context) override {
        context.pio().insert_or_throw(pc::GPE0_BASE, pc::GPE0_LEN, pm_->gpe0_block(), "acpi-gpe0");
        pm_->program_pm_base(pc::ACPI_PM_BASE);
        context.services().add<PowerButton>(*this);
        loop_ = &context.main_loop();
        // Weak: the I/O bus holds the registers and must not keep the
        // function (which unmaps itself from that bus) alive.
        std::weak_ptr<Piix4Pm> weak_pm = pm_;
        hotplug_ = std::make_shared<PciHotplugRegs>(
            [weak_pm] {
                if (auto pm = weak_pm.lock()) pm->raise_gpe(PciHotplugRegs::GPE_BIT);
            },
                                                    [this](unsigned slot) { post_to(eject_handler_, slot); });
        context.pio().insert_or_throw(PciHotplugRegs::BASE, PciHotplugRegs::LENGTH, hotplug_, "acpi-pci-hotplug");
        context.services().add<PciHotplugController>(*this);
        add_cpu_hotplug(context);
    }

    // Only a machine that can gain CPUs has the registers (and the DSDT's
    // CPU hotplug methods): -smp maxcpus= above cpus=.
    void add_cpu_hotplug(DeviceContext& context) {
        const auto& possible = context.board().possible_cpus;
        if (possible.size() <= context.board().cpus) return;
        std::vector<uint32_t> apic_ids;
        for (const auto& cpu : possible) apic_ids.push_back(cpu.apic_id);
        std::weak_ptr<Piix4Pm> weak_pm = pm_;
        cpu_hotplug_ = std::make_shared<CpuHotplugRegs>(
            std::move(apic_ids),
            [weak_pm] {
                if (auto pm = weak_pm.lock()) pm->raise_gpe(CpuHotplugRegs::GPE_BIT);
            },
            [this](unsigned index) { post_to(cpu_eject_handler_, index); });
        cpu_hotplug_->on_ost([this](const CpuOstReport& report) { post_to(cpu_ost_handler_, report); });
        for (unsigned i = 0; i < possible.size(); ++i)
            if (possible[i].present) cpu_hotplug_->set_present(i);
        context.pio().insert_or_throw(CpuHotplugRegs::BASE, CpuHotplugRegs::LENGTH, cpu_hotplug_, "acpi-cpu-hotplug");
        context.services().add<CpuHotplugController>(*this);
    }

    // kestrel's ACPI tables offer \_S5 only: a guest cannot suspend to RAM
    // or disk, so QEMU's switches must stay at "disabled" (libvirt sets
    // them from <pm>; enabled='yes' is refused here with this message).
    void refuse_sleep_states() const {
        for (const char* name : {"disable_s3", "disable_s4"}) {
            if (properties().uint(name) == 0)
                throw ConfigError(std::string("PIIX4_PM.") + name + "=0: kestrel has no ACPI S" + name[9] +
                                  " sleep state (only 1 is supported)");
        }
    }

    // From a vCPU thread: the machine removes devices on the main loop.
    // An eject (a PCI slot, a CPU) or a CPU's OST, to whoever listens
    // when the loop runs it.
    template <class What>
    void post_to(const std::shared_ptr<std::function<void(What)>>& handler, std::remove_cvref_t<What> what) {
        loop_->post([handler, what] {
            if (*handler) (*handler)(what);
        });
    }

    std::shared_ptr<Piix4Pm> pm_;
    std::shared_ptr<PciHotplugRegs> hotplug_;
    std::shared_ptr<CpuHotplugRegs> cpu_hotplug_;
    EventLoop* loop_ = nullptr;
    std::shared_ptr<std::function<void(unsigned)>> eject_handler_ = std::make_shared<std::function<void(unsigned)>>();
    std::shared_ptr<std::function<void(unsigned)>> cpu_eject_handler_ = std::make_shared<std::function<void(unsigned)>>();
    std::shared_ptr<std::function<void(const CpuOstReport&)>> cpu_ost_handler_ =
        std::make_shared<std::function<void(const CpuOstReport&)>>();
};

} // namespace

extern const DeviceType kPiix4PmType = {
    .name = "PIIX4_PM",
    .bus = BusKind::Pci,
    .category = DeviceCategory::Bridge,
    .description = {},
    .properties = kProperties,
    .create = &create_device<Piix4PmDevice>,
    .qom_parent = "pci-device",
    .user_creatable = false,
};

} // namespace kestrel
