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

  // Back (or Forward) to this page from the browser's memory shows it as it was
  // left, possibly before the payment went through: load it again, so the server
  // can send a paid checkout to its confirmation.
  window.addEventListener("pageshow", (event) => {
    if (event.persisted) window.location.reload();
  });

  if (typeof window.Stripe !== "function") {
    // Stripe.js did not load (network, blocker): say so instead of a dead button.
    showError(config.unreachable);
    button.disabled = true;
    return;
  }
  const stripe = Stripe(config.publishableKey);
  const card = stripe.elements().create("card");
  card.mount("#card-element");
  card.on("change", (event) => showError(event.error ? messageFor(event.error) : ""));
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
    // Orders paid by one shared intent are one row each: mark them all.
    document.querySelectorAll(`tr[data-intent="${index}"] .paid-badge`).forEach((badge) => {
      badge.hidden = false;
    });
    if (!intent.dueAfter) return; // the last one: the confirmation page is next
    document.querySelectorAll(".amount-due").forEach((node) => {
      node.textContent = intent.dueAfter;
    });
  }

  // Our own words for every error, by the rules of shop/pay_messages.py: Stripe's
  // messages are for developers and are never shown.
  function messageFor(error) {
    const m = config.messages;
    const intent = error.payment_intent || {};
    if (error.code === "payment_intent_unexpected_state") {
      return m.state[intent.status] || m.generic.message;
    }
    if (error.type === "validation_error") return m.form[error.code] || m.generic.form;
    if (error.type === "card_error" || m.card[error.code] || m.card[error.decline_code]) {
      return m.card[error.decline_code] || m.card[error.code] || m.card.card_declined;
    }
    if (error.type === "api_connection_error") return config.unreachable;
    return m.other[error.code] || m.other[error.type] || m.generic.message;
  }

  // A saved card is the server's choice, not the page's: it checks the card is the
  // buyer's and has not expired, and puts it on every intent still to pay, which are
  // then confirmed without naming a card. Returns null, or why not ({message, settled}).
  async function chooseSavedCard(paymentMethod) {
    const bytes = new Uint8Array(16);
    window.crypto.getRandomValues(bytes);
    const body = new URLSearchParams({
      checkout_id: config.checkoutId,
      payment_method: paymentMethod,
      // One key per choice: choosing another card, then this one again, is a new request.
      attempt: Array.from(bytes, (b) => b.toString(16).padStart(2, "0")).join(""),
    });
    const csrf = form.querySelector('input[name="csrfmiddlewaretoken"]');
    let response;
    let answer = {};
    try {
      response = await fetch(config.chooseCardUrl, {
        method: "POST",
        body: body,
        credentials: "same-origin",
        headers: { "X-CSRFToken": csrf ? csrf.value : "", Accept: "application/json" },
      });
      answer = await response.json();
    } catch (err) {
      return { message: config.unreachable };
    }
    if (response.ok && answer.ok === true) return null;
    return { message: answer.error || config.messages.generic.message, settled: !!answer.settled };
  }

  // Stripe says the intent is past confirming: paid already (another tab, a page
  // restored by Back) or canceled (the cart changed). The confirmation page, which
  // reads our state, says which.
  function settledElsewhere(error) {
    const intent = error.payment_intent || {};
    return error.code === "payment_intent_unexpected_state" && intent.status in config.messages.state;
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
    if (!newCardEntered) {
      const refused = await chooseSavedCard(paymentMethod);
      if (refused) {
        showError(refused.message);
        if (refused.settled) {
          window.setTimeout(() => window.location.assign(config.doneUrl), 1500);
          return; // stays busy: there is nothing more to pay here
        }
        setBusy(false);
        return;
      }
    }

    for (const intent of pending) {
      const index = config.intents.indexOf(intent);
      // A saved card is on the intent already (the server put it there).
      const data = !newCardEntered
        ? {}
        : paymentMethod
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
        if (settledElsewhere(result.error)) {
          window.setTimeout(() => window.location.assign(config.doneUrl), 1500);
          return; // stays busy: there is nothing more to pay here
        }
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
