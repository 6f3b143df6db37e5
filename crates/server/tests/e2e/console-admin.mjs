// The console's admin side in a real browser: the admin signs in, walks the dashboard, the
// profile and the admin pages in both languages and both themes (axe-core on each, a screenshot
// of each), creates an agent and a widget through the forms, and the new agent signs in and sees
// the dashboard but no admin page. Screenshots go to $ARTIFACTS as console-admin-<backend>-….
import { rm } from "node:fs/promises";
import { accessible, api, check, launch, shot, signIn, watchPolicy } from "./browser.mjs";

const { BASE, ADMIN_EMAIL, ADMIN_PASSWORD, ADMIN_TOKEN, CUSTOMER_TOKEN, ARTIFACTS, BACKEND } = process.env;

const SCREENS = [
  { link: { en: "Dashboard", es: "Panel" }, heading: { en: "Dashboard", es: "Panel" }, name: "dashboard" },
  { link: { en: "Profile", es: "Perfil" }, heading: { en: "Profile", es: "Perfil" }, name: "profile" },
  { link: { en: "Users", es: "Usuarios" }, heading: { en: "Users", es: "Usuarios" }, name: "users" },
  { link: { en: "Categories", es: "Categorías" }, heading: { en: "Categories", es: "Categorías" }, name: "categories" },
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
  console.log(`console admin e2e (${BACKEND}): ${SCREENS.length} screens in 2 languages and 2 themes, a user and a widget created, an agent sees no admin page`);
} catch (error) {
  await current?.screenshot({ path: `${ARTIFACTS}/console-admin-${BACKEND}-failure.png` }).catch(() => {});
  throw error;
} finally {
  await browser.close();
}
