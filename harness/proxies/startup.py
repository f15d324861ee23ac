"""Start a proxy's service and poll it from host1 until it answers 200.

One shell script on host1, so the first request follows ``systemctl start`` returning
(the unit active) by milliseconds rather than by a client round trip.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import takewhile

from harness.proxies.units import ProxyUnit

MAX_REQUESTS = 300


@dataclass(frozen=True)
class Startup:
    start_rc: int
    start_seconds: float
    #: (seconds after the unit became active, HTTP status or 0 for no answer)
    replies: list[tuple[float, int]] = field(default_factory=list)

    @property
    def active(self) -> bool:
        return self.start_rc == 0

    @property
    def first_status(self) -> int | None:
        return self.replies[0][1] if self.replies else None

    @property
    def seconds_to_200(self) -> float | None:
        return next((t for t, status in self.replies if status == 200), None)

    @property
    def not_found(self) -> int:
        """404 answers before the first 200."""
        return sum(status == 404 for _, status in takewhile(lambda r: r[1] != 200, self.replies))

    def summary(self) -> dict[str, object]:
        return {"start_rc": self.start_rc, "start_seconds": round(self.start_seconds, 3),
                "first_status_after_active": self.first_status,
                "not_found_before_200": self.not_found,
                "seconds_active_to_200": (round(self.seconds_to_200, 3)
                                          if self.seconds_to_200 is not None else None),
                "requests": len(self.replies)}


def script(service: str, url: str, max_requests: int = MAX_REQUESTS) -> str:
    return (
        "t0=$(date +%s.%N); "
        f"systemctl --user start {service} >/dev/null 2>&1; rc=$?; "
        "t1=$(date +%s.%N); echo \"start $rc $t0 $t1\"; [ $rc -eq 0 ] || exit 0; i=0; "
        f"while [ $i -lt {max_requests} ]; do "
        f"c=$(curl -s -o /dev/null -w '%{{http_code}}' --max-time 2 '{url}'); "
        "echo \"reply $(date +%s.%N) $c\"; [ \"$c\" = 200 ] && break; i=$((i+1)); done"
    )


def parse(output: str) -> Startup:
    rc, t0, t1 = 1, 0.0, 0.0
    replies: list[tuple[float, int]] = []
    for line in output.splitlines():
        parts = line.split()
        if parts[:1] == ["start"] and len(parts) == 4:
            rc, t0, t1 = int(parts[1]), float(parts[2]), float(parts[3])
        elif parts[:1] == ["reply"] and len(parts) == 3:
            replies.append((float(parts[1]) - t1, int(parts[2]) if parts[2].isdigit() else 0))
    return Startup(rc, t1 - t0, replies)


def start_and_poll(unit: ProxyUnit, timeout: float) -> tuple[Startup, str]:
    url = f"http://{unit.target.main_address}:{unit.port}/?podnet-startup"
    done = unit.target.run(["sh", "-c", script(unit.service, url)], timeout=timeout + 60)
    return parse(done.stdout), done.stdout
