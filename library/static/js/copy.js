// Progressive enhancement: "Copy" buttons are hidden until this script shows them.
document.querySelectorAll("button[data-copy]").forEach((button) => {
  const target = document.getElementById(button.dataset.copy);
  if (!target || !navigator.clipboard) return;
  button.hidden = false;
  const label = button.textContent;
  button.addEventListener("click", async () => {
    try {
      await navigator.clipboard.writeText(target.innerText.trim());
      button.textContent = "Copied";
    } catch {
      button.textContent = "Select and copy the text instead";
    }
    setTimeout(() => { button.textContent = label; }, 2000);
  });
});
