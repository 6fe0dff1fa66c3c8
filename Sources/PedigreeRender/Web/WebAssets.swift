/// The web UI's one stylesheet and one script, served from `/static/`. The pages work without the script:
/// it adds pan and zoom, Shift-click path selection and live filters on top of plain links and forms.
public enum WebAssets {
    public static let stylesheet =
        """
        :root{color-scheme:light dark;--fg:#1b1f24;--bg:#fff;--panel:#f6f8fa;--muted:#57606a;--line:#d0d7de;--link:#0969da;\
        --ok:#1a7f37;--warn:#9a6700;--bad:#cf222e;--focus:#0969da}
        @media (prefers-color-scheme:dark){:root{--fg:#e6edf3;--bg:#0d1117;--panel:#161b22;--muted:#8d96a0;--line:#30363d;--link:#4493f8;\
        --ok:#3fb950;--warn:#d29922;--bad:#f85149;--focus:#4493f8}}
        *{box-sizing:border-box}
        body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;color:var(--fg);background:var(--bg);margin:0}
        a{color:var(--link)}a:focus-visible,button:focus-visible,input:focus-visible,select:focus-visible,summary:focus-visible{outline:2px solid var(--focus);outline-offset:2px}
        .skip{position:absolute;left:-999px}.skip:focus{left:8px;top:8px;background:var(--bg);padding:4px 8px;z-index:2}
        header.top{display:flex;gap:20px;align-items:center;padding:10px 24px;border-bottom:1px solid var(--line);background:var(--panel)}
        header.top nav{display:flex;gap:14px;flex:1}header.top nav a{text-decoration:none}header.top nav a[aria-current]{font-weight:700;text-decoration:underline}
        .brand{font-weight:700;font-size:16px;color:var(--fg);text-decoration:none}
        .session{display:flex;gap:8px;align-items:center}
        main{max-width:1400px;margin:0 auto;padding:18px 24px 40px}
        h1{font-size:21px;margin:4px 0 10px}h2{font-size:16px;margin:0 0 8px}h3{font-size:14px;margin:12px 0 4px}
        .muted{color:var(--muted)}.error{color:var(--bad);font-weight:600}
        table{border-collapse:collapse;width:100%;margin:6px 0 10px;font-size:13px}
        th,td{border-bottom:1px solid var(--line);padding:5px 8px;text-align:left;vertical-align:top;overflow-wrap:anywhere}
        th{font-weight:600;background:var(--panel)}
        code{font:12px ui-monospace,SFMono-Regular,Menlo,monospace}
        pre.diff{max-height:420px;overflow:auto;background:var(--panel);padding:8px;font-size:12px}
        .filters{display:flex;flex-wrap:wrap;gap:10px 16px;align-items:end;margin:0 0 12px;padding:10px;background:var(--panel);border:1px solid var(--line);border-radius:6px}
        .filters label{display:flex;flex-direction:column;font-size:12px;color:var(--muted);gap:2px}.filters label.check{flex-direction:row;align-items:center;gap:6px}
        input,select,button{font:inherit;padding:4px 6px;border:1px solid var(--line);border-radius:4px;background:var(--bg);color:var(--fg)}
        button{cursor:pointer;background:var(--panel)}
        .pager{margin:10px 0;display:flex;gap:16px}
        .panels{display:grid;grid-template-columns:repeat(auto-fit,minmax(420px,1fr));gap:14px;margin:14px 0}
        .panel{border:1px solid var(--line);border-radius:6px;padding:12px 14px;margin:0 0 14px;background:var(--bg);min-width:0}
        .facts{display:grid;grid-template-columns:max-content 1fr;gap:3px 14px;margin:6px 0 12px}.facts dt{color:var(--muted)}.facts dd{margin:0;overflow-wrap:anywhere}
        .badge{display:inline-block;border-radius:10px;padding:1px 8px;font-size:12px;font-weight:600;border:1px solid currentColor}
        .badge.ok{color:var(--ok)}.badge.warn{color:var(--warn)}.badge.bad{color:var(--bad)}.badge.muted{color:var(--muted);border-color:transparent}
        .kind{font-size:12px;text-transform:uppercase;letter-spacing:.05em;color:var(--muted);font-weight:600}.version{color:var(--muted)}
        .actions{margin:0 0 10px}
        ul.tree{list-style:none;margin:0;padding-left:14px;border-left:1px solid var(--line)}ul.tree .key{color:var(--muted)}
        #hyperparameter-tree>ul.tree{padding-left:0;border:0}details>summary{cursor:pointer}
        .filter{display:inline-flex;gap:6px;align-items:center;font-size:12px;color:var(--muted);margin:0 0 6px}
        [data-filtered-out]{display:none}
        .change.added,ins{color:var(--ok);text-decoration:none}.change.removed,del{color:var(--bad)}.change.changed{color:var(--warn)}
        .sparkline{vertical-align:middle}.sparkline polyline{fill:none;stroke:var(--link);stroke-width:1.5}
        .timeline{max-width:100%;height:auto;font:11px system-ui,sans-serif}.timeline .band{stroke:var(--bg);stroke-width:1}
        .timeline .band-label,.timeline .axis{fill:var(--fg)}.timeline .axis.end{text-anchor:end}
        .timeline .switch line{stroke:var(--bad);stroke-width:2;stroke-dasharray:3 2}
        .band-0{fill:#54aeff}.band-1{fill:#c297ff}.band-2{fill:#4ac26b}.band-3{fill:#ffb77c}.band-4{fill:#ff8182}.band-5{fill:#d4a72c}.band-6{fill:#8c959f}.band-7{fill:#ff80c8}
        .graph-frame{border:1px solid var(--line);border-radius:6px;overflow:auto;max-height:78vh;background:var(--bg)}
        .graph-frame.interactive{overflow:hidden;cursor:grab;height:72vh}.graph-frame.interactive svg{width:100%;height:100%}
        .zoom-controls{display:flex;gap:6px;align-items:center;margin:0 0 6px}
        .lineage a:focus-visible rect{stroke:var(--focus);stroke-width:3}.lineage .selected rect{stroke:var(--path);stroke-width:3;stroke-dasharray:2 2}
        .audit .status{font-weight:600}.audit .met,.audit .verified{color:var(--ok)}.audit .partly-met{color:var(--warn)}.audit .missing,.audit .failed{color:var(--bad)}
        .login{display:flex;gap:10px;align-items:end}
        @media (max-width:800px){.panels{grid-template-columns:1fr}main{padding:12px}}

        """ + LineageSVG.stylesheet + "\n"

