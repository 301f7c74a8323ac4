#include "monitor/hmp/hmp_readline.h"

#include <algorithm>

namespace kestrel {

namespace {
constexpr uint8_t kCtrlA = 1, kCtrlD = 4, kCtrlE = 5, kBackspace = 8, kTab = 9, kLf = 10,
                  kCtrlL = 12, kCr = 13, kCtrlW = 23, kEsc = 27, kDel = 127, kCsi8bit = 155;

void repeat(std::string& out, std::string_view seq, size_t n) {
    for (size_t i = 0; i < n; ++i) out += seq;
}
} // namespace

HmpReadline::HmpReadline(HmpHistory& history, std::string prompt, HmpCompleter completer)
    : history_(history), prompt_(std::move(prompt)), completer_(std::move(completer)) {}

void HmpReadline::show_prompt(std::string& out) {
    out += prompt_;
    drawn_.clear();
    drawn_cursor_ = 0;
    esc_ = EscState::Normal;
}

void HmpReadline::restart() {
    line_.clear();
    cursor_ = 0;
    history_pos_.reset();
}

std::optional<std::string> HmpReadline::feed(uint8_t byte, std::string& out) {
    std::optional<std::string> done;
    switch (esc_) {
    case EscState::Normal:
        done = feed_normal(byte, out);
        break;
    case EscState::Esc:
        esc_ = byte == '[' ? EscState::Csi : byte == 'O' ? EscState::Ss3 : EscState::Normal;
        esc_param_ = 0;
        break;
    case EscState::Csi:
        feed_csi(byte);
        break;
    case EscState::Ss3:
        feed_ss3(byte);
        break;
    }
    if (!done) render(out);
    return done;
}

std::optional<std::string> HmpReadline::feed_normal(uint8_t byte, std::string& out) {
    switch (byte) {
    case kCtrlA: cursor_ = 0; break;
    case kCtrlD: delete_at_cursor(); break;
    case kCtrlE: cursor_ = line_.size(); break;
    case kTab: complete(out); break;
    case kCtrlL:
        out += "\033[2J\033[1;1H";
        show_prompt(out);
        break;
    case kLf:
    case kCr: return enter(out);
    case kCtrlW: delete_word_before_cursor(); break;
    case kEsc: esc_ = EscState::Esc; break;
    case kBackspace:
    case kDel: backspace(); break;
    case kCsi8bit:
        esc_ = EscState::Csi;
        esc_param_ = 0;
        break;
    default:
        if (byte >= 32) insert(static_cast<char>(byte));
        break;
    }
    return std::nullopt;
}

void HmpReadline::feed_csi(uint8_t byte) {
    if (byte >= '0' && byte <= '9') {
        esc_param_ = esc_param_ * 10 + (byte - '0');
        return;
    }
    switch (byte) {
    case 'A':
    case 'F': history_up(); break;     // qemu treats ESC[F and ESC[E as up/down too
    case 'B':
    case 'E': history_down(); break;
    case 'C': cursor_ = std::min(cursor_ + 1, line_.size()); break;
    case 'D': if (cursor_ > 0) --cursor_; break;
    case '~':
        if (esc_param_ == 1) cursor_ = 0;
        if (esc_param_ == 3) delete_at_cursor();
        if (esc_param_ == 4) cursor_ = line_.size();
        break;
    default: break;
    }
    esc_ = EscState::Normal;
}

void HmpReadline::feed_ss3(uint8_t byte) {
    if (byte == 'H') cursor_ = 0;
    if (byte == 'F') cursor_ = line_.size();
    esc_ = EscState::Normal;
}

std::string HmpReadline::enter(std::string& out) {
    std::string done = std::move(line_);
    history_.add(done);
    out += "\n";
    line_.clear();
    cursor_ = 0;
    drawn_.clear();
    drawn_cursor_ = 0;
    history_pos_.reset();
    return done;
}

void HmpReadline::insert(char c) {
    if (line_.size() >= kMaxLine) return;
    line_.insert(line_.begin() + static_cast<std::ptrdiff_t>(cursor_), c);
    ++cursor_;
}

void HmpReadline::backspace() {
    if (cursor_ == 0) return;
    line_.erase(--cursor_, 1);
}

void HmpReadline::delete_at_cursor() {
    if (cursor_ < line_.size()) line_.erase(cursor_, 1);
}

// Spaces before the cursor, then the word before them.
void HmpReadline::delete_word_before_cursor() {
    size_t start = cursor_;
    while (start > 0 && line_[start - 1] == ' ') --start;
    while (start > 0 && line_[start - 1] != ' ') --start;
    line_.erase(start, cursor_ - start);
    cursor_ = start;
}

void HmpReadline::history_up() {
    if (history_.size() == 0 || history_pos_ == size_t{0}) return;
    history_pos_ = history_pos_.value_or(history_.size()) - 1;
    line_ = history_.at(*history_pos_);
    cursor_ = line_.size();
}

void HmpReadline::history_down() {
    if (!history_pos_) return;
    if (*history_pos_ + 1 < history_.size()) {
        line_ = history_.at(++*history_pos_);
    } else {
        line_.clear();
        history_pos_.reset();
    }
    cursor_ = line_.size();
}

// One candidate: it is completed and a space added. Several: their common
// prefix is completed and all of them are listed under the line.
void HmpReadline::complete(std::string& out) {
    if (!completer_) return;
    HmpCompletion found = completer_(std::string_view(line_).substr(0, cursor_));
    auto& cands = found.candidates;
    if (cands.empty()) return;
    if (cands.size() == 1) {
        for (size_t i = found.word_length; i < cands[0].size(); ++i) insert(cands[0][i]);
        if (!cands[0].empty() && cands[0].back() != '/') insert(' ');
        return;
    }
    std::sort(cands.begin(), cands.end());
    size_t prefix = cands[0].size();
    for (const auto& c : cands) {
        size_t i = 0;
        while (i < prefix && i < c.size() && c[i] == cands[0][i]) ++i;
        prefix = i;
    }
    for (size_t i = found.word_length; i < prefix; ++i) insert(cands[0][i]);
    print_candidates(std::move(cands), out);
}

// QEMU's layout: columns (longest + 2) wide, 80 columns of text.
void HmpReadline::print_candidates(std::vector<std::string> candidates, std::string& out) {
    size_t width = 0;
    for (const auto& c : candidates) width = std::max(width, c.size());
    width = std::clamp<size_t>(width + 2, 10, 80);
    size_t columns = 80 / width, column = 0;
    out += "\n";
    for (size_t i = 0; i < candidates.size(); ++i) {
        out += candidates[i];
        out.append(width - std::min(width, candidates[i].size()), ' ');
        if (++column == columns || i + 1 == candidates.size()) {
            out += "\n";
            column = 0;
        }
    }
    show_prompt(out);
}

void HmpReadline::render(std::string& out) {
    if (line_ != drawn_) {
        repeat(out, "\033[D", drawn_cursor_);
        out += line_;
        out += "\033[K";
        drawn_ = line_;
        drawn_cursor_ = line_.size();
    }
    if (cursor_ > drawn_cursor_) repeat(out, "\033[C", cursor_ - drawn_cursor_);
    if (cursor_ < drawn_cursor_) repeat(out, "\033[D", drawn_cursor_ - cursor_);
    drawn_cursor_ = cursor_;
}

} // namespace kestrel
