import ArgumentParser
import Foundation
import PedigreeCore
import PedigreeStore

struct Quickstart: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract:
            "Record an example history (datasets, a pretrained base model, training and fine-tuning runs, deployments) and show what to ask it.",
        discussion: "Safe to run again: the example events are recorded once. Use --store to keep them out of your real store.")

    @OptionGroup var storeOptions: StoreOptions

    func run() async throws {
        try await reportingErrors {
            let events = try ExampleHistory.events()
            let outcomes = try await storeOptions.withBackend(creating: true) { try await $0.append(events, recordedBy: "quickstart") }
            let fresh = outcomes.filter { !$0.duplicate }.count
            let destination = storeOptions.serverDisplay ?? storeOptions.displayLocation
            print(
                "Recorded \(fresh) example events in \(destination)\(fresh < outcomes.count ? " (\(outcomes.count - fresh) were already there)" : "")."
            )
            print(
                """

                The example: a fraud model fine-tuned from distilbert, trained on monthly transaction snapshots through a
                feature-building run; version 2 replaced version 1 on the fraud-api endpoint, and an EU model was
                fine-tuned from version 2. Now ask it (add --json to any of these):

                  pedigree lineage model:fraud-team/fraud@2 --upstream       # where did it come from?
                  pedigree diff model:fraud-team/fraud@1 model:fraud-team/fraud@2   # what changed?
                  pedigree models --trained-on dataset:warehouse/transactions     # which models used this data?
                  pedigree impact dataset:warehouse/transactions@2026-11     # what is affected if it is bad?
                  pedigree history fraud-team/fraud-api                      # what served when?
                  pedigree incident fraud-team/fraud-api --at 2026-11-16     # it went bad: what changed?
                  pedigree show model:fraud-team/fraud@2                     # everything about one node
                  pedigree verify                                            # is the history intact?
                """)
            if storeOptions.store != nil, storeOptions.serverURL == nil {
                print("\n(each command needs the same --store \(storeOptions.displayLocation))")
            }
        }
    }
}

/// A small, realistic history, written in the native event format.
enum ExampleHistory {
    static func digest(_ content: String) -> String { JSONValue.string(content).digest.description }

