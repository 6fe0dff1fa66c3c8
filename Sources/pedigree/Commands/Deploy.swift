import ArgumentParser
import Foundation
import PedigreeCapture
import PedigreeCore
import PedigreeRender
import PedigreeStore

struct Deploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record that a model version now serves an endpoint, with its serving config, serving code and environment.",
        discussion: """
            With a KServe InferenceService (--manifest), the model is found from spec.predictor.model.storageUri — \
            by the URI a version was registered with, by content digest for a local path, file:// or a pvc:// \
            path mounted with --pvc, or by model-registry://NAME/VERSION and the Kubeflow Model Registry labels \
            — and the endpoint from metadata (name, namespace). Another server's config goes in with --config. \
            Either file is recorded by its digest and its parsed settings (secrets redacted), and by its text \
            when it holds no secret. The serving code is the git state of --code, or of the working directory \
            when it is a git checkout, captured as `pedigree run` captures training code.

            --traffic PCT records a canary: the version takes PCT% and the version that had all the traffic keeps \
            the rest. Promote it with another deploy without --traffic.

            Examples (each pastes as it is):
              pedigree deploy --manifest isvc.yaml
              pedigree deploy model:fraud-team/fraud@3 \\
                  --endpoint fraud-team/fraud-api --traffic 10
              pedigree deploy fraud@2 --endpoint fraud-team/fraud-api \\
                  --config serving.yaml --at 2026-11-15T08:00:00Z
            """)

    @Argument(help: "The model version (may be left out when the manifest's storageUri identifies it).")
    var model: String?
    @Option(help: ArgumentHelp("The endpoint, NAMESPACE/NAME (default: the manifest's metadata).", valueName: "ns/name"))
    var endpoint: String?
    @Option(help: ArgumentHelp("A KServe InferenceService YAML (one document, several, or a kubectl List).", valueName: "file"))
    var manifest: String?
    @Option(help: ArgumentHelp("Another server's serving config (YAML or JSON).", valueName: "file"))
    var config: String?
    @Option(help: ArgumentHelp("Give the version this share of traffic as a canary (1–99).", valueName: "pct"))
    var traffic: Int?
    @Option(help: ArgumentHelp("When it started serving (default: now).", valueName: "time"), transform: parseTime)
    var at: Timestamp?
    @Option(help: ArgumentHelp("The serving code's directory, whose git state is recorded (default: the working directory).", valueName: "path"))
    var code: String?
    @Option(help: ArgumentHelp("Where a pvc:// claim is mounted here, CLAIM=DIR (for matching by content).", valueName: "claim=dir"))
    var pvc: [String] = []
    @Flag(help: "Deploy a version that was retired (the trail records the override).")
    var force = false
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if let traffic, !DeploymentRecord.trafficRange.contains(traffic) {
            throw ArgumentParser.ValidationError(
                "--traffic \(traffic) is outside 1–99: a canary takes part of the traffic; to give a version all of it, leave --traffic out")
        }
        if manifest != nil && config != nil {
            throw ArgumentParser.ValidationError("give --manifest (KServe) or --config (any other server), not both")
        }
        if model == nil && manifest == nil {
            throw ArgumentParser.ValidationError(
                "name the model version (pedigree deploy model:NS/NAME@VERSION …) or give a --manifest whose storageUri identifies it")
        }
        if endpoint == nil && manifest == nil {
            throw ArgumentParser.ValidationError("give --endpoint NAMESPACE/NAME (or a --manifest that names it)")
        }
        if let at, at > .now { throw ArgumentParser.ValidationError("--at \(at) is in the future; record a deployment when it happens") }
        for mount in pvc where !mount.contains("=") { throw ArgumentParser.ValidationError("--pvc '\(mount)' must be CLAIM=DIR") }
        var isDirectory: ObjCBool = false
        if let code, !(FileManager.default.fileExists(atPath: code, isDirectory: &isDirectory) && isDirectory.boolValue) {
            throw ArgumentParser.ValidationError("--code \(code) is not a directory; give the serving code's checkout")
        }
    }

    func run() async throws {
        try await reportingErrors {
            let reader = ServingManifestReader()
            let serving: ServingManifestReader.Serving?
            do {
                serving =
                    try manifest.map { try reader.kserve(file: $0, endpoint: endpoint.map(Self.name(of:))) }
                    ?? config.map { try reader.plain(file: $0) }
            } catch let failure as ServingManifestReader.Failure {
                throw PedigreeCore.ValidationError(field: failure.field, failure.message)
            }
            let (namespace, name) = try Self.endpoint(endpoint, serving: serving)
            var share = traffic
            if share == nil, let canary = serving?.canaryTrafficPercent {
                guard canary > 0 else {
                    throw PedigreeCore.ValidationError(
                        field: "spec.predictor.canaryTrafficPercent",
                        "0 routes no traffic to this version: nothing starts serving, so nothing is recorded")
                }
                share = canary
            }
            if let given = traffic, let canary = serving?.canaryTrafficPercent, canary != given {
                warn("--traffic \(given) overrides the manifest's canaryTrafficPercent \(canary)")
            }
            if let given = endpoint, let named = serving?.name, Self.name(of: given) != named {
                warn("the manifest's InferenceService is \(named); recording it for --endpoint \(given)")
            }
            // The serving code: --code, else the working directory when it is a git checkout (anywhere else,
            // its state says nothing about what serves).
            let directory = URL(fileURLWithPath: code ?? FileManager.default.currentDirectoryPath)
            let codeFacet =
                code != nil || GitCapture.repositoryRoot(of: directory) != nil
                ? try CodeFacet(json: GitCapture.capture(directory: directory), path: "code") : nil
            let mounts = Dictionary(
                pvc.map { ($0.prefix { $0 != "=" }.description, String($0.drop { $0 != "=" }.dropFirst())) }, uniquingKeysWith: { _, b in b })
            let (time, modelText, force, traffic) = (at ?? .now, model, force, share)
            let entry = try await storeOptions.withBackend(creating: false) { backend in
                let locator = ModelLocator(backend: backend, namespace: namespace, pvcMounts: mounts)
                let version = try await locator.version(named: modelText, serving: serving)
                var traffic = traffic
                // A KServe canary whose model is the one already serving changes only the serving side (a new
                // revision of the same version): lineage records it as a redeploy of that version.
                if traffic != nil, serving?.manifest.format == "kserve",
                    try await Self.stable(at: time, namespace: namespace, endpoint: name, backend: backend) == version.description
                {
                    warn(
                        "\(version) already has the rest of \(namespace)/\(name)'s traffic: this KServe canary is a new revision of the same version, recorded as a redeploy with the manifest's serving config (a running canary of another version ends)"
                    )
                    traffic = nil
                }
                let record = DeploymentRecord(
                    endpoint: name, model: version, traffic: traffic, force: force, config: serving?.config ?? [:], manifest: serving?.manifest,
                    code: codeFacet, environment: serving?.environment, validFrom: time)
                _ = try await backend.append(
                    [LineageEvent(namespace: namespace, eventTime: .now, producer: TrainingRun.producer, payload: .deployment(record))],
                    recordedBy: cliIdentity)
                // A model.sig where the deployment serves from is checked and recorded for the version.
                var servedFrom = serving?.storageURI.flatMap(locator.localPath(of:))
                if servedFrom == nil { servedFrom = ModelDirectory.recorded(try? await backend.show(.artifact(version), asOf: nil).artifact) }
                if let servedFrom { await ModelSignatureCheck.recordSignature(of: version, servedFrom: servedFrom, backend: backend) }
                return try await backend.history(namespace: namespace, endpoint: name, asOf: nil).last {
                    $0.validFrom == time && $0.model == version.description
                }
            }
            guard let entry else {
                throw StoreError(
                    .unavailable, "the deployment was recorded, but reading it back failed; `pedigree history \(namespace)/\(name)` shows it")
            }
            if output.json { return printJSON(entry.json) }
            print("\(TerminalText.escape(entry.endpoint)) serves \(TerminalText.escape(TextRenderer.serving(entry))) from \(entry.validFrom)")
            if let manifest = entry.manifest {
                print(
                    "  config   \(manifest.format) \(TerminalText.escape(manifest.file ?? "")) \(manifest.digest)\(manifest.redacted ? " (holds secrets: its settings are kept redacted, its text is not kept)" : "")"
                )
            }
            if let code = entry.code {
                print(
                    "  code     \(TerminalText.escape(code.commit ?? code.json["vcs"]?.stringValue ?? "unknown"))\(code.dirty == true ? " with uncommitted changes" : "")"
                )
            }
        }
    }

    /// `NAME` of `NAMESPACE/NAME`.
    static func name(of endpoint: String) -> String { (try? parseEndpoint(endpoint, field: "--endpoint"))?.1 ?? endpoint }

    /// The version that has the rest of the endpoint's traffic at `time`, if any.
    static func stable(at time: Timestamp, namespace: String, endpoint: String, backend: any Backend) async throws -> String? {
        do {
            return try await backend.history(namespace: namespace, endpoint: endpoint, asOf: nil).last { $0.isServing(at: time) }?.primary
        } catch let error as StoreError where error.code == .notFound {
            return nil
        }
    }

    /// The endpoint from --endpoint, else the manifest's metadata (its Kubernetes namespace is the Pedigree
    /// namespace).
    static func endpoint(_ given: String?, serving: ServingManifestReader.Serving?) throws -> (String, String) {
        if let given {
            if !given.contains("/"), let namespace = serving?.namespace ?? defaultNamespace {
                return (try Namespace(namespace, field: "metadata.namespace").rawValue, given)
            }
            return try parseEndpoint(given, field: "--endpoint")
        }
        guard let name = serving?.name else {
            throw PedigreeCore.ValidationError(field: "metadata.name", "the manifest names no InferenceService; give --endpoint NAMESPACE/NAME")
        }
        let namespace = try Namespace(serving?.namespace ?? defaultNamespace ?? Reference.defaultNamespace, field: "metadata.namespace")
        return (namespace.rawValue, name)
    }

    static var defaultNamespace: String? { ProcessInfo.processInfo.environment["PEDIGREE_NAMESPACE"].flatMap { $0.isEmpty ? nil : $0 } }
}

