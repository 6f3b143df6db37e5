// Light, dark or the system's choice, remembered on this device and applied as
// `data-theme` on <html>, where the CSS tokens switch.
import { ref } from "vue";

export const THEMES = ["light", "dark", "system"] as const;
export type Theme = (typeof THEMES)[number];

const STORED = "growdesk.theme";
const dark = window.matchMedia("(prefers-color-scheme: dark)");

function stored(): Theme {
  const value = localStorage.getItem(STORED);
  return value === "light" || value === "dark" ? value : "system";
}

export const theme = ref<Theme>(stored());

function apply(): void {
  const resolved = theme.value === "system" ? (dark.matches ? "dark" : "light") : theme.value;
  document.documentElement.dataset.theme = resolved;
}

export function setTheme(next: Theme): void {
  theme.value = next;
  localStorage.setItem(STORED, next);
  apply();
}

dark.addEventListener("change", apply);
apply();
