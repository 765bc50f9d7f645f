"""Antivirus status: who is covered, whose signatures are stale, who runs a standalone edition.

Every source is an adapter that yields :class:`~govnet.store.avrecords.AvRecord` (one normalised
record per endpoint and product):

- console exports (CSV, XLSX, JSON) read with a per-vendor column mapping
  (``playbooks/av-sources.yaml``; :mod:`govnet.av.exports`), Windows Defender's
  ``Get-MpComputerStatus | ConvertTo-Json`` being one more mapping;
- SNMP HOST-RESOURCES-MIB software lists on servers (:mod:`govnet.av.snmp`);
- ClamAV over SSH on Linux servers (:mod:`govnet.av.clamav`).

Imports are kept as snapshots in the store (:mod:`govnet.store.av`) with the date they were
taken; signature ages are computed against that date. :mod:`govnet.av.join` ties records to
inventory terminals and servers (MAC, then IP, then host name), :mod:`govnet.av.policy` judges
them (the ``antivirus`` check kind and ``govnet av status`` share it) and
:mod:`govnet.av.operations` is what the CLI calls.
"""
