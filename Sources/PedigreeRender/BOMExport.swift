import Foundation
import PedigreeCore

/// A model version's lineage as an AI bill of materials: CycloneDX 1.6 (ML-BOM) and SPDX 3.0.1 (JSON-LD,
/// AI and Dataset profiles). Each is a pure function of the version's record: the same store gives the
/// same bytes (the serial number and times come from the record, not the clock).
public enum BOMExport {
    /// What a bill of materials describes: the version, the run that generated it (its data inputs), and
    /// its parents with their digests where known.
    public struct Subject: Sendable {
        public let model: NodeSummary
        public let run: RunRecord?
        public let inputs: [NodeDetail.Link]
        public let parents: [(ref: ArtifactRef, digest: ContentDigest?)]

        public init(detail: NodeDetail, parents: [(ref: ArtifactRef, digest: ContentDigest?)]) {
            model = detail.summary
            run = detail.generatedBy?.record
            inputs = (detail.generatedBy?.inputs ?? []).filter { $0.node.isArtifact && $0.node.kind != "model" }
            self.parents = parents
        }

        var packages: [(name: String, version: String)] {
            (run?.environment?.packages ?? [:]).map { ($0.key, $0.value) }.sorted { $0.name < $1.name }
        }

        /// Hyperparameters as dotted paths with their canonical JSON (strings unquoted), sorted.
        var parameters: [(key: String, value: String)] {
            flatten(.object(run?.hyperparameters ?? [:]), prefix: "")
        }

        var metrics: [(key: String, value: String)] {
            flatten(.object(run?.metrics ?? [:]), prefix: "")
        }
    }

    static func flatten(_ value: JSONValue, prefix: String) -> [(key: String, value: String)] {
        if case .object(let members) = value {
            return members.keys.sorted().flatMap { key in flatten(members[key]!, prefix: prefix.isEmpty ? key : "\(prefix).\(key)") }
        }
        return [(prefix, value.stringValue ?? value.canonicalString)]
    }

    static func purl(_ name: String, _ version: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-_~"))
        func encode(_ s: String) -> String { s.addingPercentEncoding(withAllowedCharacters: allowed) ?? s }
        return "pkg:pypi/\(encode(name.lowercased()))@\(encode(version))"
    }

    /// A UUID made from the model's reference and digest, so a BOM's serial number is stable.
    static func serialNumber(_ subject: Subject) -> String {
        let hex = Array(ContentDigest(hashing: Array("\(subject.model.ref) \(subject.model.digest?.hex ?? "")".utf8)).hex)
        var digits = Array(hex.prefix(32))
        digits[12] = "5"  // version 5 (name-based, SHA)
        digits[16] = ["8", "9", "a", "b"][Int(String(digits[16]), radix: 16)! % 4]
        let s = String(digits)
        func part(_ a: Int, _ b: Int) -> Substring { s.dropFirst(a).prefix(b - a) }
        return "urn:uuid:\(part(0, 8))-\(part(8, 12))-\(part(12, 16))-\(part(16, 20))-\(part(20, 32))"
    }

    // MARK: CycloneDX 1.6

