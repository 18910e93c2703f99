// Hearth & Field: a small shop whose every page view, click, add-to-cart and purchase is fed to
// hunch in the browser, with a side panel showing what the model predicts from them.
//
// The shop is built from site-map.json, the same site map `hunch synth` generated the training
// log from, so the model's action names are this page's routes. Routing is client-side
// (history.pushState): each click on a link is a real URL change, pushed as a `view` event.
//
// What this page sends over the network after it has loaded: nothing (the "Network" counter in
// the panel watches every resource request). The events stay in this tab and, with consent, in
// this browser's IndexedDB through the SDK's own persistence.
import { Predictor } from '/sdk/index.js';
import { prefetch } from '/sdk/dom.js';

const STORAGE_KEY = 'hearth-demo';              // prefix of everything the SDK stores
const SEQUENCE_KEY = 'visitor';                 // one sequence: this browser's visitor
const CONSENT_KEY = 'hearth-demo:consent';      // the visitor's storage choice ('0' = no)
const CART_KEY = 'hearth-demo:cart';
const RELOAD_WINDOW_MS = 30 * 60 * 1000;        // a view of the same page this recent = a reload
// Links (the demo's CSP has no 'inline-speculation-rules'); URLs that look state-changing
// (/checkout, /checkout/payment, /order/confirmed) are never prefetched.
const PREFETCH = { threshold: 0.15, max: 2, mechanism: 'link' };

const $ = (id) => document.getElementById(id);
const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const pct = (p) => (100 * p).toFixed(p < 0.1 ? 1 : 0) + '%';
const money = (p) => '€' + p.toFixed(2);

const state = {
  site: null,
  pages: new Map(),        // path → page entry of the site map
  categories: new Map(),   // id → category entry
  predictor: null,
  seq: null,
  cart: [],
  consent: false,
  showReviews: false,
  sort: 'popular',
  pushed: [],              // events pushed during this page load, as pushed (for the e2e test)
  goal: '',                // the model's goal event type(s), e.g. 'purchase' (conversion head)
  prefetched: [],
};

// The e2e test reads what was pushed (with the exact times) to replay it in node.
const demo = { pushed: state.pushed, ready: null, error: null };
window.hunchDemo = demo;

// ---- events -----------------------------------------------------------------------------------

function track(action, type) {
  const event = { action, type, time: Date.now() };
  state.seq.push(event);
  state.pushed.push(event);
  updatePanel();
  $('saved').textContent = '';
  // The SDK batches saves; wait for this one so that the panel can say it is stored.
  state.predictor.flush().then(() => {
    if (state.consent) $('saved').textContent = '· saved';
  });
}

function currentPath() {
  const p = location.pathname.replace(/\/+$/, '');
  return p === '' ? '/' : p;
}

function navigate(path) {
  if (path !== currentPath()) history.pushState(null, '', path);
  state.showReviews = false;
  render();
  track(currentPath(), 'view');
}

function saveCart() {
  if (state.consent) localStorage.setItem(CART_KEY, JSON.stringify(state.cart));
  $('cart-count').textContent = String(state.cart.length);
}

// ---- pages ------------------------------------------------------------------------------------

// A product "photo": an inline SVG drawn from the path, so that showing a product fetches nothing.
function art(path, category) {
  let h = 2166136261;
  for (const c of path) h = Math.imul(h ^ c.charCodeAt(0), 16777619) >>> 0;
  const hues = { coffee: 25, kitchen: 8, tableware: 200, garden: 110, outdoor: 150, stationery: 260, lighting: 45, textiles: 330 };
  const hue = hues[category] ?? (h % 360);
  const r = 18 + (h % 22), x = 40 + ((h >>> 5) % 80), y = 35 + ((h >>> 9) % 40);
  return `<svg class="art" viewBox="0 0 160 120" role="img" aria-label=""><rect width="160" height="120" fill="hsl(${hue} 45% 88%)"/>` +
    `<circle cx="${x}" cy="${y}" r="${r}" fill="hsl(${hue} 55% 55%)"/>` +
    `<rect x="${(h >>> 3) % 90}" y="${70 + ((h >>> 12) % 20)}" width="${40 + ((h >>> 15) % 50)}" height="18" rx="6" fill="hsl(${(hue + 30) % 360} 35% 40%)"/></svg>`;
}

