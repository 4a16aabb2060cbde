// taoscope's widgets for other sites: one script tag, four elements.
//
//   <script src="https://TAOSCOPE/widgets.js" defer></script>
//   <taoscope-subnet netuid="1"></taoscope-subnet>
//   <taoscope-validator hotkey="5F…"></taoscope-validator>
//   <taoscope-audit netuid="1"></taoscope-audit>
//   <taoscope-stake hotkey="5F…" netuid="1"></taoscope-stake>
//
// Attributes: network ("finney" or "localnet"), rpc (a ws:// or wss:// endpoint), theme (light,
// dark, auto); CSS custom properties --taoscope-accent (#rgb or #rrggbb), --taoscope-radius
// (0px to 32px), --taoscope-font (a font-family list). A changed attribute re-renders.
// Events on the element: taoscope:ready, taoscope:verified {value, block}, taoscope:staked
// {extrinsicHash, block}, taoscope:error {message}, taoscope:rejected {count, why}.
//
// Each widget is a frame of the taoscope origin (/embed/…): the page cannot change what it
// verified or what a user signs there. This script only sizes the frames, turns their messages
// into events, and relays wallet calls for wallets that inject only into the top frame (the frame
// checks every answer; see app/src/embed/host.rs). Messages not from a widget frame of the
// taoscope origin, or not of the protocol's shapes, are ignored and counted
// (taoscopeWidgets.ignored()).
(() => {
  'use strict';
  const PROTOCOL = 'taoscope-widget/v1';
  const MAX_MESSAGE = 64 * 1024;
  const script = document.currentScript;
  if (!script || !script.src) return;
  const ORIGIN = new URL(script.src).origin;
  const KINDS = { subnet: ['netuid'], validator: ['hotkey'], audit: ['netuid'], stake: ['hotkey', 'netuid'] };
  const COMMON = ['network', 'rpc', 'theme'];
  const LOOK = { accent: '--taoscope-accent', radius: '--taoscope-radius', font: '--taoscope-font' };
  const frames = new Map(); // a frame's window → its element
  let ignored = 0;

  const isObject = (v) => typeof v === 'object' && v !== null && !Array.isArray(v);
  const isText = (v, max) => typeof v === 'string' && v.length <= max;
  const isCount = (v, max) => Number.isInteger(v) && v >= 0 && v <= max;

  class Widget extends HTMLElement {
    static get observedAttributes() { return [...COMMON, 'netuid', 'hotkey']; }

    connectedCallback() {
      if (!this.frame) {
        const root = this.attachShadow({ mode: 'closed' });
        this.frame = document.createElement('iframe');
        this.frame.title = `taoscope ${this.kind}`;
        Object.assign(this.frame.style, { border: '0', width: '100%', height: '96px', display: 'block', colorScheme: 'normal' });
        root.appendChild(this.frame);
        this.style.display = 'block';
      }
      this.render();
    }

    disconnectedCallback() {
      // The frame's window is gone from the iframe by now: the one kept at render is removed.
      if (this.window) frames.delete(this.window);
    }

    attributeChangedCallback() {
      if (this.frame) this.render();
    }

    render() {
      const params = new URLSearchParams();
      for (const name of [...KINDS[this.kind], ...COMMON]) {
        const value = this.getAttribute(name);
        if (value !== null) params.set(name, value);
      }
      const style = getComputedStyle(this);
      for (const [name, property] of Object.entries(LOOK)) {
        const value = style.getPropertyValue(property).trim();
        if (value) params.set(name, value);
      }
      const src = `${ORIGIN}/embed/${this.kind}?${params}`;
      if (this.frame.src !== src) this.frame.src = src;
      this.window = this.frame.contentWindow;
      frames.set(this.window, this);
    }

    emit(name, detail) {
      this.dispatchEvent(new CustomEvent(`taoscope:${name}`, { detail, bubbles: true, composed: true }));
    }

    answer(id, result) {
      const message = { taoscope: PROTOCOL, type: 'wallet-answer', id, ...result };
      this.frame.contentWindow?.postMessage(JSON.stringify(message), ORIGIN);
    }
  }

  // Wallet calls relayed for a stake widget, with this page's wallets (injectedWeb3).
  async function relay(element, { id, op, wallet, payload }) {
    try {
      const injected = window.injectedWeb3 ?? {};
      if (op === 'wallets') {
        const names = Object.keys(injected).filter((n) => typeof injected[n]?.enable === 'function');
        return element.answer(id, { ok: names.slice(0, 16) });
      }
      const extension = await injected[wallet]?.enable?.('taoscope widget');
      if (!extension) throw new Error(`no wallet named ${wallet} in this page`);
      if (op === 'accounts') {
        const list = await extension.accounts.get();
        const ok = (Array.isArray(list) ? list : []).slice(0, 256)
          .map((a) => ({ address: String(a.address), name: a.name == null ? undefined : String(a.name), type: a.type }));
        return element.answer(id, { ok });
      }
      const signed = await extension.signer.signPayload(payload);
      element.answer(id, { ok: { signature: signed.signature, signedTransaction: signed.signedTransaction } });
    } catch (error) {
      element.answer(id, { error: String(error?.message ?? error).slice(0, 200) });
    }
  }

  // Each message type, and what makes it well formed.
  const SHAPES = {
    ready: () => true,
    size: (m) => isCount(m.height, 10000),
    verified: (m) => isObject(m.value) && isObject(m.block) && isCount(m.block.number, 2 ** 53) && isText(m.block.hash, 66),
    staked: (m) => isText(m.extrinsicHash, 66) && isText(m.block, 66),
    error: (m) => isText(m.message, 1000),
    rejected: (m) => isCount(m.count, 2 ** 31) && isText(m.why, 200),
    wallet: (m) => isCount(m.id, 2 ** 32) && ['wallets', 'accounts', 'sign'].includes(m.op) && isText(m.wallet, 64),
  };

  window.addEventListener('message', (event) => {
    const element = event.origin === ORIGIN ? frames.get(event.source) : undefined;
    let message;
    try {
      message = typeof event.data === 'string' && event.data.length <= MAX_MESSAGE ? JSON.parse(event.data) : undefined;
    } catch { message = undefined; }
    const shape = isObject(message) && message.taoscope === PROTOCOL && Object.hasOwn(SHAPES, message.type) ? SHAPES[message.type] : undefined;
    if (!element || !shape || !shape(message) || (message.type === 'wallet' && element.kind !== 'stake')) {
      ignored += 1; // another script's message, or a forgery: not acted on
      return;
    }
    switch (message.type) {
      case 'size': element.frame.style.height = `${message.height}px`; break;
      case 'wallet': relay(element, message); break;
      case 'ready': element.emit('ready', {}); break;
      case 'verified': element.emit('verified', { value: message.value, block: message.block }); break;
      case 'staked': element.emit('staked', { extrinsicHash: message.extrinsicHash, block: message.block }); break;
      case 'error': element.emit('error', { message: message.message }); break;
      case 'rejected': element.emit('rejected', { count: message.count, why: message.why }); break;
    }
  });

  for (const kind of Object.keys(KINDS)) {
    const name = `taoscope-${kind}`;
    if (!customElements.get(name)) customElements.define(name, class extends Widget { get kind() { return kind; } });
  }
  window.taoscopeWidgets = Object.freeze({ origin: ORIGIN, ignored: () => ignored });
})();
