// The site's only script, a file so that the Content-Security-Policy needs no inline script.
// Everything here is a convenience: without script the pages work the same.
// A select marked "submit-on-change" (the language switcher) submits its form when changed,
// and its form's button (there for pages without script) is hidden.
document.querySelectorAll("select.submit-on-change").forEach((select) => {
  select.addEventListener("change", () => select.form.submit());
  select.form.querySelectorAll(".hidden-by-script").forEach((button) => {
    button.hidden = true;
  });
});
// A read-only box marked "select-on-focus" (a survey's public link) selects its text for copying.
document.querySelectorAll("input.select-on-focus").forEach((input) => {
  input.addEventListener("focus", () => input.select());
});
// A "copy-link" button (hidden without script: the link box beside it stays selectable) copies
// the box's link and says so in the status beside it.
document.querySelectorAll("button.copy-link").forEach((button) => {
  const box = document.getElementById(button.dataset.copy);
  const status = button.nextElementSibling;
  if (!box) return;
  button.hidden = false;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(box.value);
    } catch {
      box.select(); // no clipboard access (plain http): the link is selected for Ctrl+C
      return;
    }
    if (status) status.textContent = button.dataset.copied;
  });
});