function card(path) {
  const p = state.pages.get(path);
  return `<a class="card" href="${esc(path)}" data-route>${art(path, p.category)}<div class="title">${esc(p.title)}</div>` +
    `<div class="price">${money(p.price)}</div></a>`;
}

function productsOf(categoryId) {
  const list = [...state.categories.get(categoryId).products];
  if (state.sort === 'price-asc') list.sort((a, b) => state.pages.get(a).price - state.pages.get(b).price);
  if (state.sort === 'price-desc') list.sort((a, b) => state.pages.get(b).price - state.pages.get(a).price);
  return list;
}

const views = {
  home: () => `<div class="hero"><h1>Things for home, table and garden</h1>
      <p>Browse a little: the panel on the right predicts your next move from your clicks, in this tab.</p></div>
    <div class="grid">${state.site.categories.map((c) => `<a class="card" href="${esc(c.path)}" data-route>${art(c.path, c.id)}<div class="title">${esc(c.title)}</div></a>`).join('')}</div>
    <h2>This week's deals</h2><div class="grid">${state.site.deals.slice(0, 4).map(card).join('')}</div>`,

  category: (page) => `<div class="crumbs"><a href="/" data-route>Home</a> › ${esc(page.title)}</div>
    <h1>${esc(page.title)}</h1>
    <p><label>Sort by <select id="sort" data-act="sort">
      ${[['popular', 'Best sellers'], ['price-asc', 'Price, low to high'], ['price-desc', 'Price, high to low']]
        .map(([v, t]) => `<option value="${v}"${state.sort === v ? ' selected' : ''}>${t}</option>`).join('')}
    </select></label></p>
    <div class="grid">${productsOf(page.category).map(card).join('')}</div>`,

  product: (page, path) => {
    const cat = state.categories.get(page.category);
    const inCart = state.cart.includes(path);
    return `<div class="crumbs"><a href="/" data-route>Home</a> › <a href="${esc(cat.path)}" data-route>${esc(cat.title)}</a></div>
      <div class="product"><div>${art(path, page.category)}</div><div>
        <h1>${esc(page.title)}</h1><p class="price">${money(page.price)}</p>
        <p>${inCart ? '<button class="secondary" disabled>In your cart</button> <a href="/cart" data-route>Go to cart</a>'
                    : '<button data-act="add" id="add-to-cart">Add to cart</button>'}</p>
        <p><button class="secondary" data-act="reviews" id="reviews-button">${state.showReviews ? 'Hide' : 'Show'} reviews</button></p>
        ${state.showReviews ? `<div class="reviews">★★★★☆ "Does what it says." — ★★★★★ "Bought a second one."</div>` : ''}
      </div></div>
      <h2>You may also like</h2><div class="grid">${page.related.map(card).join('')}</div>
      <h2>More from ${esc(cat.title)}</h2><div class="grid">${cat.products.filter((p) => p !== path).slice(0, 4).map(card).join('')}</div>`;
  },

  search: () => `<h1>Search</h1>
    <form id="search-form" data-act="search"><input id="q" name="q" placeholder="kettle, lamp, gloves…" autocomplete="off">
      <button type="submit">Search</button></form>
    <div class="grid" id="results"></div>`,

  deals: (page) => `<h1>${esc(page.title)}</h1><div class="grid">${state.site.deals.map(card).join('')}</div>`,

  cart: () => state.cart.length === 0
    ? `<h1>Your cart</h1><p>Your cart is empty. <a href="/" data-route>Keep shopping</a></p>`
    : `<h1>Your cart</h1><table class="cart">${state.cart.map((p) => `<tr><td><a href="${esc(p)}" data-route>${esc(state.pages.get(p).title)}</a></td><td class="price">${money(state.pages.get(p).price)}</td></tr>`).join('')}
       <tr><td><strong>Total</strong></td><td class="price">${money(state.cart.reduce((s, p) => s + state.pages.get(p).price, 0))}</td></tr></table>
       <p><a class="button" href="/checkout" data-route id="to-checkout">Checkout</a></p>`,

  checkout: () => `<h1>Checkout: address</h1><form class="stack"><input placeholder="Name"><input placeholder="Street"><input placeholder="City"></form>
    <p><a class="button" href="/checkout/payment" data-route id="to-payment">Continue to payment</a> <a href="/help/shipping" data-route>Shipping times</a></p>`,

  payment: () => `<h1>Checkout: payment</h1><p>This is a demo: no payment is taken and nothing is sent.</p>
    <p><button data-act="purchase" id="place-order"${state.cart.length ? '' : ' disabled'}>Place order</button> <a href="/cart" data-route>Back to cart</a></p>`,

  confirmed: () => `<h1>Thank you!</h1><p>Your (pretend) order is confirmed.</p>
    <p><a href="/account/orders" data-route>Your orders</a> · <a href="/" data-route>Home</a></p>`,

  help: (page, path) => path === '/help'
    ? `<h1>${esc(page.title)}</h1><ul>${state.site.pages.filter((p) => p.kind === 'help' && p.path !== '/help').map((p) => `<li><a href="${esc(p.path)}" data-route>${esc(p.title)}</a></li>`).join('')}</ul>`
    : `<div class="crumbs"><a href="/help" data-route>Help</a></div><h1>${esc(page.title)}</h1>
       ${['How long does it take?', 'What does it cost?', 'Can I change my mind?'].map((q) => `<details data-act="faq"><summary>${q}</summary><p>Usually two to four days; free from €50; yes, for 30 days.</p></details>`).join('')}
       <p><a href="/help/contact" data-route>Contact us</a></p>`,

  account: (page, path) => path === '/login'
    ? `<h1>Sign in</h1><form class="stack" id="login-form" data-act="login"><input placeholder="Email"><input type="password" placeholder="Password"><button type="submit">Sign in</button></form>`
    : path === '/account'
      ? `<h1>Your account</h1><p><a href="/account/orders" data-route>Your orders</a></p>`
      : `<h1>Your orders</h1><p>No real orders here.</p><p><a href="/" data-route>Home</a></p>`,

  about: () => `<h1>About us</h1><p>A made-up shop for the hunch demo. Its 121 pages are the site map the training data was generated from.</p>`,
};

