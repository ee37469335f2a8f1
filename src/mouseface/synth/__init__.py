"""mouseface.synth."""
