// The console's entry point: styles, theme and language first, then the app.
import { createApp } from "vue";
import "./styles.css";
import "./theme";
import { locale } from "./i18n";
import App from "./App.vue";

document.documentElement.lang = locale.value;
createApp(App).mount("#app");
