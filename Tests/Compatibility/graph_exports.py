"""Validates Pedigree's graph exports with the tools that read them, and prints what each one counted.

usage: graph_exports.py DIR CHAIN_LEAF_REF
DIR holds prov.json, lineage.cypher, lineage-kuzu.cypher, csv/, lineage.graphml, lineage.dot, lineage.mmd,
openlineage.jsonl and datahub.json, and roundtrip.graphml: the GraphML of a new store that recorded
openlineage.jsonl, compared with lineage.graphml.
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
# OpenLineage: every event rebuilt with the official client's classes, which are generated from the spec's
# schema and validate as they are built (UUID run ids, RFC 3339 times, required fields, each standard facet's
# fields and schema URL); serialised by the client, it must be what Pedigree wrote, Pedigree's own facets and
# the producers aside.
from openlineage.client import event_v2
from openlineage.client.generated import (dataset_type_dataset, dataset_version_dataset, execution_parameters_run,
                                          source_code_location_job)
from openlineage.client.serde import Serde

standard_facets = {
    "version": dataset_version_dataset.DatasetVersionDatasetFacet,
    "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet,
    "sourceCodeLocation": source_code_location_job.SourceCodeLocationJobFacet,
    "executionParameters": execution_parameters_run.ExecutionParametersRunFacet,
}


def standard(facets):
    built = {}
    for name, value in (facets or {}).items():
        if name.startswith("pedigree_"):
            continue
        fields = {k: v for k, v in value.items() if not k.startswith("_")}
        if name == "executionParameters":
            fields["parameters"] = [execution_parameters_run.ExecutionParameter(**p) for p in fields["parameters"]]
        facet = standard_facets[name](**fields)
        assert facet._schemaURL == value["_schemaURL"], (name, facet._schemaURL, value["_schemaURL"])
        built[name] = facet
    return built


def comparable(value):
    if isinstance(value, dict):
        out = {k: comparable(v) for k, v in value.items() if not k.startswith("pedigree_") and k != "_producer"}
        return {k: v for k, v in out.items() if v not in ({}, [], None)}
    if isinstance(value, list):
        return [comparable(v) for v in value]
    return value


openlineage = {"runEvents": 0, "datasetEvents": 0, "withPedigreeFacets": 0}
with open(path("openlineage.jsonl")) as f:
    for line in f:
        event = json.loads(line)
        if "dataset" in event:
            d = event["dataset"]
            built = event_v2.DatasetEvent(eventTime=event["eventTime"], producer=event["producer"],
                                          dataset=event_v2.StaticDataset(d["namespace"], d["name"], facets=standard(d["facets"])))
            openlineage["datasetEvents"] += 1
        else:
            built = event_v2.RunEvent(
                eventType=event_v2.RunState(event["eventType"]), eventTime=event["eventTime"], producer=event["producer"],
                run=event_v2.Run(runId=event["run"]["runId"], facets=standard(event["run"]["facets"])),
                job=event_v2.Job(event["job"]["namespace"], event["job"]["name"], facets=standard(event["job"]["facets"])),
                inputs=[event_v2.InputDataset(i["namespace"], i["name"], inputFacets=standard(i.get("inputFacets")), facets=standard(i["facets"]))
                        for i in event["inputs"]],
                outputs=[event_v2.OutputDataset(o["namespace"], o["name"], outputFacets=standard(o.get("outputFacets")),
                                                facets=standard(o["facets"])) for o in event["outputs"]])
            openlineage["runEvents"] += 1
            openlineage["withPedigreeFacets"] += "pedigree_run" in event["run"]["facets"]
        assert built.schemaURL == event["schemaURL"], (built.schemaURL, event["schemaURL"])
        rebuilt = json.loads(Serde.to_json(built))
        assert comparable(rebuilt) == comparable(event), f"openlineage: the client wrote\n{comparable(rebuilt)}\nfor\n{comparable(event)}"
result["openlineage"] = openlineage


# The round trip: the store that recorded the OpenLineage events has the same graph — every node with every
# property but when and by whom it was recorded, every edge with its type and role — except the endpoints,
# which OpenLineage cannot carry.
def lineage_graph(file):
    g = networkx.read_graphml(file)
    nodes = {n: {k: v for k, v in d.items() if k not in ("recordedAt", "recordedBy")}
             for n, d in g.nodes(data=True) if d.get("kind") != "deployment"}
    edges = sorted((u, v, d.get("type"), d.get("role")) for u, v, d in g.edges(data=True) if u in nodes and v in nodes)
    return nodes, edges


original, returned = lineage_graph(path("lineage.graphml")), lineage_graph(path("roundtrip.graphml"))
differences = [n for n in set(original[0]) | set(returned[0]) if original[0].get(n) != returned[0].get(n)]
result["openlineage"]["roundTrip"] = {
    "nodes": len(returned[0]), "edges": len(returned[1]), "nodesDiffering": sorted(differences)[:5],
    "sameEdges": original[1] == returned[1],
    "firstDifference": [original[0].get(differences[0]), returned[0].get(differences[0])] if differences else None,
}

# DataHub: the file source DataHub ingests with (`datahub check metadata-file` runs it), then each proposal
# read back as DataHub's own wrapper and validated against its aspect's schema.
from collections import Counter

from datahub.cli.json_file import check_mce_file
from datahub.emitter.mcp import MetadataChangeProposalWrapper
from datahub.utilities.urns.urn import Urn

report = check_mce_file(path("datahub.json"))
aspects = Counter()
with open(path("datahub.json")) as f:
    for proposal in json.load(f):
        wrapper = MetadataChangeProposalWrapper.from_obj(proposal)
        assert wrapper.validate(), f"datahub: {proposal}"
        Urn.from_string(wrapper.entityUrn)
        aspects[f"{wrapper.entityType}/{wrapper.aspectName}"] += 1
        if wrapper.aspectName == "mlModelProperties" and wrapper.aspect.hyperParams:
            aspects["mlModel/withHyperParams"] += 1
result["datahub"] = {"report": report, "aspects": dict(sorted(aspects.items()))}
print(json.dumps(result))
