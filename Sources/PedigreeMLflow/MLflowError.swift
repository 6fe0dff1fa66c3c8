import PedigreeCore
import PedigreeStore

/// An error as the MLflow client reads it: `{"error_code", "message"}` with the status it branches on.
/// Deterministic errors are never 5xx: the client retries those seven times.
public struct MLflowError: Error, Sendable, CustomStringConvertible {
    public enum Code: String, Sendable {
        case resourceDoesNotExist = "RESOURCE_DOES_NOT_EXIST"
        case resourceAlreadyExists = "RESOURCE_ALREADY_EXISTS"
        case invalidParameterValue = "INVALID_PARAMETER_VALUE"
        case invalidState = "INVALID_STATE"
        case badRequest = "BAD_REQUEST"
        case permissionDenied = "PERMISSION_DENIED"
        case endpointNotFound = "ENDPOINT_NOT_FOUND"
        case temporarilyUnavailable = "TEMPORARILY_UNAVAILABLE"
        case requestLimitExceeded = "REQUEST_LIMIT_EXCEEDED"
        case malformedRequest = "MALFORMED_REQUEST"
        /// A bug, never a deterministic refusal: the client retries it.
        case internalError = "INTERNAL_ERROR"

        /// The HTTP status: MLflow's reference server's, except that a body too large is 413 (MLflow answers 429,
        /// which its client retries: the same body would be sent seven times).
        public var status: Int {
            switch self {
            case .resourceDoesNotExist, .endpointNotFound: 404
            case .permissionDenied: 403
            case .temporarilyUnavailable: 503
            case .requestLimitExceeded: 413
            case .internalError: 500
            default: 400
            }
        }
    }

    public let code: Code
    public let message: String

    public init(_ code: Code, _ message: String) {
        self.code = code
        self.message = message
    }

    public static func notFound(_ message: String) -> MLflowError { MLflowError(.resourceDoesNotExist, message) }
    public static func invalid(_ message: String) -> MLflowError { MLflowError(.invalidParameterValue, message) }

    public init(store error: StoreError) {
        switch error.code {
        case .notFound: self.init(.resourceDoesNotExist, error.description)
        case .conflict: self.init(.invalidState, error.description)
        case .invalid: self.init(.invalidParameterValue, error.description)
        case .forbidden: self.init(.permissionDenied, error.description)
        case .unavailable: self.init(.temporarilyUnavailable, error.description)
        }
    }

    public var json: JSONValue { ["error_code": .string(code.rawValue), "message": .string(message)] }
    public var description: String { "\(code.rawValue): \(message)" }
}
