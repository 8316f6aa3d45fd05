// Checkout: confirm each of the server's PaymentIntents with Stripe.js.
// Card details go from Stripe's card element straight to Stripe; this page only
// ever sees PaymentIntent client secrets and PaymentMethod ids.
(function () {
  "use strict";

  const config = JSON.parse(document.getElementById("checkout-config").textContent);
  const form = document.getElementById("payment-form");
  const button = document.getElementById("pay-button");
  const errorBox = document.getElementById("payment-error");
  const newCard = document.getElementById("new-card");
  const saveCard = document.getElementById("save-card");
  const DONE = new Set(["requires_capture", "succeeded", "processing"]);
  // A new card the buyer did not ask to save, but which Stripe attached to their
  // Customer anyway; the confirmation page detaches it (see below).
  let unwantedCard = null;

  if (typeof window.Stripe !== "function") {
    // Stripe.js did not load (network, blocker): say so instead of a dead button.
    showError(config.unreachable);
    button.disabled = true;
    return;
  }
  const stripe = Stripe(config.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  card.on("change", (event) => showError(event.error ? event.error.message : ""));
  // The card fields live in Stripe's iframe: the label focuses them by hand.
  document.getElementById("card-label").addEventListener("click", () => card.focus());

  form.querySelectorAll('input[name="payment_method"]').forEach((radio) => {
    radio.addEventListener("change", () => {
      newCard.hidden = chosenSavedCard() !== null;
      showError("");
    });
  });

  function chosenSavedCard() {
    const checked = form.querySelector('input[name="payment_method"]:checked');
    return checked && checked.value !== "new" ? checked.value : null;
  }

  function showError(message) {
    errorBox.textContent = message || "";
  }

  function setBusy(busy) {
    button.disabled = busy;
    button.setAttribute("aria-busy", busy ? "true" : "false");
    button.querySelector(".spinner").hidden = !busy;
  }

  // If a later contractor's payment fails, the page must not go on asking for
  // the full total: mark this one authorised and show what is still due.
  function showPaid(index, intent) {
    const badge = document.querySelector(`tr[data-intent="${index}"] .paid-badge`);
    if (badge) badge.hidden = false;
    if (!intent.dueAfter) return; // the last one: the confirmation page is next
    document.querySelectorAll(".amount-due").forEach((node) => {
      node.textContent = intent.dueAfter;
    });
  }

  // Our own wording for each decline, the same the server uses.
  function messageFor(error) {
    if (error.type === "api_connection_error") return config.unreachable;
    return (
      config.messages[error.decline_code] ||
      config.messages[error.code] ||
      error.message ||
      config.messages.card_declined
    );
  }

  form.addEventListener("submit", async (event) => {
    event.preventDefault();
    if (button.disabled) return;
    setBusy(true);
    showError("");

    // A saved card pays every intent. A new card is read from the card element
    // for each intent (one PaymentMethod each), so a card the buyer did not ask
    // to save is never attached to their Customer, even when one of several
    // contractors' payments fails half-way. A card being saved is attached by
    // its first payment and then reused for the rest.
    let paymentMethod = chosenSavedCard();
    const newCardEntered = paymentMethod === null;
    const save = newCardEntered && saveCard.checked;
    const pending = config.intents.filter((intent) => !DONE.has(intent.status));

    for (const intent of pending) {
      const index = config.intents.indexOf(intent);
      const data = paymentMethod
        ? { payment_method: paymentMethod }
        : {
            payment_method: { card: card, billing_details: { email: config.email } },
            ...(save ? { setup_future_usage: "on_session" } : {}),
          };
      let result;
      try {
        result = await stripe.confirmCardPayment(intent.clientSecret, data);
      } catch (err) {
        result = { error: { type: "api_connection_error", message: String(err) } };
      }
      if (result.error) {
        showError(messageFor(result.error));
        setBusy(false);
        return;
      }
      const confirmed = result.paymentIntent;
      intent.status = confirmed.status;
      if (save) paymentMethod = confirmed.payment_method;
      // An intent keeps `setup_future_usage` from an earlier, failed attempt made
      // with "Save this card" ticked, and a publishable key cannot unset it: the
      // card was saved although the buyer then unticked the box.
      if (newCardEntered && !save && confirmed.setup_future_usage) {
        unwantedCard = confirmed.payment_method;
      }
      showPaid(index, intent);
    }

    window.location.assign(
      config.doneUrl + (unwantedCard ? "?forget=" + encodeURIComponent(unwantedCard) : "")
    );
  });
})();
