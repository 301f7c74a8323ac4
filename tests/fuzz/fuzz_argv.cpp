// The command line parser on whole argv vectors: the input's NUL-separated
// strings are argv[1..]. Parsing must end in a Config, in nothing (help,
// -version) or in an error for the user (a std::runtime_error such as
// ConfigError, with a message); a logic_error (std::out_of_range from a
// conversion, ...) means a check is missing and the user would see a
// meaningless message.
#include "argv_fuzz.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
    kestrel::fuzz::ByteReader in(data, size);
    std::vector<std::string> args;
    while (!in.done() && args.size() < 256) args.push_back(in.cstring());
    kestrel::fuzz::parse_args(args);
    return 0;
}
