import Foundation
import PedigreeCore
import Testing

/// The web UI in a real headless Chromium (selenium with Chromium's own chromedriver) against a live
/// `pedigree serve`, on the quickstart history plus what the UI must cope with: a fan-out of 120 dataset
/// versions, metrics over steps, another team's model, and names that are markup.
@Suite("the web UI in a headless browser", .serialized)
struct WebUITests {
    static let chromedriver = "/usr/bin/chromedriver"
    static var available: Bool { FileManager.default.isExecutableFile(atPath: chromedriver) && pythonHas("selenium") }

    /// Where screenshots go: `$PEDIGREE_SCREENSHOT_DIR` (the README's come from `docs/`), else the build directory.
    static var screenshots: String {
        ProcessInfo.processInfo.environment["PEDIGREE_SCREENSHOT_DIR"]
            ?? URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent(".build/web-ui-screenshots").path
    }

    static func seeded() throws -> CLI {
        let cli = try CLI()
        #expect(try cli.run(["quickstart"]).status == 0)
        var lines: [String] = []
        func digest(_ text: String) -> String { ContentDigest(hashing: Array(text.utf8)).description }
        // 120 shard datasets into one training run (a crowd the graph must fold) with a loss curve.
        for i in 1...120 {
            lines.append(
                #"{"type":"artifact","namespace":"fanout","artifact":{"kind":"dataset","name":"shard-\#(String(format: "%03d", i))","version":"1","digest":"\#(digest("shard \(i)"))"}}"#
            )
        }
        let inputs = (1...120).map { #"{"ref":"dataset:fanout/shard-\#(String(format: "%03d", $0))@1","role":"train"}"# }.joined(separator: ",")
        let loss = (1...30).map { #"{"step":\#($0),"value":\#(1.0 / Double($0))}"# }.joined(separator: ",")
        lines.append(
            #"{"type":"run","namespace":"fanout","run":{"id":"sharded-1","job":"train-sharded","status":"COMPLETE","inputs":[\#(inputs)],"outputs":[{"artifact":{"kind":"model","name":"sharded","version":"1","digest":"\#(digest("sharded"))"},"role":"model"}],"hyperparameters":{"lr":0.001},"metrics":{"loss":[\#(loss)],"auc":0.93}}}"#
        )
        // Markup in names and parameters.
        lines.append(
            #"{"type":"artifact","namespace":"fraud-team","artifact":{"kind":"dataset","name":"<script>window.__pwned=3</script>","version":"1","digest":"\#(digest("hostile data"))"}}"#
        )
        lines.append(
            #"{"type":"run","namespace":"fraud-team","run":{"id":"hostile-1","job":"<b>job</b>","status":"COMPLETE","inputs":[{"ref":"dataset:fraud-team/<script>window.__pwned=3<%2Fscript>@1","role":"train"}],"outputs":[{"artifact":{"kind":"model","name":"x\"onerror=window.__pwned=1","version":"1","digest":"\#(digest("hostile model"))"},"role":"model"}],"hyperparameters":{"<img src=x onerror=window.__pwned=2>":"\"><svg onload=window.__pwned=4>"}}}"#
        )
        // Another team's model, which a fraud-team token must not see.
        lines.append(
            #"{"type":"artifact","namespace":"other-team","artifact":{"kind":"model","name":"secret","version":"1","digest":"\#(digest("secret"))"}}"#
        )
        let recorded = try cli.run(["record", "-"], stdin: lines.joined(separator: "\n") + "\n")
        #expect(recorded.status == 0, "\(recorded.stderr)")
        return cli
    }

    static func browse(_ mode: String, _ server: ServerProcess, token: String? = nil) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        let script = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .appendingPathComponent("Compatibility/web_ui.py").path
        process.arguments = [testPython, script, mode, server.url, screenshots] + (token.map { [$0] } ?? [])
        let out = Pipe()
        process.standardOutput = out
        process.standardError = out
        try process.run()
        let output = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }

    @Test(
        "every page loads cleanly and shows its content; the graph's depth, collapse, clusters and path work by clicking; markup in names stays text",
        .enabled(if: available, "needs chromium-driver (apt) and selenium (scripts/test installs both)"))
    func pages() throws {
        let cli = try Self.seeded()
        let server = try ServerProcess(cli: cli)
        defer { _ = server.stop() }
        let (status, output) = try Self.browse("open", server)
        #expect(status == 0, "\(output)\n--- server log ---\n\(server.log)")
        #expect(output.contains(#"{"ok": true}"#))
        for name in ["registry.png", "model-page.png", "lineage-graph.png", "timeline-diff.png"] {
            #expect(FileManager.default.fileExists(atPath: "\(Self.screenshots)/\(name)"), "screenshot \(name)")
        }
    }

    @Test(
        "with auth on the UI asks for a token, keeps it in an HttpOnly SameSite=Strict cookie and shows only the granted namespaces",
        .enabled(if: available, "needs chromium-driver (apt) and selenium (scripts/test installs both)"))
    func signIn() throws {
        let cli = try Self.seeded()
        let token = try cli.run(["token", "create", "--namespace", "fraud-team", "--role", "reader", "--name", "analyst"]).stdout
            .trimmingCharacters(in: .whitespacesAndNewlines)
        let server = try ServerProcess(cli: cli, arguments: ["--auth", "on"])
        defer { _ = server.stop() }
        let (status, output) = try Self.browse("auth", server, token: token)
        #expect(status == 0, "\(output)\n--- server log ---\n\(server.log)")
        #expect(!server.log.contains(token), "the token never reaches the log")
    }

    @Test("every page answers with a Content-Security-Policy that forbids inline script and style, and the cookie never authorises a write")
    func headers() throws {
        let cli = try Self.seeded()
        let token = try cli.run(["token", "create", "--namespace", "fraud-team", "--role", "writer"]).stdout.trimmingCharacters(
            in: .whitespacesAndNewlines)
        let server = try ServerProcess(cli: cli, arguments: ["--auth", "on"])
        defer { _ = server.stop() }
        func curl(_ arguments: [String]) throws -> String {
            let process = Process()
            process.executableURL = URL(fileURLWithPath: "/usr/bin/curl")
            process.arguments = ["-s", "-i"] + arguments
            let out = Pipe()
            process.standardOutput = out
            try process.run()
            let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
            process.waitUntilExit()
            return text
        }
        let cookie = "Cookie: pedigree_token=\(token)"
        for path in ["/", "/node?ref=model:fraud-team/fraud@2", "/graph?ref=model:fraud-team/fraud@2", "/diff", "/incident", "/login"] {
            let response = try curl(["-H", cookie, server.url + path]).lowercased()
            #expect(response.hasPrefix("http/1.1 200"), "\(path): \(response.prefix(200))")
            #expect(response.contains("content-security-policy: default-src 'none'; script-src 'self'; style-src 'self'"), "\(path)")
            #expect(response.contains("x-frame-options: deny"))
        }
        // Without a token a page redirects to sign in; the API still answers 401 JSON.
        #expect(
            try curl([server.url + "/graph?ref=model:fraud-team/fraud@2"]).lowercased().contains(
                "location: /login?next=%2fgraph%3fref%3dmodel:fraud-team%2ffraud@2"))
        #expect(try curl([server.url + "/api/v1/nodes?ref=model:fraud-team/fraud@2"]).hasPrefix("HTTP/1.1 401"))
        // The cookie reads, but a write with only the cookie is refused and records nothing.
        let before = try cli.eventCount()
        let write = try curl([
            "-H", cookie, "-H", "Content-Type: application/json", "--data",
            #"{"type":"artifact","namespace":"fraud-team","artifact":{"kind":"dataset","name":"csrf","version":"1"}}"#, server.url + "/api/v1/events",
        ])
        #expect(write.hasPrefix("HTTP/1.1 401"), "\(write.prefix(200))")
        #expect(try cli.eventCount() == before)
        // After sign-in the browser goes only to a path on this server.
        let login = try curl(["--data-urlencode", "token=\(token)", "--data-urlencode", "next=//evil.example/x", server.url + "/login"]).lowercased()
        #expect(login.contains("location: /\r\n"), "\(login.prefix(300))")
        #expect(login.lowercased().contains("set-cookie: pedigree_token=\(token.lowercased()); path=/; httponly; samesite=strict"))
    }

    @Test("export --format svg draws a standalone, escaped drawing of the lineage with the web UI's layout")
    func svgExport() throws {
        let cli = try Self.seeded()
        let drawn = try cli.run(["export", "model:fanout/sharded@1", "--format", "svg", "--upstream"])
        #expect(drawn.status == 0, "\(drawn.stderr)")
        #expect(drawn.stdout.hasPrefix("<svg xmlns=\"http://www.w3.org/2000/svg\""))
        #expect(drawn.stdout.contains("<style>"), "the file carries its own stylesheet")
        #expect(drawn.stdout.contains("class=\"node kind-dataset cluster\""), "120 shards fold into a cluster")
        let hostile = try cli.run(["export", #"model:fraud-team/x"onerror=window.__pwned=1@1"#, "--format", "svg"])
        #expect(hostile.status == 0, "\(hostile.stderr)")
        #expect(!hostile.stdout.contains("<script>") && !hostile.stdout.contains("\"onerror="))
        #expect(hostile.stdout.contains("&lt;script&gt;"))
        let bad = try cli.run(["export", "--all", "x", "--format", "svg"])
        #expect(bad.status != 0 && bad.stderr.contains("--format svg draws the lineage of one node"))
    }
}
