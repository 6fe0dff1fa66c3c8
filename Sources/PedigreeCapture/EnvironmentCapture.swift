import Foundation
import PedigreeCore

/// The environment dimension: machine, accelerators, container, language runtime and its packages, seeds.
public enum EnvironmentCapture {
    /// Everything about the machine and the runtime `command` will run in. `variables` are the environment
    /// the command gets; only seed-related ones are recorded here, and secrets never are.
    public static func capture(command: [String], variables: [String: String], parameters: JSONValue?, cache: CaptureCache?) -> JSONValue {
        var env: [String: JSONValue] = [:]
        var uts = utsname()
        if uname(&uts) == 0 {
            env["os"] = .string(field(uts.sysname))
            env["kernel"] = .string(field(uts.release))
            env["arch"] = .string(field(uts.machine))
            env["hostname"] = .string(field(uts.nodename))
        }
        if let release = try? String(contentsOfFile: "/etc/os-release", encoding: .utf8),
            let pretty = release.split(separator: "\n").first(where: { $0.hasPrefix("PRETTY_NAME=") })
        {
            env["distribution"] = .string(pretty.dropFirst("PRETTY_NAME=".count).trimmingCharacters(in: CharacterSet(charactersIn: "\"")))
        }
        if let cpu = cpuModel() { env["cpu"] = .string(cpu) }
        env["cpuCount"] = .int(Int64(ProcessInfo.processInfo.activeProcessorCount))
        env["memoryBytes"] = .int(Int64(ProcessInfo.processInfo.physicalMemory))
        if let gpu = gpu() { env["gpu"] = gpu }
        if let cuda = cudaVersion() { env["cuda"] = .string(cuda) }
        if let container = containerIdentity(variables: variables) { env["containerImage"] = .string(container) }
        if let python = PythonEnvironment.interpreter(for: command, path: variables["PATH"]),
            let described = PythonEnvironment.describe(interpreter: python, cache: cache)
        {
            env["runtime"] = ["name": "python", "version": .string(described.version), "executable": .string(python)]
            env["packages"] = .object(described.packages.mapValues(JSONValue.string))
        }
        let seeds = SeedFinder.seeds(command: command, variables: variables, parameters: parameters)
        if !seeds.isEmpty { env["seeds"] = .object(seeds) }
        let recorded = variables.filter { recordedVariable($0.key) }.map {
            ($0.key, JSONValue.string(SecretRedactor.redact(name: $0.key, value: $0.value)))
        }
        if !recorded.isEmpty { env["variables"] = .object(Dictionary(uniqueKeysWithValues: recorded)) }
        return .object(env)
    }

    /// Variables that change what training computes (devices, threads, determinism), never credentials.
    static func recordedVariable(_ name: String) -> Bool {
        let prefixes = ["CUDA_", "CUBLAS_", "NCCL_", "OMP_", "MKL_", "PYTHONHASHSEED", "TF_", "TORCH_", "HF_HUB_OFFLINE", "TOKENIZERS_"]
        return prefixes.contains { name.hasPrefix($0) } && !SecretRedactor.isSecretName(name)
    }

    static func field<T>(_ tuple: T) -> String {
        withUnsafeBytes(of: tuple) { raw in
            String(decoding: raw.prefix(while: { $0 != 0 }), as: UTF8.self)
        }
    }

    static func cpuModel() -> String? {
        guard let info = try? String(contentsOfFile: "/proc/cpuinfo", encoding: .utf8) else { return nil }
        for line in info.split(separator: "\n") where line.hasPrefix("model name") {
            return line.split(separator: ":", maxSplits: 1).last.map { $0.trimmingCharacters(in: .whitespaces) }
        }
        return nil
    }

    /// GPU model, count and driver from nvidia-smi, when there is one.
    static func gpu() -> JSONValue? {
        guard let output = CommandOutput.run("nvidia-smi", ["--query-gpu=name,driver_version", "--format=csv,noheader"], timeout: 5) else {
            return nil
        }
        let rows = output.split(separator: "\n").map { $0.split(separator: ",").map { $0.trimmingCharacters(in: .whitespaces) } }
        guard let first = rows.first, first.count >= 2 else { return nil }
        return ["model": .string(first[0]), "count": .int(Int64(rows.count)), "driver": .string(first[1])]
    }

    /// CUDA toolkit version from nvcc, or from the toolkit's version file.
    static func cudaVersion() -> String? {
        if let nvcc = CommandOutput.run("nvcc", ["--version"], timeout: 5),
            let range = nvcc.range(of: #"release ([0-9.]+)"#, options: .regularExpression)
        {
            return String(nvcc[range].dropFirst("release ".count))
        }
        for file in ["/usr/local/cuda/version.json", "/usr/local/cuda/version.txt"] {
            guard let text = try? String(contentsOfFile: file, encoding: .utf8) else { continue }
            if let range = text.range(of: #"[0-9]+\.[0-9]+(\.[0-9]+)?"#, options: .regularExpression) { return String(text[range]) }
        }
        return nil
    }

    /// The container image when running in one: the orchestrator's variables, else the container id.
    static func containerIdentity(variables: [String: String]) -> String? {
        for key in ["PEDIGREE_IMAGE", "CONTAINER_IMAGE", "IMAGE_DIGEST"] {
            if let value = variables[key], !value.isEmpty { return value }
        }
        let inContainer = FileManager.default.fileExists(atPath: "/.dockerenv") || FileManager.default.fileExists(atPath: "/run/.containerenv")
        guard inContainer else { return nil }
        if let cgroup = try? String(contentsOfFile: "/proc/self/cgroup", encoding: .utf8),
            let range = cgroup.range(of: #"[0-9a-f]{64}"#, options: .regularExpression)
        {
            return "container:" + cgroup[range]
        }
        return "container"
    }
}

/// Random seeds, wherever they were set: the environment, the command line, the configuration.
enum SeedFinder {
    static func seeds(command: [String], variables: [String: String], parameters: JSONValue?) -> [String: JSONValue] {
        var seeds: [String: JSONValue] = [:]
        if let hashSeed = variables["PYTHONHASHSEED"] { seeds["PYTHONHASHSEED"] = .string(hashSeed) }
        for (i, argument) in command.enumerated() {
            let lower = argument.lowercased()
            guard lower.hasPrefix("--") && lower.contains("seed") else { continue }
            if let eq = argument.firstIndex(of: "=") {
                seeds[String(argument[..<eq])] = .string(String(argument[argument.index(after: eq)...]))
            } else if i + 1 < command.count {
                seeds[argument] = .string(command[i + 1])
            }
        }
        if let parameters {
            for change in JSONDiff.changes(nil, parameters) {
                let key = change.path.split(separator: ".").last.map(String.init)?.lowercased() ?? ""
                if key == "seed" || key.hasSuffix("_seed") || key.hasSuffix("seed") && key.count <= 12, let value = change.new {
                    seeds[change.path] = value
                }
            }
        }
        return seeds
    }
}
