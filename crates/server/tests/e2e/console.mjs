// The agent console in a real browser (Debian's Chromium, headless, driven by playwright-core):
// an agent signs in, sees a ticket a customer opened through the API, sees a new one arrive live
// while the console is open, opens it with the keyboard, replies, adds a note, changes its status,
// reloads to find the session and the draft kept, uses the palette, and follows the bell when the
// admin assigns it a ticket. axe-core checks the sign-in, the queue and the ticket screens (light and
// dark, English and Spanish); the page must raise no Content-Security-Policy violation.
// Screenshots go to $ARTIFACTS, named after $BACKEND.
import { rm } from "node:fs/promises";
import { accessible, api, check, launch, shot as screenshot, signIn as signInAs, watchPolicy } from "./browser.mjs";

const { BASE, AGENT_EMAIL, AGENT_PASSWORD, AGENT_TOKEN, AGENT_ID, ADMIN_TOKEN, CUSTOMER_TOKEN, ARTIFACTS, BACKEND } = process.env;

const openTicket = (subject) => api(CUSTOMER_TOKEN, "POST", "/api/tickets", { subject, description: `About: ${subject}` });

const browser = await launch();
const shot = (page, name) => screenshot(page, "console", name);
const signIn = (page) => signInAs(page, AGENT_EMAIL, AGENT_PASSWORD);

