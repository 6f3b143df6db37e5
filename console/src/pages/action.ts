// One form's request at a time on the settings pages: busy while it runs, then either a
// confirmation (polite) or the server's reason (shown as an alert), never both.
import { ref } from "vue";
import { reason } from "../state/desk";

export function useAction() {
  const busy = ref(false);
  const error = ref<string | null>(null);
  const done = ref<string | null>(null);

  async function run(work: () => Promise<unknown>, success: string | null = null): Promise<boolean> {
    busy.value = true;
    error.value = null;
    done.value = null;
    try {
      await work();
      done.value = success;
      return true;
    } catch (failure) {
      error.value = reason(failure);
      return false;
    } finally {
      busy.value = false;
    }
  }

  return { busy, error, done, run };
}
