"""Browser side of the Stripe sandbox. The core app mounts ``routes.ROUTES``.

- ``GET /v3/``: the test Stripe.js (``static/stripe.js``). Its API base is the
  origin it was loaded from. Like the real one it sends the publishable key as
  the ``key`` parameter (and ``_stripe_account``), so every API call is a
  "simple" CORS request with no preflight.
- ``GET /elements/card``: the card form, mounted by Stripe.js as an iframe
  (title "Secure card payment input frame"; inputs ``cardnumber``, ``exp-date``,
  ``cvc``, ``postal``). It validates as the buyer types and creates the
  PaymentMethod itself, so card data never reaches the shop's page.
- ``GET/POST /3ds/{pi_…|seti_…}``: the 3-D Secure challenge, which Stripe.js
  shows in a modal iframe (title "3D Secure authentication").
- ``GET/POST /connect/onboarding/{link_id}``: hosted onboarding for Account Links.

Messages between frames are objects tagged ``source: 'stripe-sandbox'``; each
side checks the sender's window and origin:

- shop → card frame: ``{type: createPaymentMethod|validate|focus|blur|clear|update,
  requestId, args}``; the frame answers ``{type: 'response', requestId, result}``
  where result is ``{paymentMethod}`` or ``{error}``.
- card frame → shop: ``ready``, ``change`` (``{empty, complete, brand, value,
  error?}``), ``focus``, ``blur``, ``resize`` (``height``), ``submit`` (Enter).
- challenge page → shop: ``{type: '3ds-complete', intent, outcome}`` after the
  POST; Stripe.js then re-reads the intent with its client secret and resolves.
"""
