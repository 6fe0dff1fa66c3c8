"""Validates Pedigree's graph exports with the tools that read them, and prints what each one counted.

usage: graph_exports.py DIR CHAIN_LEAF_REF
DIR holds prov.json, lineage.cypher, lineage-kuzu.cypher, csv/, lineage.graphml, lineage.dot and lineage.mmd.
Prints one JSON object; any tool's refusal is an exception (exit 1).
"""
import json
import os
import re
import subprocess
import sys
import tempfile
import warnings

directory, leaf = sys.argv[1], sys.argv[2]
path = lambda name: os.path.join(directory, name)
result = {}

# PROV-JSON: the prov package drops values it cannot read with only a warning, so warnings are errors.
warnings.simplefilter("error")
from prov.model import ProvDocument, ProvEntity, ProvActivity, ProvAgent, ProvUsage, ProvGeneration, ProvDerivation, ProvAssociation, ProvAttribution

with open(path("prov.json")) as f:
    document = ProvDocument.deserialize(f, format="json")
records = document.get_records()
count = lambda cls: sum(1 for r in records if isinstance(r, cls))
result["prov"] = {
    "entities": count(ProvEntity), "activities": count(ProvActivity), "agents": count(ProvAgent), "used": count(ProvUsage),
    "generated": count(ProvGeneration), "derived": count(ProvDerivation), "associated": count(ProvAssociation),
    "attributed": count(ProvAttribution),
}
again = ProvDocument.deserialize(content=document.serialize(format="json"), format="json")
assert again == document, "prov: the document changed in a round trip through prov's own serializer"
unified = document.unified()
assert len(unified.get_records()) == len(records), f"prov: unified() lost records ({len(unified.get_records())} of {len(records)})"
digests = [r for r in records if isinstance(r, ProvEntity) and any(str(k) == "pedigree:digest" for k, _ in r.attributes)]
result["prov"]["entitiesWithDigest"] = len(digests)
result["prov"]["hyperparameters"] = sorted(
    str(v) for r in records if isinstance(r, ProvActivity) for k, v in r.attributes if str(k) == "pedigree:hyperparameters")[:3]
warnings.resetwarnings()

# Cypher into Kùzu, an embedded graph database: loaded twice (MERGE is idempotent), then counted and walked.
import kuzu


def statements(file):
    with open(file) as f:
        return [line.rstrip("\n") for line in f if line.strip() and not line.startswith("//")]


def counts(connection):
    def scalar(query):
        rows = connection.execute(query)
        return rows.get_next()[0]
    labels = {label: scalar(f"MATCH (n:{label}) RETURN count(n)") for label in ["Dataset", "Model", "Run", "Deployment", "Artifact"]}
    types = {t: scalar(f"MATCH ()-[r:{t}]->() RETURN count(r)") for t in ["USED", "GENERATED", "DERIVED_FROM", "SERVES"]}
    return {"nodes": sum(labels.values()), "labels": labels, "relationships": types}


