"""Payouts a contractor can see and understand (issue #20): a payout's failure code and
whether it was automatic, "Pay out now" requests (outbox rows), and each account's
payout schedule with its pending money by date."""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0009_installation_identity"),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddField(
            model_name="payout",
            name="automatic",
            field=models.BooleanField(default=True),
        ),
        migrations.AddField(
            model_name="payout",
            name="failure_code",
            field=models.CharField(blank=True, default="", max_length=64),
        ),
        migrations.CreateModel(
            name="PayoutRequest",
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
                ("account", models.CharField(max_length=255)),
                ("amount", models.PositiveBigIntegerField()),
                ("currency", models.CharField(max_length=3)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("requested", "Requested"),
                            ("sent", "Sent to Stripe"),
                            ("refused", "Refused by Stripe"),
                        ],
                        default="requested",
                        max_length=16,
                    ),
                ),
                (
                    "stripe_payout_id",
                    models.CharField(blank=True, max_length=255, null=True, unique=True),
                ),
                ("failure_message", models.TextField(blank=True, default="")),
                ("sent_at", models.DateTimeField(blank=True, null=True)),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
                (
                    "contractor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.PROTECT,
                        related_name="payout_requests",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "ordering": ["-created_at", "-id"],
                "indexes": [
                    models.Index(fields=["status", "due_at"], name="payments_payoutreq_work_idx")
                ],
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("amount__gt", 0)),
                        name="payments_payoutreq_amount_positive",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("currency__regex", "^[a-z]{3}$")),
                        name="payments_payoutreq_currency_code",
                    ),
                    models.CheckConstraint(
                        condition=models.Q(("account__startswith", "acct_")),
                        name="payments_payoutreq_account_acct",
                    ),
                    models.UniqueConstraint(
                        condition=models.Q(("status", "requested")),
                        fields=("account", "currency"),
                        name="payments_payoutreq_one_open",
                    ),
                ],
            },
        ),
        migrations.CreateModel(
            name="PayoutSchedule",
            fields=[
                (
                    "id",
                    models.BigAutoField(
                        auto_created=True, primary_key=True, serialize=False, verbose_name="ID"
                    ),
                ),
                ("account", models.CharField(max_length=255, unique=True)),
                (
                    "interval",
                    models.CharField(
                        choices=[
                            ("daily", "Daily"),
                            ("weekly", "Weekly"),
                            ("monthly", "Monthly"),
                            ("manual", "Manual"),
                        ],
                        max_length=16,
                    ),
                ),
                ("delay_days", models.PositiveSmallIntegerField(default=0)),
                ("weekly_anchor", models.CharField(blank=True, default="", max_length=16)),
                ("monthly_anchor", models.PositiveSmallIntegerField(blank=True, null=True)),
                ("pending_funds", models.JSONField(blank=True, default=list)),
                ("pending_fetched_at", models.DateTimeField(blank=True, null=True)),
                ("fetched_at", models.DateTimeField()),
                (
                    "contractor",
                    models.ForeignKey(
                        on_delete=django.db.models.deletion.CASCADE,
                        related_name="payout_schedules",
                        to=settings.AUTH_USER_MODEL,
                    ),
                ),
            ],
            options={
                "constraints": [
                    models.CheckConstraint(
                        condition=models.Q(("account__startswith", "acct_")),
                        name="payments_payoutschedule_account_acct",
                    )
                ],
            },
        ),
    ]
