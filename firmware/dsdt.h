#pragma once
// The pc machine's DSDT as compiled from firmware/dsdt.asl. The ACPI table
// builder patches the placeholder Names (PHLO, COMP) before publishing it.
#include <cstdint>
#include <span>

namespace kestrel {

std::span<const uint8_t> dsdt_aml();

} // namespace kestrel
