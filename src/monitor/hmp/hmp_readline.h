#pragma once
// The HMP line editor over a raw terminal, byte for byte like QEMU's
// readline: printable bytes insert at the cursor, Backspace/DEL delete
// before it, Ctrl-D and ESC[3~ at it, Ctrl-A/ESC[1~/ESC O H go home,
// Ctrl-E/ESC[4~/ESC O F go to the end, ESC[C/ESC[D move, Ctrl-W deletes the
// word before the cursor, ESC[A/ESC[F and ESC[B/ESC[E walk the history, Tab completes,
// Ctrl-L clears the screen, CR or LF ends the line. (QEMU has no Ctrl-K,
// Ctrl-U, Ctrl-B or Ctrl-F; neither has this.)
//
// Echo is QEMU's: after each key, if the line changed, the cursor goes back
// to the line start, the whole line is printed followed by ESC[K, then the
// cursor moves to its place with ESC[C/ESC[D. Output lines end in "\n"; the
// session turns them into "\r\n" as QEMU's monitor does.
#include "monitor/hmp/hmp_history.h"

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace kestrel {

// The candidates for the word that ends at the cursor.
struct HmpCompletion {
    size_t word_length = 0;            // how much of the candidates is typed
    std::vector<std::string> candidates;
};
using HmpCompleter = std::function<HmpCompletion(std::string_view before_cursor)>;

class HmpReadline {
public:
    static constexpr size_t kMaxLine = 4095;

    HmpReadline(HmpHistory& history, std::string prompt, HmpCompleter completer = {});

    // Handles one input byte; echo goes to `out`. Returns the line when
    // Enter ends one (the line is already in the history).
    std::optional<std::string> feed(uint8_t byte, std::string& out);
    // Prints the prompt; the line is redrawn from scratch on the next key.
    void show_prompt(std::string& out);
    // Forgets the partial line (QEMU does so when a mux gives it focus).
    void restart();

    const std::string& line() const { return line_; }
    size_t cursor() const { return cursor_; }

private:
    enum class EscState { Normal, Esc, Csi, Ss3 };

    std::optional<std::string> feed_normal(uint8_t byte, std::string& out);
    void feed_csi(uint8_t byte);
    void feed_ss3(uint8_t byte);
    std::string enter(std::string& out);
    void insert(char c);
    void backspace();
    void delete_at_cursor();
    void delete_word_before_cursor();
    void history_up();
    void history_down();
    void complete(std::string& out);
    void print_candidates(std::vector<std::string> candidates, std::string& out);
    void render(std::string& out);

    HmpHistory& history_;
    std::string prompt_;
    HmpCompleter completer_;
    std::string line_;
    size_t cursor_ = 0;
    std::string drawn_;                // the line as the terminal shows it
    size_t drawn_cursor_ = 0;
    EscState esc_ = EscState::Normal;
    unsigned esc_param_ = 0;
    std::optional<size_t> history_pos_;  // entry shown by up/down, if any
};

} // namespace kestrel
