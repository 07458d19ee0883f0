"""Ringfence: ring-fenced ANPR read store, charging and accountable police access."""

from ringfence.errors import RingfenceError

__version__ = "0.1.0"
__all__ = ["RingfenceError", "__version__"]
