// The console's language: from the browser, switchable, remembered on this device. `t` reads
// the current language reactively, so every text re-renders when it changes.
import { ref } from "vue";
import { en, es, type Entry, type Key } from "./messages";

export const LOCALES = ["en", "es"] as const;
export type Locale = (typeof LOCALES)[number];
export const LOCALE_NAMES: Record<Locale, string> = { en: "English", es: "Español" };

const TABLES: Record<Locale, Record<Key, Entry>> = { en, es };
const STORED = "growdesk.locale";

function initial(): Locale {
  const stored = localStorage.getItem(STORED);
  if (stored === "en" || stored === "es") return stored;
  return navigator.language.toLowerCase().startsWith("es") ? "es" : "en";
}

export const locale = ref<Locale>(initial());

export function setLocale(next: Locale): void {
  locale.value = next;
  localStorage.setItem(STORED, next);
  document.documentElement.lang = next;
}

export type Params = Record<string, string | number>;

/** The text of `key` in `language`, with `{name}` placeholders filled and plurals chosen by `count`. */
export function format(language: Locale, key: Key, params: Params = {}): string {
  const entry = TABLES[language][key];
  const text = typeof entry === "string" ? entry : new Intl.PluralRules(language).select(Number(params.count ?? 0)) === "one" ? entry.one : entry.other;
  return text.replace(/\{(\w+)\}/g, (whole, name: string) => {
    const value = params[name];
    if (value === undefined) return whole;
    return typeof value === "number" ? value.toLocaleString(language) : value;
  });
}

export function t(key: Key, params?: Params): string {
  return format(locale.value, key, params);
}

/** A date and time in the agent's language and time zone. */
export function dateTime(iso: string): string {
  return formatter(dateTimes, () => new Intl.DateTimeFormat(locale.value, { dateStyle: "medium", timeStyle: "short" })).format(new Date(iso));
}

/** A length of time in its largest fitting unit ("3.5 hours"), localised. */
export function duration(seconds: number): string {
  const units: [string, number][] = [
    ["day", 86_400],
    ["hour", 3600],
    ["minute", 60],
  ];
  const [unit, size] = units.find(([, size]) => seconds >= size) ?? ["second", 1];
  return new Intl.NumberFormat(locale.value, { style: "unit", unit, unitDisplay: "long", maximumFractionDigits: 1 }).format(seconds / size);
}

/** "a, b and c", localised. */
export function list(items: string[]): string {
  return new Intl.ListFormat(locale.value, { style: "long", type: "conjunction" }).format(items);
}

/** "5 minutes ago", localised. */
// One formatter per language: making one costs far more than formatting with it, and the queue
// and a thread format a time for every row on each render.
const dateTimes = new Map<Locale, Intl.DateTimeFormat>();
const relativeTimes = new Map<Locale, Intl.RelativeTimeFormat>();

function formatter<T>(cache: Map<Locale, T>, make: () => T): T {
  let made = cache.get(locale.value);
  if (!made) {
    made = make();
    cache.set(locale.value, made);
  }
  return made;
}

export function ago(iso: string, now: number = Date.now()): string {
  const seconds = Math.round((Date.parse(iso) - now) / 1000);
  const relative = formatter(relativeTimes, () => new Intl.RelativeTimeFormat(locale.value, { numeric: "auto" }));
  const units: [Intl.RelativeTimeFormatUnit, number][] = [
    ["day", 86_400],
    ["hour", 3600],
    ["minute", 60],
  ];
  for (const [unit, size] of units) {
    if (Math.abs(seconds) >= size) return relative.format(Math.round(seconds / size), unit);
  }
  return relative.format(seconds, "second");
}