with tempfile.TemporaryDirectory() as scratch:
    connection = kuzu.Connection(kuzu.Database(os.path.join(scratch, "cypher")))
    kuzu_statements = statements(path("lineage-kuzu.cypher"))
    for _ in range(2):
        for statement in kuzu_statements:
            connection.execute(statement)
    result["kuzu"] = counts(connection)
    connection.execute("CALL var_length_extend_max_depth=1000")
    rows = connection.execute(
        "MATCH p = (m:Model {ref: $leaf})-[:DERIVED_FROM*1..1000]->(b:Model) WHERE NOT EXISTS { MATCH (b)-[:DERIVED_FROM]->() } "
        "RETURN b.ref, length(p)", {"leaf": leaf})
    walked = []
    while rows.has_next():
        walked.append(rows.get_next())
    result["kuzu"]["chain"] = walked
    hostile = connection.execute("MATCH (n) WHERE n.name CONTAINS '<script>' RETURN n.name").get_next()[0]
    result["kuzu"]["hostileName"] = hostile

    # The Neo4j file differs only in its schema statements.
    neo4j = [s for s in statements(path("lineage.cypher")) if not s.startswith("CREATE ")]
    assert neo4j == [s for s in kuzu_statements if not s.startswith("CREATE ")], "the Neo4j and Kùzu data statements differ"
    result["neo4jSchema"] = [s for s in statements(path("lineage.cypher")) if s.startswith("CREATE ")][:2]

    # The neo4j-admin CSV files, read by Kùzu's own CSV reader into the same tables (serially: a name may hold a
    # quoted line break, which neo4j-admin reads with --multiline-fields=true).
    connection = kuzu.Connection(kuzu.Database(os.path.join(scratch, "csv")))
    for statement in kuzu_statements:
        if statement.startswith("CREATE "):
            connection.execute(statement)
    csv_dir = path("csv")
    names = None
    for label in ["Dataset", "Model", "Run", "Deployment", "Artifact"]:
        file = os.path.join(csv_dir, f"nodes-{label}.csv")
        with open(file) as f:
            header = f.readline().strip().split(",")
        assert header[0] == "ref:ID" and header[-1] == ":LABEL", header
        # Kùzu reads a typed header (name:string) as the column `name`, as neo4j-admin does.
        assert all(h.endswith(":string") for h in header[1:-1]), header
        assignments = ", ".join(f"{h.split(':')[0]}: {h.split(':')[0]}" for h in header[1:-1])
        connection.execute(f"LOAD FROM '{file}' (header=true, parallel=false) CREATE (:{label} {{ref: `ref:ID`, {assignments}}})")
    for rel, pairs in [("USED", [("Run", t) for t in ["Dataset", "Model", "Artifact"]]),
                       ("GENERATED", [("Run", t) for t in ["Dataset", "Model", "Artifact"]]),
                       ("DERIVED_FROM", [("Model", t) for t in ["Model", "Dataset", "Artifact"]]),
                       ("SERVES", [("Deployment", t) for t in ["Model", "Artifact"]])]:
        file = os.path.join(csv_dir, f"relationships-{rel}.csv")
        with open(file) as f:
            assert f.readline().startswith(":START_ID,:END_ID,")
        for a, b in pairs:
            connection.execute(
                f"LOAD FROM '{file}' (header=true, parallel=false) MATCH (a:{a} {{ref: `:START_ID`}}), (b:{b} {{ref: `:END_ID`}}) "
                f"CREATE (a)-[:{rel} {{role: role, recordedAt: recordedAt}}]->(b)")
    result["csv"] = counts(connection)

# GraphML through networkx.
import networkx

graph = networkx.read_graphml(path("lineage.graphml"))
result["graphml"] = {"nodes": graph.number_of_nodes(), "edges": graph.number_of_edges(), "multigraph": graph.is_multigraph()}
hostile = [data.get("name") for _, data in graph.nodes(data=True) if "<script>" in (data.get("name") or "")]
result["graphml"]["hostileName"] = hostile[0] if hostile else None

# DOT through Graphviz: it must lay the file out without a warning.
dot = subprocess.run(["dot", "-Tsvg", path("lineage.dot"), "-o", path("lineage.svg")], capture_output=True, text=True)
assert dot.returncode == 0 and not dot.stderr.strip(), f"graphviz: {dot.returncode} {dot.stderr}"
result["dot"] = {"svgBytes": os.path.getsize(path("lineage.svg"))}

# Mermaid, structurally: a flowchart header, node lines with a known shape and a quoted label holding no
# quote, edges between declared nodes only.
node = re.compile(r'^  (n[0-9a-f]{16})(\["[^"]*"\]|\(\["[^"]*"\]\)|\{\{"[^"]*"\}\}|\[\("[^"]*"\)\])$')
edge = re.compile(r'^  (n[0-9a-f]{16}) -->\|"[^"]*"\| (n[0-9a-f]{16})$')
with open(path("lineage.mmd")) as f:
    lines = f.read().splitlines()
assert lines[0] == "flowchart LR", lines[0]
declared, edges = set(), 0
for line in lines[1:]:
    if m := node.match(line):
        declared.add(m.group(1))
    elif m := edge.match(line):
        assert m.group(1) in declared and m.group(2) in declared, line
        edges += 1
    else:
        assert re.match(r"^  (class n[0-9a-f]{16} \w+|classDef \w+ .*)$", line), f"mermaid: unexpected line {line!r}"
result["mermaid"] = {"nodes": len(declared), "edges": edges}
print(json.dumps(result))