await rm(`${ARTIFACTS}/console-${BACKEND}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
try {
  const first = await openTicket("Printer on fire");
  const context = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-US" });
  const page = await context.newPage();
  current = page;
  watchPolicy(page, policyViolations);

  const answer = await page.goto(`${BASE}/`);
  check(/script-src 'self'/.test(answer.headers()["content-security-policy"] ?? ""), "the console is served with its CSP");
  await page.getByRole("heading", { name: "Sign in to GrowDesk" }).waitFor();
  await accessible(page, "the sign-in screen");
  await shot(page, "1-sign-in");
  await signIn(page);

  // g a: All open, where the customer's ticket waits, unassigned.
  await page.keyboard.press("g");
  await page.keyboard.press("a");
  const row = (subject) => page.getByRole("option").filter({ hasText: subject });
  await row("Printer on fire").waitFor();
  await page.locator('[data-view-count="open"]').filter({ hasText: /^1$/ }).waitFor();
  await accessible(page, "the queue");
  await shot(page, "2-queue");

  // A ticket opened while the agent works the list waits behind the pill, then shows on ".".
  await openTicket("Second ticket arrives live");
  const pill = page.getByRole("button", { name: /1 update/ });
  await pill.or(row("Second ticket arrives live")).first().waitFor();
  if (await pill.isVisible()) {
    await shot(page, "3-live-pill");
    await page.locator("#ticket-list").focus();
    await page.keyboard.press(".");
  }
  await row("Second ticket arrives live").waitFor();
  await page.locator('[data-view-count="open"]').filter({ hasText: /^2$/ }).waitFor();
  await shot(page, "4-live-row");

  // j selects the top row (the newest), Enter opens it.
  await page.locator("#ticket-list").focus();
  await page.keyboard.press("j");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Second ticket arrives live/ }).waitFor();
  const ticketId = decodeURIComponent(new URL(page.url()).pathname.split("/").pop());

  // r: reply; Ctrl+Enter sends.
  await page.keyboard.press("r");
  await page.keyboard.type("We are on it");
  await page.keyboard.press("Control+Enter");
  await page.locator(".message.reply").filter({ hasText: "We are on it" }).waitFor();
  // n: an internal note, shown apart from replies.
  await page.keyboard.press("Escape");
  await page.keyboard.press("n");
  await page.keyboard.type("Check the toner first");
  await page.keyboard.press("Control+Enter");
  await page.locator(".message.note").filter({ hasText: "Check the toner first" }).waitFor();
  const messages = await api(AGENT_TOKEN, "GET", `/api/tickets/${ticketId}/messages`);
  const posted = messages.items.map((message) => [message.body, message.internal]);
  check(JSON.stringify(posted) === JSON.stringify([["About: Second ticket arrives live", false], ["We are on it", false], ["Check the toner first", true]]), `messages: ${JSON.stringify(posted)}`);

  // The side panel: status with If-Match, then "take it" (a).
  await page.getByLabel("Status").selectOption("pending");
  await page.locator(".row").filter({ hasText: "Second ticket arrives live" }).filter({ hasText: "Pending" }).waitFor();
  check((await api(AGENT_TOKEN, "GET", `/api/tickets/${ticketId}`)).status === "pending", "the status change reached the server");
  await page.keyboard.press("Escape");
  await page.locator("#ticket-list").focus();
  await page.keyboard.press("Enter");
  await page.keyboard.press("a");
  await page.getByText("Assigned to you").waitFor();
  await accessible(page, "the ticket");
  await shot(page, "5-ticket");

  // Dark and Spanish, checked by axe too.
  await page.getByLabel("Theme").selectOption("dark");
  await page.getByLabel("Language").selectOption("es");
  await page.getByRole("heading", { name: /Second ticket arrives live/ }).waitFor();
  await page.getByText("Asignado a ti").waitFor();
  await accessible(page, "the ticket, dark, in Spanish");
  await shot(page, "6-ticket-dark-es");
  await page.getByLabel("Idioma").selectOption("en");
  await page.getByLabel("Theme").selectOption("light");

  // A reload keeps the session (from the HttpOnly refresh cookie, which scripts cannot read) and
  // the draft.
  await page.getByRole("radio", { name: "Reply (r)" }).check();
  await page.getByLabel("Reply", { exact: true }).fill("Half-written answer");
  // The draft is kept in the browser's storage as it is typed; reload once it is there.
  await page.waitForFunction(() => Object.keys(localStorage).some((key) => key.startsWith("growdesk.draft.") && localStorage.getItem(key).includes("Half-written answer")));
  await page.reload();
  await page.getByRole("heading", { name: /Second ticket arrives live/ }).waitFor();
  const cookies = await context.cookies();
  check(cookies.some((cookie) => cookie.httpOnly && cookie.sameSite === "Strict" && cookie.path === "/api/auth/refresh"), `the refresh token is in an HttpOnly cookie: ${JSON.stringify(cookies.map(({ name, path, httpOnly, sameSite }) => ({ name, path, httpOnly, sameSite })))}`);
  check(!(await page.evaluate(() => document.cookie)), "no cookie is visible to scripts");
  check((await page.getByLabel("Reply", { exact: true }).inputValue()) === "Half-written answer", "the draft survived the reload");
  const stored = await page.evaluate(() => Object.keys(localStorage));
  check(stored.every((key) => !/token/i.test(key)), `nothing but drafts and preferences in storage: ${stored}`);

  // e resolves (outside a text field); the palette (Ctrl+K) reaches a view.
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("e");
  // A resolved ticket leaves All open.
  await row("Second ticket arrives live").waitFor({ state: "detached" });
  await page.keyboard.press("Control+k");
  await page.getByRole("combobox", { name: "Type a command" }).fill("resolved and closed");
  await page.keyboard.press("Enter");
  await page.waitForURL(/\/views\/done$/);
  await row("Second ticket arrives live").waitFor();
  check((await row("Printer on fire").count()) === 0, "the open ticket is not in Resolved and closed");
  check((await api(AGENT_TOKEN, "GET", `/api/tickets/${ticketId}`)).status === "resolved", "e resolved the ticket");

  // The admin assigns the first ticket to the agent: the bell rings live and opens it.
  await api(ADMIN_TOKEN, "POST", `/api/tickets/${first.id}/assign`, { assignee_id: AGENT_ID });
  const bell = page.getByRole("button", { name: "Notifications, 1 unread" });
  await bell.waitFor();
  check((await page.title()) === "(1) GrowDesk", `the tab's title counts the unread: ${await page.title()}`);
  await bell.click();
  await page.getByRole("button", { name: /#1 Printer on fire was assigned to you/ }).click();
  await page.getByRole("heading", { name: /Printer on fire/ }).waitFor();
  await page.getByRole("button", { name: "Notifications, 0 unread" }).waitFor();
  await page.evaluate(() => document.activeElement?.blur());
  await page.keyboard.press("Escape");
  await page.getByRole("heading", { name: /Printer on fire/ }).waitFor({ state: "detached" });

  // A phone: one pane at a time.
  await page.setViewportSize({ width: 390, height: 844 });
  await row("Second ticket arrives live").click();
  await page.getByRole("button", { name: /Back to the list/ }).waitFor();
  check(!(await page.locator(".queue").isVisible()), "on a phone the ticket takes the screen");
  await accessible(page, "the ticket on a phone");
  await shot(page, "7-phone-ticket");
  await page.getByRole("button", { name: /Back to the list/ }).click();
  await row("Second ticket arrives live").waitFor();
  await shot(page, "8-phone-queue");

  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
  check(first.number === 1, "the first ticket is number 1");
  console.log(`console e2e (${BACKEND}): sign-in, queue, live arrival, reply, note, status, take, draft across reload, palette, phone`);
} catch (error) {
  // The screen at the failure, to look at beside the error.
  await current?.screenshot({ path: `${ARTIFACTS}/console-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
