// Built into kestrel by sanitizer builds only (the top meson.build): an
// UBSan report stops the process with a failure status, as an ASan report
// does by default. The CI stage also runs this kestrel inside the nested
// test host, which the outer run's UBSAN_OPTIONS does not reach; options
// set in the environment still override these.
extern "C" const char* __ubsan_default_options() { return "halt_on_error=1:print_stacktrace=1"; }
