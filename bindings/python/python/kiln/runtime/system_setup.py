"""Driver discovery, under the name IREE's Python API uses (``iree.runtime.system_setup``)."""

from .._kiln import create_device, get_driver, load_driver_plugin, query_available_drivers

__all__ = ["create_device", "get_driver", "load_driver_plugin", "query_available_drivers"]
