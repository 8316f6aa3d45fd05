from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.urls import reverse
from django.utils.html import format_html

from core.admin import stripe_link

from .models import User, UserProfile


class UserProfileInline(admin.StackedInline):
    model = UserProfile
    can_delete = False
    readonly_fields = (
        "stripe_id",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "requirements",
        "tos_accepted_at",
        "tos_ip",
    )


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = ("email", "first_name", "last_name", "is_staff", "date_joined")
    search_fields = ("email", "first_name", "last_name", "profile__stripe_id")
    inlines = [UserProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)


@admin.register(UserProfile)
class UserProfileAdmin(admin.ModelAdmin):
    list_display = ("user", "role", "display_name", "stripe_id", "charges_enabled")
    list_filter = ("role", "charges_enabled", "payouts_enabled", "details_submitted")
    search_fields = ("user__email", "display_name", "stripe_id")
    list_select_related = ("user",)
    readonly_fields = (
        "user",
        "role",
        "stripe_account",
        "charges_enabled",
        "payouts_enabled",
        "details_submitted",
        "requirements",
        "tos_accepted_at",
        "tos_ip",
        "debits",
    )
    exclude = ("stripe_id",)

    @admin.display(description="Stripe")
    def stripe_account(self, obj):
        return stripe_link(obj.stripe_id)

    @admin.display(description="Debits")
    def debits(self, obj):
        if not obj.is_contractor:
            return "—"
        add = reverse("admin:payments_contractordebit_add") + f"?contractor={obj.user_id}"
        listing = reverse("admin:payments_contractordebit_changelist") + (
            f"?contractor__id__exact={obj.user_id}"
        )
        return format_html(
            '<a class="button" href="{}">Debit this contractor…</a> <a href="{}">Past debits</a>',
            add,
            listing,
        )