    public static func cycloneDX(_ subject: Subject, toolVersion: String) -> JSONValue {
        func hashes(_ digest: ContentDigest?) -> JSONValue? {
            digest.map { [["alg": "SHA-256", "content": .string($0.hex)]] }
        }
        func component(type: String, ref: String, name: String, version: String?, digest: ContentDigest?) -> [String: JSONValue] {
            var out: [String: JSONValue] = ["type": .string(type), "bom-ref": .string(ref), "name": .string(name)]
            if let version { out["version"] = .string(version) }
            if let hashes = hashes(digest) { out["hashes"] = hashes }
            return out
        }
        let model = subject.model
        var modelComponent = component(type: "machine-learning-model", ref: model.ref, name: model.name, version: model.version, digest: model.digest)
        var properties: [JSONValue] = [
            ["name": "pedigree.ref", "value": .string(model.ref)], ["name": "pedigree.namespace", "value": .string(model.namespace)],
        ]
        properties += subject.parameters.map { ["name": .string("pedigree.hyperparameter.\($0.key)"), "value": .string($0.value)] }
        if let code = subject.run?.code {
            for key in ["repository", "commit", "branch", "tag", "diffDigest"] {
                if let value = code.json[key]?.stringValue { properties.append(["name": .string("pedigree.code.\(key)"), "value": .string(value)]) }
            }
            if let dirty = code.dirty { properties.append(["name": "pedigree.code.dirty", "value": .string(String(dirty))]) }
        }
        if let runtime = subject.run?.environment?.runtime {
            properties.append(["name": "pedigree.environment.runtime", "value": .string("\(runtime.name) \(runtime.version ?? "")")])
        }
        if let run = subject.run { properties.append(["name": "pedigree.run", "value": .string("run:\(run.id)")]) }
        modelComponent["properties"] = .array(properties)
        var modelCard: [String: JSONValue] = [
            "modelParameters": ["datasets": .array(subject.inputs.map { ["ref": .string($0.node.ref)] })]
        ]
        let metrics = subject.metrics
        if !metrics.isEmpty {
            modelCard["quantitativeAnalysis"] = ["performanceMetrics": .array(metrics.map { ["type": .string($0.key), "value": .string($0.value)] })]
        }
        modelComponent["modelCard"] = .object(modelCard)
        if !subject.parents.isEmpty {
            modelComponent["pedigree"] = [
                "ancestors": .array(
                    subject.parents.map { parent in
                        .object(
                            component(
                                type: "machine-learning-model", ref: parent.ref.description, name: parent.ref.name, version: parent.ref.version,
                                digest: parent.digest))
                    })
            ]
        }
        var components: [JSONValue] = subject.inputs.map { link in
            var data = component(type: "data", ref: link.node.ref, name: link.node.name, version: link.node.version, digest: link.node.digest)
            data["data"] = [["type": "dataset", "name": .string(link.node.ref), "description": .string("role: \(link.role)")]]
            return .object(data)
        }
        var libraries: [String] = []
        for package in subject.packages {
            let purl = purl(package.name, package.version)
            guard !libraries.contains(purl) else { continue }
            libraries.append(purl)
            components.append([
                "type": "library", "bom-ref": .string(purl), "name": .string(package.name), "version": .string(package.version),
                "purl": .string(purl),
            ])
        }
        var dependsOn: [String] = []
        for ref in subject.inputs.map(\.node.ref) + libraries where !dependsOn.contains(ref) { dependsOn.append(ref) }
        var dependencies: [JSONValue] = [["ref": .string(model.ref), "dependsOn": .array(dependsOn.map(JSONValue.string))]]
        dependencies += dependsOn.map { ["ref": .string($0)] }
        return [
            "bomFormat": "CycloneDX", "specVersion": "1.6", "version": 1, "serialNumber": .string(serialNumber(subject)),
            "metadata": [
                "timestamp": .string(model.recordedAt.description),
                "tools": ["components": [["type": "application", "name": "pedigree", "version": .string(toolVersion)]]],
                "component": .object(modelComponent),
            ],
            "components": .array(components),
            "dependencies": .array(dependencies),
        ]
    }

    // MARK: SPDX 3.0.1

    static let spdxBase = "https://pedigree.dev/spdx/"

    static func spdxID(_ kind: String, _ name: String) -> String {
        let allowed = CharacterSet.alphanumerics.union(CharacterSet(charactersIn: ".-_~"))
        return spdxBase + kind + "/" + (name.addingPercentEncoding(withAllowedCharacters: allowed) ?? name)
    }

    /// SPDX times: whole seconds, UTC, `Z`.
    static func spdxTime(_ time: Timestamp) -> String {
        String(time.description.prefix(19)) + "Z"
    }

