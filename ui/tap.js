// A tap on a chart selects what it taps, as a click does (Streamlit's on_select: Results' confusion matrix). Plotly
// selects on a click from the hover data a mouse leaves as it moves over the chart; a finger leaves none, so a tap
// fired plotly_click but selected nothing. On a touch over a chart, a mousemove at the finger gives plotly that
// hover data before the tap ends.
function hoverFirst(event) {
  const touch = event.touches[0];
  const target = event.target;
  if (!touch || !target.closest || !target.closest(".js-plotly-plot")) return;
  target.dispatchEvent(new MouseEvent("mousemove", { clientX: touch.clientX, clientY: touch.clientY, bubbles: true }));
}

export default function () {
  document.addEventListener("touchstart", hoverFirst, { capture: true, passive: true });
  return () => document.removeEventListener("touchstart", hoverFirst, { capture: true });
}
