from django.apps import apps
from django.contrib import admin
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.urls import reverse
from django.utils.html import format_html
from knox.models import AuthToken

from core.admin import stripe_link

from .models import CustomerEmailSync, User, UserProfile


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


# What grants permissions; only superusers may edit it (see UserAdmin, GroupAdmin).
PERMISSION_FIELDS = ["is_superuser", "groups", "user_permissions"]


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    ordering = ("email",)
    list_display = (
        "email",
        "first_name",
        "last_name",
        "is_staff",
        "email_verified_at",
        "date_joined",
    )
    search_fields = ("email", "first_name", "last_name", "profile__stripe_id")
    inlines = [UserProfileInline]
    fieldsets = (
        (None, {"fields": ("email", "password")}),
        ("Personal info", {"fields": ("first_name", "last_name")}),
        (
            "Permissions",
            {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")},
        ),
        ("Important dates", {"fields": ("email_verified_at", "last_login", "date_joined")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",), "fields": ("email", "password1", "password2")}),)

    def save_model(self, request, obj, form, change):
        # A new address is not proven by staff typing it: its owner confirms it with the
        # link (the account page sends one), as at sign-up. Accounts made here start so too.
        if change and "email" in form.changed_data:
            obj.email_verified_at = None
        super().save_model(request, obj, form, change)

    # `change_user` must not be a way to every other permission: only a superuser
    # grants permissions (superuser status, groups, single permissions), and only a
    # superuser edits, deletes or sets the password of a superuser.
    def get_readonly_fields(self, request, obj=None):
        fields = [*super().get_readonly_fields(request, obj), "email_verified_at"]
        if not request.user.is_superuser:
            fields += PERMISSION_FIELDS
        return fields

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.is_superuser and not request.user.is_superuser:
            return False
        return super().has_delete_permission(request, obj)


# Django registers its GroupAdmin on import; ours replaces it for the same reason as
# above: a member of a group must not be able to give that group more permissions.
admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(DjangoGroupAdmin):
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        return fields if request.user.is_superuser else [*fields, "permissions"]


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
        "debit_button",
    )
    exclude = ("stripe_id",)

    @admin.display(description="Stripe")
    def stripe_account(self, obj):
        return stripe_link(obj.stripe_id)

    def has_add_permission(self, request):
        # Profiles are made by accounts.services with their user; here `user` and
        # `role` are read-only, so an add form could only fail on a missing user.
        return False

    # The debit form checks its own permission; these only spare staff a link to a 403.
    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if not request.user.has_perm("payments.add_contractordebit"):
            fields.remove("debit_button")
        if not request.user.has_perm("payments.view_contractordebit"):
            fields.remove("debits")
        return fields

    @admin.display(description="Debits")
    def debits(self, obj):
        if not obj.is_contractor:
            return "—"
        listing = reverse("admin:payments_contractordebit_changelist") + (
            f"?contractor__id__exact={obj.user_id}"
        )
        return format_html('<a href="{}">Past debits</a>', listing)

    @admin.display(description="")
    def debit_button(self, obj):
        if not obj.is_contractor:
            return ""
        add = reverse("admin:payments_contractordebit_add") + f"?contractor={obj.user_id}"
        return format_html('<a class="button" href="{}">Debit this contractor…</a>', add)


if apps.is_installed("axes"):
    from axes import admin as axes_admin
    from axes.models import AccessAttempt

    if admin.site.is_registered(AccessAttempt):
        # django-axes' clean-up action declares no permission, so anyone who may view
        # the attempts could run it; it deletes rows, so it asks for the delete one.
        admin.site.unregister(AccessAttempt)

        @admin.register(AccessAttempt)
        class AccessAttemptAdmin(axes_admin.AccessAttemptAdmin):
            @admin.action(description="Clean up expired attempts", permissions=["delete"])
            def cleanup_expired_attempts(self, request, queryset):
                # axes reads the attempt time it stamps on login requests only; None
                # means "now" (without it the action fails with a 500).
                if not hasattr(request, "axes_attempt_time"):
                    request.axes_attempt_time = None
                return super().cleanup_expired_attempts(request, queryset)


# API tokens: staff may see and revoke them, never create or edit one. knox's own
# admin creates a token for any user (a superuser's included) and shows it on screen,
# and its change form moves a token to another user: both are impersonation.
admin.site.unregister(AuthToken)


@admin.register(AuthToken)
class AuthTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "created", "expiry")
    search_fields = ("user__email",)
    list_select_related = ("user",)
    fields = ("user", "created", "expiry")
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(CustomerEmailSync)
class CustomerEmailSyncAdmin(admin.ModelAdmin):
    """A buyer's new email on its way to their Stripe Customer (an outbox row): read-only,
    except that staff may send one the dispatcher gave up on again."""

    list_display = ("user", "customer", "email", "status", "created_at")
    list_filter = ("status",)
    search_fields = ("user__email", "customer", "email")
    list_select_related = ("user",)
    actions = ["retry_action"]

    def get_readonly_fields(self, request, obj=None):
        return [f.name for f in self.model._meta.concrete_fields]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("accounts.change_customeremailsync")

    @admin.action(description="Send the selected email changes again now", permissions=["retry"])
    def retry_action(self, request, queryset):
        from payments.admin.retry import retry_selected

        retry_selected(self, request, queryset, "customer emails")
