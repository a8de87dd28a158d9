"""`assistant serve --zeroconf NAME` announces the server as _wyoming._tcp, as Home Assistant looks for it.

Home Assistant itself cannot run here, so a zeroconf browser (the `zeroconf` package Home Assistant uses) stands
in for it. Both run in a private network namespace of their own (`unshare --net`) whose loopback carries
multicast: the announcement never reaches any real network.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap

from running_assistant import REPO

BROWSE = textwrap.dedent("""
    import sys, time
    from zeroconf import ServiceBrowser, Zeroconf

    found = {}

    class Listener:
        def add_service(self, zc, kind, name):
            found[name] = zc.get_service_info(kind, name, timeout=3000)

        def update_service(self, *args):
            pass

        def remove_service(self, *args):
            pass

    zc = Zeroconf(interfaces=["127.0.0.1"])
    ServiceBrowser(zc, "_wyoming._tcp.local.", Listener())
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and not found:
        time.sleep(0.2)
    for name, info in found.items():
        print(name, info.port if info else None, ",".join(info.parsed_addresses()) if info else None)
    zc.close()
""")

NAMESPACE = """
set -e
ip link set lo up
ip link set lo multicast on
ip route add 224.0.0.0/4 dev lo
"$PYTHON" -m assistant serve --uri tcp://127.0.0.1:10799 --zeroconf kitchen-test --no-log 2> "$LOG" &
server=$!
trap 'kill $server' EXIT
"$PYTHON" -c "$BROWSE"
"""


def test_zeroconf_announces_the_server_for_home_assistant(tmp_path):
    log = tmp_path / "serve.log"
    env = {"PATH": "/usr/sbin:/usr/bin:/sbin:/bin", "PYTHON": sys.executable, "BROWSE": BROWSE, "LOG": str(log),
           "HOME": str(tmp_path), "XDG_CONFIG_HOME": str(tmp_path / "config"),
           "XDG_DATA_HOME": str(tmp_path / "data")}
    result = subprocess.run(["unshare", "--net", "bash", "-c", NAMESPACE], capture_output=True, text=True,
                            cwd=REPO, env=env, timeout=180)
    assert result.returncode == 0, f"{result.stderr}\n{log.read_text() if log.exists() else ''}"
    assert result.stdout.split() == ["kitchen-test._wyoming._tcp.local.", "10799", "127.0.0.1"], log.read_text()
    assert "announced on the network as kitchen-test" in log.read_text()
