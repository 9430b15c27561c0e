{
  "targets": [
    {
      "target_name": "abyss_transport",
      "sources": [
        "native/addon.cc",
        "native/address.cc",
        "native/cmsg.cc",
        "native/environment.cc",
        "native/loop_libuv.cc",
        "native/loop_thread.cc",
        "native/options.cc",
        "native/plain.cc",
        "native/readiness.cc",
        "native/receive.cc",
        "native/registry.cc",
        "native/segments.cc",
        "native/send.cc",
        "native/socket.cc"
      ],
      "include_dirs": ["<!(node -p \"require('node-addon-api').include_dir\")"],
      "defines": [
        "NAPI_VERSION=8",
        "NODE_ADDON_API_DISABLE_DEPRECATED",
        "NODE_ADDON_API_CPP_EXCEPTIONS",
        "NODE_ADDON_API_CPP_EXCEPTIONS_ALL",
        "NODE_API_SWALLOW_UNTHROWABLE_EXCEPTIONS"
      ],
      "cflags!": ["-fno-exceptions"],
      "cflags_cc!": ["-fno-exceptions", "-std=gnu++17"],
      "cflags_cc": ["-std=c++17", "-fexceptions", "-Wall", "-Wextra", "-Wno-unused-parameter", "-Wno-missing-field-initializers"],
      "variables": {"abyss_prebuild%": 0},
      "conditions": [
        ["abyss_prebuild==1", {
          "include_dirs": ["native/compat"],
          "cflags_cc": ["-include", "glibc_floor.h", "-fvisibility=hidden", "-fvisibility-inlines-hidden"],
          "ldflags": ["-static-libstdc++", "-Wl,--exclude-libs,ALL"]
        }]
      ]
    }
  ]
}
