import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import PedigreeCore
import PedigreeStore

/// Every error the API returns: JSON `{"error": {"code", "message", "field"}}` with a stable machine-readable
/// code and the right status. Domain errors are mapped here, in one place.
public struct APIError: Error, HTTPResponseError, Sendable {
    public let status: HTTPResponse.Status
    public let code: String
    public let message: String
    public let field: String?

    public init(_ status: HTTPResponse.Status, code: String, _ message: String, field: String? = nil) {
        self.status = status
        self.code = code
        self.message = message
        self.field = field
    }

    public static func badRequest(_ message: String, field: String? = nil) -> APIError {
        APIError(.badRequest, code: "bad_request", message, field: field)
    }

    public static let unauthorized = APIError(.unauthorized, code: "unauthorized", "this server needs a token: send Authorization: Bearer <token>")

    public static let unknownToken = APIError(
        .unauthorized, code: "unknown_token",
        "unknown or revoked token: create one with `pedigree token create` and send it as Authorization: Bearer <token>")

    public static func forbidden(_ message: String) -> APIError { APIError(.forbidden, code: "forbidden", message) }

    public static func notFound(_ message: String, field: String? = nil) -> APIError { APIError(.notFound, code: "not_found", message, field: field) }

    public var json: JSONValue {
        var error: [String: JSONValue] = ["code": .string(code), "message": .string(message)]
        error["field"] = field.map(JSONValue.string) ?? .null
        return ["error": .object(error)]
    }

    public func response(from request: Request, context: some RequestContext) throws -> Response {
        var response = Response.json(json, status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer" }
        return response
    }

    /// The API form of any error a handler throws.
    static func from(_ error: any Error) -> any Error {
        switch error {
        case let error as APIError: return error
        case let error as StoreError:
            switch error.code {
            case .invalid: return APIError(.unprocessableContent, code: "invalid", error.message, field: error.field)
            case .notFound: return APIError(.notFound, code: "not_found", error.message, field: error.field)
            case .conflict: return APIError(.conflict, code: "conflict", error.message, field: error.field)
            case .unavailable: return APIError(.serviceUnavailable, code: "unavailable", error.message)
            case .forbidden: return APIError(.forbidden, code: "forbidden", error.message, field: error.field)
            }
        case let error as ValidationError:
            return APIError(.unprocessableContent, code: "invalid", error.message, field: error.field.isEmpty ? nil : error.field)
        case let error as JSONParseError:
            return APIError(.badRequest, code: "malformed_json", error.description)
        case let error as MalformedDocument:
            return APIError(.badRequest, code: "malformed_json", error.message, field: error.field)
        case is NIOTooManyBytesError:
            return APIError(.contentTooLarge, code: "payload_too_large", "the request body is larger than this server accepts")
        case let error as HTTPError:
            let code =
                switch error.status {
                case .notFound: "route_not_found"
                case .methodNotAllowed: "method_not_allowed"
                case .contentTooLarge: "payload_too_large"
                default: "http_\(error.status.code)"
                }
            return APIError(error.status, code: code, error.body ?? error.status.reasonPhrase)
        default:
            return error
        }
    }
}

extension Response {
    static func json(_ value: JSONValue, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: value.canonicalBytes)))
    }

    static func text(_ text: String, contentType: String, status: HTTPResponse.Status = .ok) -> Response {
        Response(
            status: status, headers: [.contentType: contentType, .init("X-Content-Type-Options")!: "nosniff"],
            body: ResponseBody(byteBuffer: ByteBuffer(string: text)))
    }
}
