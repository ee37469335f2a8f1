"""mouseface.face."""
