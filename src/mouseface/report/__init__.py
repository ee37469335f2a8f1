"""mouseface.report."""
