"""mouseface.io."""
