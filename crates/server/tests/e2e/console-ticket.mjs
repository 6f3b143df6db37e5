// Two agents on one ticket in real browsers (Debian's Chromium, headless, driven by
// playwright-core). A customer's new ticket shows unread in Ana's queue and opening it clears
// that; a customer's reply over the API makes it unread again. Ana and Leo open the ticket: each
// sees the other viewing, and Ana sees Leo typing. Ana changes the priority while Leo's page has
// not heard of it; Leo's change of the same field gets the conflict (412) with Ana's priority,
// his draft untouched, and applies his change again. Ana assigns the ticket from the keyboard
// alone (Shift+A, type-ahead, Enter) to Leo, then to nobody; the history tells it all in words;
// the requester's other ticket is one link away; desktop notifications are chosen on a click.
// axe-core checks each new screen; the page must raise no Content-Security-Policy violation.
import { rm } from "node:fs/promises";
import { accessible, api, check, eventually, launch, shot as screenshot, signIn, watchPolicy } from "./browser.mjs";

const { BASE, AGENT_EMAIL, SECOND_EMAIL, SECOND_ID, PASSWORD, AGENT_TOKEN, CUSTOMER_TOKEN, ARTIFACTS, BACKEND } = process.env;

const browser = await launch();
const shot = (page, name) => screenshot(page, "ticket", name);
const openTicket = (subject) => api(CUSTOMER_TOKEN, "POST", "/api/tickets", { subject, description: `About: ${subject}` });

