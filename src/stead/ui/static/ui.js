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

if (page === "home") {
  location.replace(pathOfHash(location.hash));
} else if (page === "runs") {
  columnChooser();
}
