"""Config text for people: secrets masked, volatile lines normalised.

Masking is applied wherever device text leaves govnet (diffs, audit evidence, reports, the
store's findings) and to stored backups (:func:`stored_text`; ``backup --keep-secrets`` keeps
the device's own text). Reversible vendor "encryption" (Cisco 7, Huawei/H3C ``cipher``) and
hashes are masked like plain text: public tools undo the first, the second can be cracked.
Well-known default values (``public``, ``private``) stay visible: they are findings, not
secrets.
"""

from __future__ import annotations

import re

from govnet.platforms import Platform
from govnet.secrets import MASK, REDACTOR

KNOWN_DEFAULTS = frozenset({"public", "private"})
# words after "password"/"secret" that name a setting, not a secret value
NOT_SECRETS = frozenset(
    {
        "policy",
        "control",
        "expire",
        "history",
        "complexity",
        "recovery",
        "min-length",
        "length",
        "aging",
        "composition",
        "encryption",
        "alert-before-expire",
        "restricted",
    }
)

# keyword, optional qualifier (encryption type / cipher / simple …), then the secret token
_SECRET = re.compile(
    r"""(?ix)
    (?P<head>
      \b(?:
          password | secret | irreversible-cipher | pre-shared-key | key-string
        | (?:snmp-agent\s+)?community(?:\s+(?:read|write))?
        | snmp-server\s+community
        | authentication-mode\s+\S+ | privacy-mode\s+\S+
        | auth\s+(?:md5|sha\S*) | priv\s+(?:3des|des|aes\S*(?:\s+(?:128|192|256))?)
        | key(?=\s+[0-9]\s)
      )
      (?:\s+(?:cipher|simple|hash|irreversible-cipher|encrypted|[0-9]))?
      \s+
    )
    (?P<secret>[^\s]+)
    """
)


def mask_line(line: str) -> str:
    def repl(m: re.Match[str]) -> str:
        secret = m["secret"]
        if secret.lower() in KNOWN_DEFAULTS or secret.lower() in NOT_SECRETS or secret == MASK:
            return m.group(0)
        return m["head"] + MASK

    return REDACTOR(_SECRET.sub(repl, line))


def mask_secrets(text: str) -> str:
    """Mask passwords, keys and communities in config text, line by line."""
    return "\n".join(mask_line(line) for line in text.split("\n"))


def stored_text(text: str, keep_secrets: bool = False) -> str:
    """What the store keeps of a config: masked as every display masks it (README "Secrets"),
    or the device's own text with ``--keep-secrets``."""
    return text if keep_secrets else mask_secrets(text)


def normalise(text: str, platform: Platform) -> str:
    """Drop volatile lines (timestamps, byte counts) and trailing blanks; unify newlines."""
    volatile = platform.volatile_re
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")
    out = [ln.rstrip() for ln in lines if not (volatile and volatile.search(ln))]
    while out and not out[-1]:
        out.pop()
    while out and not out[0]:
        out.pop(0)
    return "\n".join(out) + "\n"
