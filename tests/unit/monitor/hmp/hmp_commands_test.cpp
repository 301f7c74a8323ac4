// HMP commands other than the memory ones: texts checked against
// qemu-system-x86_64 7.2 -monitor stdio.
#include "devices/usb/tablet/usb_tablet.h"
#include "devices/usb/usb_bus.h"
#include "../../devices/fake_usb_controller.h"
#include "hmp_fakes.h"

#include <catch2/catch.hpp>

using namespace kestrel;
using namespace kestrel::hmp_test;

TEST_CASE("help lists commands sorted, help CMD shows one", "[hmp]") {
    Monitor m;
    std::string all = m.run("help");
    CHECK(all.find("cont|c  -- resume emulation\r\n") != std::string::npos);
    CHECK(all.find("x /fmt addr -- virtual memory dump starting at 'addr'\r\n") != std::string::npos);
    CHECK(all.find("balloon target --") == 0);
    CHECK(all.find("stop|s  -- stop emulation\r\n") < all.find("system_powerdown  -- send system power down event"));
    CHECK(m.run("help c") == lines({"cont|c  -- resume emulation"}));
    CHECK(m.run("? cpu") == lines({"cpu index -- set the default CPU"}));
    CHECK(m.run("help foo") == lines({"unknown command: 'foo'"}));
    CHECK(m.run("help info registers").find("info registers [-a|vcpu] -- show the cpu registers") == 0);
    std::string info = m.run("info");
    CHECK(info == m.run("help info"));
    CHECK(info.find("info balloon  -- show balloon information\r\n") == 0);
    CHECK(info.find("info status  -- show the current VM status (running|paused)\r\n") != std::string::npos);
}

TEST_CASE("unknown commands and bad arguments get qemu's texts", "[hmp]") {
    Monitor m;
    CHECK(m.run("foo") == lines({"unknown command: 'foo'"}));
    CHECK(m.run("info foo") == lines({"unknown command: 'info foo'"}));
    CHECK(m.run("   ").empty());
    CHECK(m.run("stop foo") ==
          lines({"stop|s: extraneous characters at the end of line", "Try \"help stop\" for more information"}));
    CHECK(m.run("cpu") == lines({"unexpected end of expression", "Try \"help cpu\" for more information"}));
    CHECK(m.run("cpu abc") == lines({"invalid char 'a' in expression", "Try \"help cpu\" for more information"}));
    CHECK(m.run("log") == lines({"log: string expected", "Try \"help log\" for more information"}));
    CHECK(m.run("logfile") == lines({"logfile: filename expected", "Try \"help logfile\" for more information"}));
    CHECK(m.run("info registers 1 2") == lines({"registers: extraneous characters at the end of line",
                                                "Try \"help info registers\" for more information"}));
    // Found by the hmp fuzzer: a handler that reads its own optional words
    // threw this past the monitor, and kestrel ended (std::terminate).
    CHECK(m.run("mouse_move 1") ==
          lines({"mouse_move: string expected", "Try \"help mouse_move\" for more information"}));
    CHECK(m.vm.calls.empty());
}

TEST_CASE("info status follows the run state", "[hmp]") {
    Monitor m;
    CHECK(m.run("info status") == lines({"VM status: paused (prelaunch)"}));
    CHECK(m.run("c").empty());
    CHECK(m.run("info status") == lines({"VM status: running"}));
    CHECK(m.run("stop").empty());
    CHECK(m.run("info status") == lines({"VM status: paused"}));
    m.vm.state = {"shutdown", false};
    CHECK(m.run("info status") == lines({"VM status: paused (shutdown)"}));
    CHECK(m.run("cont") == lines({"Error: Resetting the Virtual Machine is required"}));
    m.vm.state = {"internal-error", false};
    CHECK(m.run("info status") == lines({"VM status: paused (internal-error)"}));
    CHECK(m.vm.calls == std::vector<std::string>{"cont", "stop"});
}

TEST_CASE("lifecycle commands reach the machine", "[hmp]") {
    Monitor m;
    CHECK(m.run("system_reset").empty());
    CHECK(m.run("system_powerdown").empty());
    CHECK(m.run("nmi").empty());
    CHECK(m.run("q").empty());
    CHECK(m.vm.calls == std::vector<std::string>{"system_reset", "system_powerdown", "nmi", "quit"});
}

TEST_CASE("info name, uuid, version, kvm, chardev", "[hmp]") {
    Monitor m;
    CHECK(m.run("info name").empty());
    m.vm.vm_name = "guest1";
    CHECK(m.run("info name") == lines({"guest1"}));
    CHECK(m.run("info uuid") == lines({"00000000-0000-0000-0000-000000000000"}));
    m.services.qemu_package = " (kestrel)";
    CHECK(m.run("info version") == lines({"7.2.0 (kestrel)"}));
    CHECK(m.run("info kvm") == lines({"kvm support: enabled"}));
    CHECK(m.run("info chardev") == lines({"compat_monitor0: filename=stdio", "serial0: filename=pty:/dev/pts/3"}));
    CHECK(m.run("info mtree") == lines({"text of mtree"}));
}

