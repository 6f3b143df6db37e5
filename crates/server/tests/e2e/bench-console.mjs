// The console's speed benchmark (scripts/bench-console.sh, BENCHMARKS.md "Console"): headless
// Chromium against a running server on a seeded database, every figure read in the page from the
// Performance API (performance.now(), navigation and resource timing, long tasks) and the heap from
// the DevTools protocol after a forced garbage collection, never from the wall clock of this
// script. It measures, $RUNS times each:
// - a cold load of the queue (a new browser context: empty cache, the session in its refresh
//   cookie) from the navigation's start to the first frame painted with rows, and a warm one
//   (a reload, the assets cached);
// - a view switch: from the click on a view to the frame painted with its rows, the first visit of
//   each view (from the server) apart from the later ones (the console's cache);
// - opening a ticket of $LONG_MESSAGES messages from the queue: from the navigation to the frame
//   painted with every message;
// - $EVENTS_PER_MINUTE live events a minute for $EVENT_SECONDS seconds into the open queue (new
//   tickets, customer replies, status changes through the API): every event id the server logged
//   for those tickets must reach the page's socket once; long tasks, the heap and the DOM's size
//   before and after.
// It prints a Markdown table and writes the raw figures as JSON to $OUT.
import { writeFile } from "node:fs/promises";
import { check, launch, signIn } from "./browser.mjs";

const env = process.env;
const BASE = env.BASE;
const PASSWORD = env.BENCH_PASSWORD ?? "bench-password-1";
const AGENT = env.AGENT_EMAIL ?? "agent0@bench.growdesk.test";
const ADMIN = env.ADMIN_EMAIL ?? "admin@bench.growdesk.test";
const CUSTOMER = env.CUSTOMER_EMAIL ?? "customer0@bench.growdesk.test";
const RUNS = Number(env.RUNS ?? 20);
const LONG_MESSAGES = Number(env.LONG_MESSAGES ?? 200);
const EVENTS_PER_MINUTE = Number(env.EVENTS_PER_MINUTE ?? 1000);
const EVENT_SECONDS = Number(env.EVENT_SECONDS ?? 60);
const VIEWPORT = { width: 1366, height: 800 };
const SWITCHES = ["unassigned", "mine", "pending", "open"];

