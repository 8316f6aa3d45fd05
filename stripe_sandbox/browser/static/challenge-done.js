/*
 * After the 3-D Secure challenge: tell the page that opened it (Stripe.js's modal
 * iframe, or a popup's opener). The message carries no secret; Stripe.js re-reads
 * the intent to learn the outcome.
 */
(function () {
  'use strict';
  var data = document.body.dataset;
  var target = window.parent !== window ? window.parent : window.opener;
  if (!target) return;
  target.postMessage(
    { source: 'stripe-sandbox', type: '3ds-complete', intent: data.intent, outcome: data.outcome },
    data.origin || '*'
  );
})();
