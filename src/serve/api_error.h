// The OpenAI error shape every non-2xx answer of the server has, and the one place that maps
// ragft's ErrorCodes to HTTP statuses (STYLE.md: only the server does).
//
//   {"error": {"message": "...", "type": "invalid_request_error", "param": "messages[0].role",
//              "code": "invalid_value"}}
//
// param and code are null when empty. Types: invalid_request_error (4xx the caller can fix),
// authentication_error (401), server_error (5xx of the server itself), upstream_error (502: the
// chat model's or embedder's backend failed).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "core/result.h"

namespace ragft::serve {

struct ApiError {
  int status = 400;
  std::string message;
  std::string type = "invalid_request_error";
  std::string param;  // the request field at fault, e.g. "messages[2].content"; "" -> null
  std::string code;   // machine-readable reason, e.g. "invalid_type"; "" -> null
};

// {"error": {...}} as above (invalid UTF-8 in the message becomes U+FFFD).
std::string api_error_body(const ApiError& e);

// A 400 invalid_request_error naming `param`.
ApiError bad_request(std::string param, std::string message, std::string code = "invalid_value");

// How an error message names a JSON value's type: "null", "a boolean", "a string", "an array",
// "an object", "an integer", "a number".
const char* type_name(const nlohmann::json& v);

// The 400 for a request field of the wrong JSON type: code invalid_type, param `param`, message
// "<param> must be <expected>, not <type_name(got)>", e.g. "k must be an integer, not a string".
// `expected` is a phrase such as "a string" or "an object of string values".
ApiError wrong_type(std::string param, std::string_view expected, const nlohmann::json& got);

// Parses a request body that must be a JSON object into `out`. Otherwise the 400 to answer:
// invalid_json, or invalid_type naming what the body is.
std::optional<ApiError> parse_json_object(std::string_view body, nlohmann::json& out);

// The integer a JSON number holds, for the request parsers' integer fields: an integer, or a
// float with an integral value (JSON does not tell them apart: 3.0 is 3). kNotInteger for any
// other value (a string, 1.5); kOutOfRange for an integer outside int64 (1e19, 2^64 - 1), which
// is not converted (a float that large has no int64 value: converting it is undefined).
enum class JsonInt { kOk, kNotInteger, kOutOfRange };
JsonInt json_int64(const nlohmann::json& v, std::int64_t& out);

// Where an Error came from: the server's own work (parsing, retrieval) or a backend it called
// (the chat model, the embedder), whose I/O and protocol failures are a bad gateway.
enum class ErrorSource { kServer, kUpstream };

// kInvalidArgument -> 400 invalid_request; kUnsupported -> 400 unsupported; kNotFound -> 404
// not_found; kResourceExhausted -> 400 limit_exceeded (server) / 502 (upstream); kCancelled ->
// 503 cancelled; kIo, kCorrupt, kInternal -> 500 server_error (server) / 502 upstream_error
// (upstream). The message is the Error's, prefixed with `what` (e.g. "chat model") when given.
ApiError api_error_from(const Error& e, ErrorSource source, std::string_view what = {});

}  // namespace ragft::serve