    public static let script = """
        "use strict";
        // Live filters: an input with data-filter="#id" hides the rows or list items under #id that do not contain its text.
        for (const input of document.querySelectorAll("input[data-filter]")) {
          const target = document.querySelector(input.dataset.filter);
          if (!target) continue;
          input.addEventListener("input", () => {
            const needle = input.value.trim().toLowerCase();
            for (const item of target.querySelectorAll("tbody tr, li")) {
              const match = !needle || item.textContent.toLowerCase().includes(needle);
              if (match) item.removeAttribute("data-filtered-out"); else item.setAttribute("data-filtered-out", "");
              if (match && needle) for (let p = item.parentElement; p && p !== target; p = p.parentElement) {
                p.removeAttribute("data-filtered-out");
                if (p.tagName === "DETAILS") p.open = true;
              }
            }
          });
        }
        // The lineage graph: pan by dragging, zoom with the wheel or the buttons, Shift-click two nodes for the path.
        const frame = document.getElementById("graph-frame");
        const svg = frame && frame.querySelector("svg.lineage");
        if (svg) {
          const full = svg.viewBox.baseVal;
          let view = { x: full.x, y: full.y, w: full.width, h: full.height };
          const apply = () => svg.setAttribute("viewBox", `${view.x} ${view.y} ${view.w} ${view.h}`);
          const zoom = (factor, cx, cy) => {
            const w = Math.min(Math.max(view.w * factor, 50), full.width * 4), h = w * view.h / view.w;
            view = { x: cx - (cx - view.x) * w / view.w, y: cy - (cy - view.y) * h / view.h, w, h };
            apply();
          };
          const centre = () => [view.x + view.w / 2, view.y + view.h / 2];
          frame.classList.add("interactive");
          frame.tabIndex = 0;
          const controls = document.querySelector(".zoom-controls");
          if (controls) controls.hidden = false;
          for (const button of document.querySelectorAll("[data-zoom]")) {
            button.addEventListener("click", () => {
              if (button.dataset.zoom === "reset") { view = { x: full.x, y: full.y, w: full.width, h: full.height }; apply(); }
              else zoom(button.dataset.zoom === "in" ? 0.8 : 1.25, ...centre());
            });
          }
          frame.addEventListener("keydown", (e) => {
            if (e.target !== frame) return;
            const step = view.w * 0.1;
            const moves = { ArrowLeft: [-step, 0], ArrowRight: [step, 0], ArrowUp: [0, -step], ArrowDown: [0, step] };
            if (e.key === "+" || e.key === "=") zoom(0.8, ...centre());
            else if (e.key === "-") zoom(1.25, ...centre());
            else if (moves[e.key]) { view.x += moves[e.key][0]; view.y += moves[e.key][1]; apply(); }
            else return;
            e.preventDefault();
          });
          const point = (e) => {
            const r = svg.getBoundingClientRect();
            const scale = Math.max(view.w / r.width, view.h / r.height);
            return [view.x + (e.clientX - r.left) * scale, view.y + (e.clientY - r.top) * scale, scale];
          };
          svg.addEventListener("wheel", (e) => { e.preventDefault(); const [x, y] = point(e); zoom(e.deltaY < 0 ? 0.85 : 1.18, x, y); }, { passive: false });
          let drag = null, moved = false;
          svg.addEventListener("pointerdown", (e) => { drag = { x: e.clientX, y: e.clientY, view: { ...view } }; moved = false; });
          window.addEventListener("pointermove", (e) => {
            if (!drag) return;
            const dx = e.clientX - drag.x, dy = e.clientY - drag.y;
            if (Math.abs(dx) + Math.abs(dy) > 4) moved = true;
            if (!moved) return;
            const [, , scale] = point(e);
            view.x = drag.view.x - dx * scale; view.y = drag.view.y - dy * scale; apply();
          });
          window.addEventListener("pointerup", () => { drag = null; });
          let selected = [];
          svg.addEventListener("click", (e) => {
            if (moved) { e.preventDefault(); moved = false; return; }
            if (!e.shiftKey) return;
            const node = e.target.closest("g.node[data-ref]");
            if (!node || node.classList.contains("cluster")) return;
            e.preventDefault();
            node.classList.add("selected");
            selected.push(node.dataset.ref);
            if (selected.length === 2) {
              const form = document.querySelector("form.graph-controls");
              form.elements.from.value = selected[0];
              form.elements.to.value = selected[1];
              form.submit();
            }
          });
        }

        """
}
