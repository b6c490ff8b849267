"""Trading sessions (Asia, Europe, US, off hours) and per-session parameters.

Pure functions in ``clock``, ``schedule``, ``parameters`` and ``columns``; validated settings in
``settings``; the Freqtrade-facing plugin in ``plugin``; the per-session trade report in
``report``. See docs/sessions.md.
"""
