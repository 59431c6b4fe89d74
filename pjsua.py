"""The legacy module's name: ``import pjsua`` gives pjsua-ffi's API unchanged, so code
written for PJSIP's old Python module runs as it is."""

from pjsua_ffi import *  # noqa: F401,F403
from pjsua_ffi import __all__, __version__  # noqa: F401
