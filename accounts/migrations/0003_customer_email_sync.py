# A buyer's new email address on its way to their Stripe Customer (an outbox row).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0002_user_email_verified_at"),
    ]

    operations = [
        migrations.CreateModel(
            name="CustomerEmailSync",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                (
                    "due_at",
                    models.DateTimeField(
                        blank=True,
                        help_text="When the dispatcher hands this work out next.",
                        null=True,
                    ),
                ),
                (
                    "dispatches",
                    models.PositiveIntegerField(
                        default=0, help_text="How many times this work was handed to a worker."
                    ),
                ),
                (
                    "customer",
                    models.CharField(
                        help_text="The buyer's Stripe Customer (cus_…).", max_length=255
                    ),
                ),
                ("email", models.EmailField(max_length=254)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("done", "Done"),
                            ("superseded", "Superseded"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                ("last_error", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "user",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="customer_email_syncs",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "indexes": [
                    models.Index(fields=["status", "due_at"], name="accounts_email_sync_due")
                ],
            },
        ),
    ]
