# Sourced by scripts/build.sh and scripts/sanitize.sh: compile through ccache
# (Debian's, installed by scripts/install-deps.sh) when it is there. CI runs on
# a fresh clone each time, at a new path, and is CPU-bound; with the cache in
# $HOME (~/.cache/ccache) only the files a change touched are compiled again.
# The settings let a clone at another path hit: paths relative to the clone
# (base_dir), the working directory left out of the hash (the sanitized
# build's line tables then name the first clone's folder), and the
# precompiled headers' macros and fresh mtimes accepted (sloppiness).
if command -v ccache >/dev/null; then
  CCACHE=ccache
  export CCACHE_BASEDIR=$PWD CCACHE_NOHASHDIR=1
  export CCACHE_SLOPPINESS=pch_defines,time_macros,include_file_mtime,include_file_ctime
else
  CCACHE=
fi
