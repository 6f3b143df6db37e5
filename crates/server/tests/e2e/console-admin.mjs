// The console's admin side in a real browser: the admin signs in, walks the dashboard, the
// profile and the admin pages in both languages and both themes (axe-core on each, a screenshot
// of each), creates an agent and a widget through the forms, watches the widget's preview follow
// its settings (readable on a light colour too, axe-core inside it), writes, reorders and
// deletes FAQs with the preview beside the form, and the new agent signs in and sees the
// dashboard but no admin page. Screenshots go to $ARTIFACTS as console-admin-<backend>-….
import { rm } from "node:fs/promises";
import { accessible, api, check, launch, shot, signIn, watchPolicy } from "./browser.mjs";

const { BASE, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, CUSTOMER_TOKEN, ARTIFACTS, BACKEND } = process.env;

const SCREENS = [
  { link: { en: "Dashboard", es: "Panel" }, heading: { en: "Dashboard", es: "Panel" }, name: "dashboard" },
  { link: { en: "Profile", es: "Perfil" }, heading: { en: "Profile", es: "Perfil" }, name: "profile" },
  { link: { en: "Users", es: "Usuarios" }, heading: { en: "Users", es: "Usuarios" }, name: "users" },
  { link: { en: "Categories", es: "Categorías" }, heading: { en: "Categories", es: "Categorías" }, name: "categories" },
  { link: { en: "FAQs", es: "Preguntas frecuentes" }, heading: { en: "FAQs", es: "Preguntas frecuentes" }, name: "faqs" },
  { link: { en: "Widgets", es: "Widgets" }, heading: { en: "Widgets", es: "Widgets" }, name: "widgets" },
  { link: { en: "Webhooks", es: "Webhooks" }, heading: { en: "Webhooks", es: "Webhooks" }, name: "webhooks" },
];