    public static func spdx(_ subject: Subject, toolVersion: String) -> JSONValue {
        let model = subject.model
        let creation = "_:creationinfo"
        let tool = spdxID("tool", "pedigree-\(toolVersion)")
        let agent = spdxID("agent", "pedigree")
        var graph: [JSONValue] = [
            [
                "type": "CreationInfo", "@id": .string(creation), "specVersion": "3.0.1", "created": .string(spdxTime(model.recordedAt)),
                "createdBy": [.string(agent)], "createdUsing": [.string(tool)],
            ],
            ["type": "SoftwareAgent", "spdxId": .string(agent), "creationInfo": .string(creation), "name": "Pedigree"],
            ["type": "Tool", "spdxId": .string(tool), "creationInfo": .string(creation), "name": .string("pedigree \(toolVersion)")],
        ]
        func hash(_ digest: ContentDigest?) -> [String: JSONValue] {
            digest.map { ["verifiedUsing": [["type": "Hash", "algorithm": "sha256", "hashValue": .string($0.hex)]]] } ?? [:]
        }
        func entries(_ pairs: [(key: String, value: String)]) -> JSONValue {
            .array(pairs.map { ["type": "DictionaryEntry", "key": .string($0.key), "value": .string($0.value)] })
        }
        let modelID = spdxID("model", model.ref)
        var aiPackage: [String: JSONValue] = [
            "type": "ai_AIPackage", "spdxId": .string(modelID), "creationInfo": .string(creation), "name": .string(model.name),
            "software_primaryPurpose": "model", "releaseTime": .string(spdxTime(model.recordedAt)),
        ]
        aiPackage.merge(hash(model.digest)) { a, _ in a }
        if let version = model.version { aiPackage["software_packageVersion"] = .string(version) }
        if !subject.parameters.isEmpty { aiPackage["ai_hyperparameter"] = entries(subject.parameters) }
        if !subject.metrics.isEmpty { aiPackage["ai_metric"] = entries(subject.metrics) }
        if let run = subject.run {
            aiPackage["ai_informationAboutTraining"] = .string(
                "run:\(run.id) (job \(run.job))" + (run.code?.commit.map { ", code \(run.code?.repository ?? "") at \($0)" } ?? ""))
        }
        graph.append(.object(aiPackage))
        var elements = [agent, tool, modelID]
        var relationships: [(type: String, from: String, to: [String])] = []

        var trained: [String] = [], tested: [String] = []
        for link in subject.inputs {
            let id = spdxID("dataset", link.node.ref)
            guard !elements.contains(id) else { continue }
            var dataset: [String: JSONValue] = [
                "type": "dataset_DatasetPackage", "spdxId": .string(id), "creationInfo": .string(creation), "name": .string(link.node.name),
                "software_primaryPurpose": "data", "dataset_datasetType": ["noAssertion"],
            ]
            if let version = link.node.version { dataset["software_packageVersion"] = .string(version) }
            dataset.merge(hash(link.node.digest)) { a, _ in a }
            graph.append(.object(dataset))
            elements.append(id)
            if ["test", "validation", "holdout", "eval", "evaluation"].contains(link.role) { tested.append(id) } else { trained.append(id) }
        }
        if !trained.isEmpty { relationships.append(("trainedOn", modelID, trained)) }
        if !tested.isEmpty { relationships.append(("testedOn", modelID, tested)) }
        for parent in subject.parents {
            let id = spdxID("model", parent.ref.description)
            var package: [String: JSONValue] = [
                "type": "ai_AIPackage", "spdxId": .string(id), "creationInfo": .string(creation), "name": .string(parent.ref.name),
                "software_primaryPurpose": "model",
            ]
            if let version = parent.ref.version { package["software_packageVersion"] = .string(version) }
            package.merge(hash(parent.digest)) { a, _ in a }
            graph.append(.object(package))
            elements.append(id)
            relationships.append(("ancestorOf", id, [modelID]))
        }
        var libraries: [String] = []
        for package in subject.packages {
            let purl = purl(package.name, package.version)
            let id = spdxID("package", purl)
            guard !libraries.contains(id) else { continue }
            libraries.append(id)
            graph.append([
                "type": "software_Package", "spdxId": .string(id), "creationInfo": .string(creation), "name": .string(package.name),
                "software_packageVersion": .string(package.version), "software_primaryPurpose": "library", "software_packageUrl": .string(purl),
            ])
            elements.append(id)
        }
        if !libraries.isEmpty { relationships.append(("dependsOn", modelID, libraries)) }
        for (i, relationship) in relationships.enumerated() {
            let id = spdxID("relationship", "\(model.ref)#\(i + 1)")
            graph.append([
                "type": "Relationship", "spdxId": .string(id), "creationInfo": .string(creation), "from": .string(relationship.from),
                "relationshipType": .string(relationship.type), "to": .array(relationship.to.map(JSONValue.string)),
            ])
            elements.append(id)
        }
        graph.insert(
            [
                "type": "SpdxDocument", "spdxId": .string(spdxID("document", model.ref)), "creationInfo": .string(creation),
                "name": .string("Lineage of \(model.ref)"), "profileConformance": ["core", "software", "ai", "dataset"],
                "rootElement": [.string(modelID)], "element": .array(elements.map(JSONValue.string)),
            ], at: 3)
        return ["@context": "https://spdx.org/rdf/3.0.1/spdx-context.jsonld", "@graph": .array(graph)]
    }
}