function render() {
  const path = currentPath();
  const page = state.pages.get(path);
  const main = $('page');
  if (!page) {
    main.innerHTML = `<h1>Not found</h1><p>No page at ${esc(path)}. <a href="/" data-route>Home</a></p>`;
  } else {
    main.innerHTML = (views[page.kind] ?? views.about)(page, path);
  }
  document.title = `${page ? page.title + ' — ' : ''}Hearth & Field`;
  $('cart-count').textContent = String(state.cart.length);
}

function showResults(query) {
  const q = query.trim().toLowerCase();
  const hits = state.site.pages.filter((p) => p.kind === 'product' && (q === '' || p.title.toLowerCase().includes(q)));
  $('results').innerHTML = hits.length ? hits.slice(0, 12).map((p) => card(p.path)).join('') : '<p>Nothing found.</p>';
}

// ---- the panel --------------------------------------------------------------------------------

function label(action) {
  const p = action === null ? null : state.pages.get(action);
  return p ? p.title : action ?? '(unknown)';
}

function barRow(attrs, text, probability, extra = '') {
  return `<li ${attrs}><span>${text}</span><span class="pct">${pct(probability)}</span>` +
    `<span class="meter"><span style="width:${(100 * probability).toFixed(1)}%"></span></span>${extra}</li>`;
}

