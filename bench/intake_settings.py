"""Settings for the intake benchmark's server only: production settings with the bench URLconf.

``python -m bench.intake`` starts gunicorn with ``DJANGO_SETTINGS_MODULE=bench.intake_settings``;
nothing else uses this module, so the baseline view is never mounted in production.
"""

import os

os.environ.setdefault("WANGGE_BENCH", "1")

from governance.settings import *  # noqa: F403

ROOT_URLCONF = "bench.intake_site"
