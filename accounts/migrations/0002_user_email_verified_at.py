from django.db import migrations, models
from django.db.models import F


def existing_active_users_are_verified(apps, schema_editor):
    """Until now a self-service account became active only through the link emailed at
    sign-up, so an active account's address was proven: keep those accounts able to buy
    and onboard. Inactive ones (a sign-up never confirmed) prove it with that link."""
    User = apps.get_model("accounts", "User")
    User.objects.filter(is_active=True, email_verified_at__isnull=True).update(
        email_verified_at=F("date_joined")
    )


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_initial"),
    ]

    operations = [
        migrations.AddField(
            model_name="user",
            name="email_verified_at",
            field=models.DateTimeField(blank=True, null=True, verbose_name="email verified"),
        ),
        migrations.RunPython(existing_active_users_are_verified, migrations.RunPython.noop),
    ]
