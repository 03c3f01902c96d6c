// Drag-and-drop reordering on a reading list page: a shortcut for the ↑/↓ buttons, which
// work without JavaScript. Dropping posts the section's whole new order with the list
// version the page showed, through the same kind of form, so stale pages are refused.
(function () {
  "use strict";
  const form = document.getElementById("rl-reorder");
  if (!form) return;
  let dragged = null;

  function submitOrder(list) {
    form.elements.section.value = list.dataset.section;
    form.elements.order.value = Array.from(
      list.querySelectorAll("li[data-entry]"),
      (item) => item.dataset.entry
    ).join(",");
    form.submit();
  }

  document.querySelectorAll("ol.rl-entries[data-section]").forEach((list) => {
    list.querySelectorAll("li[data-entry]").forEach((item) => {
      item.draggable = true;
      item.classList.add("rl-draggable");
      item.addEventListener("dragstart", (event) => {
        dragged = item;
        event.dataTransfer.effectAllowed = "move";
        event.dataTransfer.setData("text/plain", item.dataset.entry);
        item.classList.add("rl-dragging");
      });
      item.addEventListener("dragend", () => {
        item.classList.remove("rl-dragging");
        dragged = null;
      });
      item.addEventListener("dragover", (event) => {
        if (!dragged || dragged.parentElement !== list || dragged === item) return;
        event.preventDefault();
        const box = item.getBoundingClientRect();
        const after = event.clientY > box.top + box.height / 2;
        list.insertBefore(dragged, after ? item.nextSibling : item);
      });
    });
    list.addEventListener("dragover", (event) => {
      if (dragged && dragged.parentElement === list) event.preventDefault();
    });
    list.addEventListener("drop", (event) => {
      if (!dragged || dragged.parentElement !== list) return;
      event.preventDefault();
      submitOrder(list);
    });
  });
})();
