"""Checkouts of several contractors paid as one platform charge (issue #16): Payment rows
of one checkout share its PaymentIntent (`transfer_group`), and each fulfilled order's
money goes to its contractor as a Transfer (reversed for refunds by TransferReversal).

The intent id stays unique for destination charges (a partial unique constraint), and
is unique per order within a checkout's shared intent.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [
        ("payments", "0006_outbox"),
    ]

    operations = [
        migrations.CreateModel(
            name="Transfer",
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
                ("amount", models.PositiveBigIntegerField()),
                ("currency", models.CharField(max_length=3)),
                ("destination_account", models.CharField(max_length=255)),
                ("transfer_group", models.CharField(max_length=255)),
                ("source_charge", models.CharField(max_length=255)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("succeeded", "Sent"),
                            ("failed", "Refused by Stripe"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                (
                    "stripe_transfer_id",
                    models.CharField(blank=True, max_length=255, null=True, unique=True),
                ),
                (
                    "refusals",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Times Stripe refused it; the next try sends the next idempotency key.",
                    ),
                ),
                ("failure_message", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.CreateModel(
            name="TransferReversal",
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
                ("amount", models.PositiveBigIntegerField()),
                ("currency", models.CharField(max_length=3)),
                (
                    "status",
                    models.CharField(
                        choices=[
                            ("pending", "Pending"),
                            ("succeeded", "Succeeded"),
                            ("failed", "Failed"),
                        ],
                        default="pending",
                        max_length=16,
                    ),
                ),
                (
                    "stripe_reversal_id",
                    models.CharField(blank=True, max_length=255, null=True, unique=True),
                ),
                (
                    "refusals",
                    models.PositiveIntegerField(
                        default=0,
                        help_text="Times Stripe refused it; the next try sends the next idempotency key.",
                    ),
                ),
                ("failure_message", models.TextField(blank=True, default="")),
                ("created_at", models.DateTimeField(auto_now_add=True)),
                ("updated_at", models.DateTimeField(auto_now=True)),
            ],
            options={
                "ordering": ["-created_at", "-id"],
            },
        ),
        migrations.AddField(
            model_name="payment",
            name="transfer_group",
            field=models.CharField(blank=True, default="", max_length=255),
        ),
        migrations.AlterField(
            model_name="payment",
            name="stripe_payment_intent_id",
            field=models.CharField(blank=True, db_index=True, max_length=255, null=True),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                condition=models.Q(("transfer_group", "")),
                fields=("stripe_payment_intent_id",),
                name="payments_payment_destination_intent_unique",
            ),
        ),
        migrations.AddConstraint(
            model_name="payment",
            constraint=models.UniqueConstraint(
                fields=("stripe_payment_intent_id", "order"),
                name="payments_payment_intent_order_unique",
            ),
        ),
        migrations.AddField(
            model_name="transfer",
            name="payment",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transfer",
                to="payments.payment",
            ),
        ),
        migrations.AddField(
            model_name="transferreversal",
            name="refund",
            field=models.OneToOneField(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="transfer_reversal",
                to="payments.refund",
            ),
        ),
        migrations.AddField(
            model_name="transferreversal",
            name="transfer",
            field=models.ForeignKey(
                on_delete=django.db.models.deletion.PROTECT,
                related_name="reversals",
                to="payments.transfer",
            ),
        ),
        migrations.AddIndex(
            model_name="transfer",
            index=models.Index(fields=["status", "due_at"], name="payments_transfer_work_idx"),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="payments_transfer_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("currency__regex", "^[a-z]{3}$")),
                name="payments_transfer_currency_code",
            ),
        ),
        migrations.AddConstraint(
            model_name="transfer",
            constraint=models.CheckConstraint(
                condition=models.Q(("destination_account__startswith", "acct_")),
                name="payments_transfer_destination_acct",
            ),
        ),
        migrations.AddIndex(
            model_name="transferreversal",
            index=models.Index(fields=["status", "due_at"], name="payments_reversal_work_idx"),
        ),
        migrations.AddConstraint(
            model_name="transferreversal",
            constraint=models.CheckConstraint(
                condition=models.Q(("amount__gt", 0)), name="payments_reversal_amount_positive"
            ),
        ),
        migrations.AddConstraint(
            model_name="transferreversal",
            constraint=models.CheckConstraint(
                condition=models.Q(("currency__regex", "^[a-z]{3}$")),
                name="payments_reversal_currency_code",
            ),
        ),
    ]
