// The live view (ui/live_view.py): a run's heading, progress bar and charts, redrawn in place.
// It keeps its plotly divs and hands a changed figure to Plotly.react (uirevision keeps a student's zoom),
// skips an unchanged one, and while the run trains fetches its next state from the live feed once a second.
async function draw(root, data, module) {
  // Draws can overlap: one can wait seconds for plotly.js to load or draw while a newer state arrives. The
  // newest draw wins; an older one stops at its next wait instead of drawing older figures over it.
  const seq = root._drawSeq = (root._drawSeq || 0) + 1;
  const head = root.querySelector(".live-head");
  head.hidden = !data.head;
  if (data.head && head.textContent !== data.head) head.textContent = data.head;
  const progress = root.querySelector(".live-progress");
  progress.hidden = !data.progress;
  if (data.progress) {
    root.querySelector(".live-progress-text").textContent = data.progress.text;
    root.querySelector(".live-progress-bar").style.width = (100 * data.progress.value).toFixed(1) + "%";
    const track = root.querySelector(".live-progress-track");  // role=progressbar: its value, said in words
    track.setAttribute("aria-valuenow", Math.round(100 * data.progress.value));
    track.setAttribute("aria-valuetext", data.progress.text);
    if (data.texts && data.texts.progress) track.setAttribute("aria-label", data.texts.progress);
  }
  const said = root.querySelector(".live-announce");  // a polite live region: read out when it changes
  if (said && data.announce && said.textContent !== data.announce) said.textContent = data.announce;
  const charts = root.querySelector(".live-charts");
  const figures = data.figures;
  charts.style.gridTemplateColumns = "repeat(" + Math.max(figures.length, 1) + ", minmax(0, 1fr))";
  while (charts.children.length > figures.length) charts.lastChild.remove();
  while (charts.children.length < figures.length) charts.appendChild(document.createElement("div"));
  try {
    if (figures.length && !window.Plotly) {
      await import(new URL(module, appScript()).href);
    }
    for (let i = 0; i < figures.length; i++) {
      if (root._drawSeq !== seq) return;
      const host = charts.children[i];
      host.setAttribute("role", "figure");  // its text alternative: what the chart shows, in a sentence
      if (data.summaries && data.summaries[i]) host.setAttribute("aria-label", data.summaries[i]);
      if (host._drawn === figures[i]) continue;  // unchanged since the last refresh
      host._drawn = figures[i];
      const fig = JSON.parse(figures[i]);
      await window.Plotly.react(host, fig.data, fig.layout, { displaylogo: false });
    }
  } catch (err) {
    // the words come from the page (ui/feed.py payload), in its language
    const words = (data.texts && data.texts.chart_error) || "The chart could not be drawn: {error}";
    charts.textContent = words.replace("{error}", String(err));
  }
}

function appScript() {  // Streamlit's own bundle: its URL is the root the static modules and the feed hang from
  const app = document.querySelector('script[src*="/static/js/index"]');
  return app ? app.src : document.baseURI;
}

function started(data) {  // the run has drawn its first batch: from then on the view refreshes once a second
  return Boolean(data.progress && data.progress.value);
}

function follow(root, feed, module, setTriggerValue, first) {
  clearTimeout(root._timer);
  root._feed = feed;
  const chain = root._chain = {};  // a later follow() (the page redrawn with another feed, or none) ends this one
  root._tick = null;
  if (!feed) return;
  const url = new URL("../../" + feed, appScript()).href;
  let busy = false;
  const tick = async () => {
    // A hidden tab (the student is on another tab or window) fetches and draws nothing, which leaves its
    // share of the CPU to the training; the visibilitychange handler below resumes at once.
    if (root._chain !== chain || !root.isConnected || document.hidden || busy) return;
    busy = true;
    let next = 1000;
    try {
      const r = await fetch(url, { cache: "no-store" });
      const d = (r.headers.get("content-type") || "").includes("application/json") ? await r.json() : null;
      if (d === null) {
        // no feed on this server (not started through app.py's st.App): ask the page to redraw instead
        setTriggerValue("tick", Date.now());
      } else if (d.state !== "running") {
        // ended (or the server lost it): ask the page to redraw itself. That redraw has no feed and ends
        // this chain; should the request be lost (it can come while the page is still busy with the click's
        // run), it is made again.
        setTriggerValue("ended", d.state);
        next = 2000;
      } else {
        await draw(root, d, module);
        if (!started(d)) next = 250;  // no batch yet: look again soon for the first point
      }
    } catch (err) {
      // the server is away for a moment: try again at the next tick
    } finally {
      busy = false;
    }
    if (root._chain === chain) root._timer = setTimeout(tick, next);
  };
  root._tick = tick;
  if (!root._onVisible) {
    root._onVisible = () => {
      if (!root.isConnected) { document.removeEventListener("visibilitychange", root._onVisible); return; }
      if (!document.hidden && root._tick) { clearTimeout(root._timer); root._tick(); }
    };
    document.addEventListener("visibilitychange", root._onVisible);
  }
  root._timer = setTimeout(tick, first);
}

export default async function (component) {
  const { data, parentElement, setTriggerValue } = component;
  let root = parentElement.querySelector(".live-view");
  if (!root) {
    root = document.createElement("div");
    root.className = "live-view";
    root.innerHTML = '<h2 class="live-head"></h2><div class="live-progress"><div class="live-progress-text"></div>'
      + '<div class="live-progress-track" role="progressbar" aria-valuemin="0" aria-valuemax="100">'
      + '<div class="live-progress-bar"></div></div></div><div class="live-charts"></div>'
      + '<p class="live-announce" role="status" aria-live="polite"></p>';
    parentElement.appendChild(root);
  }
  // Follow (or stop following) the feed this state names at once, not after the draw: a draw can outlast the
  // arrival of a newer state, and this older one must not then undo the newer one's choice (it did: a view
  // drawn before Start, finishing late, stopped the running view from following its run).
  if ((data.feed || null) !== (root._feed || null)) {
    follow(root, data.feed, data.module, setTriggerValue, started(data) ? 1000 : 250);
  }
  await draw(root, data, data.module);
}