const browser = await launch();
await rm(`${ARTIFACTS}/console-admin-${BACKEND}-failure.png`, { force: true });
const policyViolations = [];
let current = null;
try {
  // Something for the dashboard to count, a category and a webhook for their pages to list.
  for (const subject of ["Refund please", "Login loop", "Invoice address"]) {
    await api(CUSTOMER_TOKEN, "POST", "/api/tickets", { subject, description: `About: ${subject}` });
  }
  await api(ADMIN_TOKEN, "POST", "/api/categories", { name: "Billing", color: "#146c2e" });
  await api(ADMIN_TOKEN, "POST", "/api/webhooks", { url: "https://93.184.215.14/hooks/growdesk", event_types: ["*"] });

  const context = await browser.newContext({ viewport: { width: 1366, height: 900 }, locale: "en-US" });
  const page = await context.newPage();
  current = page;
  watchPolicy(page, policyViolations);
  await page.goto(`${BASE}/dashboard`);
  await signIn(page, ADMIN_EMAIL, ADMIN_PASSWORD);
  await page.locator('[data-figure="unassigned"] dd').filter({ hasText: /^3$/ }).waitFor();

  const nav = page.getByRole("navigation", { name: /Views|Vistas/ });
  for (const [language, theme] of [["en", "light"], ["en", "dark"], ["es", "light"], ["es", "dark"]]) {
    await page.locator("#pref-locale").selectOption(language);
    await page.locator("#pref-theme").selectOption(theme);
    for (const screen of SCREENS) {
      await nav.getByRole("link", { name: screen.link[language], exact: true }).click();
      await page.getByRole("heading", { level: 1, name: screen.heading[language] }).waitFor();
      await page.waitForURL(new RegExp(`/(admin/)?${screen.name}$`));
      await accessible(page, `${screen.name} (${language}, ${theme})`);
      await shot(page, "console-admin", `${screen.name}-${language}-${theme}`);
    }
  }
  await page.locator("#pref-locale").selectOption("en");
  await page.locator("#pref-theme").selectOption("light");

  // The admin creates an agent through the form.
  await nav.getByRole("link", { name: "Users", exact: true }).click();
  await page.getByLabel("Email").fill("nora@example.com");
  await page.getByLabel("Name", { exact: true }).fill("Nora Agent");
  await page.getByLabel("Role", { exact: true }).selectOption("agent");
  await page.getByLabel(/^Password/).fill("nora-password-1");
  await page.getByRole("button", { name: "Create user" }).click();
  await page.getByRole("status").filter({ hasText: "nora@example.com was created." }).waitFor();
  await page.locator('[data-user="nora@example.com"]').waitFor();
  const users = await api(ADMIN_TOKEN, "GET", "/api/users?q=nora");
  check(users.items.length === 1 && users.items[0].role === "agent" && users.items[0].name === "Nora Agent", `the agent was created: ${JSON.stringify(users.items)}`);

  // And a widget, whose snippet is then shown to copy.
  await nav.getByRole("link", { name: "Widgets", exact: true }).click();
  await page.locator("#widget-name").fill("Shop");
  await page.locator("#widget-origins").fill("https://shop.example.com");
  await page.getByRole("button", { name: "Create widget" }).click();
  await page.getByRole("status").filter({ hasText: "Widget Shop was created." }).waitFor();
  const widgets = await api(ADMIN_TOKEN, "GET", "/api/widgets");
  const shop = widgets.items.find((widget) => widget.name === "Shop");
  check(shop && shop.allowed_origins.join() === "https://shop.example.com", `the widget was created: ${JSON.stringify(widgets.items)}`);
  check((await page.locator('[data-widget="Shop"] textarea[readonly]').inputValue()) === shop.embed_snippet, "the widget's snippet is shown");
  await accessible(page, "the widgets page with a widget");
  await shot(page, "console-admin", "widget-created");

  // The preview is the widget itself, in a sandboxed frame, redrawn from the settings as they are
  // typed; on yellow its text turns black, and axe-core finds nothing serious inside it.
  const card = page.locator('[data-widget="Shop"]');
  const preview = page.frameLocator('[data-widget="Shop"] iframe');
  await preview.getByRole("heading", { name: "Support" }).waitFor();
  check((await card.locator("iframe").getAttribute("sandbox")) === "allow-scripts", "the preview runs sandboxed, in an origin of its own");
  await card.getByLabel("Name in the header").fill("Shop help");
  await card.getByLabel("Colour", { exact: true }).fill("#ffff00");
  await card.getByLabel("Corner").selectOption("left");
  await card.getByLabel("Welcome message").fill("Hello <b>there</b>");
  await preview.getByRole("heading", { name: "Shop help" }).waitFor();
  await preview.getByText("Hello <b>there</b>").waitFor();
  const look = await preview.locator("header").evaluate((header) => {
    const style = getComputedStyle(header);
    const panel = header.closest("section").getBoundingClientRect();
    return { color: style.color, background: style.backgroundColor, left: panel.left < window.innerWidth - panel.right };
  });
  check(look.color === "rgb(0, 0, 0)" && look.background === "rgb(255, 255, 0)" && look.left, `the preview follows the settings: ${JSON.stringify(look)}`);
  const frame = await (await card.locator("iframe").elementHandle()).contentFrame();
  await accessible(frame, "the widget's preview on yellow");
  await shot(page, "console-admin", "widget-preview");
  const unsaved = await api(ADMIN_TOKEN, "GET", "/api/widgets");
  check(unsaved.items.find((widget) => widget.name === "Shop").settings.color === "#2563eb", "the preview saves nothing");

  // FAQs: write one beside its preview (text stays text), publish it, add a draft, reorder, delete.
  await nav.getByRole("link", { name: "FAQs", exact: true }).click();
  await page.getByLabel("Question").fill("How long does shipping take?");
  await page.getByLabel("Answer", { exact: true }).fill("Two days.\n<script>alert(1)</script> stays text.");
  await page.getByLabel("Category").selectOption({ label: "Billing" });
  const faqPreview = page.locator(".faq-preview");
  await faqPreview.getByText("How long does shipping take?").waitFor();
  check((await faqPreview.locator(".faq-preview-answer").innerText()) === "Two days.\n<script>alert(1)</script> stays text.", "the preview shows the answer as text, line breaks kept");
  await page.getByRole("button", { name: "Create FAQ" }).click();
  await page.getByRole("status").filter({ hasText: "The FAQ “How long does shipping take?” was created." }).waitFor();
  await page.getByLabel("Question").fill("Can I pay by invoice?");
  await page.getByLabel("Answer", { exact: true }).fill("Yes, from 100 EUR.");
  await page.getByRole("checkbox", { name: /^Published/ }).uncheck();
  await page.getByRole("button", { name: "Create FAQ" }).click();
  await page.locator('[data-faq="Can I pay by invoice?"]').waitFor();
  await page.getByRole("button", { name: "Move up “Can I pay by invoice?”" }).click();
  await page.getByRole("status").filter({ hasText: "“Can I pay by invoice?” was moved." }).waitFor();
  const order = await page.locator("[data-faq]").evaluateAll((items) => items.map((item) => item.dataset.faq));
  check(order.join("|") === "Can I pay by invoice?|How long does shipping take?", `the list is reordered: ${order}`);
  const faqs = await api(ADMIN_TOKEN, "GET", "/api/faqs");
  check(faqs.items.map((faq) => faq.question).join("|") === order.join("|"), `the API lists them in the new order: ${JSON.stringify(faqs.items)}`);
  check(faqs.items[1].answer === "Two days.\n<script>alert(1)</script> stays text." && faqs.items[1].category_id && !faqs.items[0].published, `the fields were saved: ${JSON.stringify(faqs.items)}`);
  await accessible(page, "the FAQs page with two FAQs");
  await shot(page, "console-admin", "faqs");
  page.once("dialog", (dialog) => void dialog.accept());
  await page.getByRole("button", { name: "Delete “Can I pay by invoice?”" }).click();
  await page.getByRole("status").filter({ hasText: "The FAQ “Can I pay by invoice?” was deleted." }).waitFor();
  check((await api(ADMIN_TOKEN, "GET", "/api/faqs")).items.length === 1, "the FAQ was deleted");

  // A webhook's delivery log (empty: its tickets came before it).
  await nav.getByRole("link", { name: "Webhooks", exact: true }).click();
  await page.getByRole("button", { name: "Delivery log" }).click();
  await page.getByRole("heading", { name: "Deliveries to https://93.184.215.14/hooks/growdesk" }).waitFor();
  await accessible(page, "a webhook's delivery log");
  await shot(page, "console-admin", "webhook-log");

  // A phone's width: the dashboard in one column.
  await page.setViewportSize({ width: 390, height: 844 });
  await nav.getByRole("link", { name: "Dashboard", exact: true }).click();
  await page.getByRole("heading", { level: 1, name: "Dashboard" }).waitFor();
  await accessible(page, "the dashboard on a phone");
  await shot(page, "console-admin", "phone-dashboard");

  // The new agent signs in: the dashboard, no admin page.
  await page.setViewportSize({ width: 1366, height: 900 });
  await page.getByRole("button", { name: "Sign out" }).click();
  await signIn(page, "nora@example.com", "nora-password-1");
  await nav.getByRole("link", { name: "Dashboard", exact: true }).waitFor();
  check((await nav.getByRole("link", { name: "Users", exact: true }).count()) === 0, "an agent is offered no admin page");

  check(policyViolations.length === 0, `the page reported: ${policyViolations.join("\n")}`);
  console.log(`console admin e2e (${BACKEND}): ${SCREENS.length} screens in 2 languages and 2 themes, a user and a widget created, the widget's preview followed, FAQs written, reordered and deleted, an agent sees no admin page`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/console-admin-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
