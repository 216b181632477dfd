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
// A table too wide for the screen scrolls inside its ".table-wrap": such a wrapper is made a
// focusable, named region so that keyboard users can scroll it too (named after the table's
// caption, else the heading before it).
document.querySelectorAll(".table-wrap").forEach((wrap) => {
  if (wrap.hasAttribute("tabindex")) return;
  const table = wrap.querySelector("table");
  let name = table && table.caption ? table.caption.textContent : "";
  for (let node = wrap.previousElementSibling; !name && node; node = node.previousElementSibling) {
    if (/^H[1-6]$/.test(node.tagName)) name = node.textContent;
  }
  wrap.tabIndex = 0;
  wrap.setAttribute("role", "region");
  wrap.setAttribute("aria-label", (name || document.title).trim());
});
