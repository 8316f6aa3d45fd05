/*
 * The card form inside the Element iframe (GET /elements/card).
 *
 * It validates as the buyer types (Luhn, expiry in the future, CVC length),
 * reports {empty, complete, brand, error, value} to the parent as `change`
 * messages, and on request creates the PaymentMethod itself (this frame is
 * same-origin with the API), so the card number never reaches the shop's page.
 *
 * Parent → frame: {source, type: createPaymentMethod|validate|focus|blur|clear|update, requestId, args}
 * Frame → parent: {source, elementId, type: ready|change|focus|blur|resize|submit|response, ...}
 */
(function () {
  'use strict';

  var TAG = 'stripe-sandbox';
  var params = new URLSearchParams(location.search);
  var KEY = params.get('key') || '';
  var ACCOUNT = params.get('stripeAccount');
  var ELEMENT_ID = params.get('id');
  var TYPE = params.get('type') === 'payment' ? 'payment' : 'card';
  // Only the page that embedded us may drive us, and only it hears from us.
  var parentOrigin = params.get('origin') || '';
  var PARENT_ORIGIN = /^https?:\/\/[^/]+$/.test(parentOrigin) ? parentOrigin : '*';

  var form = document.getElementById('card-form');
  var number = document.getElementById('cardnumber');
  var exp = document.getElementById('exp-date');
  var cvc = document.getElementById('cvc');
  var postal = document.getElementById('postal');
  var brandBadge = document.getElementById('brand');
  var errorText = document.getElementById('card-error');
  var fields = [number, exp, cvc, postal];
  var blurred = {}; // "incomplete" errors wait until the buyer leaves the field, as on Stripe
  var lastSent = '';

  document.body.classList.add(TYPE);
  if (params.get('hidePostalCode')) document.body.classList.add('no-postal');
  if (params.get('postalCode')) postal.value = params.get('postalCode');
  if (params.get('disabled')) setDisabled(true);

  function send(message) {
    message.source = TAG;
    message.elementId = ELEMENT_ID;
    window.parent.postMessage(message, PARENT_ORIGIN);
  }

  // --- Card rules -----------------------------------------------------------

  function digits(value) {
    return value.replace(/\D/g, '');
  }

  function brandOf(n) {
    if (/^4/.test(n)) return 'visa';
    if (/^(5[1-5]|2[2-7])/.test(n)) return 'mastercard';
    if (/^3[47]/.test(n)) return 'amex';
    if (/^(6011|65|64[4-9])/.test(n)) return 'discover';
    if (/^3(0[0-5]|[68])/.test(n)) return 'diners';
    if (/^35/.test(n)) return 'jcb';
    if (/^62/.test(n)) return 'unionpay';
    return 'unknown';
  }

  function numberLength(brand) {
    return brand === 'amex' ? 15 : brand === 'diners' ? 14 : 16;
  }

  function luhnValid(n) {
    var sum = 0;
    for (var i = 0; i < n.length; i++) {
      var d = Number(n[n.length - 1 - i]);
      if (i % 2 === 1) d = d * 2 > 9 ? d * 2 - 9 : d * 2;
      sum += d;
    }
    return sum % 10 === 0;
  }

  function problem(code, message, incomplete) {
    return { code: code, message: message, incomplete: !!incomplete };
  }

  // Each check returns null when the field is fine, or a problem.
  function checkNumber(n) {
    if (n.length < numberLength(brandOf(n))) {
      return problem('incomplete_number', 'Your card number is incomplete.', true);
    }
    if (!luhnValid(n)) return problem('invalid_number', 'Your card number is invalid.');
    return null;
  }

  function parseExpiry() {
    var d = digits(exp.value);
    return { month: Number(d.slice(0, 2)), year: 2000 + Number(d.slice(2, 4)), complete: d.length === 4 };
  }

  function checkExpiry() {
    var e = parseExpiry();
    var now = new Date();
    var year = now.getFullYear();
    var month = now.getMonth() + 1;
    if (!e.complete) return problem('incomplete_expiry', "Your card's expiration date is incomplete.", true);
    if (e.month < 1 || e.month > 12) return problem('invalid_expiry_month', "Your card's expiration date is invalid.");
    if (e.year < year) return problem('invalid_expiry_year_past', "Your card's expiration year is in the past.");
    if (e.year === year && e.month < month) {
      return problem('invalid_expiry_month_past', "Your card's expiration date is in the past.");
    }
    if (e.year > year + 50) return problem('invalid_expiry_year', "Your card's expiration year is invalid.");
    return null;
  }

  function checkCvc(brand) {
    var need = brand === 'amex' ? 4 : 3;
    if (digits(cvc.value).length < need) {
      return problem('incomplete_cvc', "Your card's security code is incomplete.", true);
    }
    return null;
  }

  // --- Formatting as the buyer types ------------------------------------------

  function formatNumber() {
    var n = digits(number.value);
    var brand = brandOf(n);
    n = n.slice(0, numberLength(brand));
    // Amex is grouped 4-6-5, everything else in fours.
    var groups = brand === 'amex' ? [n.slice(0, 4), n.slice(4, 10), n.slice(10)] : n.match(/.{1,4}/g) || [];
    number.value = groups.filter(Boolean).join(' ');
  }

  function formatExpiry() {
    var d = digits(exp.value).slice(0, 4);
    if (/^[2-9]$/.test(d)) d = '0' + d; // "4" can only mean April
    exp.value = d.length > 2 ? d.slice(0, 2) + ' / ' + d.slice(2) : d;
  }

  function formatCvc() {
    var need = brandOf(digits(number.value)) === 'amex' ? 4 : 3;
    cvc.value = digits(cvc.value).slice(0, need);
  }

  // --- State reported to the parent -----------------------------------------------

  // `final` = the buyer is paying: every problem counts, incomplete or not.
  function evaluate(final) {
    var n = digits(number.value);
    var brand = brandOf(n);
    var checks = [
      [number, 'number', checkNumber(n)],
      [exp, 'exp', checkExpiry()],
      [cvc, 'cvc', checkCvc(brand)],
    ];
    var shown = null;
    var complete = true;
    checks.forEach(function (check) {
      var input = check[0];
      var issue = check[2];
      var visible = issue && (final || !issue.incomplete || (blurred[check[1]] && input.value));
      input.setAttribute('aria-invalid', visible ? 'true' : 'false');
      if (visible && !shown) shown = issue;
      if (issue) complete = false;
    });
    errorText.textContent = shown ? shown.message : '';
    brandBadge.textContent = brand === 'unknown' ? '' : brand;
    var state = {
      empty: fields.every(function (f) { return !f.value; }),
      complete: complete,
      brand: brand,
      value: { postalCode: postal.value },
    };
    if (shown) state.error = { type: 'validation_error', code: shown.code, message: shown.message };
    return state;
  }

  function report(final) {
    var state = evaluate(final);
    var json = JSON.stringify(state);
    if (json !== lastSent) {
      lastSent = json;
      send({ type: 'change', event: state });
    }
    return state;
  }

  // --- PaymentMethod creation (same origin as the API) ------------------------------

  function addBillingDetails(body, details, prefix) {
    Object.keys(details || {}).forEach(function (key) {
      var value = details[key];
      if (value === undefined || value === null || value === '') return;
      if (typeof value === 'object') addBillingDetails(body, value, prefix + '[' + key + ']');
      else body.set(prefix + '[' + key + ']', String(value));
    });
  }

  async function createPaymentMethod(args) {
    var state = report(true);
    if (!state.complete) return { error: state.error };
    var e = parseExpiry();
    var body = new URLSearchParams({
      type: 'card',
      'card[number]': digits(number.value),
      'card[exp_month]': String(e.month),
      'card[exp_year]': String(e.year),
      'card[cvc]': digits(cvc.value),
    });
    if (postal.value && !params.get('hidePostalCode')) {
      body.set('billing_details[address][postal_code]', postal.value);
    }
    addBillingDetails(body, args && args.billing_details, 'billing_details');
    // The key as a parameter, like Stripe.js (see Api.send in stripe.js).
    body.set('key', KEY);
    if (ACCOUNT) body.set('_stripe_account', ACCOUNT);
    var response;
    try {
      response = await fetch(new URL('../v1/payment_methods', location.href), {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: body,
      });
    } catch (err) {
      return {
        error: {
          type: 'api_connection_error',
          message: 'Could not connect to the payment service. Check your connection and try again.',
        },
      };
    }
    var json;
    try {
      json = await response.json();
    } catch (err) {
      return { error: { type: 'api_error', message: 'Unexpected response (HTTP ' + response.status + ').' } };
    }
    return response.ok ? { paymentMethod: json } : { error: json.error || { type: 'api_error', message: 'HTTP ' + response.status } };
  }

  function setDisabled(disabled) {
    fields.forEach(function (f) { f.disabled = !!disabled; });
  }

  function clear() {
    fields.forEach(function (f) { f.value = ''; });
    blurred = {};
    report(false);
  }

  async function handleCommand(message) {
    switch (message.type) {
      case 'createPaymentMethod':
        return createPaymentMethod(message.args);
      case 'validate': {
        var state = report(true);
        return state.complete ? {} : { error: state.error };
      }
      case 'focus':
        number.focus();
        return {};
      case 'blur':
        if (document.activeElement) document.activeElement.blur();
        return {};
      case 'clear':
        clear();
        return {};
      case 'update':
        if (message.args && 'disabled' in message.args) setDisabled(message.args.disabled);
        return {};
      default:
        return { error: { type: 'invalid_request_error', message: 'Unknown command ' + message.type } };
    }
  }

  window.addEventListener('message', async function (event) {
    var message = event.data;
    if (event.source !== window.parent) return;
    if (PARENT_ORIGIN !== '*' && event.origin !== PARENT_ORIGIN) return;
    if (!message || message.source !== TAG) return;
    var result = await handleCommand(message);
    if (message.requestId) send({ type: 'response', requestId: message.requestId, result: result });
  });

  // --- Wiring ------------------------------------------------------------------

  number.addEventListener('input', function () {
    formatNumber();
    formatCvc();
    report(false);
    // Move on to the expiry once a valid number is in, as Stripe's form does.
    if (!checkNumber(digits(number.value)) && document.activeElement === number) exp.focus();
  });
  exp.addEventListener('input', function () {
    formatExpiry();
    report(false);
    if (!checkExpiry() && document.activeElement === exp) cvc.focus();
  });
  cvc.addEventListener('input', function () {
    formatCvc();
    report(false);
  });
  postal.addEventListener('input', function () { report(false); });

  [['number', number], ['exp', exp], ['cvc', cvc], ['postal', postal]].forEach(function (pair) {
    pair[1].addEventListener('focus', function () { send({ type: 'focus' }); });
    pair[1].addEventListener('blur', function () {
      blurred[pair[0]] = true;
      report(false);
      send({ type: 'blur' });
    });
  });

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    send({ type: 'submit' });
  });

  // Keep the iframe exactly as tall as the form (errors and labels change it).
  new ResizeObserver(function () {
    send({ type: 'resize', height: Math.ceil(document.documentElement.getBoundingClientRect().height) });
  }).observe(document.body);

  // Like Stripe, no `change` until the buyer changes something.
  lastSent = JSON.stringify(evaluate(false));
  send({ type: 'ready' });
})();
