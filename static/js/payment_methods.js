// Saving a card: confirm the server's SetupIntent with Stripe.js (3-D Secure when the
// bank asks), then let the server read the outcome back. Card details go from Stripe's
// card element straight to Stripe; this page only sees the SetupIntent.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("setup-config").textContent);
  const form = document.getElementById("setup-form");
  const button = document.getElementById("save-button");
  const errorBox = document.getElementById("setup-error");

  function showError(message) {
    errorBox.textContent = message || "";
  }

  if (typeof window.Stripe !== "function") {
    showError(config.unreachable);
    button.disabled = true;
    return;
  }
  const stripe = Stripe(config.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  card.on("change", (event) => showError(event.error ? messageFor(event.error) : ""));
  document.getElementById("card-label").addEventListener("click", () => card.focus());

  function setBusy(busy) {
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
    button.querySelector(".spinner").hidden = !busy;
  }

  // Our words for every error (the pay page's table, shop/pay_messages.py).
  function messageFor(error) {
    const m = config.messages;
    if (error.type === "validation_error") return m.form[error.code] || m.generic.form;
    if (error.type === "card_error" || m.card[error.code] || m.card[error.decline_code]) {
      return m.card[error.decline_code] || m.card[error.code] || m.card.card_declined;
    }
    if (error.type === "api_connection_error") return config.unreachable;
    return m.other[error.code] || m.other[error.type] || m.generic.message;
  }

  function finish(intentId) {
    window.location.assign(config.returnUrl + "?setup_intent=" + encodeURIComponent(intentId));
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    setBusy(true);
    showError("");
    let result;
    try {
      result = await stripe.confirmCardSetup(config.clientSecret, {
        payment_method: { card: card, billing_details: { email: config.email } },
      });
    } catch (err) {
      result = { error: { type: "api_connection_error", message: String(err) } };
    }
    if (result.error) {
      // Confirmed already (a form sent again gives back the same SetupIntent, or the
      // page was restored by Back): the server reads where it stands and says so.
      if (result.error.code === "setup_intent_unexpected_state") {
        finish(config.clientSecret.split("_secret_")[0]);
        return;
      }
      showError(messageFor(result.error));
      setBusy(false);
      return;
    }
    finish(result.setupIntent.id);
  });
})();
