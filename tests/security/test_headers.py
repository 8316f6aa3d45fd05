"""The Content-Security-Policy: our scripts and Stripe.js's origin only, no inline script."""

import pytest
from django.urls import reverse

pytestmark = pytest.mark.django_db


def directives(response) -> dict[str, list[str]]:
    policy = response["Content-Security-Policy"]
    return {
        name: values
        for name, *values in (part.split() for part in policy.split(";") if part.strip())
    }


def test_pages_forbid_inline_scripts_and_framing(client, settings):
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"
    found = directives(client.get(reverse("shop:product_list")))

    assert found["script-src"][0] == "'self'"
    assert "'unsafe-inline'" not in found["script-src"]
    assert "'unsafe-eval'" not in found["script-src"]
    assert found["frame-ancestors"] == ["'none'"]
    assert found["object-src"] == ["'none'"]
    # Forms post to us; only the onboarding form's redirect goes on to Stripe.
    assert found["form-action"] == ["'self'", "https://connect.stripe.com"]


def test_real_stripe_origins_when_no_sandbox_is_configured(client, settings):
    settings.STRIPE_API_BASE = ""
    settings.STRIPE_JS_URL = "https://js.stripe.com/v3/"

    found = directives(client.get(reverse("shop:product_list")))

    assert "https://js.stripe.com" in found["script-src"]
    assert {"https://js.stripe.com", "https://hooks.stripe.com"} <= set(found["frame-src"])
    assert "https://api.stripe.com" in found["connect-src"]


def test_the_sandboxs_origin_follows_the_settings(client, settings):
    settings.STRIPE_API_BASE = "http://127.0.0.1:45999"
    settings.STRIPE_JS_URL = "http://127.0.0.1:45999/v3/"

    found = directives(client.get(reverse("shop:product_list")))

    for name in ("script-src", "frame-src", "connect-src"):
        assert "http://127.0.0.1:45999" in found[name]
        assert "https://js.stripe.com" not in found[name]


def test_no_template_has_an_inline_script_or_handler():
    """The policy would block them in the browser: keep them out of the templates."""
    import re
    from pathlib import Path

    root = Path(__file__).resolve().parents[2] / "templates"
    offenders = []
    for template in root.rglob("*.html"):
        text = template.read_text()
        inline = re.findall(r"<script(?![^>]*\bsrc=)[^>]*>", text)
        handlers = re.findall(r"\son[a-z]+=\"", text)
        if inline or handlers or "javascript:" in text:
            offenders.append(template.relative_to(root).as_posix())
    assert offenders == []


def test_machine_endpoints_carry_no_policy(client):
    """Webhooks and probes answer JSON to machines: no page, no policy to build."""
    assert "Content-Security-Policy" not in client.get("/healthz")
    assert "Content-Security-Policy" not in client.post("/payments/webhooks/stripe/", data={})
