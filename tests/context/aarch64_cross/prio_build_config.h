// prio_build_config.h for the AArch64 cross-built context tests
// (tests/context/meson.build): the context layer only reads these; that
// build has no sanitizers, no Valgrind header and no mimalloc.
#pragma once
#define PRIO_HAVE_MIMALLOC 0
#define PRIO_SANITIZE_ADDRESS 0
#define PRIO_SANITIZE_THREAD 0
#define PRIO_HAVE_VALGRIND_H 0
