"""Tillit: customer-managed relationships.

The customer steers; the company listens. See README.md for the architecture.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
