"""setuptools hook: the cffi extension is defined in build_pjsip.py."""

from setuptools import setup

setup(cffi_modules=["build_pjsip.py:ffibuilder"])
