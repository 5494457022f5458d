"""The optional C accelerator of the fast decode road; everything else is in pyproject.toml.

Optional: where it cannot be compiled, the package installs without it and the same fixers run
as Python (see src/kiwoom/_fastdecode.py and src/kiwoom/_speedups.c).
"""

from setuptools import Extension, setup

setup(
    ext_modules=[Extension("kiwoom._speedups", ["src/kiwoom/_speedups.c"], optional=True)],
)
