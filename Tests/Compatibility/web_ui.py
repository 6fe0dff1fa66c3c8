"""Drives the web UI of a live `pedigree serve` with a real headless Chromium (selenium + chromedriver).

Usage: web_ui.py open|auth BASE_URL SCREENSHOT_DIR [TOKEN]

Every page visited must load without console errors or failed requests; content is checked through the DOM.
Prints one line per check and exits non-zero at the first failure, naming it.
"""
import json
import os
import sys
import urllib.parse

from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import WebDriverWait

mode, base, shots = sys.argv[1], sys.argv[2].rstrip("/"), sys.argv[3]
token = sys.argv[4] if len(sys.argv) > 4 else None
os.makedirs(shots, exist_ok=True)

options = webdriver.ChromeOptions()
options.binary_location = "/usr/bin/chromium"
for flag in ["--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--window-size=1440,1000", "--force-device-scale-factor=1"]:
    options.add_argument(flag)
options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
driver = webdriver.Chrome(service=Service("/usr/bin/chromedriver"), options=options)
driver.set_page_load_timeout(30)


def check(condition, what):
    if not condition:
        print(f"FAILED: {what}", flush=True)
        print(f"  at {driver.current_url}", flush=True)
        driver.save_screenshot(os.path.join(shots, "failure.png"))
        driver.quit()
        sys.exit(1)
    print(f"ok: {what}", flush=True)


def page_problems():
    """Console errors and failed requests (Chromium reports a failed load as a SEVERE console entry)."""
    return [entry["message"] for entry in driver.get_log("browser") if entry["level"] in ("SEVERE", "ERROR")]


def visit(path, expect_status_ok=True):
    driver.get(base + path)
    problems = page_problems()
    check(not problems or not expect_status_ok, f"{path} loads without console errors or failed requests {problems}")
    return driver


def follow(element):
    """Clicks a link or submit button and waits until the next page replaced this one: reading the DOM
    straight after a click can still see the old page."""
    page = driver.find_element(By.TAG_NAME, "html")
    element.click()
    WebDriverWait(driver, 30).until(expected_conditions.staleness_of(page))


def url(path, **query):
    return path + ("?" + urllib.parse.urlencode(query) if query else "")


def texts(selector):
    return [e.text for e in driver.find_elements(By.CSS_SELECTOR, selector)]


def shot(name):
    driver.save_screenshot(os.path.join(shots, name))


def no_injected_script():
    """No element the seeded names could have created: no <img onerror>, no inline <script>."""
    return driver.execute_script(
        "return [...document.querySelectorAll('script')].every(s => s.src.endsWith('/static/pedigree.js'))"
        " && document.querySelectorAll('img').length === 0"
        " && ![...document.querySelectorAll('*')].some(e => [...e.attributes].some(a => a.name.startsWith('on')))"
        " && window.__pwned === undefined"
    )