function updatePanel() {
  const seq = state.seq;
  const predictions = seq.predict({ k: 5 });
  $('predictions').innerHTML = predictions.length
    ? predictions.map((p) => barRow(`data-action="${esc(p.action)}" data-probability="${p.probability}"`,
        state.pages.has(p.action) ? `<a href="${esc(p.action)}" data-route>${esc(label(p.action))}</a> <span class="muted small">${esc(p.action)}</span>` : esc(p.action),
        p.probability)).join('')
    : '<li class="muted">Click around: predictions start with your first event.</li>';

  const types = seq.nextType().filter((t) => t.type !== '<none>' || t.probability >= 0.01);
  $('types').innerHTML = predictions.length
    ? types.map((t) => barRow(`data-type="${esc(t.type)}" data-probability="${t.probability}"`, esc(t.type), t.probability)).join('')
    : '';

  const exit = seq.exitProbability();
  $('exit-bar').style.width = exit === null ? '0' : `${(100 * exit).toFixed(1)}%`;
  $('exit-text').textContent = exit === null ? '—' : `${pct(exit)} chance you leave after this page`;
  $('exit-text').dataset.probability = exit === null ? '' : String(exit);

  // null before the first event (and always for a model without a conversion head, whose
  // section stays hidden).
  const conversion = seq.conversionProbability();
  $('conversion-bar').style.width = conversion === null ? '0' : `${(100 * conversion).toFixed(1)}%`;
  $('conversion-text').textContent = conversion === null ? '—'
    : `${pct(conversion)} chance of a ${state.goal} before you leave`;
  $('conversion-text').dataset.probability = conversion === null ? '' : String(conversion);

  const attention = seq.explain({ top: 5 });
  $('attention').innerHTML = attention
    .map((e) => barRow(`data-index="${e.index}" data-weight="${e.weight}"`,
      `${esc(label(e.action))} <span class="muted small">${esc(e.type ?? '')} · #${e.index + 1}</span>`, e.weight)).join('');

  const stats = seq.stats();
  $('event-count').textContent = String(stats.events);
  $('persistence').textContent = stats.persistence === 'indexeddb' ? 'kept in IndexedDB'
    : stats.persistence === 'none' ? 'this tab only' : `kept in ${stats.persistence}`;

  if ($('prefetch').checked) {
    prefetch(seq, PREFETCH).then((urls) => {
      for (const u of urls) state.prefetched.push(new URL(u).pathname);
      $('prefetched').innerHTML = state.prefetched.slice(-6).map((p) => `<li>prefetched ${esc(p)}</li>`).join('');
    });
  }
}

// Counts every resource request that starts after the page is ready (model, wasm and site map
// loaded). Browsing never adds one; turning prefetch on does, and they are listed.
function watchNetwork() {
  const t0 = performance.now();
  const seen = [];
  const observer = new PerformanceObserver((list) => {
    for (const e of list.getEntries()) {
      if (e.startTime < t0) continue;
      seen.push(e.name);
      $('net-count').textContent = String(seen.length);
      $('net-count').closest('.network').classList.add('nonzero');
      $('net-list').innerHTML = seen.slice(-5).map((n) => `<li>${esc(new URL(n).pathname)}</li>`).join('');
    }
  });
  observer.observe({ type: 'resource', buffered: true });
}

// ---- wiring -----------------------------------------------------------------------------------

document.addEventListener('click', (e) => {
  if (!state.seq) return;
  const link = e.target.closest('a[data-route]');
  if (link && link.origin === location.origin && !e.metaKey && !e.ctrlKey && !e.shiftKey && e.button === 0) {
    e.preventDefault();
    navigate(link.pathname);
    return;
  }
  const act = e.target.closest('button[data-act]');
  if (!act) return;
  const path = currentPath();
  if (act.dataset.act === 'add') {
    state.cart.push(path);
    saveCart();
    render();
    track(path, 'add_to_cart');
  } else if (act.dataset.act === 'reviews') {
    state.showReviews = !state.showReviews;
    render();
    track(path, 'click');
  } else if (act.dataset.act === 'purchase' && state.cart.length) {
    track(path, 'purchase');
    state.cart = [];
    saveCart();
    navigate('/order/confirmed');
  }
});

