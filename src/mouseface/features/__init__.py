"""mouseface.features."""
