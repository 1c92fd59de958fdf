"""deploy/nginx/beacon.conf in front of the REST channel, for real, on loopback.

nginx terminates TLS and forwards to Beacon's REST channel with ``BEACON_PROXY_COUNT=1``:
the channel reads each client's own address (staff networks, per-address limits), and a
client's forged ``X-Forwarded-For`` is not believed (``_proxy_checks.py``).
"""

from __future__ import annotations

import shutil

import pytest

from tests.bot._under_rasa import assert_checks_pass, needs_bot_python


@needs_bot_python
def test_the_shipped_nginx_config_forwards_the_client_address() -> None:
    # Debian puts nginx in /usr/sbin, which a user's PATH may lack.
    nginx = shutil.which("nginx") or shutil.which("nginx", path="/usr/sbin")
    if nginx is None:
        pytest.skip("no nginx (make test installs Debian's nginx-light)")
    if shutil.which("openssl") is None:
        pytest.skip("no openssl to make the test's throwaway certificate")
    assert_checks_pass(
        "_proxy_checks.py", drop_env_prefixes=("BEACON_",), extra_env={"NGINX": nginx}
    )
