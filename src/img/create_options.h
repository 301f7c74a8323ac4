#pragma once
// qemu-img's -o options for creating raw and qcow2 images: parsing
// ("a=b,c=d", "help"), the "-o help" listing, QEMU's checks, and the
// "Formatting 'X', fmt=..." line in QEMU's option order.
#include "block/qcow2/qcow2_create.h"

#include <map>
#include <string>
#include <vector>

namespace kestrel::img {

struct CreateRequest {
    std::string filename;
    std::string format = "raw";
    std::map<std::string, std::string> options;  // -o, as given (after -b/-F/size merged in)
    bool quiet = false;
    bool unsafe_backing = false;  // -u: do not open the backing file
};

// Splits "-o" text into options (later values win); "help" → options["help"].
// Failure "Invalid option list: ..." for malformed text.
void parse_create_options(const std::string& text, std::map<std::string, std::string>& out);

// Prints "-o help" for the format and returns.
void print_create_help(const std::string& format);

// Checks, prints "Formatting ..." (unless quiet), creates. Throws Failure
// with QEMU's texts ("X: Unknown file format 'Y'", ...).
void create_image(CreateRequest request);

// Whether the format is one kestrel-img creates and opens.
bool known_format(const std::string& format);

} // namespace kestrel::img
