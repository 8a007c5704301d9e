// tools/main.cpp — the `uinet` command (placeholder until subcommands land).
#include <cstdio>

int main() {
    std::puts("uinet: no subcommands yet");
    return 0;
}
