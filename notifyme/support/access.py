"""Who may see the support pages: signed-in Django staff, nobody else.

An anonymous visitor is sent to the admin login (and back); a signed-in non-staff user gets a
403. A merchant's `Authorization: Bearer <ID token>` is not a Django session, so it counts as
anonymous here: merchant credentials never open a support page.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps
from typing import Any

from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, JsonResponse

View = Callable[..., HttpResponse]


def staff_required(view: View) -> View:
    @wraps(view)
    def guarded(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        user = request.user
        if not user.is_authenticated:
            return redirect_to_login(request.get_full_path(), login_url="/admin/login/")
        if not (user.is_active and user.is_staff):
            return JsonResponse({"error": {"code": "forbidden",
                                           "message": "Support pages are for staff only."}},
                                status=403)
        return view(request, *args, **kwargs)
    return guarded
