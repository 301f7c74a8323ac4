// PIIX4_PM of a machine that can gain vCPUs (-smp 2,maxcpus=8): the ACPI
// CPU hotplug registers at 0xaf00 beside the PM, GPE0 and PCI hotplug
// ones, under the generic device register fuzzer (device_fuzzer.h).
#include "device_fuzzer.h"

const kestrel::fuzz::DeviceFuzzSpec kestrel::fuzz::kDeviceFuzzSpec{
    .type = "PIIX4_PM",
    .properties = {{"addr", "1.3"}},
    .cpus = 2,
    .max_cpus = 8,
};
