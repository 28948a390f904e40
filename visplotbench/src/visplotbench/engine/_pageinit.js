// The page-init script of every pooled page (Page.addScriptToEvaluateOnNewDocument): deterministic,
// offline-friendly pages. visplotbench.engine._tabs.init_script() calls this function expression with
// its settings as JSON: {speed, startMs, seed, consoleCap}. Never spliced into a user's source.
(config) => {
  const K = config.speed, T0 = config.startMs, SEED = config.seed, CONSOLE_CAP = config.consoleCap;
  const g = globalThis;
  // Seeded Math.random (mulberry32): random data is the same on every render.
  let s = SEED >>> 0;
  Math.random = function random() {
    s = (s + 0x6D2B79F5) >>> 0; let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1); t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  // Page time starts at T0 and runs K times faster, so that animations end while the page settles.
  const realNow = performance.now.bind(performance);
  let start = realNow();
  const vnow = () => (realNow() - start) * K;
  const dateNow = () => Math.floor(T0 + vnow());
  performance.now = function now() { return vnow(); };
  const NativeDate = Date;
  g.Date = new Proxy(NativeDate, {
    construct(target, args, newTarget) { return Reflect.construct(target, args.length ? args : [dateNow()], newTarget); },
    apply() { return new NativeDate(dateNow()).toString(); },
    get(target, prop, receiver) { return prop === 'now' ? dateNow : Reflect.get(target, prop, receiver); },
  });
  // Animation frames come as fast as the page can take them (a MessageChannel, not the 60 Hz
  // compositor), so frame-counted animations such as a D3 force layout also settle quickly.
  const raf = g.requestAnimationFrame && g.requestAnimationFrame.bind(g);
  // Between jobs a pooled page is paused (__vpbPause): a page that animates forever (a WebGL
  // scene, a chart library's render loop) would otherwise spin a core while it waits in the pool.
  let paused = false, queue = [];
  const channel = new MessageChannel();
  if (raf) {
    let seq = 0;
    const cancelled = new Set();
    channel.port1.onmessage = () => {
      if (paused) return;  // the frames wait in the queue until __vpbResume
      const due = queue; queue = [];
      const now = vnow();
      for (const [id, cb] of due) {
        if (cancelled.delete(id)) continue;
        try { cb(now); } catch (e) { st(() => { throw e; }, 0); }  // report it, run the others
      }
    };
    g.requestAnimationFrame = function requestAnimationFrame(cb) {
      if (queue.length === 0 && !paused) channel.port2.postMessage(0);
      queue.push([++seq, cb]);
      return seq;
    };
    g.cancelAnimationFrame = function cancelAnimationFrame(id) { cancelled.add(id); };
  }
  // Readiness: how long the document has gone without a change (the harness waits for quiet).
  let lastChange = realNow();
  new MutationObserver(() => { lastChange = realNow(); })
    .observe(document, { subtree: true, childList: true, attributes: true, characterData: true });
  const st = g.setTimeout.bind(g), si = g.setInterval.bind(g);
  g.setTimeout = function setTimeout(fn, ms, ...a) { return st(fn, (Number(ms) || 0) / K, ...a); };
  g.setInterval = function setInterval(fn, ms, ...a) { return si(fn, (Number(ms) || 0) / K, ...a); };
  // No service workers (as Playwright's serviceWorkers: 'block' did): registering one does nothing.
  if (g.ServiceWorkerContainer) {
    ServiceWorkerContainer.prototype.register = async function register() {
      console.warn('Service worker registration blocked: pages render offline.');
    };
  }
  // Console output is capped here, before it reaches the harness.
  let budget = CONSOLE_CAP;
  for (const name of ['log', 'info', 'warn', 'error', 'debug', 'trace', 'dir', 'dirxml', 'table', 'assert', 'count', 'timeLog']) {
    const orig = console[name];
    if (typeof orig !== 'function') continue;
    console[name] = function (...args) {
      if (budget > 0) { budget--; return orig.apply(console, args); }
      if (budget-- === 0) orig.call(console, '[further console output dropped]');
    };
  }
  // A warm page (Mermaid) resets seed and clock before each job.
  Object.defineProperty(g, '__vpbReset', { value: () => { s = SEED >>> 0; start = realNow(); budget = CONSOLE_CAP; }, enumerable: false });
  Object.defineProperty(g, '__vpbPause', { value: () => { paused = true; }, enumerable: false });
  Object.defineProperty(g, '__vpbResume', { value: () => {
    paused = false;
    if (queue.length) channel.port2.postMessage(0);
  }, enumerable: false });
  const born = realNow();
  // Resolves once the document is at least minMs old and has not changed for quietMs (or maxMs passed).
  Object.defineProperty(g, '__vpbSettle', { value: (minMs, quietMs, maxMs) => new Promise(done => {
    const t0 = realNow();
    (function check() {
      const now = realNow();
      if ((now - born >= minMs && now - lastChange >= quietMs) || now - t0 >= maxMs) return done(true);
      st(check, 10);
    })();
  }), enumerable: false });
  Object.defineProperty(g, '__vpbFrames', { value: () => new Promise(done => {
    if (!raf) return done(true);
    raf(() => raf(() => done(true)));
    st(() => done(true), 500);  // a page without frames must not hang the job
  }), enumerable: false });
}
