// tls.hpp: the thread-local storage model of prio's hot per-thread pointers.
//
// In a shared library a thread_local defaults to the general-dynamic model:
// every access calls __tls_get_addr. The few pointers read on every task
// switch (current executor, task, coroutine context, dispatch worker) use
// the initial-exec model instead, one %fs-relative load. They take 8 bytes
// each of the static TLS block, which glibc reserves room for even when
// libprio is loaded with dlopen.
#pragma once

#define PRIO_HOT_TLS [[gnu::tls_model("initial-exec")]]
