"""Sends lineage to a Pedigree server with the official OpenLineage Python client, exactly as a user's
pipeline would: HTTP transport, api_key auth (Authorization: Bearer), gzip compression. Then sends the
START event a second time, as the client does after a retry.

usage: openlineage_client.py URL API_KEY RUN_ID
"""
import sys
from datetime import datetime, timezone

from openlineage.client import OpenLineageClient
from openlineage.client.event_v2 import InputDataset, Job, OutputDataset, Run, RunEvent, RunState
from openlineage.client.facet_v2 import dataset_type_dataset, dataset_version_dataset, execution_parameters_run
from openlineage.client.transport.http import ApiKeyTokenProvider, HttpCompression, HttpConfig, HttpTransport

url, api_key, run_id = sys.argv[1], sys.argv[2], sys.argv[3]
transport = HttpTransport(HttpConfig(
    url=url, timeout=10, auth=ApiKeyTokenProvider({"apiKey": api_key}), compression=HttpCompression.GZIP,
    retry={"total": 0},
))
client = OpenLineageClient(transport=transport)
producer = "https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python"
job = Job(namespace="ml-training", name="train_resnet50")
train = InputDataset(
    namespace="s3://datasets", name="imagenet/train",
    facets={"version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="v3")},
)
model = OutputDataset(
    namespace="mlflow://registry", name="models/resnet50",
    facets={
        "datasetType": dataset_type_dataset.DatasetTypeDatasetFacet(datasetType="MODEL"),
        "version": dataset_version_dataset.DatasetVersionDatasetFacet(datasetVersion="7"),
    },
)
params = execution_parameters_run.ExecutionParametersRunFacet(
    parameters=[execution_parameters_run.ExecutionParameter(key="lr", value="0.001")]
)

def now():
    return datetime.now(timezone.utc).isoformat()

start = RunEvent(eventType=RunState.START, eventTime=now(), run=Run(runId=run_id, facets={"executionParameters": params}),
                 job=job, producer=producer, inputs=[train], outputs=[])
client.emit(start)
client.emit(RunEvent(eventType=RunState.COMPLETE, eventTime=now(), run=Run(runId=run_id), job=job, producer=producer,
                     inputs=[train], outputs=[model]))
client.emit(start)  # a retried delivery of the same event
print("sent 3 events")
