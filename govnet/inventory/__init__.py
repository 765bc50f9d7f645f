"""The inventory: zones, sites, units, devices, terminals and links, validated on load."""

from govnet.inventory.loader import load_inventory
from govnet.inventory.model import Device, Inventory, Terminal
from govnet.inventory.select import Filters, select_devices, select_terminals

__all__ = [
    "Device",
    "Filters",
    "Inventory",
    "Terminal",
    "load_inventory",
    "select_devices",
    "select_terminals",
]
