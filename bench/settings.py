"""The shop's own settings, plus the benchmark's bare view when BENCH_ROUTES=1.

Only `make bench` uses this module (DJANGO_SETTINGS_MODULE=bench.settings for the
web server it starts): production keeps `config.settings` and `config.urls`.
Everything else, the database included, comes from the environment as usual.
"""

import os

from config.settings import *  # noqa: F403 - the same settings, one line changed

if os.environ.get("BENCH_ROUTES") == "1":
    ROOT_URLCONF = "bench.urls"
