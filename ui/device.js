// What this device remembers between visits (ui/device.py): the student's nickname, in the browser's
// localStorage, so a reload or the next lesson on the same laptop or tablet keeps it without an account.
const KEY = "learn-image-classification.nickname";

export default function (component) {
  const { data, setTriggerValue } = component;
  let stored = null;
  try {
    stored = window.localStorage.getItem(KEY);
  } catch (err) {
    return;  // storage refused (a private window, a locked-down browser): the name lasts the session only
  }
  // Asked once per session and page load, whenever this first draws: a page left before it drew asks on the next
  if (window.__nicknameAsked !== data.session) {
    window.__nicknameAsked = data.session;
    if (!data.nickname) {
      if (stored) setTriggerValue("found", stored);  // a new session takes the name this device knows
      return;
    }
  }
  if (data.nickname !== stored) window.localStorage.setItem(KEY, data.nickname);  // typed, or cleared
}
