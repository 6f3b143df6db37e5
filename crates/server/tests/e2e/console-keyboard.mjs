// The console from the keyboard alone (no pointer: every step is a key press or typed text),
// in a real browser: an agent signs in, moves through the queue with j and k, opens a ticket,
// changes its status and priority, replies, and jumps to a view through the command palette;
// an admin reaches the FAQs page through the palette, writes an FAQ and publishes it, and the
// widget's FAQ endpoint serves it. After each step the focused element shows a visible focus
// indicator; axe-core checks the FAQs page and the dashboard. Screenshots go to $ARTIFACTS as
// console-keyboard-<backend>-….
import { rm } from "node:fs/promises";
import { accessible, api, check, eventually, launch, shot as screenshot, watchPolicy } from "./browser.mjs";

const { BASE, AGENT_EMAIL, AGENT_PASSWORD, AGENT_TOKEN, ADMIN_EMAIL, ADMIN_PASSWORD, CUSTOMER_TOKEN, WIDGET_KEY, WIDGET_ORIGIN, ARTIFACTS, BACKEND } = process.env;

const shot = (page, name) => screenshot(page, "console-keyboard", name);

/** What has the focus, and whether it shows: an outline or a shadow while it matches :focus-visible. */
function focused(page) {
  return page.evaluate(() => {
    let element = document.activeElement;
    while (element?.shadowRoot?.activeElement) element = element.shadowRoot.activeElement;
    if (!element || element === document.body) return { id: "", label: "", visible: false };
    const style = getComputedStyle(element);
    const box = element.getBoundingClientRect();
    const drawn = (style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0) || style.boxShadow !== "none";
    const onScreen = box.width > 0 && box.height > 0 && box.bottom > 0 && box.right > 0 && box.top < innerHeight && box.left < innerWidth;
    const label = element.getAttribute("aria-label") ?? element.labels?.[0]?.textContent ?? element.textContent ?? "";
    return { id: element.id, label: label.trim().slice(0, 80), visible: element.matches(":focus-visible") && drawn && onScreen };
  });
}

async function expectVisibleFocus(page, step) {
  const now = await focused(page);
  check(now.visible, `${step}: the focus is not visible (${JSON.stringify(now)})`);
  return now;
}

/** Presses Tab until the element with `id` has the focus, checking the focus shows at each stop. */
async function tabTo(page, id, step) {
  if ((await focused(page)).id === id) return;
  for (let presses = 0; presses < 80; presses += 1) {
    await page.keyboard.press("Tab");
    const now = await expectVisibleFocus(page, `${step} (Tab ${presses + 1})`);
    if (now.id === id) return;
  }
  throw new Error(`${step}: Tab never reached #${id}`);
}

/** Ctrl+K, then the command's words, then Enter. */
async function palette(page, words) {
  await page.keyboard.press("Control+k");
  await page.getByRole("combobox", { name: "Type a command" }).waitFor();
  await page.keyboard.type(words);
  await page.keyboard.press("Enter");
}

async function signIn(page, email, password) {
  await page.getByRole("heading", { name: "Sign in to GrowDesk" }).waitFor();
  await tabTo(page, "sign-in-email", "sign-in");
  await page.keyboard.type(email);
  await page.keyboard.press("Tab");
  await expectVisibleFocus(page, "the password field");
  await page.keyboard.type(password);
  await page.keyboard.press("Enter");
  await page.getByRole("navigation", { name: "Views" }).waitFor();
}

