#!/usr/bin/env python3
"""Reads the addon target of binding.gyp and writes it as CMake variables, so that
CMakeLists.txt (cmake-js) builds exactly what node-gyp builds: the same sources, defines,
include directories and C++ flags. A key this script does not translate is an error, not
something the CMake build silently leaves out.

usage: binding_gyp.py <binding.gyp> <output.cmake>
"""
import ast
import os
import subprocess
import sys

KNOWN = {"target_name", "sources", "include_dirs", "defines", "cflags", "cflags!", "cflags_cc", "cflags_cc!"}


def cmake_list(values):
    for v in values:
        if any(c in v for c in ';"\\$'):
            sys.exit(f"binding_gyp.py: cannot pass {v!r} to CMake")
    return '"' + ";".join(values) + '"'


def expand(value, root):
    # gyp's command expansion "<!(command)": the command's output, run from the gyp file's directory.
    if value.startswith("<!(") and value.endswith(")"):
        out = subprocess.run(value[3:-1], shell=True, cwd=root, check=True, capture_output=True, text=True)
        return out.stdout.strip()
    if "<" in value or ">" in value:
        sys.exit(f"binding_gyp.py: unsupported gyp expansion in {value!r}")
    return value


def main():
    gyp_path, out_path = sys.argv[1], sys.argv[2]
    root = os.path.dirname(os.path.abspath(gyp_path))
    with open(gyp_path) as f:
        gyp = ast.literal_eval(f.read())
    if set(gyp) != {"targets"} or len(gyp["targets"]) != 1:
        sys.exit("binding_gyp.py: binding.gyp must hold exactly one target and nothing else")
    target = gyp["targets"][0]
    unknown = sorted(set(target) - KNOWN)
    if unknown:
        sys.exit(f"binding_gyp.py: binding.gyp has {', '.join(unknown)}, which CMakeLists.txt does not translate")
    include_dirs = [os.path.normpath(os.path.join(root, expand(d, root))) for d in target.get("include_dirs", [])]
    lines = [
        f'set(GYP_TARGET_NAME "{target["target_name"]}")',
        f'set(GYP_SOURCES {cmake_list(target["sources"])})',
        f'set(GYP_INCLUDE_DIRS {cmake_list(include_dirs)})',
        f'set(GYP_DEFINES {cmake_list(target.get("defines", []))})',
        f'set(GYP_CFLAGS {cmake_list(target.get("cflags", []))})',
        f'set(GYP_CFLAGS_REMOVE {cmake_list(target.get("cflags!", []))})',
        f'set(GYP_CFLAGS_CC {cmake_list(target.get("cflags_cc", []))})',
        f'set(GYP_CFLAGS_CC_REMOVE {cmake_list(target.get("cflags_cc!", []))})',
    ]
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")


main()