if mode == "open":
    # Registry: filters, paging and content, through the DOM.
    visit(url("/", namespace="warehouse"))
    check("transactions" in texts("#registry tbody td:nth-child(3)"), "the registry lists datasets")
    visit(url("/", namespace="fraud-team"))
    names = texts("#registry tbody td:nth-child(3)")
    check("fraud" in names and "fraud-api" in names, f"the registry lists models and endpoints ({len(names)} rows)")
    check(any("fraud-api" in t for t in texts("#registry tbody td:nth-child(7)")), "the registry says where the fraud model is deployed")
    shot("registry.png")
    visit("/")
    driver.find_element(By.NAME, "q").send_keys("fraud")
    driver.find_element(By.CSS_SELECTOR, "select[name=kind] option[value=model]").click()
    follow(driver.find_element(By.CSS_SELECTOR, "form.filters button"))
    kinds = set(texts("#registry tbody td:nth-child(1)"))
    check(kinds == {"model"}, f"the kind filter narrows to models (got {kinds})")
    check(all("fraud" in n for n in texts("#registry tbody td:nth-child(3)")), "the search narrows by name")
    visit(url("/", deployed="yes"))
    check(set(texts("#registry tbody td:nth-child(5)")) == {"serving"}, "deployed=yes lists only what serves now")
    visit(url("/", kind="dataset", namespace="fanout"))
    check(len(texts("#registry tbody tr")) == 50 and driver.find_elements(By.CSS_SELECTOR, "a[rel=next]"), "a page holds 50 rows and links the next")
    first_page = texts("#registry tbody td:nth-child(3)")
    follow(driver.find_element(By.CSS_SELECTOR, "a[rel=next]"))
    second_page = texts("#registry tbody td:nth-child(3)")
    check(second_page and not set(first_page) & set(second_page), "the next page continues where the first ended")

    # The model version page: five panels, integrity, metrics plot.
    visit(url("/node", ref="model:fraud-team/fraud@2"))
    for panel in ["data", "code", "parents", "hyperparameters", "environment", "metrics", "deployments", "events"]:
        check(driver.find_elements(By.ID, panel), f"the model page has the {panel} panel")
    check("verified" in driver.find_element(By.CSS_SELECTOR, ".badge.integrity").text, "the integrity badge says the events verify")
    data = driver.find_element(By.ID, "data").text
    check("transactions" in data or "features" in data, "the data panel lists the training data")
    parents = texts("#parents ol.chain li")
    check(parents and "distilbert" in parents[-1], f"the parent chain ends at the pretrained model {parents}")
    hp = driver.find_element(By.CSS_SELECTOR, "input[data-filter='#hyperparameter-tree']")
    hp.send_keys("lr")
    visible = [li for li in driver.find_elements(By.CSS_SELECTOR, "#hyperparameter-tree li") if li.is_displayed()]
    check(visible and all("lr" in li.text for li in visible), "the hyperparameter filter hides what does not match")
    hp.send_keys(Keys.BACKSPACE, Keys.BACKSPACE)
    shot("model-page.png")
    commit = driver.find_elements(By.CSS_SELECTOR, "#code a[href*='/commit/']")
    check(commit, "the commit links to the forge")
    packages = driver.find_element(By.CSS_SELECTOR, "input[data-filter='#packages']")
    packages.send_keys("torch")
    rows = [r for r in driver.find_elements(By.CSS_SELECTOR, "#packages tbody tr") if r.is_displayed()]
    check(rows and all("torch" in r.text for r in rows), "the package filter narrows the packages")

    # Keyboard: the skip link and the first panel link are reachable with Tab.
    visit(url("/node", ref="model:fraud-team/fraud@2"))
    ActionChains(driver).send_keys(Keys.TAB).perform()
    check(driver.switch_to.active_element.text == "Skip to content", "Tab reaches the skip link first")

    # Dataset, run and endpoint pages.
    visit(url("/node", ref="dataset:warehouse/transactions@2026-11"))
    check("fraud" in driver.find_element(By.ID, "trained-on").text, "the dataset page lists the models trained on it")
    run_link = driver.find_element(By.CSS_SELECTOR, "#trained-on a[href*='ref=run:']")
    follow(run_link)
    check(driver.find_elements(By.ID, "inputs") and driver.find_elements(By.ID, "outputs"), "the run page shows inputs and outputs")
    check(not page_problems(), "the run page loads cleanly")
    visit(url("/node", ref="deployment:fraud-team/fraud-api"))
    bands = driver.find_elements(By.CSS_SELECTOR, "#timeline svg.timeline rect.band")
    check(len(bands) >= 2, f"the timeline draws a band per period and share ({len(bands)})")
    switch = driver.find_elements(By.CSS_SELECTOR, "#timeline a.switch")
    check(switch, "each switch is marked")
    changed = driver.find_element(By.CSS_SELECTOR, "#history a[href^='/diff']")
    follow(changed)
    check(driver.find_elements(By.CSS_SELECTOR, "[id^=diff-]"), "'what changed' at a switch opens the diff")
    check(not page_problems(), "the diff page loads cleanly")
    shot("timeline-diff.png")

    # Diff: only changes by default, the picker, show unchanged.
    visit(url("/diff", to="model:fraud-team/fraud@2"))
    check(driver.find_element(By.NAME, "from").get_attribute("value") == "model:fraud-team/fraud@1", "the diff picks the previous version by default")
    check(not any(t == "unchanged" for t in texts("span.change")), "only changes are shown by default")
    driver.find_element(By.CSS_SELECTOR, "input[name=all]").click()
    follow(driver.find_element(By.CSS_SELECTOR, "form.filters button"))
    check(any(t == "unchanged" for t in texts("span.change")), "show unchanged lists what stayed the same")
    check(driver.find_elements(By.CSS_SELECTOR, "p.picker a"), "the picker offers versions to compare with")

    # Impact, incident, audit.
    visit(url("/impact", ref="dataset:warehouse/transactions@2026-11"))
    check("fraud-api" in driver.find_element(By.ID, "serving").text, "impact lists the live deployments")
    check(driver.find_elements(By.CSS_SELECTOR, "#models-table tbody tr"), "impact groups the affected models")
    visit(url("/incident", endpoint="fraud-team/fraud-api", at="2026-11-16T00:00:00Z"))
    check(driver.find_element(By.CSS_SELECTOR, "p.summary").text, "the incident page shows the report's summary")
    check(driver.find_elements(By.CSS_SELECTOR, "#blast-radius"), "the incident page shows the blast radius")
    visit(url("/audit", ref="model:fraud-team/fraud@2"))
    check("Audit of" in driver.find_element(By.TAG_NAME, "h1").text, "the audit page renders the report")

    # The lineage graph: depth control, collapse, cluster expansion, path, pan and zoom.
    visit(url("/graph", ref="model:fraud-team/fraud@2", up="1", down="0"))
    shallow = len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node"))
    driver.find_element(By.CSS_SELECTOR, "select[name=up] option[value='5']").click()
    follow(driver.find_element(By.CSS_SELECTOR, "form.graph-controls button"))
    deep = len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node"))
    check(deep > shallow, f"raising the upstream depth draws more nodes ({shallow} → {deep})")
    check(not page_problems(), "the graph page loads cleanly")
    legend = driver.find_element(By.CSS_SELECTOR, "#lineage .legend").text
    check("model" in legend and "dataset" in legend, "the graph has a legend")
    shot("lineage-graph.png")
    toggles = driver.find_elements(By.CSS_SELECTOR, "#lineage a.toggle")
    check(toggles, "collapsible nodes have a toggle")
    before = len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node"))
    follow(toggles[0])
    after = len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node"))
    check(after < before and driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.collapsed"), f"collapsing a node hides its neighbourhood ({before} → {after})")
    expand = driver.find_element(By.CSS_SELECTOR, "#lineage .nodes g.collapsed a.toggle")
    follow(expand)
    check(len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node")) == before, "expanding it again restores the nodes")

    visit(url("/node", ref="model:fanout/sharded@1"))
    check(driver.find_elements(By.CSS_SELECTOR, "#metrics svg.sparkline"), "a metric recorded over steps is plotted")
    visit(url("/graph", ref="model:fanout/sharded@1", up="3", down="0"))
    clusters = driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.cluster")
    check(clusters, "40 sibling dataset versions are drawn as a cluster")
    collapsed_count = len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node"))
    follow(clusters[0].find_element(By.CSS_SELECTOR, "a.open"))
    expanded_count = len(driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node"))
    check(expanded_count >= collapsed_count + 39, f"clicking the cluster expands it ({collapsed_count} → {expanded_count})")
    check(not page_problems(), "the expanded graph loads cleanly")

    visit(url("/graph", ref="model:fraud-team/fraud@2", up="5", down="1"))
    nodes = driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node[data-ref]")
    refs = [n.get_attribute("data-ref") for n in nodes]
    start = next(r for r in refs if r.startswith("dataset:warehouse/transactions"))
    end = next(r for r in refs if r.startswith("deployment:"))
    frm = driver.find_element(By.CSS_SELECTOR, f"select[name=from] option[value='{start}']")
    frm.click()
    driver.find_element(By.CSS_SELECTOR, f"select[name=to] option[value='{end}']").click()
    follow(driver.find_element(By.CSS_SELECTOR, "form.graph-controls button"))
    on_path = driver.find_elements(By.CSS_SELECTOR, "#lineage .nodes g.node.on-path")
    check(len(on_path) >= 3 and driver.find_elements(By.CSS_SELECTOR, "#lineage path.edge.on-path"), f"the path between two nodes is highlighted ({len(on_path)} nodes)")
    box = driver.execute_script("return document.getElementById('lineage').getAttribute('viewBox')")
    driver.find_element(By.CSS_SELECTOR, "[data-zoom=in]").click()
    check(driver.execute_script("return document.getElementById('lineage').getAttribute('viewBox')") != box, "zooming changes the view")
    link = driver.find_element(By.CSS_SELECTOR, "#lineage .nodes g.root a.open").get_dom_attribute("href")
    check("/node?ref=" in link, "a node links to its page")

    # Hostile names are text, not markup.
    visit(url("/", q="script"))
    check(any("<script>" in t for t in texts("#registry tbody td")), "a name holding <script> is shown as text in the registry")
    check(no_injected_script(), "no seeded markup became an element or handler")
    visit(url("/node", ref='model:fraud-team/x"onerror=window.__pwned=1@1'))
    check('x"onerror=window.__pwned=1' in driver.find_element(By.TAG_NAME, "h1").text, "a model named with \"onerror= is shown as text")
    check("<img src=x onerror=window.__pwned=2>" in driver.find_element(By.ID, "hyperparameters").text, "a hostile parameter name is shown as text")
    check(no_injected_script(), "no handler was injected on the model page")
    visit(url("/graph", ref='model:fraud-team/x"onerror=window.__pwned=1@1', up="2"))
    check(no_injected_script(), "no handler was injected in the graph")
    visit(url("/node", ref="model:nowhere/none@1"), expect_status_ok=False)
    check("is recorded" in driver.find_element(By.CSS_SELECTOR, "p.error").text, "an unknown reference gets a page that says so")
    print(json.dumps({"ok": True}))

elif mode == "auth":
    # Signing in: the page asks for a token, the cookie is HttpOnly and SameSite=Strict, namespaces are isolated.
    driver.get(base + url("/node", ref="model:fraud-team/fraud@2"))
    check("/login" in driver.current_url, "a page without a token sends the browser to sign in")
    driver.find_element(By.NAME, "token").send_keys("not-a-token")
    follow(driver.find_element(By.CSS_SELECTOR, "form.login button"))
    check("unknown or revoked" in driver.find_element(By.CSS_SELECTOR, "p.error").text, "a wrong token is refused with a message")
    driver.get_log("browser")  # the 401 of the refused sign-in is expected
    driver.find_element(By.NAME, "token").send_keys(token)
    follow(driver.find_element(By.CSS_SELECTOR, "form.login button"))
    check("/node" in driver.current_url and "fraud" in driver.find_element(By.TAG_NAME, "h1").text, "signing in returns to the page asked for")
    cookie = driver.get_cookie("pedigree_token")
    check(cookie and cookie["httpOnly"] and cookie.get("sameSite") == "Strict", f"the token cookie is HttpOnly and SameSite=Strict {cookie}")
    check(driver.execute_script("return document.cookie") == "", "scripts cannot read the token")
    visit("/")
    namespaces = set(texts("#registry tbody td:nth-child(2)"))
    check("other-team" not in namespaces and "fraud-team" in namespaces, f"the registry shows only namespaces the token grants {namespaces}")
    options = texts("select[name=namespace] option")
    check("other-team" not in options, "the namespace picker offers only granted namespaces")
    visit(url("/node", ref="model:other-team/secret@1"), expect_status_ok=False)
    check("not recorded" in driver.find_element(By.CSS_SELECTOR, "p.error").text, "another team's model is answered as not recorded")
    driver.get_log("browser")
    visit("/")
    follow(driver.find_element(By.CSS_SELECTOR, "form.session button"))
    driver.get(base + "/")
    check("/login" in driver.current_url, "signing out forgets the token")
    print(json.dumps({"ok": True}))
