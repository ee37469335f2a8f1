"""mouseface.expression."""
