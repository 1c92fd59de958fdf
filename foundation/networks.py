"""IP addresses and networks from clients and the environment, read one way everywhere.

Standard library only: the bot environment (Python 3.10, Rasa) imports it too.
"""

from __future__ import annotations

import ipaddress
import os
from typing import Union

from foundation.exceptions import ConfigError

Address = Union[ipaddress.IPv4Address, ipaddress.IPv6Address]  # noqa: UP007 (Python 3.10)
Network = Union[ipaddress.IPv4Network, ipaddress.IPv6Network]  # noqa: UP007 (Python 3.10)


def client_address(address: str) -> Address | None:
    """``address`` parsed, a ``%zone`` dropped and IPv4-mapped IPv6 read as IPv4; None if none."""
    try:
        parsed = ipaddress.ip_address(address.split("%", 1)[0])
    except ValueError:
        return None
    if isinstance(parsed, ipaddress.IPv6Address) and parsed.ipv4_mapped is not None:
        return parsed.ipv4_mapped
    return parsed


def networks_from_env(name: str, default: tuple[Network, ...] = ()) -> tuple[Network, ...]:
    """The comma-separated networks in environment variable ``name``; ``default`` when unset.

    Raises:
        ConfigError: An entry is not a network such as ``10.20.0.0/16`` or ``fd00:1::/64``.
    """
    entries = [e.strip() for e in os.environ.get(name, "").split(",") if e.strip()]
    if not entries:
        return default
    networks = []
    for entry in entries:
        try:
            networks.append(ipaddress.ip_network(entry, strict=False))
        except ValueError:
            raise ConfigError(
                f"{name} must list networks separated by commas, such as 10.20.0.0/16 or "
                f"fd00:1::/64; '{entry[:50]}' is not one"
            ) from None
    return tuple(networks)
