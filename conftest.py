"""Shared pytest settings: hypothesis runs without deadlines (these machines are shared and noisy)."""

from hypothesis import settings

settings.register_profile("default", deadline=None, max_examples=60)
settings.load_profile("default")
