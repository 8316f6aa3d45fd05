from django.contrib import admin

from .models import Notification


@admin.register(Notification)
class NotificationAdmin(admin.ModelAdmin):
    list_display = ("recipient", "kind", "subject", "created_at", "emailed_at", "read_at")
    list_filter = ("kind", "emailed_at", "read_at")
    search_fields = ("recipient__email", "subject", "key")
    list_select_related = ("recipient",)

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False
