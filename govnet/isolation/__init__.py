"""Isolation between zones that must never touch (政务内网 / 政务外网 / 互联网).

Three independent angles, each a check kind of the audit:

- :mod:`~govnet.isolation.static` — configurations and the inventory's links: an address,
  route, VLAN or cable that joins isolated zones other than through a gap (``isolation-static``,
  control ``isolation.no-cross-zone-path``);
- :mod:`~govnet.isolation.correlate` — switches' ARP and MAC tables (collected by
  :mod:`govnet.collect.tables`): one MAC in two isolated zones (一机两用) and MACs nobody
  declared (``isolation-l2``, controls ``isolation.no-dual-homed-host`` and
  ``isolation.no-unknown-device``);
- active probes towards canaries (``isolation.no-outbound-leak``, in
  :mod:`govnet.isolation.probe`).
"""