document.addEventListener('change', (e) => {
  if (e.target.id === 'sort') {
    state.sort = e.target.value;
    render();
    track(currentPath(), 'click');
  }
});

document.addEventListener('submit', (e) => {
  e.preventDefault();
  if (e.target.id === 'search-form') {
    showResults($('q').value);
    track('/search', 'click');
  } else if (e.target.id === 'login-form') {
    navigate('/account');
  }
});

// An opened FAQ answer is an in-page click on that help page.
document.addEventListener('toggle', (e) => {
  if (e.target.matches?.('details[data-act="faq"]') && e.target.open) track(currentPath(), 'click');
}, true);

window.addEventListener('popstate', () => {
  render();
  track(currentPath(), 'view');
});

async function start() {
  state.consent = localStorage.getItem(CONSENT_KEY) !== '0';
  $('consent').checked = state.consent;
  const siteResponse = await fetch('/site-map.json');
  state.site = await siteResponse.json();
  for (const p of state.site.pages) state.pages.set(p.path, p);
  for (const c of state.site.categories) state.categories.set(c.id, c);
  $('categories').innerHTML = state.site.categories.map((c) => `<a href="${esc(c.path)}" data-route>${esc(c.title)}</a>`).join('');

  state.predictor = await Predictor.fromUrl('/model.hunch', {
    persist: 'indexeddb',
    consent: state.consent,
    storageKey: STORAGE_KEY,
    onWarning: (m) => console.warn('hunch:', m),
  });
  state.seq = state.predictor.sequence(SEQUENCE_KEY);
  const info = state.predictor.info;
  // The shop model is trained with the session protocol: a conversion head (goal: purchase) and
  // exit / conversion probabilities calibrated on held-out sessions (metadata hunch.calibration.*).
  state.goal = info.goalTypes.join(' or ');
  $('conversion-section').hidden = info.goalTypes.length === 0;
  $('calibration').hidden = !('hunch.calibration.exit' in info.metadata);
  $('model-info').textContent = `model: ${info.architecture}, ${info.actions.length - 1} actions, ` +
    `attention window ${info.window}, kernels ${info.kernels}, core ${info.coreVersion}`;
  if (state.consent) {
    try {
      state.cart = JSON.parse(localStorage.getItem(CART_KEY) ?? '[]').filter((p) => state.pages.has(p));
    } catch {
      state.cart = [];
    }
  }

  render();
  // A reload shows the same page again: not a new view. Anything else (a new visit, a typed URL)
  // is one.
  const path = currentPath();
  const last = state.seq.explain().sort((a, b) => b.index - a.index)[0];
  const reload = last && last.action === path && last.type === 'view' && last.time !== null &&
    Date.now() - last.time < RELOAD_WINDOW_MS;
  if (reload) updatePanel();
  else track(path, 'view');

  $('consent').addEventListener('change', async (e) => {
    state.consent = e.target.checked;
    localStorage.setItem(CONSENT_KEY, state.consent ? '1' : '0');
    if (!state.consent) localStorage.removeItem(CART_KEY);
    await state.predictor.setConsent(state.consent);
    saveCart();
    updatePanel();
  });
  $('prefetch').addEventListener('change', () => updatePanel());
  $('forget').addEventListener('click', async () => {
    await state.predictor.forget();
    localStorage.removeItem(CART_KEY);
    state.cart = [];
    state.pushed.length = 0;
    state.prefetched = [];
    $('prefetched').innerHTML = '';
    render();
    updatePanel();
    $('saved').textContent = '· forgotten';
  });

  watchNetwork();
  document.body.dataset.ready = 'true';
}

demo.ready = start().catch((err) => {
  demo.error = String(err?.message ?? err);
  $('page').innerHTML = `<h1>The demo could not start</h1><p class="error">${esc(demo.error)}</p>`;
  document.body.dataset.ready = 'error';
});
