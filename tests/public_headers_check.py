#!/usr/bin/env python3
"""Proves that no third-party header reaches include/quay/ (DESIGN.md, "Rules").

A compile of the public API alone cannot prove it: RapidJSON, OpenSSL,
SQLite and friends live under /usr/include, which is always on the include
path. So for every public header this checks

 1. its own #include lines: "quay/<file>.h" that exists, or <name> from the
    C++ standard library (the list below); and
 2. what the compiler actually opens when it compiles the header alone
    (-H): everything a quay header includes directly must be a quay header
    or sit in the compiler's C++ standard library or built-in directories.
    This also proves each header is self-contained.

Usage: public_headers_check.py INCLUDE_DIR COMPILER [COMPILER_ARGS...]
Exit status 1 lists every offending include.
"""
import concurrent.futures
import os
import re
import subprocess
import sys

# C++20 standard library headers (and the <c...> wrappers of C's).
STD_HEADERS = set("""
algorithm any array atomic barrier bit bitset charconv chrono codecvt compare
complex concepts condition_variable coroutine deque exception execution
expected filesystem format forward_list fstream functional future
initializer_list iomanip ios iosfwd iostream istream iterator latch limits
list locale map memory memory_resource mutex new numbers numeric optional
ostream queue random ranges ratio regex scoped_allocator semaphore set
shared_mutex source_location span sstream stack stdexcept stop_token
streambuf string string_view syncstream system_error thread tuple
type_traits typeindex typeinfo unordered_map unordered_set utility valarray
variant vector version
cassert cctype cerrno cfenv cfloat cinttypes climits clocale cmath csetjmp
csignal cstdarg cstddef cstdint cstdio cstdlib cstring ctime cuchar cwchar
cwctype
""".split())

INCLUDE_RE = re.compile(r'^\s*#\s*include\s*([<"])([^>"]+)[>"]')


def std_dirs(compiler):
    """The compiler's C++ standard library and built-in header directories."""
    out = subprocess.run(compiler + ["-xc++", "-std=c++20", "-E", "-v", os.devnull],
                         capture_output=True, text=True).stderr
    dirs, listing = [], False
    for line in out.splitlines():
        if line.startswith("#include <...> search starts here"):
            listing = True
        elif line.startswith("End of search list"):
            listing = False
        elif listing:
            d = os.path.realpath(line.strip())
            if "/c++/" in d + "/" or "/lib/gcc/" in d or "/lib/clang/" in d or "/lib/llvm" in d:
                dirs.append(d + "/")
    if not dirs:
        sys.exit("cannot tell where the C++ standard library lives:\n" + out)
    return dirs


def main():
    include_dir = os.path.realpath(sys.argv[1])
    compiler = sys.argv[2:]
    quay_dir = os.path.join(include_dir, "quay") + "/"
    allowed = std_dirs(compiler)
    headers = sorted(f for f in os.listdir(quay_dir) if f.endswith(".h"))
    problems = []

    def compile_alone(name):
        return subprocess.run(compiler + ["-std=c++20", "-fsyntax-only", "-H", "-x", "c++",
                                          "-I", include_dir, quay_dir + name],
                              capture_output=True, text=True)

    # One compile per header, as many at once as there are CPUs.
    with concurrent.futures.ThreadPoolExecutor(os.cpu_count() or 1) as pool:
        compiled = dict(zip(headers, pool.map(compile_alone, headers)))

    for name in headers:
        path = quay_dir + name
        with open(path, encoding="utf-8") as f:
            for number, line in enumerate(f, 1):
                m = INCLUDE_RE.match(line)
                if not m:
                    continue
                kind, target = m.groups()
                ok = (target.startswith("quay/") and ".." not in target and
                      os.path.isfile(os.path.join(include_dir, target))) if kind == '"' \
                    else target in STD_HEADERS
                if not ok:
                    problems.append(f"include/quay/{name}:{number}: includes "
                                    f"{kind}{target}{'>' if kind == '<' else kind}, "
                                    "neither a quay/ header nor the C++ standard library")

        # -H prints each opened header, prefixed by one dot per nesting level.
        run = compiled[name]
        if run.returncode != 0:
            problems.append(f"include/quay/{name} does not compile on its own:\n{run.stderr}")
            continue
        stack = [path]  # the includer at each depth
        for line in run.stderr.splitlines():
            m = re.match(r"^(\.+) (.*)$", line)
            if not m:
                continue
            depth, opened = len(m.group(1)), os.path.realpath(m.group(2))
            del stack[depth:]
            includer = stack[-1]
            if includer.startswith(quay_dir) and not opened.startswith(quay_dir) and \
                    not any(opened.startswith(d) for d in allowed):
                problems.append(f"include/quay/{name}: {includer[len(include_dir) + 1:]} "
                                f"pulls in {opened}, outside include/quay and the "
                                "C++ standard library")
            stack.append(opened)

    for p in problems:
        print(p)
    if problems:
        return 1
    print(f"{len(headers)} public headers include only quay/ and standard headers")
    return 0


if __name__ == "__main__":
    sys.exit(main())
