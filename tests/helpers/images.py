"""Small local test images for Docker tests: busybox httpd on a scratch base, no registry needed.

The image serves ``/www`` with ``busybox httpd`` on ``$PORT`` (host networking),
answers ``/health`` with ``health_status`` (a CGI, so 503 is possible) and
prints a start line naming its version to stdout. Builds are idempotent: an
image whose content label matches is reused, so a second call takes
milliseconds; different versions are different images with their own creation
time.
"""

from __future__ import annotations

import contextlib
import hashlib
import io
import socket
import tarfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

BUSYBOX = Path("/bin/busybox")
LABEL = "rbt.test.content"

_DOCKERFILE = """\
FROM scratch
COPY busybox /bin/busybox
COPY www /www
LABEL {label}="{digest}" rbt.test.version="{version}"
ENV PORT=8080
# httpd as PID 1 has no SIGTERM handler; without this every stop/restart waits the full 10 s.
STOPSIGNAL SIGKILL
CMD ["/bin/busybox", "sh", "-c", "echo \\"rbt-test {version} listening on $PORT\\"; \
exec /bin/busybox httpd -f -vv -p $PORT -h /www"]
"""

_HEALTHCHECK = """\
HEALTHCHECK --interval=1s --timeout=2s --retries=1 \
CMD ["/bin/busybox", "sh", "-c", "/bin/busybox wget -q -O /dev/null http://127.0.0.1:$PORT/cgi-bin/health"]
"""

_HEALTH_CGI = """\
#!/bin/busybox sh
echo "Status: {status} {reason}"
echo "Content-Type: application/json"
echo ""
echo '{{"status": {status}, "version": "{version}", "database": "{database}"}}'
"""


def _add(tar: tarfile.TarFile, name: str, data: bytes, mode: int = 0o644) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    info.mode = mode
    info.mtime = 0  # fixed, so the same content gives the same build cache key
    tar.addfile(info, io.BytesIO(data))


def _context(version: str, health_status: int, healthcheck: bool) -> tuple[bytes, str]:
    """The build context as a tar (bytes) and the content digest it carries as a label."""
    reason = "OK" if health_status < 400 else "Service Unavailable"
    database = "connected" if health_status < 400 else "disconnected"
    cgi = _HEALTH_CGI.format(status=health_status, reason=reason, version=version, database=database)
    busybox = BUSYBOX.read_bytes()
    template = _DOCKERFILE + (_HEALTHCHECK if healthcheck else "")
    digest = hashlib.sha256(busybox + cgi.encode() + version.encode() + template.encode()).hexdigest()[:16]
    dockerfile = template.format(label=LABEL, digest=digest, version=version)
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w") as tar:
        _add(tar, "Dockerfile", dockerfile.encode())
        _add(tar, "busybox", busybox, 0o755)
        _add(tar, "www/index.html", f"rbt-test {version}\n".encode())
        _add(tar, "www/version", f"{version}\n".encode())
        _add(tar, "www/cgi-bin/health", cgi.encode(), 0o755)
    return buffer.getvalue(), digest


def _existing(client: Any, tags: Sequence[str], digest: str) -> Any | None:
    from docker.errors import ImageNotFound

    found = None
    for tag in tags:
        try:
            image = client.images.get(tag)
        except ImageNotFound:
            return None
        if (image.labels or {}).get(LABEL) != digest or (found is not None and image.id != found.id):
            return None
        found = image
    return found


def build_test_image(
    client: Any,
    tags: Sequence[str],
    *,
    version: str = "",
    health_status: int = 200,
    healthcheck: bool = False,
) -> Any:
    """Build (or reuse) the test image and give it every tag in ``tags``; returns the Image.

    With ``healthcheck`` the image declares a Docker HEALTHCHECK (every second) on its health CGI.
    """
    if not tags:
        raise ValueError("give at least one tag")
    version = version or tags[0].rsplit(":", 1)[-1]
    context, digest = _context(version, health_status, healthcheck)
    image = _existing(client, tags, digest)
    if image is not None:
        return image
    image, _logs = client.images.build(fileobj=io.BytesIO(context), custom_context=True, tag=tags[0], rm=True)
    for tag in tags[1:]:
        repository, _, name = tag.rpartition(":")
        image.tag(repository, name)
    image.reload()
    return image


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def run_test_container(client: Any, image: str, name: str, port: int) -> Any:
    """Start ``image`` as container ``name`` on the host network serving ``port``; waits until it answers."""
    from docker.errors import NotFound

    with contextlib.suppress(NotFound):
        client.containers.get(name).remove(force=True)
    container = client.containers.run(
        image, name=name, detach=True, network_mode="host", environment={"PORT": str(port)}
    )
    wait_for_port(port)
    return container


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    """Wait until something accepts connections on 127.0.0.1:``port``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listening on 127.0.0.1:{port} after {timeout}s") from None
            time.sleep(0.05)
