"""Command-line interface (placeholder until the pipeline lands)."""


def main() -> None:
    """Entry point of the ``mouseface`` console script."""
    raise SystemExit(1)
