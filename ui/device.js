// What this device remembers between visits (ui/device.py): the student's nickname, in the browser's
// localStorage, so a reload or the next lesson on the same laptop or tablet keeps it without an account.
const KEY = "learn-image-classification.nickname";

export default function (component) {
  const { data, setTriggerValue } = component;
  let stored = null;
  try {
    stored = window.localStorage.getItem(KEY);
    // a name typed is remembered at once; an empty one only once the device was asked (else it would erase it)
    if ((data.nickname || !data.ask) && data.nickname !== stored) window.localStorage.setItem(KEY, data.nickname);
  } catch (err) {
    // storage refused (a private window, a locked-down browser): the name lasts the session only
  }
  // a new session asks once what this device knows; only a name it does not have yet is worth a rerun
  if (data.ask && stored && stored !== data.nickname) setTriggerValue("found", stored);
}
