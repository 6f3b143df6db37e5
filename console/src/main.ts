// The console's entry point: styles, theme and language first, then the app, while the session
// a reload left in the refresh cookie is picked up.
import { createApp } from "vue";
import "./styles.css";
import "./theme";
import { locale } from "./i18n";
import App from "./App.vue";
import { resume } from "./state/desk";

document.documentElement.lang = locale.value;
createApp(App).mount("#app");
void resume();
