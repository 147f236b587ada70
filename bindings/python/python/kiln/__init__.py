"""kiln: an ahead-of-time ML compiler and embeddable runtime.

``kiln.compiler`` compiles models to ``.kiln`` modules; ``kiln.runtime`` loads and runs them
on HAL devices with NumPy arrays.
"""

from . import compiler, runtime

__all__ = ["compiler", "runtime"]
