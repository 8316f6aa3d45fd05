from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import render

from .services import notifications_mark_read


@login_required
def notification_list(request):
    """The person's own notifications, newest first; opening the list marks them read."""
    page = Paginator(request.user.notifications.all(), 25).get_page(request.GET.get("page"))
    unread_ids = {n.pk for n in page.object_list if n.read_at is None}
    notifications_mark_read(user=request.user)
    return render(request, "notifications/list.html", {"page": page, "unread_ids": unread_ids})
