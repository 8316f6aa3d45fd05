/*
 * Test Stripe.js served by the offline Stripe sandbox at /v3/.
 *
 * It mirrors the part of Stripe.js the shop uses: Stripe(pk), elements(),
 * elements.create('card' | 'payment'), confirmCardPayment, confirmPayment,
 * confirmCardSetup, confirmSetup, handleNextAction, createPaymentMethod and
 * retrievePaymentIntent / retrieveSetupIntent, with the same result shapes:
 * promises resolve to {paymentIntent} / {setupIntent} / {paymentMethod} or
 * {error: {type, code, decline_code, message, ...}} and never reject for a
 * decline. Misuse (bad arguments) throws an IntegrationError, as Stripe.js does.
 *
 * Card data never touches the shop's page: the card form lives in an iframe
 * served by the sandbox, which creates the PaymentMethod itself and hands back
 * only the PaymentMethod. Messages between the frames are tagged
 * {source: 'stripe-sandbox'} and checked against the sender's origin and window.
 * API calls use the publishable key as Stripe.js does (`key=pk_…` parameter).
 */
(function () {
  'use strict';

  // The API is wherever this script was served from (js.stripe.com ↔ api.stripe.com).
  var scriptSrc = document.currentScript ? document.currentScript.src : location.href;
  var API_BASE = scriptSrc.replace(/\/v3\/?(?:[?#].*)?$/, '');
  var API_ORIGIN = new URL(API_BASE).origin;
  var TAG = 'stripe-sandbox';

  function IntegrationError(message) {
    var error = new Error(message);
    error.name = 'IntegrationError';
    return error;
  }

  function connectionError() {
    return {
      type: 'api_connection_error',
      message: 'Could not connect to the payment service. Check your connection and try again.',
    };
  }

  // Stripe's wire format: nested keys as a[b][c]=v, lists as a[0]=v.
  function encodeForm(params) {
    var pairs = [];
    (function walk(value, key) {
      if (value === undefined || value === null) return;
      if (typeof value === 'object') {
        Object.keys(value).forEach(function (k) {
          walk(value[k], key ? key + '[' + k + ']' : k);
        });
      } else {
        pairs.push(encodeURIComponent(key) + '=' + encodeURIComponent(String(value)));
      }
    })(params, '');
    return pairs.join('&');
  }

  // --- REST client (publishable key only) ---------------------------------

  function Api(key, stripeAccount) {
    this.key = key;
    this.stripeAccount = stripeAccount;
  }

  // Resolves to {data} or {error}; never rejects.
  // Like Stripe.js, the key (and connected account) travel as parameters, not
  // headers: a form POST or plain GET is a "simple" CORS request, so the browser
  // sends no preflight.
  Api.prototype.send = async function (method, path, params) {
    var url = API_BASE + path;
    var all = Object.assign({}, params, { key: this.key, _stripe_account: this.stripeAccount });
    var init = { method: method };
    if (method === 'GET') {
      url += '?' + encodeForm(all);
    } else {
      init.headers = { 'Content-Type': 'application/x-www-form-urlencoded' };
      init.body = encodeForm(all);
    }
    var response;
    try {
      response = await fetch(url, init);
    } catch (e) {
      return { error: connectionError() };
    }
    var body;
    try {
      body = await response.json();
    } catch (e) {
      return { error: { type: 'api_error', message: 'Unexpected response (HTTP ' + response.status + ').' } };
    }
    if (response.ok) return { data: body };
    return { error: body.error || { type: 'api_error', message: 'HTTP ' + response.status } };
  };

  // --- PaymentIntents and SetupIntents share one code path ----------------

  var KINDS = {
    payment: {
      prefix: 'pi_', path: '/v1/payment_intents', name: 'payment_intent',
      result: 'paymentIntent', lastError: 'last_payment_error',
      // What Stripe.js forwards from `data` to the confirm call.
      confirmParams: ['setup_future_usage', 'return_url', 'receipt_email', 'shipping'],
    },
    setup: {
      prefix: 'seti_', path: '/v1/setup_intents', name: 'setup_intent',
      result: 'setupIntent', lastError: 'last_setup_error',
      confirmParams: ['return_url'],
    },
  };

  function intentId(kind, clientSecret) {
    var match = typeof clientSecret === 'string' && clientSecret.match(/^(.+)_secret_.+$/);
    if (!match || match[1].indexOf(kind.prefix) !== 0) {
      throw IntegrationError('Invalid value for clientSecret: expected a ' + kind.name + ' client secret.');
    }
    return match[1];
  }

  function kindOfSecret(clientSecret) {
    return String(clientSecret).indexOf('seti_') === 0 ? KINDS.setup : KINDS.payment;
  }

  // An intent that went back to requires_payment_method failed (decline after 3DS,
  // or failed authentication): Stripe.js reports that as an error.
  function settle(kind, intent) {
    if (intent.status === 'requires_payment_method' && intent[kind.lastError]) {
      var error = Object.assign({}, intent[kind.lastError]);
      error[kind.name] = intent;
      return { error: error };
    }
    var result = {};
    result[kind.result] = intent;
    return result;
  }

  async function retrieve(stripe, kind, clientSecret) {
    var id = intentId(kind, clientSecret);
    var res = await stripe._api.send('GET', kind.path + '/' + id, { client_secret: clientSecret });
    if (res.error) return { error: res.error };
    var result = {};
    result[kind.result] = res.data;
    return result;
  }

  // Turn `payment_method` (an id, or {card: element, billing_details}) into an id.
  async function paymentMethodId(paymentMethod) {
    if (paymentMethod === undefined || paymentMethod === null) return {};
    if (typeof paymentMethod === 'string') return { id: paymentMethod };
    if (!(paymentMethod.card instanceof Element)) {
      throw IntegrationError('payment_method.card must be a card Element created by elements.create().');
    }
    var res = await paymentMethod.card._call('createPaymentMethod', {
      billing_details: paymentMethod.billing_details,
    });
    return res.error ? { error: res.error } : { id: res.paymentMethod.id };
  }

  async function confirmIntent(stripe, kind, clientSecret, data, options) {
    var id = intentId(kind, clientSecret);
    data = data || {};
    var pm = await paymentMethodId(data.payment_method);
    if (pm.error) return { error: pm.error };

    // use_stripe_sdk: we handle next actions here (modal), not by a full-page redirect.
    var params = { client_secret: clientSecret, payment_method: pm.id, use_stripe_sdk: true };
    kind.confirmParams.forEach(function (name) {
      if (data[name] !== undefined) params[name] = data[name];
    });
    var res = await stripe._api.send('POST', kind.path + '/' + id + '/confirm', params);
    if (res.error) return { error: await withIntent(stripe, kind, clientSecret, res.error) };

    var intent = res.data;
    if (intent.status === 'requires_action' && !(options && options.handleActions === false)) {
      return authenticate(stripe, kind, intent, clientSecret);
    }
    return settle(kind, intent);
  }

  // Stripe attaches the intent to a card error; if the API did not, fetch it.
  async function withIntent(stripe, kind, clientSecret, error) {
    if (error.type !== 'card_error' || error[kind.name]) return error;
    var res = await retrieve(stripe, kind, clientSecret);
    if (res[kind.result]) error[kind.name] = res[kind.result];
    return error;
  }

  // 3-D Secure: show the sandbox's challenge page over the shop page, wait for
  // it to report back, then re-read the intent to learn the outcome.
  async function authenticate(stripe, kind, intent, clientSecret) {
    await showChallenge(intent.id);
    var res = await stripe._api.send('GET', kind.path + '/' + intent.id, { client_secret: clientSecret });
    if (res.error) return { error: res.error };
    return settle(kind, res.data);
  }

  function showChallenge(intentId) {
    return new Promise(function (resolve) {
      var overlay = document.createElement('div');
      overlay.setAttribute('role', 'dialog');
      overlay.setAttribute('aria-modal', 'true');
      overlay.setAttribute('aria-label', '3D Secure authentication');
      overlay.setAttribute('data-stripe-sandbox', '3ds-modal');
      // Inline styles: the shop's CSS must neither break nor be broken by the modal.
      overlay.style.cssText =
        'position:fixed;inset:0;z-index:2147483647;display:flex;align-items:center;' +
        'justify-content:center;background:rgba(15,23,42,.55);';
      var frame = document.createElement('iframe');
      frame.name = '__privateStripeFrame3ds' + intentId;
      frame.title = '3D Secure authentication';
      frame.src = API_BASE + '/3ds/' + encodeURIComponent(intentId) +
        '?origin=' + encodeURIComponent(location.origin);
      frame.style.cssText =
        'width:min(420px,94vw);height:min(400px,90vh);border:0;border-radius:12px;' +
        'background:#fff;box-shadow:0 20px 50px rgba(0,0,0,.3);';
      overlay.appendChild(frame);

      function onMessage(event) {
        var data = event.data;
        if (event.origin !== API_ORIGIN || event.source !== frame.contentWindow) return;
        if (!data || data.source !== TAG || data.type !== '3ds-complete' || data.intent !== intentId) return;
        window.removeEventListener('message', onMessage);
        overlay.remove();
        resolve();
      }
      window.addEventListener('message', onMessage);
      document.body.appendChild(overlay);
      frame.focus();
    });
  }

  // Where confirmPayment/confirmSetup send the buyer, with Stripe's query parameters.
  function returnUrl(base, kind, intent, clientSecret) {
    var url = new URL(base, location.href);
    var status = intent.status;
    url.searchParams.set(kind.name, intent.id);
    url.searchParams.set(kind.name + '_client_secret', clientSecret);
    url.searchParams.set('redirect_status',
      status === 'succeeded' || status === 'requires_capture' ? 'succeeded'
        : status === 'processing' ? 'pending' : 'failed');
    return url.toString();
  }

  async function confirmWithElements(stripe, kind, method, options) {
    options = options || {};
    var elements = options.elements;
    var clientSecret = options.clientSecret || (elements && elements._clientSecret);
    var confirmParams = options.confirmParams || {};
    var redirect = options.redirect || 'always';
    if (!clientSecret) throw IntegrationError(method + '(): a clientSecret is required.');
    if (redirect === 'always' && !confirmParams.return_url) {
      throw IntegrationError(method + "(): confirmParams.return_url is required unless redirect is 'if_required'.");
    }
    var element = elements && (elements.getElement('payment') || elements.getElement('card'));
    var data = Object.assign({}, confirmParams);
    if (element) {
      var pmData = confirmParams.payment_method_data || {};
      data.payment_method = { card: element, billing_details: pmData.billing_details };
    }
    var result = await confirmIntent(stripe, kind, clientSecret, data);
    if (result.error || redirect === 'if_required') return result;
    location.assign(returnUrl(confirmParams.return_url, kind, result[kind.result], clientSecret));
    // Like Stripe.js: the page is navigating away, so the promise never settles.
    return new Promise(function () {});
  }

  // --- Stripe object ---------------------------------------------------------

  function Stripe(key, options) {
    if (!(this instanceof Stripe)) return new Stripe(key, options);
    if (typeof key !== 'string' || !key) throw IntegrationError('Please call Stripe() with your publishable key.');
    if (/^sk_/.test(key)) throw IntegrationError('You should not use your secret key with Stripe.js.');
    if (!/^pk_/.test(key)) throw IntegrationError('Invalid API Key provided: ' + key);
    options = options || {};
    this._key = key;
    this._stripeAccount = options.stripeAccount;
    this._api = new Api(key, options.stripeAccount);
  }

  Stripe.prototype.elements = function (options) {
    return new Elements(this, options || {});
  };

  Stripe.prototype.confirmCardPayment = function (clientSecret, data, options) {
    return confirmIntent(this, KINDS.payment, clientSecret, data, options);
  };

  Stripe.prototype.confirmCardSetup = function (clientSecret, data, options) {
    return confirmIntent(this, KINDS.setup, clientSecret, data, options);
  };

  Stripe.prototype.confirmPayment = function (options) {
    return confirmWithElements(this, KINDS.payment, 'confirmPayment', options);
  };

  Stripe.prototype.confirmSetup = function (options) {
    return confirmWithElements(this, KINDS.setup, 'confirmSetup', options);
  };

  Stripe.prototype.handleNextAction = async function (options) {
    var clientSecret = options && options.clientSecret;
    var kind = kindOfSecret(clientSecret);
    var res = await retrieve(this, kind, clientSecret);
    if (res.error) return res;
    var intent = res[kind.result];
    if (intent.status !== 'requires_action') {
      var error = {
        type: 'invalid_request_error',
        code: 'unexpected_state',
        message: 'handleNextAction: the ' + kind.name + ' has status ' + intent.status +
          ', not requires_action.',
      };
      error[kind.name] = intent;
      return { error: error };
    }
    return authenticate(this, kind, intent, clientSecret);
  };

  Stripe.prototype.handleCardAction = function (clientSecret) {
    return this.handleNextAction({ clientSecret: clientSecret });
  };

  Stripe.prototype.retrievePaymentIntent = function (clientSecret) {
    return retrieve(this, KINDS.payment, clientSecret);
  };

  Stripe.prototype.retrieveSetupIntent = function (clientSecret) {
    return retrieve(this, KINDS.setup, clientSecret);
  };

  // createPaymentMethod({type: 'card', card, billing_details}) or ({elements, params}).
  Stripe.prototype.createPaymentMethod = async function (data) {
    data = data || {};
    var element = data.card;
    var billing = data.billing_details;
    if (data.elements) {
      element = data.elements.getElement('payment') || data.elements.getElement('card');
      billing = data.params && data.params.billing_details;
    }
    if (!(element instanceof Element)) {
      throw IntegrationError('createPaymentMethod: pass a card Element as `card`, or `elements`.');
    }
    return element._call('createPaymentMethod', { billing_details: billing });
  };

  // --- Elements ----------------------------------------------------------------

  function Elements(stripe, options) {
    this._stripe = stripe;
    this._clientSecret = options.clientSecret;
    this._elements = {};
  }

  Elements.prototype.create = function (type, options) {
    if (type !== 'card' && type !== 'payment') {
      throw IntegrationError('The sandbox Stripe.js supports the card and payment Elements, not ' + type + '.');
    }
    if (this._elements[type]) throw IntegrationError('Can only create one Element of type ' + type + '.');
    this._elements[type] = new Element(this._stripe, type, options || {});
    return this._elements[type];
  };

  Elements.prototype.getElement = function (type) {
    return this._elements[type] || null;
  };

  // Validates the form before a deferred-intent confirmation: resolves {} or {error}.
  Elements.prototype.submit = async function () {
    var element = this.getElement('payment') || this.getElement('card');
    if (!element) return {};
    return element._call('validate', {});
  };

  Elements.prototype.update = function (options) {
    if (options && options.clientSecret) this._clientSecret = options.clientSecret;
  };

  Elements.prototype.fetchUpdates = function () {
    return Promise.resolve({});
  };

  // --- Element (the card form iframe) ---------------------------------------------

  var elementCount = 0;

  function Element(stripe, type, options) {
    var self = this;
    this._stripe = stripe;
    this._type = type;
    this._options = options;
    this._id = 'el' + ++elementCount;
    this._handlers = {};
    this._pending = {};
    this._requests = 0;
    this._ready = new Promise(function (resolve) {
      self._markReady = resolve;
    });
    this._onMessage = this._onMessage.bind(this);
  }

  Element.prototype.mount = function (target) {
    var container = typeof target === 'string' ? document.querySelector(target) : target;
    if (!container) {
      throw IntegrationError('The selector you specified (' + target + ') applies to no DOM elements ' +
        'that are currently on the page.');
    }
    if (this._frame) throw IntegrationError('This Element is already mounted.');
    var query = new URLSearchParams({
      key: this._stripe._key,
      origin: location.origin,
      id: this._id,
      type: this._type,
    });
    if (this._stripe._stripeAccount) query.set('stripeAccount', this._stripe._stripeAccount);
    if (this._options.hidePostalCode) query.set('hidePostalCode', '1');
    if (this._options.disabled) query.set('disabled', '1');
    if (this._options.value && this._options.value.postalCode) query.set('postalCode', this._options.value.postalCode);

    var frame = document.createElement('iframe');
    frame.name = '__privateStripeFrame' + this._id;
    frame.title = 'Secure card payment input frame';
    frame.setAttribute('frameborder', '0');
    frame.setAttribute('allowtransparency', 'true');
    frame.setAttribute('scrolling', 'no');
    frame.allow = 'payment *';
    frame.style.cssText = 'border:0;width:100%;height:' + (this._type === 'card' ? 44 : 140) +
      'px;display:block;overflow:hidden;background:transparent;';
    frame.src = API_BASE + '/elements/card?' + query.toString();

    this._frame = frame;
    this._container = container;
    container.classList.add('StripeElement', 'StripeElement--empty');
    window.addEventListener('message', this._onMessage);
    container.appendChild(frame);
  };

  Element.prototype.unmount = function () {
    if (!this._frame) return;
    window.removeEventListener('message', this._onMessage);
    this._frame.remove();
    this._container.classList.remove('StripeElement', 'StripeElement--empty', 'StripeElement--complete',
      'StripeElement--invalid', 'StripeElement--focus');
    this._frame = null;
    this._container = null;
    var pending = this._pending;
    this._pending = {};
    Object.keys(pending).forEach(function (id) {
      pending[id]({ error: { type: 'validation_error', message: 'The Element was unmounted.' } });
    });
    var self = this;
    this._ready = new Promise(function (resolve) {
      self._markReady = resolve;
    });
  };

  Element.prototype.destroy = function () {
    this.unmount();
    this._handlers = {};
  };

  Element.prototype.on = function (event, handler) {
    (this._handlers[event] = this._handlers[event] || []).push(handler);
    return this;
  };

  Element.prototype.addEventListener = Element.prototype.on;

  Element.prototype.off = function (event, handler) {
    var list = this._handlers[event] || [];
    this._handlers[event] = handler ? list.filter(function (h) { return h !== handler; }) : [];
    return this;
  };

  Element.prototype.once = function (event, handler) {
    var self = this;
    function wrapper(payload) {
      self.off(event, wrapper);
      handler(payload);
    }
    return this.on(event, wrapper);
  };

  Element.prototype.focus = function () { this._send('focus'); };
  Element.prototype.blur = function () { this._send('blur'); };
  Element.prototype.clear = function () { this._send('clear'); };
  Element.prototype.update = function (options) { this._send('update', options || {}); };

  Element.prototype._emit = function (event, payload) {
    (this._handlers[event] || []).slice().forEach(function (handler) {
      try {
        handler(payload);
      } catch (e) {
        // A broken shop handler must not stop the element from working.
        setTimeout(function () { throw e; });
      }
    });
  };

  Element.prototype._send = function (type, args, requestId) {
    var self = this;
    return this._ready.then(function () {
      if (!self._frame) return;
      self._frame.contentWindow.postMessage(
        { source: TAG, type: type, args: args, requestId: requestId }, API_ORIGIN);
    });
  };

  // Ask the iframe to do something and resolve with its answer.
  Element.prototype._call = function (type, args) {
    if (!this._frame) {
      throw IntegrationError('We could not retrieve data from the specified Element. ' +
        'Please make sure the Element you are attempting to use is still mounted.');
    }
    var self = this;
    var requestId = ++this._requests;
    return new Promise(function (resolve) {
      self._pending[requestId] = resolve;
      self._send(type, args, requestId);
    });
  };

  Element.prototype._setClass = function (name, on) {
    if (this._container) this._container.classList.toggle('StripeElement--' + name, !!on);
  };

  Element.prototype._onMessage = function (event) {
    var data = event.data;
    if (!this._frame || event.source !== this._frame.contentWindow || event.origin !== API_ORIGIN) return;
    if (!data || data.source !== TAG) return;
    var base = { elementType: this._type };
    switch (data.type) {
      case 'ready':
        this._markReady();
        this._emit('ready', base);
        break;
      case 'resize':
        this._frame.style.height = data.height + 'px';
        break;
      case 'change':
        this._setClass('empty', data.event.empty);
        this._setClass('complete', data.event.complete);
        this._setClass('invalid', !!data.event.error);
        this._emit('change', Object.assign(base, data.event));
        break;
      case 'focus':
      case 'blur':
        this._setClass('focus', data.type === 'focus');
        this._emit(data.type, base);
        break;
      case 'submit': {
        // Enter in the card form submits the shop's form, as with Stripe Elements.
        var form = this._container && this._container.closest('form');
        if (form && form.requestSubmit) form.requestSubmit();
        break;
      }
      case 'response': {
        var resolve = this._pending[data.requestId];
        delete this._pending[data.requestId];
        if (resolve) resolve(data.result);
        break;
      }
    }
  };

  Stripe.version = 3;
  Stripe.sandbox = true;
  window.Stripe = Stripe;
})();
