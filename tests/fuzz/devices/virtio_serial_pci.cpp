// virtio-serial-pci under the generic device register fuzzer, with a
// virtserialport on the fuzzer's chardev and a virtconsole without one:
// control messages, port data both ways (host input from the fuzzer),
// wild chains on any of its queues (guest RAM is the fuzzer's 1 MiB).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "virtio-serial-pci",
    .properties = {{"max_ports", "4"}},
    .children = {{"virtserialport", "", {{"chardev", "fuzz"}, {"name", "org.qemu.guest_agent.0"}}},
                 {"virtconsole", "", {}}},
};
