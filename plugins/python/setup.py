"""The C extension of the cashback package, for pip (pyproject.toml).

libcashback is found with `pkg-config libcashback`, or through
CASHBACK_INCLUDE_DIR and CASHBACK_LIB_DIR (a build tree: include/ and
.libs/). `make` builds the same extension without pip (configure.ac).
"""
import os
import shlex
import subprocess

from setuptools import Extension, setup


def libcashback():
    inc = os.environ.get("CASHBACK_INCLUDE_DIR")
    lib = os.environ.get("CASHBACK_LIB_DIR")
    if inc or lib:
        return {"include_dirs": [inc] if inc else [],
                "library_dirs": [lib] if lib else [],
                "libraries": ["cashback"]}
    try:
        out = subprocess.run(["pkg-config", "--cflags", "--libs", "libcashback"],
                             check=True, stdout=subprocess.PIPE, text=True).stdout
    except (OSError, subprocess.CalledProcessError):
        raise SystemExit("cashback: libcashback not found: install it (make "
                         "install) or set CASHBACK_INCLUDE_DIR and "
                         "CASHBACK_LIB_DIR")
    flags = shlex.split(out)
    return {"include_dirs": [f[2:] for f in flags if f.startswith("-I")],
            "library_dirs": [f[2:] for f in flags if f.startswith("-L")],
            "libraries": [f[2:] for f in flags if f.startswith("-l")] or ["cashback"]}


setup(ext_modules=[Extension("cashback._native", ["cashback/_native.c"],
                             extra_compile_args=["-std=c11"], **libcashback())])
