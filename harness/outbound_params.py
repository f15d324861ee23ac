"""Turning outbound claims (scenarios/claims/outbound.toml) into pytest params and URLs."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

import pytest

from harness.claims import Claim
from harness.methods import all_methods


class _Keep(dict[str, str]):
    """format_map mapping that leaves unknown placeholders (``{gateway}``) in place."""

    def __missing__(self, key: str) -> str:
        return "{" + key + "}"


def expand(text: str, values: Mapping[str, object]) -> str:
    return text.format_map(_Keep({k: str(v) for k, v in values.items()}))


def urls(claim: Claim, port: int, path: str, values: Mapping[str, object],
         key: str = "connect") -> list[str]:
    """The claim's ``connect`` candidates (or those of ``key``, e.g. ``shown``: tried and
    reported, never counted) as URLs, ``udp://HOST:PORT`` for a UDP claim; a candidate
    without a port gets ``port``."""
    hosts = [expand(entry, values) for entry in claim.extra.get(key, ())]
    hostports = [host if ":" in host else f"{host}:{port}" for host in hosts]
    if claim.protocols == ("udp",):
        return [f"udp://{hostport}" for hostport in hostports]
    return [f"http://{hostport}{path}" for hostport in hostports]


def params(claims: Iterable[Claim], *extra_marks: Any) -> list[Any]:
    """One param per claim, id = claim id without its area prefix; method families
    become marks, and claims flagged ``security = true`` get the security mark too."""
    methods = all_methods()
    found = []
    for claim in claims:
        method = methods.get(claim.method or "")
        marks = [getattr(pytest.mark, f) for f in (method.families if method else ())]
        if claim.extra.get("security"):
            marks.append(pytest.mark.security)
        found.append(pytest.param(claim, marks=[*marks, *extra_marks],
                                  id=claim.id.split(".", 1)[-1]))
    return found


def run_args(claim: Claim, values: Mapping[str, object]) -> Sequence[str]:
    return [expand(a, values) for a in claim.extra.get("run_args", ())]
