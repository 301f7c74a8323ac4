#!/usr/bin/env python3
"""Turn a compiled AML table into a C++ source exposing its bytes.

usage: aml_to_cpp.py INPUT.aml OUTPUT.cpp FUNCTION_NAME
The function is declared in firmware/<table>.h as
    std::span<const uint8_t> FUNCTION_NAME();
"""
import sys


def main():
    src, dst, func = sys.argv[1:4]
    data = open(src, 'rb').read()
    if len(data) < 36:
        sys.exit(f'{src}: {len(data)} bytes is too short for an ACPI table')
    rows = []
    for i in range(0, len(data), 16):
        rows.append('    ' + ', '.join(f'0x{b:02x}' for b in data[i:i + 16]) + ',')
    body = '\n'.join(rows)
    out = f"""// Generated from {src.split('/')[-1]} by firmware/aml_to_cpp.py. Do not edit.
#include <cstdint>
#include <span>

namespace kestrel {{
namespace {{
const uint8_t aml[{len(data)}] = {{
{body}
}};
}} // namespace

std::span<const uint8_t> {func}() {{ return aml; }}

}} // namespace kestrel
"""
    with open(dst, 'w') as f:
        f.write(out)


if __name__ == '__main__':
    main()
