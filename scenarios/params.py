"""Helpers of the suites: pytest parameters made from claims."""

from __future__ import annotations

from typing import Any

import pytest

from harness.claims import Claim
from harness.methods import all_methods


def method_params(claims: list[Claim], protocols: bool = False) -> list[Any]:
    """pytest params for claims, with readable ids and the method families as marks."""
    methods = all_methods()
    params = []
    for claim in claims:
        method = methods[claim.method] if claim.method else None
        marks = [getattr(pytest.mark, f) for f in (method.families if method else ())]
        if method is not None and method.beyond_guide:
            marks.append(pytest.mark.beyond_guide)
        for proto in (claim.protocols or ("tcp",)) if protocols else (None,):
            ident = claim.method or claim.id
            params.append(pytest.param(claim, proto, marks=marks,
                                       id=f"{ident}-{proto}" if proto else ident))
    return params
