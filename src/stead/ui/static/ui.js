// stead UI: the small amount of script the server-rendered pages use. No framework, no build
// step; every page works without it, this only makes it quicker to use.

const page = document.body.dataset.page;

// "/" : the links the MLflow client prints (http://host:5000/#/experiments/1/runs/<id>) carry the
// page in the fragment, which never reaches the server; turn it into the page's path.
export function pathOfHash(hash) {
  const m = /^#\/experiments\/(\d+)(?:\/runs\/([0-9A-Za-z_-]+))?/.exec(hash || "");
  if (!m) return "/experiments";
  return m[2] ? `/experiments/${m[1]}/runs/${m[2]}` : `/experiments/${m[1]}`;
}

// The column chooser: a search box over the experiment's keys (an experiment may have 1,500
// metric keys, so they are never all listed); picking one submits the form, which adds a
// c=<kind>.<key> to the URL.
function columnChooser() {
  const input = document.getElementById("column-search");
  const list = document.getElementById("column-suggestions");
  if (!input || !list) return;
  const form = input.form;
  let pending = null;
  let asked = "";

  function show(found) {
    list.replaceChildren();
    for (const kind of ["metrics", "params", "tags"]) {
      for (const key of found[kind] || []) {
        const li = document.createElement("li");
        const button = document.createElement("button");
        button.type = "button";
        button.dataset.column = `${kind}.${key}`;
        const label = document.createElement("span");
        label.className = "kind";
        label.textContent = kind;
        button.append(label, document.createTextNode(key));  // text, never markup
        button.addEventListener("click", () => {
          input.value = button.dataset.column;
          form.submit();
        });
        li.append(button);
        list.append(li);
      }
    }
  }

  async function ask() {
    const q = input.value.trim();
    if (q === asked) return;
    asked = q;
    const url = new URL(input.dataset.keysUrl, location.origin);
    url.searchParams.set("q", q);
    url.searchParams.set("format", "json");
    const answer = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (!answer.ok || q !== input.value.trim()) return;
    show(await answer.json());
  }

  input.addEventListener("input", () => {
    clearTimeout(pending);
    pending = setTimeout(ask, 120);
  });
  input.addEventListener("focus", () => { asked = null; ask(); });
  input.addEventListener("keydown", (event) => {
    if (event.key === "Escape") list.replaceChildren();
  });
}

// The run page's metric chart: Plotly.js (served from the plotly package) draws the history the
// page's own JSON route returns; the chosen metric goes into the URL (metric=<key>).
function metricChart() {
  const box = document.getElementById("metric-chart");
  const select = document.getElementById("metric-key");
  if (!box || !select || !window.Plotly) return;

  async function draw(key) {
    const url = new URL(box.dataset.url, location.origin);
    url.searchParams.set("key", key);
    const answer = await fetch(url, { headers: { accept: "application/json" }, credentials: "same-origin" });
    if (!answer.ok) return;
    const h = await answer.json();
    const trace = { x: h.steps, y: h.values, type: "scatter", mode: h.steps.length > 1 ? "lines" : "markers", name: key };
    const layout = { margin: { l: 60, r: 20, t: 10, b: 40 }, height: 320, xaxis: { title: { text: "step" } },
                     yaxis: { title: { text: key } } };
    await window.Plotly.react(box, [trace], layout, { displaylogo: false, responsive: true });
    box.dataset.drawn = key;
  }

  select.addEventListener("change", () => {
    const here = new URL(location.href);
    here.searchParams.set("metric", select.value);
    history.replaceState(null, "", here);
    draw(select.value);
  });
  draw(select.value);
}

if (page === "home") {
  location.replace(pathOfHash(location.hash));
} else if (page === "runs") {
  columnChooser();
} else if (page === "run") {
  metricChart();
}
