/* notifyme "Notify me when available" (blocks/notify-me.liquid). No dependencies, no build. */
(() => {
const doc = document;
let uid = 0;
// h('tag.class', props, ...children)
const h = (sel, props = {}, ...kids) => {
  const [tag, cls] = sel.split('.');
  const e = doc.createElement(tag);
  if (cls) e.className = 'nm-' + cls;
  if (tag == 'button') e.type = 'button';
  for (const k in props) /^aria-|^role/.test(k) ? e.setAttribute(k, props[k]) : (e[k] = props[k]);
  e.append(...kids.filter((k) => k != null));
  return e;
};
const on = (e, type, fn, capture) => e.addEventListener(type, fn, capture);

// Themes change ?variant= with history.replaceState: make that observable.
if (!history.notifyme) for (const m of ['pushState', 'replaceState']) {
  const orig = history[m];
  history[m] = function (...a) {
    orig.apply(this, a);
    dispatchEvent(new Event('notifyme:url'));
  };
}
history.notifyme = 1;

const init = (root) => {
  if (root.notifyme) return;
  root.notifyme = 1;
  const cfg = JSON.parse(root.querySelector('script[type="application/json"]').textContent);
  const ds = root.dataset;
  const s = cfg.strings || {};
  const t = (k) => s[k] || k;
  const id = 'notifyme' + ++uid;
  const variants = new Map(cfg.variants.map((v) => [String(v.id), v]));
  const scope = root.closest('.shopify-section,section,main') || doc;
  let current = String(cfg.selected || '');
  let chosen; // the variant whose form is open: what the submission names
  // The server answers in English: its (more specific) wording for English storefronts, ours else.
  const lang = cfg.locale || doc.documentElement.lang || 'en';
  const local = !/^en\b/i.test(lang);

  // A labelled input with its error message below it
  const field = (name, input, label = h('label', { htmlFor: `${id}-${name}` }, t(name))) => {
    input.err = h('p.error', { id: `${id}-${name}-e`, hidden: true });
    Object.assign(input, { id: `${id}-${name}`, name });
    input.setAttribute('aria-describedby', input.err.id);
    return h('div.field', {}, label, label.contains(input) ? null : input, input.err);
  };
  const button = h('button.button', { hidden: true, 'aria-haspopup': 'dialog' }, t('button'));
  const email = h('input', { type: 'email', autocomplete: 'email' });
  // "Did you mean <button>jane@gmail.com</button>?" (email-hint.js): one click fills it in
  const hint = h('p.hint', { hidden: true, 'aria-live': 'polite' });
  let hinted; // the address a submission stopped for: the second one sends it as typed
  const countries = cfg.countries || [];
  // Consent starts unticked every time (shared devices); browsers must not restore it
  const consent = h('input', { type: 'checkbox', autocomplete: 'off' });
  const sms = h('input', { type: 'checkbox', autocomplete: 'off' });
  const box = (name, input, text) => text ? h('div.consent', {}, field(name, input,
    h('label', { htmlFor: `${id}-${name}` }, input, h('span', {}, text)))) : null;
  const honeypot = h('input', { name: 'website', tabIndex: -1, autocomplete: 'off' });
  const status = h('p.status', { role: 'status', 'aria-live': 'polite' });
  const submit = h('button.submit', { type: 'submit' }, t('submit'));
  const done = h('button.submit', { hidden: true }, t('done'));
  const subtitle = h('p.variant');
  const x = h('button.x', { 'aria-label': t('close') }, '×');
  const form = h('form.form', { noValidate: true }, x,
    h('h2.title', { id: id + '-t' }, t('heading')), subtitle, h('p.intro', {}, t('intro')),
    field('email', email),
    ds.showPhone == 'true' ? h('div.row', {},
      countries.length > 1 ? field('country', h('select', { autocomplete: 'country' },
        ...countries.map(([c, name]) => h('option', { value: c, defaultSelected: c == cfg.country }, name)))) : null,
      field('phone', h('input', { type: 'tel', autocomplete: 'tel' }))) : null,
    box('marketing_consent', consent, s.consent),
    ds.showPhone == 'true' ? box('sms_consent', sms, s.sms_consent) : null,
    h('div.hp', { 'aria-hidden': 'true' }, h('label', {}, t('website'), honeypot)),
    status, submit, done);
  const dialog = h('dialog.dialog', { 'aria-labelledby': id + '-t' }, form);
  root.append(button, dialog);

  const say = (text, bad) => {
    status.textContent = text || '';
    status.classList.toggle('nm-bad', !!bad);
  };
  email.err.after(hint);
  const showHint = () => {
    const better = window.notifymeSuggest?.(email.value);
    const [a, b = ''] = t('did_you_mean').split('{email}');
    const fix = h('button.fix', {}, better);
    on(fix, 'click', () => { email.value = better; hint.hidden = true; email.focus(); });
    hint.replaceChildren(a, fix, b);
    return !(hint.hidden = !better);
  };
  on(email, 'change', showHint);
  const reset = (ok = false) => {
    for (const input of form.elements) if (input.err) {
      input.err.hidden = true;
      input.removeAttribute('aria-invalid');
    }
    hint.hidden = true;
    form.classList.toggle('nm-done', ok);
    submit.hidden = ok;
    done.hidden = !ok;
    say();
  };
  const render = () => {
    const v = variants.get(current);
    button.hidden = !(v && !v.available && v.inventory_management && v.inventory_policy != 'continue');
  };
  const select = (value) => {
    value = String(value || '');
    if (!variants.has(value) || value == current) return;
    current = value;
    if (!dialog.open) render();
  };
  const close = () => dialog.close();
  const item = (v) => [cfg.product_title, v.title == 'Default Title' ? '' : v.title].filter(Boolean).join(' — ');

  on(button, 'click', () => {
    const v = chosen = variants.get(current);
    form.reset();
    reset();
    subtitle.textContent = item(v) + (v.price ? ' · ' + v.price : '');
    dialog.showModal();
    email.focus();
  });
  on(x, 'click', close);
  on(done, 'click', close);
  on(dialog, 'close', () => { render(); button.focus(); });
  on(dialog, 'click', (e) => e.target == dialog && close());
  on(form, 'submit', async (e) => {
    e.preventDefault();
    if (email.value != hinted && showHint()) {
      hinted = email.value;
      return hint.children[0].focus();
    }
    const f = form.elements;
    const body = Object.fromEntries(Object.entries({
      variant_id: chosen.id, email: email.value.trim(), phone: f.phone?.value.trim(),
      country: f.country?.value || cfg.country, marketing_consent: consent.checked,
      consent_text_version: ds.consentVersion, sms_consent: sms.checked,
      sms_consent_text_version: ds.smsConsentVersion, locale: lang, website: honeypot.value,
    }).filter(([, v]) => v !== '' && v != null));
    reset();
    submit.disabled = true;
    submit.textContent = t('sending');
    let res, data;
    try {
      res = await fetch(ds.proxyPath.replace(/\/$/, '') + '/subscribe', {
        method: 'POST', body: JSON.stringify(body),
        headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      });
      data = await res.json().catch(() => ({}));
    } catch {
      return say(t('error_network'), 1);
    } finally {
      consent.checked = sms.checked = false;
      submit.disabled = false;
      submit.textContent = t('submit');
    }
    if (res.ok) {
      form.reset();
      reset(true);
      say(local || !data.message ? (s[data.status] || s.subscribed || '').replace('{item}', item(chosen)) : data.message);
      return done.focus();
    }
    const error = data.error || {};
    const wait = +res.headers.get('Retry-After');
    if (res.status == 429 && wait > 0) return say(t('error_rate').replace('{s}', wait), 1);
    // The server names each bad field: show its message next to that field.
    let first;
    const general = [];
    for (const [name, msgs] of Object.entries(error.fields || {})) {
      const input = f[name];
      const text = [].concat(msgs).join(' ');
      if (input?.err) {
        input.err.textContent = text;
        input.err.hidden = false;
        input.setAttribute('aria-invalid', 'true');
        first = first || input;
      } else general.push(text);
    }
    if (!first || general.length) say(general.join(' ') || error.message || t('error_generic'), 1);
    first?.focus();
  });

  // Follow the theme's variant picker: the cart form's `id` field, `?variant=` in the URL
  // (replaceState, back/forward) and a `variant:change` event carrying the variant (Dawn's
  // pub/sub `variant-change` is re-sent as one, below).
  const fromUrl = () => select(new URLSearchParams(location.search).get('variant'));
  on(doc, 'change', (e) => e.target.name == 'id' && scope.contains(e.target) && select(e.target.value));
  on(doc, 'variant:change', (e) => select(e.detail?.variant?.id || e.detail?.variantId), true);
  on(window, 'popstate', fromUrl);
  on(window, 'pageshow', () => form.reset());
  on(window, 'notifyme:url', fromUrl);
  const input = scope.querySelector('form[action*="/cart/add"] :is([name=id]:checked,select[name=id],input[name=id]:not([type=radio]))');
  if (input) select(input.value);
  fromUrl();
  render();
};

// Dawn (and themes built on it) announce variants through its pub/sub, not DOM events:
// `subscribe(PUB_SUB_EVENTS.variantChange, cb)`, globals of its pubsub.js.
let dawn;
const hookDawn = () => {
  if (dawn || typeof subscribe != 'function' || typeof PUB_SUB_EVENTS != 'object') return;
  dawn = 1;
  subscribe(PUB_SUB_EVENTS.variantChange, (e) => e?.data?.variant &&
    doc.dispatchEvent(new CustomEvent('variant:change', { detail: { variant: e.data.variant } })));
};
const scan = () => {
  hookDawn();
  doc.querySelectorAll('[data-notifyme]').forEach(init);
};
doc.readyState == 'loading' ? on(doc, 'DOMContentLoaded', scan) : scan();
on(window, 'load', scan);
on(doc, 'shopify:section:load', scan);
// Themes that re-render the product section on a variant change (HTML from the Section
// Rendering API) bring a fresh block: start it too.
new MutationObserver(scan).observe(doc.documentElement, { childList: true, subtree: true });
})();
