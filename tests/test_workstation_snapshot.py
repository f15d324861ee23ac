"""The workstation proof's snapshots, on outputs recorded in host1 for a person with
state of their own (``tests/fixtures/workstation``): parsing, stable fields, and the
comparison that must catch what a careless cleanup would do."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

from harness.proofs import workstation as ws

FIXTURES = Path(__file__).parent / "fixtures" / "workstation"


def read(name: str) -> str:
    return (FIXTURES / name).read_text()


def recorded() -> ws.Snapshot:
    return {
        "containers": ws.stable(json.loads(read("podman-ps.json"))),
        "units": ws.parse_columns(read("list-units.txt"), 4),
        "unit_and_quadlet_files": ws.parse_hashes(read("find-printf.txt"), read("sha256sum.txt")),
        "sysctls": ws.parse_sysctls(read("sysctl-a.txt")),
    }


def test_units_are_name_load_active_sub() -> None:
    units = ws.parse_columns(read("list-units.txt"), 4)
    assert ["podnet-mine.service", "loaded", "active", "exited"] in units
    assert all(len(unit) == 4 for unit in units)


def test_files_carry_content_hashes_and_link_targets() -> None:
    rows = {row[0]: row for row in recorded()["unit_and_quadlet_files"]}
    unit = rows["/home/alice/.config/systemd/user/podnet-mine.service"]
    assert unit[1:4] == ["f", "644", "alice"] and len(unit[4]) == 64
    link = rows["/home/alice/.config/systemd/user/default.target.wants/podnet-mine.service"]
    assert link[4] == "-> /home/alice/.config/systemd/user/podnet-mine.service"
    assert rows["/home/alice/.config/systemd/user/default.target.wants"][4] == ""


def test_every_setting_and_no_counters() -> None:
    keys = [key for key, _ in ws.parse_sysctls(read("sysctl-a.txt"))]
    assert "net.ipv4.ip_unprivileged_port_start" in keys
    assert "kernel.hostname" in keys, "settings beyond net.* are in the snapshot"
    assert "net.netfilter.nf_conntrack_count" not in keys
    assert not {"fs.file-nr", "kernel.random.uuid", "fs.quota.lookups"} & set(keys)


def test_time_alone_changes_nothing() -> None:
    entries = json.loads(read("podman-ps.json"))
    later = copy.deepcopy(entries)
    for entry in later:
        entry["Status"] = "Up 3 hours"
        entry["CreatedAt"] = "3 hours ago"
    assert ws.stable(later) == ws.stable(reversed(entries))
    networks = [{"name": "podman", "id": "2f25", "created": "2026-11-28T12:59:25Z"}]
    assert ws.stable(networks) == ws.stable([{**networks[0], "created": "2026-11-28T13:01:00Z"}])


def test_identical_snapshots_have_no_differences() -> None:
    assert ws.differences(recorded(), recorded()) == []


def test_a_removed_container_of_the_person_is_reported() -> None:
    before = recorded()
    after = copy.deepcopy(before)
    after["containers"] = [c for c in after["containers"] if c["Names"] != ["podnet-mine"]]
    lines = ws.differences(before, after)
    assert len(lines) == 1 and lines[0].startswith('containers: gone: ["podnet-mine"] ')


def test_changes_are_reported_by_name_and_field() -> None:
    before = recorded()
    after = copy.deepcopy(before)
    for row in after["unit_and_quadlet_files"]:
        if row[0].endswith("podnet-mine-web.container"):
            row[4] = "0" * 64
    after["sysctls"] = [[k, "80" if k == "net.ipv4.ip_unprivileged_port_start" else v]
                        for k, v in after["sysctls"]]
    after["units"].append(["podnet-web.service", "loaded", "failed", "failed"])
    for container in after["containers"]:
        if container["Names"] == ["podnet-mine"]:
            container["State"] = "exited"
    lines = ws.differences(before, after)
    assert len(lines) == 4, lines
    assert any(line.startswith("unit_and_quadlet_files: changed: /home/alice/.config/containers/"
                               "systemd/podnet-mine-web.container: ") for line in lines)
    assert ('sysctls: changed: net.ipv4.ip_unprivileged_port_start: '
            '["net.ipv4.ip_unprivileged_port_start", "1024"] -> '
            '["net.ipv4.ip_unprivileged_port_start", "80"]') in lines
    assert "units: new: podnet-web.service" in lines
    assert any(line.startswith('containers: changed: ["podnet-mine"] ')
               and line.endswith('State: "running" -> "exited"') for line in lines)


def test_routes_are_compared_whole() -> None:
    routes = [{"dst": "default", "gateway": "192.0.2.10", "dev": "eth0"},
              {"dst": "192.0.2.0/24", "dev": "eth0", "prefsrc": "192.0.2.1"}]
    lines = ws.differences({"routes": routes}, {"routes": routes[1:]})
    assert lines == ['routes: gone: {"dev": "eth0", "dst": "default", "gateway": "192.0.2.10"}']


def result(outcome: str, reason: str = "") -> dict[str, Any]:
    return {"claim_id": "source.pasta", "outcome": outcome, "reason": reason}


def test_errors_caused_by_a_missing_image_are_found() -> None:
    results = [
        result("passed"),
        result("error", "CommandError: podman exited 125: Error: localhost/podnet/web:latest: "
                        "image not known"),
        result("error", "CommandError: curl exited 7: connection refused"),
        result("skipped", "image not known"),
    ]
    assert ws.missing_image_errors(results) == [f"source.pasta: {results[1]['reason']}"]
    assert ws.outcome_counts(results) == {"error": 2, "passed": 1, "skipped": 1}
