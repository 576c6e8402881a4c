import { createApp } from 'vue';
import { createPinia } from 'pinia';
import App from './App.vue';
import './styles.css';

const app = createApp(App);
app.use(createPinia());
app.config.errorHandler = (err, _vm, info) => {
  // Last resort: show it rather than leave a blank or silently broken screen.
  console.error(err, info);
  const box = document.getElementById('fatal');
  if (box) {
    box.textContent = `Something went wrong (${info}): ${(err as Error)?.message ?? String(err)}`;
    box.hidden = false;
  }
};
app.mount('#app');
