#pragma once
// The RTC as -rtc asks for it.
#include <ctime>
#include <string>

namespace kestrel {

struct RtcConfig {
    enum class Base { Utc, Localtime, Date };
    Base base = Base::Utc;
    std::time_t date = 0;    // with Base::Date: seconds since the epoch (UTC)
    std::string clock = "host";     // host | rt | vm
    std::string driftfix = "none";  // none | slew
};

} // namespace kestrel