struct Undeploy: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Record that an endpoint stopped serving.", discussion: "Example: pedigree undeploy --endpoint fraud-team/fraud-api")

    @Option(help: ArgumentHelp("The endpoint, NAMESPACE/NAME.", valueName: "ns/name"))
    var endpoint: String
    @Option(help: ArgumentHelp("When it stopped (default: now).", valueName: "time"), transform: parseTime)
    var at: Timestamp?
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if let at, at > .now { throw ArgumentParser.ValidationError("--at \(at) is in the future; record the undeploy when it happens") }
    }

    func run() async throws {
        try await reportingErrors {
            let (namespace, name) = try parseEndpoint(endpoint, field: "--endpoint")
            let time = at ?? .now
            try await storeOptions.withBackend(creating: false) { backend in
                _ = try await backend.append(
                    [
                        LineageEvent(
                            namespace: namespace, eventTime: .now, producer: TrainingRun.producer,
                            payload: .deployment(.undeploy(endpoint: name, validFrom: time)))
                    ], recordedBy: cliIdentity)
            }
            print("\(TerminalText.escape(Reference.deployment(namespace: namespace, endpoint: name).description)) serves nothing from \(time)")
        }
    }
}

struct Retire: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Retire a model version: it can no longer be deployed without --force, and the trail shows who retired it and why.",
        discussion: "Example: pedigree retire model:fraud-team/fraud@1 --reason 'superseded; fails the 2026 fairness review'")

    @Argument(help: "The model version.")
    var model: String
    @Option(help: "Why, for the audit trail.")
    var reason: String
    @Option(help: ArgumentHelp("When it was retired (default: now).", valueName: "time"), transform: parseTime)
    var at: Timestamp?
    @OptionGroup var storeOptions: StoreOptions

    func validate() throws {
        if reason.allSatisfy(\.isWhitespace) { throw ArgumentParser.ValidationError("--reason must say why the version is retired") }
        if let at, at > .now { throw ArgumentParser.ValidationError("--at \(at) is in the future") }
    }

    func run() async throws {
        try await reportingErrors {
            let (text, reason, time) = (model, reason, at ?? .now)
            let retired = try await storeOptions.withBackend(creating: false) { backend in
                let version = try await ModelLocator(
                    backend: backend, namespace: Deploy.defaultNamespace ?? Reference.defaultNamespace, pvcMounts: [:]
                )
                .resolve(text)
                let record = RetirementRecord(model: version, reason: reason, validFrom: time)
                _ = try await backend.append(
                    [LineageEvent(namespace: version.namespace, eventTime: .now, producer: TrainingRun.producer, payload: .retirement(record))],
                    recordedBy: cliIdentity)
                return version
            }
            print("\(TerminalText.escape(retired.description)) is retired from \(time): \(TerminalText.escape(reason))")
        }
    }
}

