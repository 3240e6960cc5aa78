"""commhub: partner communication scheduler."""

__version__ = "0.1.0"