await rm(`${ARTIFACTS}/ticket-${BACKEND}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
try {
  const earlier = await openTicket("Invoice address wrong");
  const ticket = await openTicket("Order 1042 is late");

  // Ana's queue: the customer's new ticket is unread (bold, with a dot).
  const anaContext = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-US" });
  await anaContext.grantPermissions(["notifications"], { origin: BASE });
  const ana = await anaContext.newPage();
  current = ana;
  watchPolicy(ana, policyViolations);
  await ana.goto(`${BASE}/`);
  await signIn(ana, AGENT_EMAIL, PASSWORD);
  await ana.keyboard.press("g");
  await ana.keyboard.press("a");
  const unreadRow = (page, subject) => page.locator(".row.unread").filter({ hasText: subject });
  await unreadRow(ana, "Order 1042 is late").waitFor();
  check((await unreadRow(ana, "Order 1042 is late").getByText("Unread").count()) === 1, "the dot is named for screen readers");
  await accessible(ana, "the queue with unread tickets");
  await shot(ana, "1-unread");

  // Opening it marks it read, in the queue and on the server.
  await ana.getByRole("option").filter({ hasText: "Order 1042 is late" }).click();
  await ana.getByRole("heading", { name: /Order 1042 is late/ }).waitFor();
  await unreadRow(ana, "Order 1042 is late").waitFor({ state: "detached" });
  await eventually(async () => (await api(AGENT_TOKEN, "GET", `/api/tickets/${ticket.id}`)).unread === false, "the server has Ana's mark");

  // Back on the list, a customer's reply makes it unread again, live; opening it clears it.
  await ana.keyboard.press("Escape");
  await api(CUSTOMER_TOKEN, "POST", `/api/tickets/${ticket.id}/messages`, { body: "Any news?" });
  await unreadRow(ana, "Order 1042 is late").waitFor();
  await ana.getByRole("option").filter({ hasText: "Order 1042 is late" }).click();
  await ana.locator(".message").filter({ hasText: "Any news?" }).waitFor();
  await unreadRow(ana, "Order 1042 is late").waitFor({ state: "detached" });

  // Leo opens the same ticket: each sees the other, and Ana sees Leo typing.
  const leoContext = await browser.newContext({ viewport: { width: 1366, height: 800 }, locale: "en-US" });
  const leo = await leoContext.newPage();
  watchPolicy(leo, policyViolations);
  await leo.goto(`${BASE}/`);
  await signIn(leo, SECOND_EMAIL, PASSWORD);
  await leo.goto(`${BASE}/views/open/tickets/${ticket.id}`);
  await leo.getByRole("heading", { name: /Order 1042 is late/ }).waitFor();
  await ana.getByText("Leo is viewing").waitFor();
  await leo.getByText("Ana is viewing").waitFor();
  await leo.evaluate(() => document.activeElement?.blur());
  await leo.keyboard.press("r");
  await leo.keyboard.type("Leo's half-written answer");
  await ana.getByText("Leo is typing…").waitFor();
  await accessible(ana, "the ticket with a colleague viewing and typing");
  await shot(ana, "2-presence");

  // Leo's page misses Ana's change (its refresh of the ticket fails), so his version is stale.
  const ticketPath = `/api/tickets/${ticket.id}`;
  const refresh = (request) => request.method() === "GET" && new URL(request.url()).pathname === ticketPath;
  await leo.route(`**${ticketPath}`, (route) => (refresh(route.request()) ? route.abort() : route.continue()));
  const missed = leo.waitForEvent("requestfailed", refresh);
  await ana.locator("#ticket-priority").selectOption("urgent");
  await missed;
  await leo.unroute(`**${ticketPath}`);
  check((await api(AGENT_TOKEN, "GET", ticketPath)).priority === "urgent", "Ana's change is saved");
  // Leo sets the priority Ana just set: the server refuses the stale version (412), and the
  // console shows the ticket as Ana left it, his draft untouched.
  await leo.locator("#ticket-priority").selectOption("high");
  const conflict = leo.getByRole("alert").filter({ hasText: "Someone changed this ticket first" });
  await conflict.waitFor();
  check(/priority Urgent/.test(await conflict.innerText()), `the conflict shows Ana's priority: ${await conflict.innerText()}`);
  await conflict.getByText("Ana changed the priority from Medium to Urgent").waitFor();
  check((await leo.getByLabel("Reply", { exact: true }).inputValue()) === "Leo's half-written answer", "Leo's draft is kept");
  check((await api(AGENT_TOKEN, "GET", ticketPath)).priority === "urgent", "nothing was overwritten");
  await accessible(leo, "the conflict");
  await shot(leo, "3-conflict");
  await conflict.getByRole("button", { name: "Apply my change again" }).click();
  await conflict.waitFor({ state: "detached" });
  check((await api(AGENT_TOKEN, "GET", ticketPath)).priority === "high", "Leo's change applied on the fresh version");
  await leoContext.close();
  // Leo has left: he no longer shows as viewing, nor as typing.
  await ana.getByText("Leo is viewing").waitFor({ state: "detached" });
  await ana.getByText("Leo is typing…").waitFor({ state: "detached" });

  // The assignee picker from the keyboard alone: Shift+A, type-ahead, Enter.
  await ana.getByRole("heading", { name: /Order 1042 is late/ }).waitFor();
  await ana.evaluate(() => document.activeElement?.blur());
  await ana.keyboard.press("Shift+A");
  const picker = ana.getByRole("combobox", { name: "Assign to" });
  await ana.getByRole("listbox", { name: "Staff who may hold the ticket" }).waitFor();
  check(await picker.evaluate((element) => element === document.activeElement), "Shift+A focuses the picker");
  await ana.keyboard.type("leo");
  await ana.getByRole("option", { name: "Leo" }).waitFor();
  await accessible(ana, "the assignee picker");
  await shot(ana, "4-assignee-picker");
  await ana.keyboard.press("Enter");
  await ana.locator(".assignee-name").filter({ hasText: "Leo" }).waitFor();
  check((await api(AGENT_TOKEN, "GET", ticketPath)).assignee_id === SECOND_ID, "assigned to Leo");
  // Esc leaves the field (single keys do not act in one), Shift+A comes back to it.
  await ana.keyboard.press("Escape");
  await ana.keyboard.press("Shift+A");
  await ana.keyboard.type("nobody there");
  await ana.keyboard.press("ArrowDown");
  await ana.keyboard.press("Enter");
  await ana.locator(".assignee-name").filter({ hasText: "Nobody" }).waitFor();
  check((await api(AGENT_TOKEN, "GET", ticketPath)).assignee_id == null, "unassigned");

  // The history, in words, and kept current live.
  await ana.getByText("History", { exact: true }).click();
  const history = ana.locator(".timeline");
  for (const line of ["Carla opened the ticket", "Ana changed the priority from Medium to Urgent", "Leo changed the priority from Urgent to High", "Ana assigned it to Leo", "Ana unassigned it", "Carla wrote a reply"]) {
    await history.getByText(line).first().waitFor();
  }
  await api(AGENT_TOKEN, "PATCH", ticketPath, { status: "pending" });
  await history.getByText("Ana changed the status from Open to Pending").waitFor();
  await accessible(ana, "the ticket's history");
  await shot(ana, "5-history");

  // The requester's other ticket, one link away.
  await ana.getByRole("link", { name: /Invoice address wrong/ }).click();
  await ana.getByRole("heading", { name: /Invoice address wrong/ }).waitFor();
  check(ana.url().endsWith(`/tickets/${earlier.id}`), `the link opens the other ticket: ${ana.url()}`);
  await ana.getByRole("link", { name: /Order 1042 is late/ }).waitFor();

  // Desktop notifications: off until the agent turns them on, with a click.
  await ana.goto(`${BASE}/profile`);
  const desktop = ana.getByLabel("Desktop notifications while the console is in the background");
  check(!(await desktop.isChecked()), "desktop notifications start off");
  await desktop.check();
  check((await ana.evaluate(() => localStorage.getItem("growdesk.desktop-notifications"))) === "on", "the choice is kept on this device");
  await accessible(ana, "the profile with desktop notifications");

  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
  console.log(`console ticket e2e (${BACKEND}): unread markers, presence and typing, a 412 conflict keeping the draft, keyboard assignee picker, history, requester's tickets, desktop notifications`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/ticket-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
