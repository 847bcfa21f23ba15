"""Settings for bench/api.py: the project's own, with the bare view's route added, so one
server process (started from the Procfile's `web` line) serves the baseline and the API
alike and the runs alternate against the same process."""

from config.settings import *  # noqa: F403

ROOT_URLCONF = "bench.bare"
