"""The embedded lab: simulated SSH devices and SNMP agents on loopback addresses."""
