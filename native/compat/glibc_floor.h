// Forced into every C++ file of the prebuilds (binding.gyp, abyss_prebuild==1: -include) so
// that an addon compiled on a current Debian loads on glibc 2.28 (RHEL 8, Debian 10): it may
// need no glibc symbol version newer than GLIBC_2.28. libstdc++ is linked statically there
// (-static-libstdc++), so its version does not matter; .ci/glibc-floor.sh checks the result.
//
// Three kinds of newer symbols turn up, each handled here without touching the sources:
//  - functions a newer glibc re-versioned (pthread_* moved into libc in 2.34, exp/log/pow
//    lost their error wrappers in 2.29): pinned to the old version (glibc_floor_pins.h);
//  - __libc_single_threaded (2.32), read by libstdc++'s reference counts, in the headers and
//    in libstdc++.a: defined here, hidden, as 0 (`the process may have threads`), which is
//    always true in Node.js and only means the atomic path is taken, as it is in Node anyway;
//  - arc4random (2.36), which libstdc++.a's std::random_device refers to and pulls in with
//    std::string: defined here, hidden, on getentropy (2.25). The addon does not use it.
// The two definitions are weak: every file holds one, the link keeps one, and it binds the
// references from libstdc++.a too, before libc.so.6 is looked at.
#pragma once

#include <features.h>
#if !defined(__GLIBC__)
#error "glibc_floor.h is for glibc builds (the prebuilds); other C libraries have their own ABI"
#endif

#include <stdint.h>
#include <stdlib.h>
#include <unistd.h>
#if __has_include(<sys/single_threaded.h>)
#include <sys/single_threaded.h>
#endif

#include "glibc_floor_pins.h"

extern "C" {

__attribute__((weak, visibility("hidden"))) char __libc_single_threaded = 0;

__attribute__((weak, visibility("hidden"))) uint32_t arc4random(void) noexcept {
  uint32_t value;
  // getentropy blocks only until the kernel's pool is ready, as arc4random does; it cannot
  // fail for 4 bytes into valid memory, so a failure is a broken system, not a result.
  if (getentropy(&value, sizeof value) != 0) abort();
  return value;
}

}  // extern "C"
