"""Production settings plus one bare view (bench/_bench_urls.py), for the intake comparison."""

from portal.settings import *  # noqa: F403

ROOT_URLCONF = "_bench_urls"
