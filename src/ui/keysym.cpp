#include "ui/keysym.h"

#include "ui/qcode.h"

#include <array>
#include <string_view>

namespace kestrel {

namespace {

struct Mapping {
    uint32_t keysym;
    std::string_view key;
};

// Printable ASCII (keysym = character) by the key that types it.
constexpr std::string_view kAsciiKeys[95] = {
    "spc",       "1",      "apostrophe",    "3",     "4",          "5",     "7",           "apostrophe",
    "9",         "0",      "8",             "equal", "comma",      "minus", "dot",         "slash",
    "0",         "1",      "2",             "3",     "4",          "5",     "6",           "7",
    "8",         "9",      "semicolon",     "semicolon", "comma",  "equal", "dot",         "slash",
    "2",         "a",      "b",             "c",     "d",          "e",     "f",           "g",
    "h",         "i",      "j",             "k",     "l",          "m",     "n",           "o",
    "p",         "q",      "r",             "s",     "t",          "u",     "v",           "w",
    "x",         "y",      "z",             "bracket_left", "backslash", "bracket_right", "6", "minus",
    "grave_accent", "a",   "b",             "c",     "d",          "e",     "f",           "g",
    "h",         "i",      "j",             "k",     "l",          "m",     "n",           "o",
    "p",         "q",      "r",             "s",     "t",          "u",     "v",           "w",
    "x",         "y",      "z",             "bracket_left", "backslash", "bracket_right", "grave_accent",
};

constexpr Mapping kSpecial[] = {
    {0xff08, "backspace"},  {0xff09, "tab"},         {0xff0a, "lf"},          {0xff0d, "ret"},
    {0xff13, "pause"},      {0xff14, "scroll_lock"}, {0xff15, "sysrq"},       {0xff1b, "esc"},
    {0xff50, "home"},       {0xff51, "left"},        {0xff52, "up"},          {0xff53, "right"},
    {0xff54, "down"},       {0xff55, "pgup"},        {0xff56, "pgdn"},        {0xff57, "end"},
    {0xff61, "print"},      {0xff63, "insert"},      {0xff67, "compose"},     {0xff7f, "num_lock"},
    {0xff8d, "kp_enter"},   {0xff95, "kp_7"},        {0xff96, "kp_4"},        {0xff97, "kp_8"},
    {0xff98, "kp_6"},       {0xff99, "kp_2"},        {0xff9a, "kp_9"},        {0xff9b, "kp_3"},
    {0xff9c, "kp_1"},       {0xff9d, "kp_5"},        {0xff9e, "kp_0"},        {0xff9f, "kp_decimal"},
    {0xffaa, "kp_multiply"}, {0xffab, "kp_add"},     {0xffac, "kp_comma"},    {0xffad, "kp_subtract"},
    {0xffae, "kp_decimal"}, {0xffaf, "kp_divide"},   {0xffb0, "kp_0"},        {0xffb1, "kp_1"},
    {0xffb2, "kp_2"},       {0xffb3, "kp_3"},        {0xffb4, "kp_4"},        {0xffb5, "kp_5"},
    {0xffb6, "kp_6"},       {0xffb7, "kp_7"},        {0xffb8, "kp_8"},        {0xffb9, "kp_9"},
    {0xffbd, "kp_equals"},  {0xffbe, "f1"},          {0xffbf, "f2"},          {0xffc0, "f3"},
    {0xffc1, "f4"},         {0xffc2, "f5"},          {0xffc3, "f6"},          {0xffc4, "f7"},
    {0xffc5, "f8"},         {0xffc6, "f9"},          {0xffc7, "f10"},         {0xffc8, "f11"},
    {0xffc9, "f12"},        {0xffe1, "shift"},       {0xffe2, "shift_r"},     {0xffe3, "ctrl"},
    {0xffe4, "ctrl_r"},     {0xffe5, "caps_lock"},   {0xffe7, "meta_l"},      {0xffe8, "meta_r"},
    {0xffe9, "alt"},        {0xffea, "alt_r"},       {0xffeb, "meta_l"},      {0xffec, "meta_r"},
    {0xffff, "delete"},     {0xfe03, "alt_r"},
};

} // namespace

unsigned keysym_to_qcode(uint32_t keysym) {
    if (keysym >= 0x20 && keysym <= 0x7e) return qcode_by_name(kAsciiKeys[keysym - 0x20]).value_or(0);
    for (const Mapping& m : kSpecial)
        if (m.keysym == keysym) return qcode_by_name(m.key).value_or(0);
    return 0;
}

} // namespace kestrel