struct Incident: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        abstract: "Root cause for an endpoint whose predictions went bad: what served, the last good model, what changed, who else is exposed.",
        discussion: """
            The last good model is the version that served before the current one took over, unless --good or \
            --good-at says otherwise. Example: pedigree incident fraud-team/fraud-api --at 2026-11-16
            """)

    @Argument(help: "The endpoint: NAMESPACE/ENDPOINT or deployment:NAMESPACE/ENDPOINT.")
    var endpoint: String
    @Option(help: ArgumentHelp("When the predictions went bad.", valueName: "time"), transform: parseTime)
    var at: Timestamp
    @Option(help: ArgumentHelp("The model version known to be good.", valueName: "ref"))
    var good: String?
    @Option(name: .customLong("good-at"), help: ArgumentHelp("A time the endpoint was known to be good.", valueName: "time"), transform: parseTime)
    var goodAt: Timestamp?
    @OptionGroup var time: TimeOptions
    @OptionGroup var storeOptions: StoreOptions
    @OptionGroup var output: OutputOptions

    func validate() throws {
        if at > .now { throw ArgumentParser.ValidationError("--at \(at) is in the future; an incident is about what already served") }
        if let goodAt, goodAt > .now { throw ArgumentParser.ValidationError("--good-at \(goodAt) is in the future") }
        if good != nil && goodAt != nil { throw ArgumentParser.ValidationError("give --good or --good-at, not both") }
        if let goodAt, goodAt > at { throw ArgumentParser.ValidationError("--good-at \(goodAt) is after the incident at \(at)") }
    }

    func run() async throws {
        try await reportingErrors {
            let (namespace, name) = try parseEndpoint(endpoint, field: "endpoint")
            let baseline: IncidentBaseline
            if let good {
                guard case .artifact(let model) = try parseReference(good.contains(":") ? good : "model:\(namespace)/\(good)") else {
                    throw PedigreeCore.ValidationError(field: "--good", "'\(good)' is not a model version")
                }
                baseline = .model(model)
            } else {
                baseline = goodAt.map(IncidentBaseline.servingAt) ?? .previous
            }
            let report = try await storeOptions.withBackend(creating: false) { [at, time] in
                try await $0.incident(namespace: namespace, endpoint: name, at: at, baseline: baseline, asOf: time.asOf)
            }
            output.json ? printJSON(report.json) : print(TextRenderer.incident(report))
        }
    }
}

/// `NAMESPACE/ENDPOINT` or `deployment:NAMESPACE/ENDPOINT`.
func parseEndpoint(_ text: String, field: String) throws -> (String, String) {
    guard case .deployment(let namespace, let name)? = try? Reference(parsing: text.hasPrefix("deployment:") ? text : "deployment:\(text)") else {
        throw PedigreeCore.ValidationError(field: field, "'\(text)' is not an endpoint; write NAMESPACE/NAME, e.g. fraud-team/fraud-api")
    }
    return (namespace, name)
}
