// A forgotten password's two steps, outside the session: ask for a link (the same answer for any
// address) and choose a new password with the link's token. The sign-in page then says the
// password was changed.
import { ref } from "vue";
import { ApiError } from "../api/client";

/** The password was just reset: the sign-in page says so. */
export const passwordReset = ref(false);

/** The minimum length the API takes for a password. */
export const PASSWORD_MIN = 8;

export type ResetRefusal = { kind: "link" } | { kind: "password"; reason: string } | { kind: "busy" } | { kind: "other"; reason: string };

/** Why the server refused a new password: the link (400), the password itself (422), too many tries (429). */
export function resetRefusal(error: unknown): ResetRefusal {
  if (error instanceof ApiError) {
    if (error.status === 400) return { kind: "link" };
    if (error.status === 429) return { kind: "busy" };
    if (error.status === 422) {
      const reasons = (error.problem?.errors ?? []).map((field) => field.message);
      return { kind: "password", reason: reasons.join(" ") || (error.problem?.detail ?? "") };
    }
    return { kind: "other", reason: error.problem?.detail ?? `HTTP ${error.status}` };
  }
  return { kind: "other", reason: error instanceof Error ? error.message : String(error) };
}

/** The token of a reset link (`/reset-password?token=…`), or null when the link has none. */
export function tokenOf(search: string): string | null {
  const token = new URLSearchParams(search).get("token")?.trim();
  return token ? token : null;
}