const browser = await launch();
await rm(`${ARTIFACTS}/console-keyboard-${BACKEND}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
try {
  const older = await api(CUSTOMER_TOKEN, "POST", "/api/tickets", { subject: "Older ticket", description: "Opened first" });
  const newer = await api(CUSTOMER_TOKEN, "POST", "/api/tickets", { subject: "Newer ticket", description: "Opened second" });

  const agentContext = await browser.newContext({ viewport: { width: 1366, height: 850 }, locale: "en-US" });
  const page = await agentContext.newPage();
  current = page;
  watchPolicy(page, policyViolations);
  await page.goto(`${BASE}/`);
  await signIn(page, AGENT_EMAIL, AGENT_PASSWORD);

  // g a: All open, the list focused; j and k move the selection, Enter opens the selected row.
  await page.keyboard.press("g");
  await page.keyboard.press("a");
  const row = (subject) => page.getByRole("option").filter({ hasText: subject });
  await row("Older ticket").waitFor();
  await expectVisibleFocus(page, "the queue");
  await page.keyboard.press("j");
  await row("Newer ticket").and(page.locator('[aria-selected="true"]')).waitFor();
  await page.keyboard.press("j");
  await row("Older ticket").and(page.locator('[aria-selected="true"]')).waitFor();
  await page.keyboard.press("k");
  await row("Newer ticket").and(page.locator('[aria-selected="true"]')).waitFor();
  await expectVisibleFocus(page, "the queue after j, j, k");
  await shot(page, "1-queue");
  await page.keyboard.press("Enter");
  await page.getByRole("heading", { name: /Newer ticket/ }).waitFor();

  // s: the status field; typing the first letters chooses, as in any select.
  await page.keyboard.press("s");
  check((await expectVisibleFocus(page, "the status field")).id === "ticket-status", "s focuses the status");
  await page.keyboard.type("pe");
  await eventually(async () => (await api(AGENT_TOKEN, "GET", `/api/tickets/${newer.id}`)).status === "pending", "the status became pending");

  // The priority: Tab on to its field, then its first letter.
  await tabTo(page, "ticket-priority", "the priority field");
  await page.keyboard.type("h");
  await eventually(async () => (await api(AGENT_TOKEN, "GET", `/api/tickets/${newer.id}`)).priority === "high", "the priority became high");
  await shot(page, "2-ticket-changed");

  // Esc leaves the field; r opens the reply; Ctrl+Enter sends it.
  await page.keyboard.press("Escape");
  await page.keyboard.press("r");
  await expectVisibleFocus(page, "the reply box");
  await page.keyboard.type("Typed without a mouse");
  await page.keyboard.press("Control+Enter");
  await page.locator(".message.reply").filter({ hasText: "Typed without a mouse" }).waitFor();
  const messages = await api(AGENT_TOKEN, "GET", `/api/tickets/${newer.id}/messages`);
  check(messages.items.some((message) => message.body === "Typed without a mouse" && !message.internal), "the reply reached the server");
  const changed = await api(AGENT_TOKEN, "GET", `/api/tickets/${newer.id}`);
  check(changed.status === "pending" && changed.priority === "high", `status and priority changed: ${changed.status}, ${changed.priority}`);
  check((await api(AGENT_TOKEN, "GET", `/api/tickets/${older.id}`)).status === "open", "the other ticket was left alone");

  // The palette jumps to a view.
  await page.keyboard.press("Escape");
  await palette(page, "pending");
  await page.waitForURL(/\/views\/pending$/);
  await row("Newer ticket").waitFor();
  await expectVisibleFocus(page, "the Pending view");
  await shot(page, "3-palette-to-pending");
  await agentContext.close();

  // The admin: the palette to the FAQs page, an FAQ written and published from the keyboard.
  const adminContext = await browser.newContext({ viewport: { width: 1366, height: 850 }, locale: "en-US" });
  const admin = await adminContext.newPage();
  current = admin;
  watchPolicy(admin, policyViolations);
  await admin.goto(`${BASE}/`);
  await signIn(admin, ADMIN_EMAIL, ADMIN_PASSWORD);
  await palette(admin, "faqs");
  await admin.getByRole("heading", { level: 1, name: "FAQs" }).waitFor();
  check(new URL(admin.url()).pathname === "/admin/faqs", `the palette opened ${admin.url()}`);
  await accessible(admin, "the FAQs page");
  await tabTo(admin, "faq-question", "the question field");
  await admin.keyboard.type("Do you ship abroad?");
  await tabTo(admin, "faq-answer", "the answer field");
  await admin.keyboard.type("Yes, to the whole EU.");
  await admin.locator(".faq-preview").getByText("Yes, to the whole EU.").waitFor();
  for (let presses = 0; presses < 10; presses += 1) {
    await admin.keyboard.press("Tab");
    const now = await expectVisibleFocus(admin, "on to the Create button");
    if (now.label === "Create FAQ") break;
  }
  check((await focused(admin)).label === "Create FAQ", "Tab reaches the Create button");
  await admin.keyboard.press("Enter");
  await admin.getByRole("status").filter({ hasText: "The FAQ “Do you ship abroad?” was created." }).waitFor();
  await admin.locator('[data-faq="Do you ship abroad?"]').waitFor();
  await accessible(admin, "the FAQs page with an FAQ");
  await shot(admin, "4-faq-created");

  // The widget serves it to visitors.
  const served = await fetch(`${BASE}/widget/faqs?q=abroad`, { headers: { "X-Widget-Key": WIDGET_KEY, Origin: WIDGET_ORIGIN } });
  check(served.status === 200, `the widget's FAQs answered ${served.status}`);
  const questions = (await served.json()).items.map((faq) => [faq.question, faq.answer]);
  check(JSON.stringify(questions) === JSON.stringify([["Do you ship abroad?", "Yes, to the whole EU."]]), `the widget serves the FAQ: ${JSON.stringify(questions)}`);

  // The dashboard, through the palette, checked by axe too.
  await palette(admin, "dashboard");
  await admin.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
  // The service-level figures: the two fresh tickets are within the default targets.
  await admin.locator('[data-figure="overdue-first-response"] dd').filter({ hasText: /^0$/ }).waitFor();
  const urgent = await admin.locator('[data-target="urgent"]').innerText();
  check(urgent === "Urgent: first reply within 1 hour, resolved within 4 hours", `the targets are shown: ${urgent}`);
  await accessible(admin, "the dashboard");
  await shot(admin, "5-dashboard");

  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
  console.log(`console keyboard e2e (${BACKEND}): signed in, j/k, opened, status and priority, replied, palette to a view; an FAQ written and served by the widget; focus visible at every step`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/console-keyboard-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