TEST_CASE("cpu N moves the current vCPU of info cpus and info registers", "[hmp]") {
    Monitor m;
    CHECK(m.run("info cpus") == lines({"* CPU #0: thread_id=4100", "  CPU #1: thread_id=4101"}));
    CHECK(m.run("info registers").find("\r\nCPU#0\r\nRAX=0000000000000000 ") == 0);
    CHECK(m.run("cpu 1").empty());
    CHECK(m.run("info cpus") == lines({"  CPU #0: thread_id=4100", "* CPU #1: thread_id=4101"}));
    CHECK(m.run("info registers").find("\r\nCPU#1\r\nRAX=0000000000000001 ") == 0);
    CHECK(m.run("cpu 2") == lines({"invalid CPU index"}));
    CHECK(m.state.current_cpu == 1);
    CHECK(m.run("info registers 0").find("\r\nCPU#0\r\nRAX=0000000000000000 ") == 0);
    CHECK(m.run("info registers 5") == lines({"CPU#5 not available"}));
    std::string all = m.run("info registers -a");
    CHECK(all.find("\r\nCPU#0\r\n") == 0);
    CHECK(all.find("\r\nCPU#1\r\n") != std::string::npos);
}

TEST_CASE("info pci uses qemu's layout", "[hmp]") {
    Monitor m;
    PciFunctionInfo host;
    host.vendor_id = 0x8086, host.device_id = 0x1237, host.subsystem_vendor_id = 0x1af4, host.subsystem_id = 0x1100;
    host.description = "Host bridge";
    PciFunctionInfo nic;
    nic.slot = 2, nic.vendor_id = 0x8086, nic.device_id = 0x100e;
    nic.subsystem_vendor_id = 0x1af4, nic.subsystem_id = 0x1100;
    nic.description = "Ethernet controller", nic.qdev_id = "n1", nic.irq_pin = 1, nic.irq_line = 11;
    nic.bars = {{0, false, false, false, 0xfebc0000, 0x20000}, {1, true, false, false, 0xc000, 0x40}};
    PciFunctionInfo vga;
    vga.slot = 3, vga.vendor_id = 0x1234, vga.device_id = 0x1111, vga.class_code = 3, vga.subclass = 0;
    vga.bars = {{0, false, false, true, 0xfd000000, 0x1000000}, {2, false, true, false, 0xfe000000, 0x1000}};
    m.vm.pci = {host, nic, vga};
    CHECK(m.run("info pci") == lines({
                                   "  Bus  0, device   0, function 0:",
                                   "    Host bridge: PCI device 8086:1237",
                                   "      PCI subsystem 1af4:1100",
                                   "      id \"\"",
                                   "  Bus  0, device   2, function 0:",
                                   "    Ethernet controller: PCI device 8086:100e",
                                   "      PCI subsystem 1af4:1100",
                                   "      IRQ 11, pin A",
                                   "      BAR0: 32 bit memory at 0xfebc0000 [0xfebdffff].",
                                   "      BAR1: I/O at 0xc000 [0xc03f].",
                                   "      id \"n1\"",
                                   "  Bus  0, device   3, function 0:",
                                   "    Class 0768: PCI device 1234:1111",  // QEMU prints the class in decimal there
                                   "      BAR0: 32 bit prefetchable memory at 0xfd000000 [0xfdffffff].",
                                   "      BAR2: 64 bit memory at 0xfe000000 [0xfe000fff].",
                                   "      id \"\"",
                               }));
}

TEST_CASE("log, logfile and absent devices", "[hmp]") {
    Monitor m;
    CHECK(m.run("log in_asm,int").empty());
    CHECK(m.vm.log_items == "in_asm,int");
    CHECK(m.run("log foo") == lines({"Log items (comma separated):", "none            remove all logs"}));
    CHECK(m.run("logfile \"/tmp/k.log\"").empty());
    CHECK(m.vm.log_file == "/tmp/k.log");
    CHECK(m.run("balloon 100") == lines({"Error: No balloon device has been activated"}));
    CHECK(m.run("info balloon") == lines({"Error: No balloon device has been activated"}));
    CHECK(m.run("info usb") == lines({"Error: USB support not enabled"}));
    CHECK(m.run("device_del foo") == lines({"Error: Device 'foo' not found"}));
    CHECK(m.run("screendump x.ppm") == lines({"Error: There is no console to take a screendump from"}));
}

// qemu 7.2 with -device piix3-usb-uhci -device usb-tablet,id=input0,port=2 -device usb-tablet
// (QEMU puts a hub in front of the last free port; kestrel has no hub).
TEST_CASE("info usb lists the attached devices", "[hmp]") {
    Monitor m;
    UsbBuses buses;
    m.vm.registry.add<UsbBuses>(buses);
    CHECK(m.run("info usb") == lines({"Error: USB support not enabled"}));
    test::FakeUsbController hc;
    buses.add(hc);
    CHECK(m.run("info usb").empty());
    UsbTablet a, b;
    buses.attach(a, "", "2", "input0");
    CHECK(m.run("info usb") == lines({"  Device 0.0, Port 2, Speed 12 Mb/s, Product QEMU USB Tablet, ID: input0"}));
    buses.attach(b, "", "");
    CHECK(m.run("info usb") == lines({"  Device 0.0, Port 2, Speed 12 Mb/s, Product QEMU USB Tablet, ID: input0",
                                      "  Device 0.0, Port 1, Speed 12 Mb/s, Product QEMU USB Tablet"}));
}
