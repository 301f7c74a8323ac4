#pragma once
// The kestrel-img commands; each takes its own argv (argv[0] = the command
// name) and returns the exit status, or throws Failure.

namespace kestrel::img {

int cmd_amend(int argc, char** argv);
int cmd_check(int argc, char** argv);
int cmd_commit(int argc, char** argv);
int cmd_compare(int argc, char** argv);
int cmd_convert(int argc, char** argv);
int cmd_create(int argc, char** argv);
int cmd_info(int argc, char** argv);
int cmd_map(int argc, char** argv);
int cmd_measure(int argc, char** argv);
int cmd_snapshot(int argc, char** argv);
int cmd_rebase(int argc, char** argv);
int cmd_resize(int argc, char** argv);

} // namespace kestrel::img
