// The console rides out what a working day does to a session, in a real browser ($SCENARIO):
// - `token`: the server's access tokens live a few seconds. The agent signs in, opens a ticket and
//   leaves a half-written reply; once the server refuses the token the console was given, the
//   agent changes the ticket's priority: the change succeeds after a silent refresh, no sign-in
//   screen shows, the draft is still in the composer, and live messages still arrive.
// - `socket`: the browser reaches the server through a TCP proxy of this script, which cuts the
//   console's socket and refuses new ones while a customer writes twice, opens a ticket and the
//   admin assigns that ticket to the agent. Let through again, the console reconnects with the
//   last event id it saw and shows every missed event exactly once: each message once in the
//   thread, the new ticket once in the queue, one unread notification.
import net from "node:net";
import { rm } from "node:fs/promises";
import { check, eventually, launch, shot, signIn, watchPolicy } from "./browser.mjs";

const { BASE, SCENARIO, AGENT_EMAIL, AGENT_PASSWORD, AGENT_ID, ADMIN_EMAIL, ADMIN_PASSWORD, CUSTOMER_EMAIL, CUSTOMER_PASSWORD, ARTIFACTS, BACKEND } = process.env;

const tokens = new Map();

async function signInAs(email, password) {
  const response = await fetch(`${BASE}/api/auth/login`, {
    method: "POST",
    headers: { "Content-Type": "application/json" },
    body: JSON.stringify({ email, password }),
  });
  check(response.ok, `sign-in of ${email}: ${response.status}`);
  tokens.set(email, (await response.json()).access_token);
}

