"""Programs written for PJSIP's legacy ``pjsua`` module, run by tests/test_legacy_diff.py
against the legacy module and against ours (see tracer.py)."""
