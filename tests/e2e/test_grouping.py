"""The e2e tests share the local stacks one xdist worker starts: they must all run in that worker."""

from __future__ import annotations

import pytest


def test_given_xdist_loadgroup_then_this_e2e_test_is_in_the_e2e_group(request):
    # Given a run distributed with --dist loadgroup (make test)
    if not getattr(request.config.option, "loadgroup", False):
        pytest.skip("not distributed by xdist's loadgroup (a plain pytest run has one process anyway)")
    # Then xdist scheduled it as part of the e2e group (its node id carries the group), so no second
    # worker starts its own copy of the stacks (pytest 9.2.0 silently broke this: pytest-xdist #1386)
    assert request.node.nodeid.endswith("@e2e")
