"""Programs written for PJSIP's legacy ``pjsua`` module, run by tests/test_differential.py
against the legacy module and against ours (see tracer.py)."""
