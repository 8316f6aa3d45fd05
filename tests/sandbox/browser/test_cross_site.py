"""A page on another origin, in a real Chromium, tries what a malicious site the
developer visits could try against a local sandbox; none of it changes or reads
anything. (The checkout itself, also cross-origin, is in test_real_sandbox.py.)"""

import pytest

from stripe_sandbox.testing import run_sandbox

from .servers import serve_shop

pytestmark = pytest.mark.e2e

SK = "sk_test_any_key_works_here_0000"

ATTACKS = """
async ({base, sk, intent}) => {
  const out = {};
  const attempt = async (name, call) => {
    try {
      const response = await call();
      out[name] = response.type === 'opaque' ? 'opaque' : await response.text();
    } catch (e) {
      out[name] = 'blocked';
    }
  };
  // "Simple" requests: no preflight, the browser sends them whatever the answer.
  await attempt('reset text/plain', () => fetch(base + '/_sandbox/reset', {
    method: 'POST', mode: 'no-cors', headers: {'Content-Type': 'text/plain'}, body: '{}'}));
  await attempt('reset no body', () => fetch(base + '/_sandbox/reset',
    {method: 'POST', mode: 'no-cors'}));
  await attempt('latency form', () => fetch(base + '/_sandbox/latency', {
    method: 'POST', mode: 'no-cors', body: new URLSearchParams({ms: '9000'})}));
  await attempt('customer with key param', () => fetch(base + '/v1/customers', {
    method: 'POST', mode: 'no-cors', body: new URLSearchParams({key: sk, email: 'evil@x.test'})}));
  // Preflighted or CORS-mode requests: refused by the browser.
  await attempt('reset json', () => fetch(base + '/_sandbox/reset', {
    method: 'POST', headers: {'Content-Type': 'application/json'}, body: '{}'}));
  await attempt('read webhooks', () => fetch(base + '/_sandbox/webhooks'));
  await attempt('read customers', () => fetch(base + '/v1/customers',
    {headers: {Authorization: 'Bearer ' + sk}}));
  await attempt('read customers key param', () => fetch(base + '/v1/customers?key=' + sk));
  await attempt('confirm with secret key', () => fetch(
    base + '/v1/payment_intents/' + intent + '/confirm', {
      method: 'POST',
      headers: {Authorization: 'Bearer ' + sk,
                'Content-Type': 'application/x-www-form-urlencoded'},
      body: 'payment_method=pm_card_visa'}));
  return out;
}
"""


@pytest.fixture(scope="module")
def sandbox():
    with run_sandbox() as handle:
        yield handle


@pytest.fixture(scope="module")
def shop(sandbox):
    with serve_shop(sandbox.base_url, sandbox.publishable_key) as base:
        yield base


def test_a_foreign_page_can_neither_change_nor_read_the_sandbox(page, shop, sandbox):
    client = sandbox.client()
    customer = client.v1.customers.create(params={"email": "keep@x.test"})
    intent = client.v1.payment_intents.create(params={"amount": 1_000, "currency": "usd"})
    page.goto(f"{shop}/done")
    out = page.evaluate(ATTACKS, {"base": sandbox.base_url, "sk": SK, "intent": intent.id})

    for name in ("reset json", "read webhooks", "read customers", "read customers key param"):
        assert out[name] == "blocked", (name, out[name])
    assert out["confirm with secret key"] == "blocked"
    assert [c.id for c in client.v1.customers.list().data] == [customer.id]
    assert client.v1.payment_intents.retrieve(intent.id).status == "requires_payment_method"
    assert sandbox.control("GET", "/_sandbox/latency") == {"ms": 0}
    assert sandbox.sandbox.store.get(customer.id) is not None


def test_a_text_plain_form_cannot_reset_the_sandbox(page, shop, sandbox):
    """The classic CSRF: an auto-submitted form with a JSON-looking text/plain body."""
    client = sandbox.client()
    customer = client.v1.customers.create(params={"email": "form@x.test"})
    page.goto(f"{shop}/done")
    page.evaluate(
        """base => {
          const form = document.createElement('form');
          form.method = 'POST';
          form.enctype = 'text/plain';
          form.action = base + '/_sandbox/reset';
          const field = document.createElement('input');
          field.name = '{"a":"';
          field.value = '"}';
          form.appendChild(field);
          document.body.appendChild(form);
          form.submit();
        }""",
        sandbox.base_url,
    )
    page.wait_for_url(f"{sandbox.base_url}/_sandbox/reset")
    assert "application/json" in page.content()
    assert client.v1.customers.retrieve(customer.id).email == "form@x.test"