    static func events() throws -> [LineageEvent] {
        let documents: [JSONValue] = [
            [
                "type": "artifact", "namespace": "warehouse", "eventTime": "2026-10-01T02:00:00Z",
                "artifact": [
                    "kind": "dataset", "name": "transactions", "version": "2026-10", "digest": .string(digest("transactions 2026-10")),
                    "uri": "s3://warehouse/transactions/2026-10/", "facets": ["rows": 18_204_113],
                ],
            ],
            [
                "type": "artifact", "namespace": "warehouse", "eventTime": "2026-10-01T02:05:00Z",
                "artifact": ["kind": "dataset", "name": "holdout", "version": "v1", "digest": .string(digest("holdout v1"))],
            ],
            run(
                id: "7c1e0a52-3b7d-4f0e-9a41-2d6f1c9e0b11", job: "build-features", time: "2026-10-02T03:00:00Z",
                inputs: [["ref": "dataset:warehouse/transactions@2026-10", "role": "input"]],
                outputs: [
                    ["artifact": ["kind": "dataset", "name": "features", "digest": .string(digest("features from 2026-10"))], "role": "output"]
                ],
                extra: [
                    "data": [
                        "transformations": [["op": "dropna"], ["op": "standard-scale", "columns": ["amount", "balance"]]],
                        "featureSelection": ["method": "mutual-information", "top_k": 40],
                    ]
                ]),
            run(
                id: "0f6b9c7e-1d2a-4c3b-8e5f-6a7b8c9d0e1f", job: "train-fraud", time: "2026-10-05T09:00:00Z",
                inputs: [["ref": "dataset:fraud-team/features@1", "role": "train"], ["ref": "dataset:warehouse/holdout@v1", "role": "test"]],
                outputs: [["artifact": ["kind": "model", "name": "fraud", "digest": .string(digest("fraud model 1"))], "role": "model"]],
                extra: [
                    "parents": ["hf://distilbert/distilbert-base-uncased@12040accade4e8a0f71eabdb258fecc2e7e948be"],
                    "code": [
                        "repository": "https://github.com/acme/fraud-models.git", "commit": "a1b2c3d4e5f60718293a4b5c6d7e8f9012345678",
                        "branch": "main", "dirty": false,
                    ],
                    "hyperparameters": [
                        "optimizer": ["name": "adamw", "lr": 3e-5, "weight_decay": 0.01], "epochs": 3, "batch_size": 32, "seed": 42,
                    ],
                    "environment": [
                        "os": "Linux", "runtime": ["name": "python", "version": "3.11.7"], "cuda": "12.1",
                        "gpu": ["model": "NVIDIA A100-SXM4-40GB", "count": 4, "driver": "535.104.05"],
                        "packages": ["torch": "2.2.0", "transformers": "4.38.1", "scikit-learn": "1.4.0"], "seeds": ["seed": 42],
                    ],
                    "metrics": ["auc": 0.912, "precision_at_1pct": 0.71],
                ]),
            [
                "type": "deployment", "namespace": "fraud-team",
                "deployment": [
                    "endpoint": "fraud-api", "model": "model:fraud-team/fraud@1", "validFrom": "2026-10-20T08:00:00Z",
                    "config": ["replicas": 3, "threshold": 0.82],
                ],
            ],
            [
                "type": "artifact", "namespace": "warehouse", "eventTime": "2026-11-01T02:00:00Z",
                "artifact": [
                    "kind": "dataset", "name": "transactions", "version": "2026-11", "digest": .string(digest("transactions 2026-11")),
                    "uri": "s3://warehouse/transactions/2026-11/", "facets": ["rows": 19_877_020],
                ],
            ],
            run(
                id: "5d4c3b2a-1f0e-4d9c-8b7a-6f5e4d3c2b1a", job: "build-features", time: "2026-11-02T03:00:00Z",
                inputs: [["ref": "dataset:warehouse/transactions@2026-11", "role": "input"]],
                outputs: [
                    ["artifact": ["kind": "dataset", "name": "features", "digest": .string(digest("features from 2026-11"))], "role": "output"]
                ],
                extra: [
                    "data": [
                        "transformations": [["op": "dropna"], ["op": "standard-scale", "columns": ["amount", "balance", "velocity_24h"]]],
                        "featureSelection": ["method": "mutual-information", "top_k": 48],
                    ]
                ]),
            run(
                id: "9e8d7c6b-5a4f-4e3d-9c2b-1a0f9e8d7c6b", job: "train-fraud", time: "2026-11-05T09:00:00Z",
                inputs: [["ref": "dataset:fraud-team/features@2", "role": "train"], ["ref": "dataset:warehouse/holdout@v1", "role": "test"]],
                outputs: [["artifact": ["kind": "model", "name": "fraud", "digest": .string(digest("fraud model 2"))], "role": "model"]],
                extra: [
                    "parents": ["hf://distilbert/distilbert-base-uncased@12040accade4e8a0f71eabdb258fecc2e7e948be"],
                    "code": [
                        "repository": "https://github.com/acme/fraud-models.git", "commit": "f00dfeed0123456789abcdef0123456789abcdef",
                        "branch": "main", "dirty": true, "diffDigest": .string(digest("uncommitted focal-loss tweak")),
                    ],
                    "hyperparameters": [
                        "optimizer": ["name": "adamw", "lr": 5e-5, "weight_decay": 0.01], "epochs": 4, "batch_size": 32, "seed": 42,
                        "loss": "focal",
                    ],
                    "environment": [
                        "os": "Linux", "runtime": ["name": "python", "version": "3.11.7"], "cuda": "12.1",
                        "gpu": ["model": "NVIDIA A100-SXM4-40GB", "count": 4, "driver": "535.104.05"],
                        "packages": ["torch": "2.3.0", "transformers": "4.40.0", "scikit-learn": "1.4.0"], "seeds": ["seed": 42],
                    ],
                    "metrics": ["auc": 0.934, "precision_at_1pct": 0.74],
                ]),
            [
                "type": "deployment", "namespace": "fraud-team",
                "deployment": [
                    "endpoint": "fraud-api", "model": "model:fraud-team/fraud@2", "validFrom": "2026-11-15T08:00:00Z",
                    "config": ["replicas": 4, "threshold": 0.8],
                ],
            ],
            run(
                id: "3a2b1c0d-9e8f-4a7b-8c6d-5e4f3a2b1c0d", job: "finetune-eu", time: "2026-11-18T10:00:00Z",
                inputs: [["ref": "dataset:warehouse/transactions-eu@v1", "role": "train"]],
                outputs: [["artifact": ["kind": "model", "name": "fraud-eu", "digest": .string(digest("fraud-eu model 1"))], "role": "model"]],
                extra: ["parents": ["model:fraud-team/fraud@2"], "hyperparameters": ["optimizer": ["name": "adamw", "lr": 1e-5], "epochs": 1]]),
            [
                "type": "deployment", "namespace": "fraud-team",
                "deployment": ["endpoint": "fraud-eu-api", "model": "model:fraud-team/fraud-eu@1", "validFrom": "2026-11-20T08:00:00Z"],
            ],
        ]
        return try documents.map { try LineageEvent(json: $0) }
    }

    /// A completed run as one event; `extra` adds the dimensions.
    static func run(id: String, job: String, time: String, inputs: [JSONValue], outputs: [JSONValue], extra: [String: JSONValue]) -> JSONValue {
        let start = Timestamp(time)!
        let end = Timestamp(microseconds: start.microseconds + 3_600_000_000).description
        var run: [String: JSONValue] = [
            "id": .string(id), "job": .string(job), "status": "COMPLETE", "startedAt": .string(time), "endedAt": .string(end),
            "inputs": .array(inputs), "outputs": .array(outputs),
        ]
        run.merge(extra) { _, new in new }
        return ["type": "run", "namespace": "fraud-team", "eventTime": .string(end), "run": .object(run)]
    }
}
