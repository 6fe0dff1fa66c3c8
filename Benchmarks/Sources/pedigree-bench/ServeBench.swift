import ArgumentParser
import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import PedigreeCore

struct ServeBench: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "OpenLineage events/s over HTTP against a real `pedigree serve`: single and batch, 1 and 16 clients.",
        discussion: ".build/release/pedigree-bench serve")

    @Option(help: "Events per single-event phase.")
    var singles = 4000
    @Option(help: "Events per batch request.")
    var batchSize = 1000
    @Option(help: "Batch requests per batch phase.")
    var batches = 40

    func run() async throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("pedigree-serve-bench-\(getpid())")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        let port = Int.random(in: 30_000...40_000)
        let server = Process()
        server.executableURL = URL(fileURLWithPath: CommandLine.arguments[0]).deletingLastPathComponent().appendingPathComponent("pedigree")
        server.arguments = ["serve", "--port", String(port), "--store", dir.appendingPathComponent("store.db").path]
        server.environment = ProcessInfo.processInfo.environment.merging(["PEDIGREE_LOG_LEVEL": "warning", "PEDIGREE_HOME": dir.path]) { _, b in b }
        server.standardOutput = FileHandle.nullDevice
        try server.run()
        defer { server.terminate(); server.waitUntilExit() }
        let base = "http://127.0.0.1:\(port)"
        let client = HTTPClient(eventLoopGroupProvider: .singleton)
        for _ in 0..<100 {
            if (try? await client.execute(HTTPClientRequest(url: base + "/healthz"), timeout: .seconds(1)))?.status == .ok { break }
            try await Task.sleep(for: .milliseconds(50))
        }
        print("server: pedigree serve (release), SQLite store, synchronous = FULL; client: AsyncHTTPClient in this process, same 2 cores")
        var counter = 0
        func events(_ count: Int) -> [String] {
            (0..<count).map { _ in
                counter += 1
                return Self.event(number: counter)
            }
        }
        try await phase("single, 1 client", client: client, url: base + "/api/v1/lineage", bodies: events(singles), clients: 1, eventsPerBody: 1)
        try await phase("single, 16 clients", client: client, url: base + "/api/v1/lineage", bodies: events(singles), clients: 16, eventsPerBody: 1)
        let batchBodies = { (n: Int) in (0..<n).map { _ in "[" + events(batchSize).joined(separator: ",") + "]" } }
        try await phase(
            "batch of \(batchSize), 1 client", client: client, url: base + "/api/v1/lineage/batch", bodies: batchBodies(batches), clients: 1,
            eventsPerBody: batchSize)
        try await phase(
            "batch of \(batchSize), 16 clients", client: client, url: base + "/api/v1/lineage/batch", bodies: batchBodies(batches), clients: 16,
            eventsPerBody: batchSize)
        try await client.shutdown()
    }

    /// A COMPLETE RunEvent as openlineage-python sends it: an input dataset version, a model output, parameters.
    static func event(number: Int) -> String {
        let run = UUID().uuidString.lowercased()
        return
            #"{"eventTime":"2026-11-28T13:39:04.628547+00:00","eventType":"COMPLETE","producer":"https://github.com/OpenLineage/OpenLineage/tree/1.54.0/client/python","schemaURL":"https://openlineage.io/spec/2-0-2/OpenLineage.json#/$defs/RunEvent","job":{"namespace":"ml-training","name":"train-\#(number % 50)","facets":{}},"run":{"runId":"\#(run)","facets":{"executionParameters":{"_producer":"p","_schemaURL":"s","parameters":[{"key":"lr","value":"0.001"},{"key":"epochs","value":"10"}]}}},"inputs":[{"namespace":"s3://datasets","name":"imagenet/train","facets":{"version":{"_producer":"p","_schemaURL":"s","datasetVersion":"v\#(number % 20)"}},"inputFacets":{}}],"outputs":[{"namespace":"mlflow://registry","name":"models/resnet\#(number % 50)","facets":{"datasetType":{"_producer":"p","_schemaURL":"s","datasetType":"MODEL"},"version":{"_producer":"p","_schemaURL":"s","datasetVersion":"\#(number)"}},"outputFacets":{}}]}"#
    }

    func phase(_ name: String, client: HTTPClient, url: String, bodies: [String], clients: Int, eventsPerBody: Int) async throws {
        let queue = WorkQueue(bodies)
        let start = ContinuousClock.now
        let latencies = try await withThrowingTaskGroup(of: [Double].self) { group in
            for _ in 0..<clients {
                group.addTask {
                    var times: [Double] = []
                    while let body = await queue.next() {
                        var request = HTTPClientRequest(url: url)
                        request.method = .POST
                        request.headers.add(name: "Content-Type", value: "application/json")
                        request.body = .bytes(ByteBuffer(string: body))
                        let t0 = ContinuousClock.now
                        let response = try await client.execute(request, timeout: .seconds(60))
                        _ = try await response.body.collect(upTo: 1 << 24)
                        guard response.status.code < 300 else { throw ValidationError(field: "status", "\(response.status)") }
                        let elapsed = ContinuousClock.now - t0
                        times.append(Double(elapsed.components.seconds) * 1000 + Double(elapsed.components.attoseconds) / 1e15)
                    }
                    return times
                }
            }
            var all: [Double] = []
            for try await part in group { all += part }
            return all.sorted()
        }
        let elapsed = ContinuousClock.now - start
        let seconds = Double(elapsed.components.seconds) + Double(elapsed.components.attoseconds) / 1e18
        let p50 = latencies[latencies.count / 2], p99 = latencies[min(latencies.count - 1, latencies.count * 99 / 100)]
        print(
            name.padding(toLength: 28, withPad: " ", startingAt: 0)
                + String(
                    format: "%9.0f events/s   request p50 %7.2f ms  p99 %7.2f ms   (%d requests)", Double(bodies.count * eventsPerBody) / seconds,
                    p50, p99, bodies.count))
    }
}

actor WorkQueue {
    private var items: [String]
    init(_ items: [String]) { self.items = items.reversed() }
    func next() -> String? { items.popLast() }
}
