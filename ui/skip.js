// The keyboard's way in (WCAG 2.4.1, bypass blocks): the Train page's first Tab stop is a link that jumps over the
// top bar and the sidebar's settings to the page's main button. Hidden until it has the focus (page.css).
const ID = "skip-link";

export default function (component) {
  const { data } = component;
  let link = document.getElementById(ID);
  if (!link) {
    link = document.createElement("a");
    link.id = ID;
    link.href = "#";
    link.addEventListener("click", (event) => {
      event.preventDefault();
      const target = document.querySelector(link.dataset.target);
      if (target) target.focus();
    });
    document.body.prepend(link); // before Streamlit's root: the first Tab stop of the page
  }
  link.textContent = data.label;
  link.dataset.target = data.target;
  return () => link.remove(); // the page was left: its button is gone, so is the link
}
