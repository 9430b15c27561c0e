#!/usr/bin/env python3
"""Reads the addon target of binding.gyp and writes it as CMake variables, so that
CMakeLists.txt (cmake-js) builds exactly what node-gyp builds: the same sources, defines,
include directories, C++ flags and link flags. A key this script does not translate is an
error, not something the CMake build silently leaves out.

The target's "conditions" are evaluated as gyp evaluates them: against its "variables"
(a name ending in % is a default) overridden by GYP_DEFINES from the environment, which gyp
itself reads too, so `GYP_DEFINES=abyss_prebuild=1` picks the same variant in either build.

usage: binding_gyp.py <binding.gyp> <output.cmake>
"""
import ast
import os
import shlex
import subprocess
import sys

LISTS = {"sources", "include_dirs", "defines", "cflags", "cflags!", "cflags_cc", "cflags_cc!", "ldflags"}
KNOWN = LISTS | {"target_name", "variables", "conditions"}


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


def gyp_value(text):
    # gyp reads a variable that looks like an integer as one ("1" == 1 in a condition).
    try:
        return int(text)
    except ValueError:
        return text


def variables_of(target):
    values = {}
    for name, value in target.get("variables", {}).items():
        values[name.rstrip("%")] = gyp_value(value) if isinstance(value, str) else value
    for define in shlex.split(os.environ.get("GYP_DEFINES", "")):
        name, _, value = define.partition("=")
        values[name] = gyp_value(value)
    return values


def apply_conditions(target):
    # gyp appends the lists of every condition that holds (or of its else-branch) to the target's.
    values = variables_of(target)
    for condition in target.get("conditions", []):
        if len(condition) not in (2, 3):
            sys.exit(f"binding_gyp.py: a condition is [expression, then] or [expression, then, else]: {condition!r}")
        expression, branches = condition[0], condition[1:]
        chosen = branches[0] if eval(expression, {"__builtins__": {}}, values) else (branches[1:] or [{}])[0]
        unknown = sorted(set(chosen) - LISTS)
        if unknown:
            sys.exit(f"binding_gyp.py: the condition {expression!r} sets {', '.join(unknown)}, which this script does not merge")
        for key, items in chosen.items():
            target[key] = target.get(key, []) + items


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
    apply_conditions(target)
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
        f'set(GYP_LDFLAGS {cmake_list(target.get("ldflags", []))})',
    ]
    with open(out_path, "w") as f:
        f.write("\n".join(lines) + "\n")


main()