async function call(token, method, path, body) {
  const response = await fetch(`${BASE}${path}`, {
    method,
    headers: { Authorization: `Bearer ${token}`, "Content-Type": "application/json" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
  return response.status === 204 ? null : response.json();
}

async function login(email) {
  const response = await fetch(`${BASE}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password: PASSWORD }),
  });
  if (!response.ok) throw new Error(`sign-in of ${email}: ${response.status} ${await response.text()}`);
  return (await response.json()).access_token;
}

/** Every item of a paged list. */
async function all(token, path) {
  const items = [];
  let cursor = null;
  do {
    const separator = path.includes("?") ? "&" : "?";
    const page = await call(token, "GET", `${path}${separator}limit=100${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ""}`);
    items.push(...page.items);
    cursor = page.next_cursor;
  } while (cursor);
  return items;
}

function summary(values) {
  const sorted = [...values].sort((a, b) => a - b);
  const rank = (p) => sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil(p * sorted.length) - 1))];
  return { runs: sorted.length, median: rank(0.5), p95: rank(0.95), min: sorted[0], max: sorted[sorted.length - 1] };
}

const ms = (value) => `${Math.round(value)} ms`;

// Runs in every page before the console's own script: the socket's event frames (each id, and
// any id seen twice), the long tasks, and helpers that wait for a state of the DOM and then for
// the frame that paints it (a message posted from requestAnimationFrame runs once that frame is
// committed).
function probe() {
  const bench = (window.__bench = { ids: new Set(), duplicates: 0, frames: 0, readies: [], longTasks: [] });
  bench.nextPaint = () =>
    new Promise((resolve) =>
      requestAnimationFrame(() => {
        const channel = new MessageChannel();
        channel.port1.onmessage = () => resolve(performance.now());
        channel.port2.postMessage(null);
      }),
    );
  // A state that never comes fails the run after 30 s, naming what it waited for.
  bench.until = (what, test, root = document) =>
    new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        observer.disconnect();
        reject(new Error(`no ${what} after 30 s`));
      }, 30_000);
      const done = () => {
        if (!test()) return;
        clearTimeout(timer);
        observer.disconnect();
        resolve(performance.now());
      };
      const observer = new MutationObserver(done);
      observer.observe(root, { childList: true, subtree: true, characterData: true, attributes: true });
      done();
    });
  const Native = window.WebSocket;
  window.WebSocket = class extends Native {
    constructor(url, protocols) {
      super(url, protocols);
      this.addEventListener("message", (message) => {
        const frame = JSON.parse(message.data);
        if (frame.type === "event") {
          bench.frames += 1;
          if (bench.ids.has(frame.event.id)) bench.duplicates += 1;
          bench.ids.add(frame.event.id);
        } else if (frame.type === "ready") {
          bench.readies.push(frame.last_event_id);
        }
      });
    }
  };
  new PerformanceObserver((list) => {
    for (const entry of list.getEntries()) bench.longTasks.push({ start: entry.startTime, duration: entry.duration });
  }).observe({ type: "longtask", buffered: true });
}

/** The page's figures of a load: navigation, the API requests, and the first frame with rows. */
async function loadFigures(page) {
  const at = await page.evaluate(async () => {
    const bench = window.__bench;
    const rows = await bench.until("row in the queue", () => document.querySelector('#ticket-list [role="option"]') !== null);
    const painted = await bench.nextPaint();
    const navigation = performance.getEntriesByType("navigation")[0];
    const api = (path) =>
      performance
        .getEntriesByType("resource")
        .filter((entry) => new URL(entry.name).pathname === path)
        .map((entry) => ({ start: entry.startTime, end: entry.responseEnd }));
    return {
      rows,
      painted,
      document: navigation.responseEnd,
      scripts: navigation.domContentLoadedEventEnd,
      refresh: api("/api/auth/refresh")[0],
      tickets: api("/api/tickets"),
    };
  });
  return at;
}

const browser = await launch();
const figures = { cold: [], warm: [], switchFirst: [], switchCached: [], open: [], live: null };
try {
  const agent = await login(AGENT);
  const admin = await login(ADMIN);
  const customer = await login(CUSTOMER);

  // The long conversation: the oldest open ticket, brought to $LONG_MESSAGES messages (replies of
  // its requester and of the agent, through the API) unless an earlier run did it.
  const [long] = (await call(agent, "GET", "/api/tickets?status=open&sort=number&order=asc&limit=1")).items;
  check(long, "the database holds an open ticket");
  const requester = await login(long.requester.email);
  let count = (await all(agent, `/api/tickets/${long.id}/messages`)).length;
  for (; count < LONG_MESSAGES; count += 1) {
    const [token, text] = count % 2 === 0 ? [requester, "One more detail about my order, in case it helps."] : [agent, "Thank you, I have added it to the case."];
    await call(token, "POST", `/api/tickets/${long.id}/messages`, { body: `${text} (${count + 1})` });
  }
  const longCount = (await all(agent, `/api/tickets/${long.id}/messages`)).length;

  // Signed in once through the form; each later context starts from the cookie the last one held
  // (refresh tokens rotate, so a spent one is never presented again).
  const first = await browser.newContext({ viewport: VIEWPORT, locale: "en-US" });
  const signing = await first.newPage();
  await signing.goto(`${BASE}/sign-in`);
  await signIn(signing, AGENT, PASSWORD);
  let session = await first.storageState();
  await first.close();

  // Cold loads, then warm reloads in the last context.
  let context = null;
  let page = null;
  for (let run = 0; run < RUNS; run += 1) {
    await context?.close();
    context = await browser.newContext({ viewport: VIEWPORT, locale: "en-US", storageState: session });
    await context.addInitScript(probe);
    page = await context.newPage();
    await page.goto(`${BASE}/views/open`);
    figures.cold.push(await loadFigures(page));
    session = await context.storageState();
  }
  for (let run = 0; run < RUNS; run += 1) {
    await page.reload();
    figures.warm.push(await loadFigures(page));
  }

  // View switches: the first visit of each view, then RUNS rounds through them.
  const switchTo = (view) =>
    page.evaluate(async (target) => {
      const bench = window.__bench;
      const list = document.querySelector("#ticket-list");
      let changed = false;
      const observer = new MutationObserver(() => {
        changed = true;
      });
      observer.observe(list, { childList: true });
      const link = document.querySelector(`nav a[href="/views/${target}"]`);
      const name = link.querySelector(".view-name").textContent;
      // Shown: the list is named after the view and its rows changed, or (when the two views'
      // first rows are the same) its read has ended.
      const start = performance.now();
      link.click();
      const shown = await bench.until(`the list of ${target}`, () => list.getAttribute("aria-label") === name && (changed || !document.querySelector('.queue [role="status"]')));
      observer.disconnect();
      const painted = await bench.nextPaint();
      return { shown: shown - start, painted: painted - start };
    }, view);
  const settle = () => page.getByRole("status").filter({ hasText: "Loading" }).waitFor({ state: "detached" });
  await settle();
  for (const view of SWITCHES) {
    figures.switchFirst.push({ view, ...(await switchTo(view)) });
    await settle();
  }
  for (let run = 0; run < RUNS; run += 1) {
    for (const view of SWITCHES) {
      figures.switchCached.push({ view, ...(await switchTo(view)) });
      await settle();
    }
  }

  // Opening the long ticket from the list (the URL changes as a click on its row changes it).
  for (let run = 0; run < RUNS; run += 1) {
    figures.open.push(
      await page.evaluate(
        async ({ id, expected }) => {
          const bench = window.__bench;
          const start = performance.now();
          history.pushState(null, "", `/views/open/tickets/${id}`);
          dispatchEvent(new PopStateEvent("popstate"));
          const shown = await bench.until(`${expected} messages`, () => document.querySelectorAll(".thread .message").length >= expected);
          const painted = await bench.nextPaint();
          const requests = performance
            .getEntriesByType("resource")
            .filter((entry) => entry.startTime >= start && [`/api/tickets/${id}`, `/api/tickets/${id}/messages`].includes(new URL(entry.name).pathname))
            .map((entry) => ({ path: new URL(entry.name).pathname, start: entry.startTime - start, end: entry.responseEnd - start }));
          history.back();
          await bench.until("way back to the queue", () => document.querySelector(".thread") === null);
          return { shown: shown - start, painted: painted - start, requests };
        },
        { id: long.id, expected: longCount },
      ),
    );
  }

  // Live events into the open queue, the page left alone (no focus or pointer on the list, so
  // rows move as they come).
  await page.evaluate(() => document.querySelector('nav a[href="/views/open"]').click());
  await settle();
  const cdp = await context.newCDPSession(page);
  const heap = async () => {
    await cdp.send("HeapProfiler.collectGarbage");
    return (await cdp.send("Runtime.getHeapUsage")).usedSize;
  };
  const snapshot = async () => ({
    heap: await heap(),
    nodes: await page.evaluate(() => document.getElementsByTagName("*").length),
    rows: await page.locator('#ticket-list [role="option"]').count(),
    frames: await page.evaluate(() => window.__bench.frames),
    longTasks: await page.evaluate(() => window.__bench.longTasks.length),
    at: await page.evaluate(() => performance.now()),
  });
  const before = await snapshot();
  const touched = new Set();
  const created = [];
  // Each round is a new ticket (created, message_created), a reply of its requester on an earlier
  // one (message_created) and a status change by the admin (status_changed): four events.
  const EVENTS_PER_ROUND = 4;
  const roundMs = (60_000 * EVENTS_PER_ROUND) / EVENTS_PER_MINUTE;
  const started = Date.now();
  let rounds = 0;
  while (Date.now() - started < EVENT_SECONDS * 1000) {
    const ticket = await call(customer, "POST", "/api/tickets", { subject: `Live ticket ${rounds + 1} of the benchmark`, description: "Arrived while the queue was open." });
    created.push(ticket);
    touched.add(ticket.id);
    const earlier = created[Math.floor(created.length / 2)];
    await call(customer, "POST", `/api/tickets/${earlier.id}/messages`, { body: `Any news? (${rounds + 1})` });
    const moved = created[created.length - 1 - (rounds % Math.min(created.length, 10))];
    const current = await call(admin, "GET", `/api/tickets/${moved.id}`);
    await call(admin, "PATCH", `/api/tickets/${moved.id}`, { status: current.status === "in_progress" ? "open" : "in_progress" });
    rounds += 1;
    const wait = started + rounds * roundMs - Date.now();
    if (wait > 0) await new Promise((resolve) => setTimeout(resolve, wait));
  }
  const generatorSeconds = (Date.now() - started) / 1000;
  const expected = new Set();
  const startId = await page.evaluate(() => window.__bench.readies[window.__bench.readies.length - 1] ?? 0);
  for (const id of touched) {
    for (const event of await all(agent, `/api/tickets/${id}/events`)) if (event.id > startId) expected.add(event.id);
  }
  // Delivered when the page holds every expected id; a missing one fails the run.
  await page.waitForFunction((ids) => ids.every((id) => window.__bench.ids.has(id)), [...expected], { timeout: 60_000 }).catch(() => {});
  const received = await page.evaluate((ids) => ({ missing: ids.filter((id) => !window.__bench.ids.has(id)).length, duplicates: window.__bench.duplicates, longTasks: window.__bench.longTasks }), [...expected]);
  const stats = await call(agent, "GET", "/api/tickets/stats");
  const openCount = ["open", "pending", "in_progress"].reduce((sum, status) => sum + (stats.by_status[status] ?? 0), 0);
  await page.locator('[data-view-count="open"]').filter({ hasText: new RegExp(`^${openCount.toLocaleString("en-US")}$`) }).waitFor({ timeout: 10_000 });
  const after = await snapshot();
  const during = received.longTasks.filter((task) => task.start >= before.at && task.start <= after.at);
  figures.live = {
    rounds,
    generatorSeconds,
    eventsLogged: expected.size,
    eventsPerMinute: (expected.size * 60) / generatorSeconds,
    framesReceived: after.frames - before.frames,
    missing: received.missing,
    duplicates: received.duplicates,
    longTasks: during.length,
    longestTask: during.reduce((longest, task) => Math.max(longest, task.duration), 0),
    longTaskMs: during.reduce((sum, task) => sum + task.duration, 0),
    before,
    after,
  };

  const cold = summary(figures.cold.map((run) => run.painted));
  const coldTickets = summary(figures.cold.map((run) => run.tickets[0].end - run.tickets[0].start));
  const coldListed = summary(figures.cold.map((run) => run.tickets.filter((request) => request.end <= run.rows).length));
  const coldRefresh = summary(figures.cold.map((run) => run.refresh.end - run.refresh.start));
  const coldScripts = summary(figures.cold.map((run) => run.scripts));
  const warm = summary(figures.warm.map((run) => run.painted));
  const switchFirst = summary(figures.switchFirst.map((run) => run.painted));
  const switchCached = summary(figures.switchCached.map((run) => run.painted));
  const open = summary(figures.open.map((run) => run.painted));
  const openApi = summary(figures.open.map((run) => Math.max(...run.requests.map((request) => request.end))));
  const live = figures.live;
  const mb = (bytes) => `${(bytes / 1048576).toFixed(1)} MB`;
  const lines = [
    `| Measure (${env.LABEL ?? "console"}) | Target | Median | p95 | Runs |`,
    "|---|---|---|---|---|",
    `| Queue, cold load (empty cache): navigation to the first frame with rows | < 1 s | ${ms(cold.median)} | ${ms(cold.p95)} | ${cold.runs} |`,
    `| … of which the page's scripts ran by (DOMContentLoaded) | | ${ms(coldScripts.median)} | ${ms(coldScripts.p95)} | |`,
    `| … the session's refresh request | | ${ms(coldRefresh.median)} | ${ms(coldRefresh.p95)} | |`,
    `| … the queue's request (\`GET /api/tickets\`) | | ${ms(coldTickets.median)} | ${ms(coldTickets.p95)} | |`,
    `| … queue requests answered before the rows showed | | ${coldListed.median} | ${coldListed.p95} | |`,
    `| Queue, warm reload (assets cached) | < 1 s | ${ms(warm.median)} | ${ms(warm.p95)} | ${warm.runs} |`,
    `| View switch, first visit (from the server) | | ${ms(switchFirst.median)} | ${ms(switchFirst.p95)} | ${switchFirst.runs} |`,
    `| View switch, a view seen before (from cache) | < 100 ms | ${ms(switchCached.median)} | ${ms(switchCached.p95)} | ${switchCached.runs} |`,
    `| Open a ticket of ${longCount} messages: to the frame with all of them | < 300 ms | ${ms(open.median)} | ${ms(open.p95)} | ${open.runs} |`,
    `| … of which its requests answered | | ${ms(openApi.median)} | ${ms(openApi.p95)} | |`,
    "",
    `Live: ${live.eventsLogged} events in ${live.generatorSeconds.toFixed(0)} s (${Math.round(live.eventsPerMinute)} a minute; ${live.rounds} new tickets, as many replies and status changes), ` +
      `${live.missing} missing and ${live.duplicates} twice at the page's socket; ${live.longTasks} long tasks (over 50 ms) during the run, the longest ${ms(live.longestTask)}, ${ms(live.longTaskMs)} in all; ` +
      `JS heap after a forced GC ${mb(live.before.heap)} before, ${mb(live.after.heap)} after; DOM ${live.before.nodes} → ${live.after.nodes} elements, ${live.before.rows} → ${live.after.rows} rows.`,
  ];
  console.log(lines.join("\n"));
  if (env.OUT) await writeFile(env.OUT, JSON.stringify(figures, null, 2));
  check(live.missing === 0, `${live.missing} of ${live.eventsLogged} events never reached the page`);
  check(live.duplicates === 0, `${live.duplicates} events reached the page twice`);
} finally {
  await browser.close();
}
