"""Active isolation probes (control ``isolation.no-outbound-leak``, 违规外联).

A prober inside an isolated zone sends ICMP echo, TCP SYN and UDP DNS packets to the canaries
declared for the zones it must never reach; a canary on the forbidden side records the probes
that arrive. Every probe carries a signed token, so a canary only counts probes that govnet
sent, recently, once.

Modules, in the order data flows:

- :mod:`~govnet.isolation.probe.token`: the token (HMAC-SHA256 over probe id, protocol,
  source IP/MAC, host, time and nonce), its text form, and the verifier (unsigned, forged,
  expired and replayed tokens are rejected);
- :mod:`~govnet.isolation.probe.packets`: building probe packets and reading tokens out of
  captured ones (scapy);
- :mod:`~govnet.isolation.probe.prober`: which canaries a zone must be probed against, the
  privilege check, sending, waiting, and the probe run it stores;
- :mod:`~govnet.isolation.probe.canary`: the receiver (scapy sniffer), evidence and heartbeats
  to the store;
- :mod:`~govnet.isolation.probe.results`: verdicts (``isolated`` / ``LEAK`` / ``error``)
  derived from what was sent and what arrived, read back from the store;
- :mod:`~govnet.isolation.probe.overview`: ``govnet isolation report``: the static, L2 and
  probe angles per pair of isolated zones.

Scapy is imported only by ``packets``, ``prober.send`` and ``canary.run`` (it costs half a
second), so the rest stays cheap to import.
"""