/** The API as a user, signing in again when the server refuses the token (in `token`, tokens last seconds). */
async function as(email, password, method, path, body) {
  for (;;) {
    if (!tokens.has(email)) await signInAs(email, password);
    const response = await fetch(`${BASE}${path}`, {
      method,
      headers: { Authorization: `Bearer ${tokens.get(email)}`, "Content-Type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (response.status === 401) {
      tokens.delete(email);
      continue;
    }
    if (!response.ok) throw new Error(`${method} ${path}: ${response.status} ${await response.text()}`);
    return response.json();
  }
}

const customer = (method, path, body) => as(CUSTOMER_EMAIL, CUSTOMER_PASSWORD, method, path, body);
const admin = (method, path, body) => as(ADMIN_EMAIL, ADMIN_PASSWORD, method, path, body);
const agent = (method, path, body) => as(AGENT_EMAIL, AGENT_PASSWORD, method, path, body);

/**
 * A TCP proxy to the server that can cut the console's socket: `cut()` closes the open ones and
 * refuses new ones until `restore()`. It keeps the request line of every socket (`GET
 * /api/ws?last_event_id=…`), where a resume shows.
 */
async function socketProxy(target) {
  const { hostname, port } = new URL(target);
  const sockets = new Set();
  const requests = [];
  let refusing = false;
  const server = net.createServer((client) => {
    client.once("data", (head) => {
      client.pause();
      const line = head.toString("latin1").split("\r\n", 1)[0];
      const isSocket = line.startsWith("GET /api/ws");
      if (isSocket) requests.push(line);
      if (isSocket && refusing) {
        client.destroy();
        return;
      }
      const upstream = net.connect(Number(port), hostname, () => {
        upstream.write(head);
        client.pipe(upstream);
        upstream.pipe(client);
      });
      const pair = { client, upstream };
      if (isSocket) sockets.add(pair);
      const close = () => {
        sockets.delete(pair);
        client.destroy();
        upstream.destroy();
      };
      for (const end of [client, upstream]) {
        end.on("error", close);
        end.on("close", close);
      }
    });
    client.on("error", () => client.destroy());
  });
  await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    base: `http://127.0.0.1:${server.address().port}`,
    requests,
    cut() {
      refusing = true;
      for (const { client, upstream } of sockets) {
        client.destroy();
        upstream.destroy();
      }
      sockets.clear();
    },
    restore() {
      refusing = false;
    },
    close: () => new Promise((resolve) => server.close(resolve)),
  };
}

const browser = await launch();
await rm(`${ARTIFACTS}/console-resilience-${BACKEND}-${SCENARIO}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
let proxy = null;
try {
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-US" });
  const page = await context.newPage();
  current = page;
  watchPolicy(page, policyViolations);
  const thread = page.locator(".thread");
  const said = (text) => thread.locator(".message").filter({ hasText: text });
  const row = (subject) => page.getByRole("option").filter({ hasText: subject });

  if (SCENARIO === "token") {
    const ticket = await customer("POST", "/api/tickets", { subject: "Parcel never arrived", description: "Tracking says delivered." });
    await page.goto(`${BASE}/views/open`);
    const signedIn = page.waitForResponse((response) => new URL(response.url()).pathname === "/api/auth/login");
    await signIn(page, AGENT_EMAIL, AGENT_PASSWORD);
    // The refreshes of the session signed in (the one at load found no cookie, and was refused).
    const refreshes = [];
    page.on("response", (response) => {
      if (new URL(response.url()).pathname === "/api/auth/refresh") refreshes.push(response.status());
    });
    const firstToken = (await (await signedIn).json()).access_token;
    await row("Parcel never arrived").click();
    await page.getByRole("heading", { name: /Parcel never arrived/ }).waitFor();
    await page.getByLabel("Reply", { exact: true }).fill("We have asked the carrier and will");

    // The token the console holds expires; the server says so.
    await eventually(async () => {
      const answer = await fetch(`${BASE}/api/auth/me`, { headers: { Authorization: `Bearer ${firstToken}` } });
      check(answer.ok || answer.status === 401, `/api/auth/me: ${answer.status}`);
      return answer.status === 401;
    }, "the first access token expired");
    await page.locator("#ticket-priority").selectOption("high");
    await eventually(async () => (await agent("GET", `/api/tickets/${ticket.id}`)).priority === "high", "the priority became high");
    check(refreshes.length > 0 && refreshes.every((status) => status === 200), `the console refreshed its session: ${refreshes}`);
    check((await page.getByRole("heading", { name: "Sign in to GrowDesk" }).count()) === 0, "no sign-in screen");
    check((await page.getByLabel("Reply", { exact: true }).inputValue()) === "We have asked the carrier and will", "the draft is kept");
    // The socket, whose token expired too, came back: a customer's message arrives live.
    await customer("POST", `/api/tickets/${ticket.id}/messages`, { body: "Any news about my parcel?" });
    await said("Any news about my parcel?").waitFor();
    await shot(page, "console-resilience", "token");
    console.log(`console resilience (${BACKEND}, token): an expired token refreshed ${refreshes.length} time(s) without a sign-in, the change made, the draft kept`);
  } else if (SCENARIO === "socket") {
    proxy = await socketProxy(BASE);
    const ticket = await customer("POST", "/api/tickets", { subject: "Invoice shows the wrong address", description: "It should say Calle Mayor 5." });
    await page.goto(`${proxy.base}/views/open`);
    await signIn(page, AGENT_EMAIL, AGENT_PASSWORD);
    await row("Invoice shows the wrong address").click();
    await page.getByRole("heading", { name: /Invoice shows the wrong address/ }).waitFor();
    await page.locator(".live-live").waitFor();
    await page.getByRole("button", { name: "Notifications, 0 unread" }).waitFor();

    proxy.cut();
    await page.locator(".live-offline").waitFor();
    const before = proxy.requests.length;
    // While the console is cut off: two messages, a new ticket, and its assignment to the agent.
    await customer("POST", `/api/tickets/${ticket.id}/messages`, { body: "First message while you were away" });
    await customer("POST", `/api/tickets/${ticket.id}/messages`, { body: "Second message while you were away" });
    const second = await customer("POST", "/api/tickets", { subject: "Refund for order 1042", description: "Charged twice." });
    await admin("POST", `/api/tickets/${second.id}/assign`, { assignee_id: AGENT_ID });
    await admin("PATCH", `/api/tickets/${ticket.id}`, { status: "in_progress" });

    proxy.restore();
    // The network is back: the console tries at once.
    await page.evaluate(() => window.dispatchEvent(new Event("online")));
    await page.locator(".live-live").waitFor();
    // Every attempt since the cut asked to resume from an event before the ones it missed.
    const missed = (await agent("GET", `/api/tickets/${ticket.id}/events`)).items.slice(-3).map((event) => event.id);
    const attempts = proxy.requests.slice(before).map((line) => Number(/[?&]last_event_id=(\d+)/.exec(line)?.[1] ?? Number.NaN));
    check(attempts.length > 0 && attempts.every((id) => id > 0 && id < Math.min(...missed)), `the console resumed from its last event id (${attempts}) before the missed ${missed}`);

    for (const text of ["First message while you were away", "Second message while you were away"]) {
      await said(text).waitFor();
    }
    await page.waitForFunction(() => document.querySelector("#ticket-status")?.value === "in_progress");
    await page.getByRole("button", { name: "Notifications, 1 unread" }).waitFor();
    // A new row may wait behind the pill while the agent's pointer or focus is on the list.
    const pill = page.getByRole("button", { name: /update/ });
    await Promise.race([pill.waitFor(), row("Refund for order 1042").waitFor()]);
    if (await pill.isVisible()) await pill.click();
    await row("Refund for order 1042").waitFor();
    // Exactly once: wait for a moment's more frames, then count.
    await page.evaluate(() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve))));
    for (const text of ["First message while you were away", "Second message while you were away"]) {
      check((await said(text).count()) === 1, `"${text}" shows once`);
    }
    check((await row("Refund for order 1042").count()) === 1, "the new ticket shows once");
    check((await page.getByRole("button", { name: "Notifications, 1 unread" }).count()) === 1, "one notification");
    const messages = await agent("GET", `/api/tickets/${ticket.id}/messages`);
    check((await thread.locator(".message").count()) === messages.items.length, `the thread holds the ${messages.items.length} messages once each`);
    await shot(page, "console-resilience", "socket");
    console.log(`console resilience (${BACKEND}, socket): cut, 5 changes missed, resumed with the last event id, each shown once`);
  } else {
    throw new Error(`unknown SCENARIO ${SCENARIO}`);
  }
  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/console-resilience-${BACKEND}-${SCENARIO}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
  await proxy?.close();
}
