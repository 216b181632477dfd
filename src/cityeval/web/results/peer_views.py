"""The coordinator's distribution page: each component's median, quartiles and range over the
cycle's regions, nationally and within each group (docs/peers.md).

Kept apart from the national page so that page stays fast. The national coordinator only:
anonymous visitors are sent to log in, every other user gets 403, before and after
publication alike.
"""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from cityeval.web.accounts.access import require_coordinator
from cityeval.web.results.peers import cycle_distribution
from cityeval.web.results.selectors import results_access


@login_required
def distribution(request: HttpRequest, cycle: str) -> HttpResponse:
    require_coordinator(request.user)
    access = results_access(request.user, cycle)
    run = access.require_run()
    context = {
        "access": access,
        "cycle": access.cycle,
        "run": run,
        "framework": access.framework,
        "distributions": cycle_distribution(access),
    }
    return render(request, "results/distribution.html", context)
